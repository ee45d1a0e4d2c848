// HTTP(S) agents whose sockets fail after a stretch with no byte in either direction. The minio client sets no
// timeout of its own: a store that stops answering without closing the connection (a half-open TCP connection
// after a network partition, a hung proxy or load balancer) would block the request forever — a trainer until the
// Job's activeDeadlineSeconds, a server's inference-log upload for good, including the one it makes on shutdown.
// With these agents the request fails with a socket error, which the store classifies as unavailable and retries.
import { Agent as HttpAgent, type AgentOptions, type ClientRequestArgs } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions, type RequestOptions } from 'node:https';
import type { Duplex } from 'node:stream';

/** Default: long enough for a large object's slow part, short enough that a hung store is noticed. */
export const defaultStoreIdleTimeoutMs = 60_000;

export class StoreSocketTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(idleMs: number) {
    super(`object store socket idle for ${idleMs} ms: timed out`);
    this.name = 'StoreSocketTimeoutError';
  }
}

function arm(socket: Duplex | null | undefined, idleMs: number): Duplex | null | undefined {
  const s = socket as (Duplex & { setTimeout?: (ms: number, cb: () => void) => void }) | null | undefined;
  s?.setTimeout?.(idleMs, () => s.destroy(new StoreSocketTimeoutError(idleMs)));
  return socket;
}

export class IdleTimeoutHttpAgent extends HttpAgent {
  constructor(private readonly idleMs: number, options: AgentOptions = {}) {
    super({ keepAlive: true, ...options });
  }

  override createConnection(options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    return arm(super.createConnection(options, callback), this.idleMs);
  }
}

export class IdleTimeoutHttpsAgent extends HttpsAgent {
  constructor(private readonly idleMs: number, options: HttpsAgentOptions = {}) {
    super({ keepAlive: true, ...options });
  }

  override createConnection(options: RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    return arm(super.createConnection(options, callback), this.idleMs);
  }
}
