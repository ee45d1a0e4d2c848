// An open-loop load generator: requests leave on a fixed schedule (rate per second), whether or not earlier ones
// have been answered, and each latency is measured from the request's intended send time, so a server that stalls
// is charged for every request that should have gone out during the stall (no coordinated omission, as wrk2 does
// it; wrk2 is not in Debian). Requests go over a pool of kept-alive connections; when every connection is busy
// they wait in the pool's queue, their clock already running.
import { Agent, request } from 'node:http';

export interface OpenLoopResult {
  readonly rate: number;
  readonly sent: number;
  readonly answered: number;
  readonly non2xx: number;
  readonly errors: number;
  /** Achieved answers per second over the run. */
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** The q-quantile (0..1) of sorted values, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

/**
 * POSTs `body` to `url` at `rate` requests per second for `seconds`, over at most `connections` connections;
 * latencies in milliseconds from each request's intended send time to its answer's last byte.
 */
export async function openLoop(url: string, body: string, rate: number, seconds: number, connections = 64): Promise<OpenLoopResult> {
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const payload = Buffer.from(body);
  const latencies: number[] = [];
  let sent = 0;
  let non2xx = 0;
  let errors = 0;
  let outstanding = 0;
  const total = Math.round(rate * seconds);
  const start = performance.now();
  let allSent: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allSent = resolve));
  const send = (intended: number): void => {
    outstanding += 1;
    const finish = (ok: boolean, status: number): void => {
      outstanding -= 1;
      if (!ok) errors += 1;
      else {
        if (status < 200 || status >= 300) non2xx += 1;
        latencies.push(performance.now() - intended);
      }
      if (sent === total && outstanding === 0) allSent();
    };
    const req = request({
      host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': payload.length },
    }, (res) => {
      res.resume();
      res.on('end', () => finish(true, res.statusCode ?? 0));
      res.on('error', () => finish(false, 0));
    });
    req.on('error', () => finish(false, 0));
    req.end(payload);
  };
  // A 1 ms tick sends every request whose time has come; each carries its own intended time.
  const tick = setInterval(() => {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    while (sent < due) {
      const intended = start + (sent / rate) * 1000;
      sent += 1;
      send(intended);
    }
    if (sent === total) clearInterval(tick);
  }, 1);
  await done;
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    rate, sent, answered: latencies.length, non2xx, errors, rps: latencies.length / elapsed,
    p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies[latencies.length - 1] ?? NaN,
  };
}
