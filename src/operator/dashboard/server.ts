// The dashboard's HTTP server: read-only pages and a JSON API behind them, both behind the same RBAC as the
// resources (access.ts). Routes:
//   GET  /                                   the namespaces the user may read that hold Perennial objects
//   GET  /ns/<ns>                            its pipelines and deployments
//   GET  /ns/<ns>/pipelines/<name>           run timeline, trigger reasons, offline metrics against the champion
//   GET  /ns/<ns>/deployments/<name>         canary progress, every analysis, live accuracy and drift plots
//   GET  /api/v1/...                         the same paths as JSON
//   GET  /login, POST /login, GET /logout    a form that keeps the token in an HttpOnly cookie
// No token: 401 (the login page). A token the API server rejects: 401. A namespace the user may not read: 403
// with nothing of it. Everything is read from the operator's informer caches.
import type http from 'node:http';
import type { ModelDeployment } from '../../api/model-deployment.js';
import type { TrainingPipeline } from '../../api/training-pipeline.js';
import { closeHttp, listenHttp } from '../runtime/http-listener.js';
import type { CacheReader } from '../runtime/informer.js';
import type { Logger } from '../runtime/log.js';
import type { KubeObject } from '../runtime/resource.js';
import { type Access, requestToken, tokenCookie, type User } from './access.js';
import type { LiveHistory } from './history.js';
import type { VersionReports } from './reports.js';
import { stylesheet } from './html.js';
import { deploymentPage, errorPage, indexPage, loginPage, namespacePage, pipelinePage, type NamespaceSummary } from './pages.js';

export interface DashboardSources {
  readonly pipelines: CacheReader<KubeObject>;
  readonly deployments: CacheReader<KubeObject>;
  readonly history: LiveHistory;
  readonly reports: VersionReports;
  readonly access: Access;
  readonly now: () => number;
  readonly logger: Logger;
}

/** A reply: status, content type and body. */
interface Reply { readonly status: number; readonly type: 'html' | 'json' | 'css'; readonly body: string; readonly headers?: Record<string, string> }

const contentTypes = { html: 'text/html; charset=utf-8', json: 'application/json; charset=utf-8', css: 'text/css; charset=utf-8' } as const;

/** No script at all, styles only from this server, no framing, forms only to this server. */
const securityHeaders = {
  'Content-Security-Policy': "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'X-Frame-Options': 'DENY',
};

export type Route =
  | { readonly page: 'index' }
  | { readonly page: 'namespace'; readonly namespace: string }
  | { readonly page: 'pipeline' | 'deployment'; readonly namespace: string; readonly name: string };

/** Pure: the route of a path (without the /api/v1 prefix), or undefined. Segments are URL-decoded. */
export function route(path: string): Route | undefined {
  const parts = path.split('/').filter((p) => p !== '');
  let decoded: string[];
  try {
    decoded = parts.map((p) => decodeURIComponent(p));
  } catch {
    return undefined;
  }
  const [first, ns, kind, name, ...rest] = decoded;
  if (first === undefined) return { page: 'index' };
  if (first !== 'ns' || ns === undefined || rest.length > 0) return undefined;
  if (kind === undefined) return { page: 'namespace', namespace: ns };
  if (name === undefined) return undefined;
  if (kind === 'pipelines') return { page: 'pipeline', namespace: ns, name };
  if (kind === 'deployments') return { page: 'deployment', namespace: ns, name };
  return undefined;
}

export class DashboardServer {
  private server: http.Server | undefined;

  constructor(private readonly src: DashboardSources) {}

  /** Listens on host:port; a browser's request (its headers and a login form) comes within seconds or is closed. */
  async listen(port: number, host: string): Promise<number> {
    const { server, port: bound } = await listenHttp((req, res) => {
      this.handle(req).then((reply) => this.send(res, reply), (e: unknown) => {
        this.src.logger.error('dashboard request failed', { path: (req.url ?? '').split('?')[0], error: e instanceof Error ? e.message : String(e) });
        this.send(res, { status: 502, type: 'html', body: errorPage('Unavailable', 'The API server could not be asked who you are or what you may read; try again.', undefined) });
      });
    }, port, host, { requestTimeoutMs: 10_000, headersTimeoutMs: 5_000 });
    this.server = server;
    return bound;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await closeHttp(server);
  }

  private send(res: http.ServerResponse, reply: Reply): void {
    res.writeHead(reply.status, { ...securityHeaders, 'Content-Type': contentTypes[reply.type], ...reply.headers }).end(reply.body);
  }

  private async handle(req: http.IncomingMessage): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const path = url.pathname;
    if (path === '/healthz') return { status: 200, type: 'json', body: '{"ok":true}' };
    if (path === '/static/style.css') return { status: 200, type: 'css', body: stylesheet };
    if (path === '/login') return req.method === 'POST' ? this.login(req) : { status: 200, type: 'html', body: loginPage(undefined) };
    if (path === '/logout') return { status: 303, type: 'html', body: '', headers: { Location: '/login', 'Set-Cookie': `${tokenCookie}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0` } };
    if (req.method !== 'GET' && req.method !== 'HEAD') return { status: 405, type: 'html', body: errorPage('Method not allowed', 'The dashboard only reads.', undefined), headers: { Allow: 'GET, HEAD' } };
    const api = path.startsWith('/api/v1/') || path === '/api/v1';
    const r = route(api ? path.slice('/api/v1'.length) : path);
    if (!r) return api ? json(404, { error: 'no such page' }) : { status: 404, type: 'html', body: errorPage('Not found', 'No such page.', undefined) };
    const token = requestToken(req.headers);
    const user = token === undefined ? undefined : await this.src.access.user(token);
    if (!user) {
      const why = token === undefined ? 'Log in with a Kubernetes bearer token.' : 'The API server did not accept this token.';
      return api ? json(401, { error: why }) : { status: 401, type: 'html', body: loginPage(why) };
    }
    return this.serve(r, user, api);
  }

  private async login(req: http.IncomingMessage): Promise<Reply> {
    const body = await readBody(req, 16_384);
    const token = new URLSearchParams(body).get('token')?.trim() ?? '';
    if (token === '' || !(await this.src.access.user(token))) return { status: 401, type: 'html', body: loginPage('The API server did not accept this token.') };
    // HttpOnly: no page script could read it (and the pages have none); SameSite=Strict: no other site can send it.
    return { status: 303, type: 'html', body: '', headers: { Location: '/', 'Set-Cookie': `${tokenCookie}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict` } };
  }

  private async serve(r: Route, user: User, api: boolean): Promise<Reply> {
    const who = user.username;
    if (r.page === 'index') {
      const summaries = await this.readableNamespaces(user);
      if (summaries.length === 0 && this.allNamespaces().length > 0) return forbidden(api, who, 'You may not read TrainingPipelines and ModelDeployments in any namespace that has them.');
      return api ? json(200, { namespaces: summaries }) : { status: 200, type: 'html', body: indexPage(summaries, who) };
    }
    if (!(await this.src.access.mayRead(user, r.namespace))) {
      return forbidden(api, who, `You may not get and list TrainingPipelines and ModelDeployments in namespace "${r.namespace}".`);
    }
    if (r.page === 'namespace') {
      const tps = this.src.pipelines.list(r.namespace) as unknown as TrainingPipeline[];
      const mds = this.src.deployments.list(r.namespace) as unknown as ModelDeployment[];
      return api ? json(200, { pipelines: tps, deployments: mds }) : { status: 200, type: 'html', body: namespacePage(r.namespace, byName(tps), byName(mds), who) };
    }
    if (r.page === 'pipeline') {
      const tp = this.src.pipelines.get(r.namespace, r.name) as unknown as TrainingPipeline | undefined;
      if (!tp) return notFound(api, who, `TrainingPipeline ${r.namespace}/${r.name} not found.`);
      const reports = await this.src.reports.of(tp);
      return api ? json(200, { pipeline: tp, reports }) : { status: 200, type: 'html', body: pipelinePage(tp, this.src.now(), who, reports) };
    }
    const md = this.src.deployments.get(r.namespace, r.name) as unknown as ModelDeployment | undefined;
    if (!md) return notFound(api, who, `ModelDeployment ${r.namespace}/${r.name} not found.`);
    const history = this.src.history.of(r.namespace, r.name);
    return api ? json(200, { deployment: md, history }) : { status: 200, type: 'html', body: deploymentPage(md, history, who) };
  }

  private allNamespaces(): string[] {
    const names = new Set<string>();
    for (const o of [...this.src.pipelines.list(), ...this.src.deployments.list()]) names.add(o.metadata?.namespace ?? '');
    return [...names].sort();
  }

  private async readableNamespaces(user: User): Promise<NamespaceSummary[]> {
    const out: NamespaceSummary[] = [];
    for (const name of this.allNamespaces()) {
      if (!(await this.src.access.mayRead(user, name))) continue;
      out.push({ name, pipelines: this.src.pipelines.list(name).length, deployments: this.src.deployments.list(name).length });
    }
    return out;
  }
}

function byName<T extends { metadata: { name?: string | undefined } }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}

function json(status: number, value: unknown): Reply {
  return { status, type: 'json', body: JSON.stringify(value) };
}

function forbidden(api: boolean, user: string, message: string): Reply {
  return api ? json(403, { error: message }) : { status: 403, type: 'html', body: errorPage('Forbidden', message, user) };
}

function notFound(api: boolean, user: string, message: string): Reply {
  return api ? json(404, { error: message }) : { status: 404, type: 'html', body: errorPage('Not found', message, user) };
}

function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.destroy();
        reject(new Error('login form too large'));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
