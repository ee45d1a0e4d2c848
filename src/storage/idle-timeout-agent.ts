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

// The timeout rides on the agent's own `timeout` option, which Node re-applies to a socket each time it is reused
// from the keep-alive pool (a timeout set once on a new socket would be cleared the first time it went back to the
// pool). Node destroys an idle pooled socket on that timeout itself; a socket serving a request only gets a
// 'timeout' event, so that one is destroyed here with an error that fails the request.
function arm(agent: HttpAgent, socket: Duplex | null | undefined, idleMs: number): Duplex | null | undefined {
  socket?.on('timeout', () => {
    const pooled = Object.values(agent.freeSockets).some((list) => list?.includes(socket as never) === true);
    if (!pooled) socket.destroy(new StoreSocketTimeoutError(idleMs));
  });
  return socket;
}

export class IdleTimeoutHttpAgent extends HttpAgent {
  constructor(private readonly idleMs: number, options: AgentOptions = {}) {
    super({ keepAlive: true, ...options, timeout: idleMs });
  }

  override createConnection(options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    return arm(this, super.createConnection(options, callback), this.idleMs);
  }
}

export class IdleTimeoutHttpsAgent extends HttpsAgent {
  constructor(private readonly idleMs: number, options: HttpsAgentOptions = {}) {
    super({ keepAlive: true, ...options, timeout: idleMs });
  }

  override createConnection(options: RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    return arm(this, super.createConnection(options, callback), this.idleMs);
  }
}
