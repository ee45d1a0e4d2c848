// One HTTP server for the kubelet and Prometheus: /healthz (the process is alive and its event loop answers),
// /readyz (what the manager reports: informers synced and, with leader election, leading or standing by
// healthily), /metrics (the runtime's own prom-client registry). `/metrics?name=<family>` (repeatable) answers only
// those families: a full scrape renders every per-object series (about 0.3 s of the event loop at 1,000 pipelines +
// 1,000 deployments on a 2-core machine), too much for a caller polling progress every second (bench/operator-scale).
import type http from 'node:http';
import type { Registry } from 'prom-client';
import { closeHttp, listenHttp } from './http-listener.js';

export interface Readiness {
  readonly ready: boolean;
  /** Per-check detail, shown in the /readyz body. */
  readonly checks: Readonly<Record<string, boolean>>;
}

export class HealthServer {
  private server: http.Server | undefined;

  constructor(private readonly registry: Registry, private readonly readiness: () => Readiness) {}

  /** Listens on host:port (port 0 picks a free one) and returns the bound port. */
  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    const { server, port: bound } = await listenHttp((req, res) => void this.handle(req, res), port, host);
    this.server = server;
    return bound;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await closeHttp(server);
  }

  /**
   * The named metric families in the text format, in the order named (unknown names are left out, as a scrape would
   * have none). prom-client reads some of Node's figures when it collects a sibling family (the heap's used and
   * external bytes with nodejs_heap_size_total_bytes): name the sibling first, or they are those of the last scrape.
   */
  private async families(names: readonly string[]): Promise<string> {
    const parts: string[] = [];
    for (const name of new Set(names)) {
      if (this.registry.getSingleMetric(name) !== undefined) parts.push(await this.registry.getSingleMetricAsString(name));
    }
    return parts.length === 0 ? '' : `${parts.join('\n')}\n`;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    try {
      if (path === '/healthz' || path === '/livez') {
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
      } else if (path === '/readyz') {
        const r = this.readiness();
        const body = Object.entries(r.checks).map(([k, v]) => `[${v ? '+' : '-'}]${k} ${v ? 'ok' : 'failed'}`).join('\n');
        res.writeHead(r.ready ? 200 : 503, { 'Content-Type': 'text/plain' }).end(`${body}\n`);
      } else if (path === '/metrics') {
        const names = url.searchParams.getAll('name');
        const text = names.length === 0 ? await this.registry.metrics() : await this.families(names);
        res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(text);
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      }
    } catch (e: unknown) {
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
}
