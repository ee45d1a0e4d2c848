// An in-memory stand-in for the Lease endpoints of the API server (GET, POST, PUT with resourceVersion
// preconditions), for unit tests of the leader elector. It validates MicroTime fields the way the API server does
// (exactly six fractional digits) and can be told to fail every request, to simulate an outage. It fails as the real
// client does: with the typed errors of errors.ts.
import { errorForResponse, toKubeError } from '../errors.js';
import type { HttpMethod, KubeHttp, RequestOptions } from '../kube-http.js';
import type { Lease } from '../leader-election.js';

const microTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function status(code: number, reason: string): Error {
  return errorForResponse(code, JSON.stringify({ kind: 'Status', code, reason }), {});
}

export class FakeLeaseServer implements KubeHttp {
  lease: Lease | undefined;
  down = false;
  requests = 0;
  private rv = 1;

  request<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
    this.requests++;
    if (this.down) return Promise.reject(toKubeError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })));
    try {
      return Promise.resolve(this.handle(method, path, options.body as Lease | undefined) as T);
    } catch (e: unknown) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** Another party writes the Lease directly (e.g. an intruder, or an admin). */
  overwrite(spec: Lease['spec']): void {
    this.lease = { ...this.lease, metadata: { ...this.lease?.metadata, resourceVersion: String(++this.rv) }, ...(spec ? { spec } : {}) };
  }

  private handle(method: HttpMethod, path: string, body: Lease | undefined): Lease {
    if (!path.includes('/leases')) throw status(404, 'NotFound');
    if (method === 'GET') {
      if (!this.lease) throw status(404, 'NotFound');
      return structuredClone(this.lease);
    }
    if (!body?.spec) throw status(400, 'BadRequest');
    for (const t of [body.spec.acquireTime, body.spec.renewTime]) {
      if (t !== undefined && !microTime.test(t)) throw status(400, 'BadRequest');
    }
    if (method === 'POST') {
      if (this.lease) throw status(409, 'AlreadyExists');
      this.lease = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++this.rv) } };
      return structuredClone(this.lease);
    }
    if (method === 'PUT') {
      if (!this.lease) throw status(404, 'NotFound');
      if (body.metadata?.resourceVersion !== this.lease.metadata?.resourceVersion) throw status(409, 'Conflict');
      this.lease = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++this.rv) } };
      return structuredClone(this.lease);
    }
    throw status(405, 'MethodNotAllowed');
  }
}
