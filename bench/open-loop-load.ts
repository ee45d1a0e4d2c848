// An open-loop load generator: requests leave on a fixed schedule (rate per second), whether or not earlier ones
// have been answered, and each latency is measured from the request's intended send time, so a server that stalls
// is charged for every request that should have gone out during the stall (no coordinated omission, as wrk2 does
// it; wrk2 is not in Debian). Requests go over `connections` kept-alive connections, one request at a time on each
// (as wrk sends them); when every connection is busy they wait in a queue, their clock already running. What it does
// request by request is in open-loop.c, the generator itself; this file builds it and runs it.
//
// It is C, on raw sockets (epoll, the request encoded once, an answer read as far as its status line, Content-Length
// and Connection header), because it shares the server's two cores. node:http's client cost ~40 µs of CPU a request
// here, as much as the server under test; the same generator in Node on raw sockets still ~19 µs (25% of a core at
// 13,500 req/s), CPU the server's workers then waited for; in C ~11 µs (15%), most of it the kernel's loopback send
// (decision 0012, round thirteen). An answer with `Connection: close` (the server's per-connection request cap) ends
// its connection, and the next request opens a new one.
//
// It runs in a process of its own, under SCHED_BATCH (`chrt --batch 0`): a client on its own machine never takes a
// core from the server, and here it shares the server's two cores. Under the default policy each answer the server
// wrote woke the generator, which preempted the server mid-batch. At 13,500 req/s on a fresh two-worker pod (decision
// 0012, round twelve), 12 s windows: each worker was put back on a CPU 17,000–21,400 times and waited 1.8–2.75 s for
// one; the p99 of 20 windows ran 6.7–28.2 ms, median 14.3. SCHED_BATCH only stops the generator's wake-ups from
// preempting a running task; it is not a lower priority (`nice 5` starved it: 4.8–5.2 s of waiting, p99 11–18 ms).
// With it: 10,000–12,000 slices and 1.4–1.75 s of waiting per worker, the workers' CPU down by about a tenth, and the
// p99 of 17 windows 6.0–16.3 ms, median 8.9. An answer the generator reads late still counts against the server:
// what changes is the cost of sharing the cores, not what is charged. The result says how long the generator's thread
// waited for a CPU (waitMs) and its own longest pause (pauseMaxMs).
//
// The first `warmupSeconds` of the schedule are sent but not counted (wrk2 likewise resets its histograms after
// its calibration period): while connections are being opened (and, with workers, moved to the worker they belong
// on) the first half second measured 3,500 of 4,250 requests over 10 ms in a run whose next 7.5 seconds had a p99 of
// 9.4 ms; what it measured was the start, not the server's steady state.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
  /** Requests of the warm-up: sent and answered, not in the figures above. */
  readonly warmup: number;
  /** Connections opened (the first `connections`, then one per connection the server closed). */
  readonly connects: number;
  /** CPU the generator itself used over the run, in ms (user + system). */
  readonly cpuMs: number;
  /** Time the generator's thread was ready to run but waited for a CPU over the run, in ms (its schedstat). */
  readonly waitMs: number;
  /** The longest gap between the generator's 1 ms ticks while it sent the counted requests, in ms: its own pause. */
  readonly pauseMaxMs: number;
  /** The generator's scheduling policy (sched_getscheduler: 0 normal, 3 SCHED_BATCH). */
  readonly schedPolicy: number;
}

const self = fileURLToPath(import.meta.url);
const cSource = join(dirname(self), 'open-loop.c');

/**
 * The C generator (open-loop.c) built with the machine's cc, once per version of its source: its path. Cached under
 * ${PERENNIAL_CACHE:-~/.cache/perennial}/open-loop/<source hash>/.
 */
export function openLoopBinary(): string {
  const hash = createHash('sha256').update(readFileSync(cSource)).digest('hex').slice(0, 16);
  const dir = join(process.env['PERENNIAL_CACHE'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'perennial'), 'open-loop', hash);
  const bin = join(dir, 'open-loop');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${bin}.${process.pid}.tmp`;
    execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', tmp, cSource, '-lm'], { stdio: ['ignore', 'inherit', 'inherit'] });
    renameSync(tmp, bin);
  }
  return bin;
}

/**
 * POSTs `body` (JSON) to `url` at `rate` requests per second for `warmupSeconds` and then `seconds`, over
 * `connections` connections, from the C generator in a process of its own under SCHED_BATCH; latencies in
 * milliseconds from each request's intended send time to its answer's last byte, of the requests after the warm-up.
 */
export function openLoop(url: string, body: string, rate: number, seconds: number, connections = 64, warmupSeconds = 2): Promise<OpenLoopResult> {
  const target = new URL(url);
  if (target.protocol !== 'http:' || target.port === '') throw new Error(`the open-loop generator needs an http URL with a port: ${url}`);
  const args = [target.hostname, target.port, target.pathname + target.search, body, String(rate), String(seconds), String(connections), String(warmupSeconds)];
  return new Promise((resolve, reject) => {
    // SCHED_BATCH: see the top of this file. chrt is util-linux's (Debian's essential set).
    const child = spawn('chrt', ['--batch', '0', openLoopBinary(), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`the open-loop generator exited ${String(code)}`));
      const r = JSON.parse(out) as { [K in keyof OpenLoopResult]: number | null };
      // JSON has no NaN: the generator writes null for a figure it has none of (no answers counted: no p50).
      return resolve(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v ?? NaN])) as unknown as OpenLoopResult);
    });
  });
}
