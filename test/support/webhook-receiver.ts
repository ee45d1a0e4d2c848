// A webhook receiver for tests of the operator's notifications: a real HTTP server that answers the first
// `failFirst` requests with 500 (to exercise retries) and keeps the JSON bodies it accepted, with the path each
// was posted to. It listens on `host`: 127.0.0.1 for an operator in the test's process; 0.0.0.0 for an operator in a
// pod, which reaches it at the node network's host address (cluster.info.node.hostIP) and `port`.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WebhookReceiver {
  readonly port: number;
  /** The URL of `path` on this receiver (at the address it listens on). */
  url(path: string): string;
  /** The bodies accepted, in order. */
  readonly accepted: Record<string, unknown>[];
  /** The paths (with their query) the accepted bodies were posted to. */
  readonly paths: string[];
  /** Requests received, refused ones included. */
  attempts(): number;
  close(): void;
}

export async function startWebhookReceiver(failFirst = 0, host = '127.0.0.1'): Promise<WebhookReceiver> {
  const accepted: Record<string, unknown>[] = [];
  const paths: string[] = [];
  let attempts = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      attempts++;
      if (attempts <= failFirst) {
        res.writeHead(500).end();
        return;
      }
      try {
        accepted.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
        paths.push(req.url ?? '');
        res.writeHead(200).end();
      } catch {
        res.writeHead(400).end('not JSON');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return { port, url: (path) => `http://${host}:${port}${path}`, accepted, paths, attempts: () => attempts, close: () => server.close() };
}
