// An open-loop load generator: requests leave on a fixed schedule (rate per second), whether or not earlier ones
// have been answered, and each latency is measured from the request's intended send time, so a server that stalls
// is charged for every request that should have gone out during the stall (no coordinated omission, as wrk2 does
// it; wrk2 is not in Debian). Requests go over `connections` kept-alive connections, one request at a time on each
// (as wrk sends them); when every connection is busy they wait in a queue, their clock already running.
//
// It speaks HTTP/1.1 on raw sockets: the request is encoded once, and an answer is read as far as its status line,
// Content-Length and Connection header. node:http's client cost ~40 µs of CPU per request here, as much as the
// server under test, on the same two cores: at half our peak the generator itself held a core, and what it measured
// was as much its own queueing as the server's. An answer with `Connection: close` (the server's per-connection
// request cap) ends its connection, and the next request opens a new one.
//
// It runs in a process of its own (openLoop spawns this file), so the bench process's heap and collector do not
// pause the clock that schedules and times the requests.
//
// That process runs under SCHED_BATCH (`chrt --batch 0`): a client on its own machine never takes a core from the
// server, and here it shares the server's two cores. Under the default policy each answer the server wrote woke the
// generator, which preempted the server mid-batch. At 13,500 req/s on a fresh two-worker pod (decision 0012, round
// twelve), 12 s windows: each worker was put back on a CPU 17,000–21,400 times and waited 1.8–2.75 s for one; the p99
// of 20 windows ran 6.7–28.2 ms, median 14.3. SCHED_BATCH only stops the generator's wake-ups from preempting a
// running task; it is not a lower priority (`nice 5` starved it: 4.8–5.2 s of waiting, p99 11–18 ms). With it: 10,000–
// 12,000 slices and 1.4–1.75 s of waiting per worker, the workers' CPU down by about a tenth, and the p99 of 17 windows
// 6.0–16.3 ms, median 8.9. An answer the generator reads late still counts against the server (the generator
// itself now waits ~3.3 s of 12 for a CPU): what changes is the cost of sharing the cores, not what is charged. The
// result says how long the generator's thread waited for a CPU (waitMs).
//
// The first `warmupSeconds` of the schedule are sent but not counted (wrk2 likewise resets its histograms after
// its calibration period): while the generator's own code is still being compiled and its connections are being
// opened (and, with workers, moved to the worker they belong on) the first half second measured 3,500 of 4,250
// requests over 10 ms in a run whose next 7.5 seconds had a p99 of 9.4 ms; what it measured was the start, not the
// server's steady state.
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { schedOfMainThread, schedPolicyOf } from './proc-cpu.js';

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
  /** The generator's scheduling policy (/proc/self/stat: 0 normal, 3 SCHED_BATCH). */
  readonly schedPolicy: number;
}

/** The q-quantile (0..1) of sorted values, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

/** What an answer's head says: its status, its body's length and whether the connection closes after it. */
export interface AnswerHead {
  readonly status: number;
  readonly contentLength: number;
  readonly close: boolean;
}

/** Parses an HTTP/1.1 answer head (up to, not including, the blank line); undefined when it is not one. */
export function parseAnswerHead(head: string): AnswerHead | undefined {
  const lines = head.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!status) return undefined;
  let contentLength = 0;
  let close = false;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim().toLowerCase();
    if (name === 'content-length') contentLength = Number(value);
    else if (name === 'connection' && value === 'close') close = true;
  }
  return Number.isSafeInteger(contentLength) ? { status: Number(status[1]), contentLength, close } : undefined;
}

/** One connection: sends a request when idle, reads its answer, reports it. */
class Connection {
  private socket: Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private head: AnswerHead | undefined;
  private headBytes = 0;
  busy = false;
  private intended = 0;

  constructor(
    private readonly host: string, private readonly port: number, private readonly request: Buffer,
    private readonly done: (c: Connection, intended: number, status: number | undefined) => void,
    private readonly connected: () => void,
  ) {
    this.socket = this.open();
  }

  private open(): Socket {
    this.connected();
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    socket.on('data', (d: Buffer) => this.read(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (socket !== this.socket) return;
      // Closed with a request outstanding: an error; either way the next request gets a fresh connection, opened
      // before the error is reported (reporting it sends this connection the next request waiting, if any).
      this.socket = this.open();
      this.buffered = Buffer.alloc(0);
      this.head = undefined;
      if (this.busy) this.finish(undefined);
    });
    return socket;
  }

  send(intended: number): void {
    this.busy = true;
    this.intended = intended;
    this.socket.write(this.request);
  }

  private read(d: Buffer): void {
    this.buffered = this.buffered.length === 0 ? d : Buffer.concat([this.buffered, d]);
    if (this.head === undefined) {
      const end = this.buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.head = parseAnswerHead(this.buffered.toString('latin1', 0, end));
      this.headBytes = end + 4;
      if (this.head === undefined) {
        this.socket.destroy();
        return;
      }
    }
    if (this.buffered.length < this.headBytes + this.head.contentLength) return;
    const { status, close } = this.head;
    this.buffered = this.buffered.subarray(this.headBytes + this.head.contentLength);
    this.head = undefined;
    if (close) {
      // The server closes it after this answer: take a new one now (the old one's close is ignored).
      this.socket.destroy();
      this.socket = this.open();
      this.buffered = Buffer.alloc(0);
    }
    this.finish(status);
  }

  private finish(status: number | undefined): void {
    this.busy = false;
    this.done(this, this.intended, status);
  }

  close(): void {
    const s = this.socket;
    this.socket = undefined as unknown as Socket;
    s.destroy();
  }
}

/**
 * POSTs `body` (JSON) to `url` at `rate` requests per second for `warmupSeconds` and then `seconds`, over
 * `connections` connections, in this process; latencies in milliseconds from each request's intended send time to
 * its answer's last byte, of the requests after the warm-up.
 */
export async function openLoopHere(url: string, body: string, rate: number, seconds: number, connections = 64, warmupSeconds = 2): Promise<OpenLoopResult> {
  const target = new URL(url);
  const payload = Buffer.from(body);
  const request = Buffer.concat([
    Buffer.from(`POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\n\r\n`, 'latin1'),
    payload,
  ]);
  const latencies: number[] = [];
  let non2xx = 0;
  let errors = 0;
  let connects = 0;
  const warmup = Math.round(rate * warmupSeconds);
  const total = warmup + Math.round(rate * seconds);
  const queue: number[] = [];
  let queueHead = 0;
  let sent = 0;
  let answered = 0;
  let measuredFrom = Infinity;
  let allDone: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  const idle: Connection[] = [];
  const done = (c: Connection, intended: number, status: number | undefined): void => {
    answered += 1;
    // A request of the warm-up is answered but not counted.
    if (intended >= measuredFrom) {
      if (status === undefined) errors += 1;
      else {
        if (status < 200 || status >= 300) non2xx += 1;
        latencies.push(performance.now() - intended);
      }
    }
    if (queueHead < queue.length) c.send(queue[queueHead++] as number);
    else idle.push(c);
    if (answered === total) allDone();
  };
  const pool = Array.from({ length: connections }, () => new Connection(target.hostname, Number(target.port), request, done, () => (connects += 1)));
  idle.push(...pool);
  const cpu = process.cpuUsage();
  const waitedBefore = schedOfMainThread(process.pid)?.waitMs ?? NaN;
  const start = performance.now();
  measuredFrom = start + warmupSeconds * 1000;
  // A 1 ms tick sends every request whose time has come (request i is due at i / rate); each carries its own intended
  // time.
  // The longest gap between two ticks after the warm-up: the generator's own pause (its collector, or its thread
  // waiting for a CPU), which every request in flight or due meanwhile is charged with.
  let lastTick = start;
  let pauseMaxMs = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    if (lastTick >= measuredFrom) pauseMaxMs = Math.max(pauseMaxMs, now - lastTick);
    lastTick = now;
    const due = Math.min(total, Math.floor(((now - start) / 1000) * rate) + 1);
    for (; sent < due; sent++) {
      const intended = start + (sent / rate) * 1000;
      const c = idle.pop();
      if (c !== undefined) c.send(intended);
      else queue.push(intended);
    }
    if (sent === total) clearInterval(tick);
  }, 1);
  // A server that stops answering does not hold the bench: what is unanswered 30 s after the schedule counts as errors.
  let deadline: NodeJS.Timeout | undefined;
  await Promise.race([finished, new Promise<void>((resolve) => (deadline = setTimeout(resolve, (seconds + 30) * 1000)))]);
  clearTimeout(deadline);
  clearInterval(tick);
  errors += total - answered;
  const elapsed = (performance.now() - measuredFrom) / 1000;
  const used = process.cpuUsage(cpu);
  const waitMs = (schedOfMainThread(process.pid)?.waitMs ?? NaN) - waitedBefore;
  const schedPolicy = schedPolicyOf(process.pid);
  for (const c of pool) c.close();
  latencies.sort((a, b) => a - b);
  return {
    rate, sent: sent - warmup, answered: latencies.length, warmup, non2xx, errors, rps: latencies.length / elapsed, connects, cpuMs: (used.user + used.system) / 1000, waitMs, schedPolicy, pauseMaxMs,
    p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies[latencies.length - 1] ?? NaN,
  };
}

const self = fileURLToPath(import.meta.url);

/** openLoopHere in a child process of its own (the same arguments); its result as JSON on the child's stdout. */
export function openLoop(url: string, body: string, rate: number, seconds: number, connections = 64, warmupSeconds = 2): Promise<OpenLoopResult> {
  return new Promise((resolve, reject) => {
    // SCHED_BATCH: see the top of this file. chrt is util-linux's (Debian's essential set).
    const child = spawn('chrt', ['--batch', '0', process.execPath, '--import', 'tsx', self, JSON.stringify({ url, body, rate, seconds, connections, warmupSeconds })], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`the open-loop generator exited ${String(code)}`));
      return resolve(JSON.parse(out) as OpenLoopResult);
    });
  });
}

if (process.argv[1] === self) {
  const a = JSON.parse(process.argv[2] ?? '{}') as { url: string; body: string; rate: number; seconds: number; connections: number; warmupSeconds: number };
  const r = await openLoopHere(a.url, a.body, a.rate, a.seconds, a.connections, a.warmupSeconds);
  process.stdout.write(JSON.stringify(r));
  process.exit(0);
}
