// A narrow JSON-over-HTTPS client for the Kubernetes API built on the KubeConfig of client-node. Why not the
// generated API classes: they turn objects into model classes (Date for timestamps, which re-serialise with 3
// fractional digits where a Lease needs 6), they cannot reach arbitrary subresources of custom resources, and
// 1.x builds a new https.Agent per request (a socket leak on reconnects, client-node #2893). Here objects stay
// plain JSON, one keep-alive agent is reused, every request has a timeout, and every failure is thrown as the typed
// error of errors.ts, mapped here where it enters: callers match NotFoundError, ConflictError, ... never a status code.
import https from 'node:https';
import http from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { errorForResponse, toKubeError } from './errors.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export const PatchType = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
} as const;
export type PatchType = keyof typeof PatchType;

export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly timeoutMs?: number;
}

export interface KubeHttp {
  /** Rejects with the typed errors of errors.ts (NotFoundError, ConflictError, TransientError, ...). */
  request<T = unknown>(method: HttpMethod, path: string, options?: RequestOptions): Promise<T>;
}

export class KubeHttpClient implements KubeHttp {
  private readonly agent: https.Agent;

  constructor(private readonly kc: KubeConfig, private readonly defaultTimeoutMs = 30_000) {
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 32 });
  }

  async request<T = unknown>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    const url = new URL(cluster.server.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const opts: https.RequestOptions = { method, headers: {} };
    // Adds the CA, client certificate and the (possibly refreshed) bearer token; we keep our own agent.
    await this.kc.applyToHTTPSOptions(opts);
    const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers: http.OutgoingHttpHeaders = {
      ...(opts.headers as http.OutgoingHttpHeaders | undefined),
      Accept: 'application/json',
      ...(body ? { 'Content-Type': options.contentType ?? 'application/json', 'Content-Length': body.length } : {}),
    };
    const useProxyAgent = Boolean(cluster.proxyUrl);
    const isHttp = url.protocol === 'http:';
    const requestOptions: https.RequestOptions = {
      ...opts,
      headers,
      agent: useProxyAgent ? opts.agent : isHttp ? undefined : this.agent,
      timeout: options.timeoutMs ?? this.defaultTimeoutMs,
    };
    return new Promise<T>((resolve, reject) => {
      const req = (isHttp ? http : https).request(url, requestOptions, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(toKubeError(e)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const code = res.statusCode ?? 0;
          if (code < 200 || code > 299) {
            const hdrs: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') hdrs[k] = v;
            reject(errorForResponse(code, text, hdrs));
            return;
          }
          if (text === '') {
            resolve(undefined as T);
            return;
          }
          try {
            resolve(JSON.parse(text) as T);
          } catch (e: unknown) {
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        });
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error(`request timed out: ${method} ${path}`), { code: 'ETIMEDOUT' })));
      req.on('error', (e) => reject(toKubeError(e)));
      if (body) req.write(body);
      req.end();
    });
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.agent.destroy();
  }
}
