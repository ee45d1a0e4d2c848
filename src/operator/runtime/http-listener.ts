// How the operator's HTTP servers (health and metrics, the web dashboard, the store's notifications) listen and
// close: on host:port (port 0 picks a free one), resolving with the bound port or rejecting with the listen error
// (a port in use), optionally with short header and request timeouts so a stalled client cannot hold a connection;
// a close drops open keep-alive connections at once instead of waiting for their clients.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ListenOptions {
  /** Whole request (headers and body) within this many ms, else 408 and the connection closed. */
  readonly requestTimeoutMs?: number;
  /** Headers within this many ms. */
  readonly headersTimeoutMs?: number;
}

export interface Listening {
  readonly server: http.Server;
  readonly port: number;
}

export function listenHttp(handler: http.RequestListener, port: number, host: string | undefined, o: ListenOptions = {}): Promise<Listening> {
  const server = http.createServer(handler);
  if (o.requestTimeoutMs !== undefined) server.requestTimeout = o.requestTimeoutMs;
  if (o.headersTimeoutMs !== undefined) server.headersTimeout = o.headersTimeoutMs;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({ server, port: (server.address() as AddressInfo).port });
    });
  });
}

/** Stops listening and drops every open connection; resolves once the server is closed. */
export async function closeHttp(server: http.Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
