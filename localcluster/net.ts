// Loopback ports and health polling for the local cluster's servers.
import { createServer } from 'node:net';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ManagedProcess } from './process.js';

/** n distinct ports that were free on host a moment ago (the OS picks them; all held open until all are known). */
export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const servers = Array.from({ length: n }, () => createServer());
  try {
    return await Promise.all(servers.map((server) => new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => {
        const address = server.address();
        if (address === null || typeof address === 'string') reject(new Error('no port from the OS'));
        else resolve(address.port);
      });
    })));
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [port] = await freePorts(1, host);
  if (port === undefined) throw new Error('no port from the OS');
  return port;
}

/** The status code of a GET, or undefined when nothing answered. TLS is not verified: this only asks "up?". */
export async function probe(url: string, timeoutMs = 2000, headers: Record<string, string> = {}): Promise<number | undefined> {
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs, rejectUnauthorized: false, headers }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

export class NotHealthyError extends Error {
  constructor(readonly what: string, readonly url: string, readonly waitedMs: number, readonly logFile: string) {
    super(`${what} did not become healthy at ${url} within ${waitedMs} ms; see ${logFile}`);
    this.name = 'NotHealthyError';
  }
}

/** Polls url until it answers 200; fails fast if the process dies, and after timeoutMs. */
export async function waitHealthy(
  proc: ManagedProcess,
  url: string,
  timeoutMs: number,
  headers: Record<string, string> = {},
): Promise<void> {
  const start = Date.now();
  let delay = 50;
  for (;;) {
    proc.assertRunning();
    if ((await probe(url, 2000, headers)) === 200) return;
    if (Date.now() - start > timeoutMs) {
      throw new NotHealthyError(proc.spec.name, url, Date.now() - start, proc.spec.logFile);
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 500);
  }
}
