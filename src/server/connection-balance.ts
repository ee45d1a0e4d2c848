// Keeps a pod's connections spread over its serving workers (PERENNIAL_SERVER_WORKERS > 1), each listener's apart:
// the HTTP/1.1 connections of REST and the HTTP/2 connections of gRPC (one gRPC connection carries many calls at once).
// Workers accept from the shared sockets themselves (SCHED_NONE, cluster-primary.ts): the kernel gives a new
// connection to a worker waiting in accept, and connections opened in one burst (a client's pool starting, a
// proxy reconnecting, a gRPC client's channels) can all land on one worker while the other idles. At half the peak
// rate that worker queued requests for 30-270 ms until the connection age (http-io.ts) moved them, seconds later
// (decision 0012); eight gRPC channels opened at once landed 8 / 0 on a pod's two workers, one worker busy and the
// other idle until their age (30 s). This moves them within one answer each:
//   worker  ──(its live connections per listener, when they changed, at most every reportMs)──►  primary
//   primary ──(the other workers' live connections as reported, and how many workers there are)──►  every worker
//   a listener's share is ceil((its own live count + the others') / workers); over it (plus a little slack: an
//   eighth of the share, at least one REST connection, none for gRPC below eight) the worker closes one connection
//   at a time, at most one every shedGapMs, until it is not: REST answers a request with `Connection: close`, gRPC
//   moves a connection that carries a call with HTTP/2's two-step GOAWAY (grpc-server.ts: the client starts no new
//   call on it, its calls in flight finish); the client opens a new connection, which goes to whichever worker
//   waits in accept.
// Its own count is live, the others' is as old as their last report: a share from the primary alone (both counts
// old) ran low while a client's connections were still arriving, and the worker closed one on every answer, while
// the reconnections often came back to it (a busy worker is the one awake to accept): 2,000 closes in 12 s of a
// load that needed 64 connections. The gap bounds that whatever the counts say: at most 100 closes a second per
// worker for REST by default and 10 for gRPC (each a new HTTP/2 connection), which still moves a burst within a
// second.
// A connection told to close is counted once: here while its client reconnects (for transitMs, time for the worker
// that takes the new connection to report it), then only where the new one is. It is never live here: a moved gRPC
// connection drains for a second or more (grpc-server.ts), and counted in the pod's total all that while beside its
// replacement it raised the share (ceil(9 / 2) = 5) and held a worker at 5 / 3 until it closed.
// Counts, not load: a pod's clients are alike enough for that (Envoy's least-request works on counts too).
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ConnectionKind, OpenConnections, PodConnections } from './cluster-messages.js';

/** A worker's share of the pod's open connections: its own and the others' summed, split evenly, rounded up (0: not known yet). */
export function connectionShare(own: number, pod: PodConnections | undefined): number {
  if (pod === undefined || pod.workers <= 0) return 0;
  return Math.ceil((own + pod.others) / pod.workers);
}

/**
 * How far over its share a worker may be before it sheds: an eighth of the share, at least `least` connections (REST
 * 1; gRPC 0, as one gRPC connection can be a client's whole load: two of them on one worker leave the other idle).
 */
export function shareSlack(share: number, least = 1): number {
  return Math.max(least, Math.floor(share / 8));
}

/**
 * Whether a worker closes the connection it answers now: its `live` connections (open and not told to close), the
 * pod's `share` (0: not known yet, never shed).
 */
export function overShare(live: number, share: number, leastSlack = 1): boolean {
  return share > 0 && live > share + shareSlack(share, leastSlack);
}

const shed = Symbol('perennial.shed');

/**
 * How long a connection told to close still counts in the pod's total, as in transit: its client's new connection
 * is accepted within milliseconds and reported by the worker that took it within a report (100 ms by default).
 */
export const transitMs = 250;

/** Whether a worker may close one more connection now: the last was at least `gapMs` ago. */
export function shedDue(nowMs: number, lastShedMs: number, gapMs: number): boolean {
  return nowMs - lastShedMs >= gapMs;
}

/** One listener's connections in a worker: how many are open, how many of them were told to close, and when. */
export class ConnectionShare {
  private open = 0;
  private closing = 0;
  private lastShedMs = -Infinity;
  /** When the connections told to close in the last transitMs were, oldest first. */
  private shedAtMs: number[] = [];

  /**
   * `pod`: this listener's connections on the other workers and the number of workers, from the primary; at most one
   * connection closed per `shedGapMs`; `leastSlack`: shareSlack's least; `now`: a clock in ms (tests).
   */
  constructor(private readonly pod: () => PodConnections | undefined, private readonly shedGapMs: number, private readonly leastSlack: number, private readonly now: () => number = () => performance.now()) {}

  /** Live connections: open and not told to close (what this worker reports to the primary). */
  get connections(): number {
    return this.open - this.closing;
  }

  opened(): void {
    this.open += 1;
  }

  /** A connection closed; `wasShed`: it was one this share told to close. */
  closed(wasShed: boolean): void {
    this.open -= 1;
    if (wasShed) this.closing -= 1;
  }

  /** Whether one more connection should close now: over the share, and none closed for a gap. */
  wantsShed(): boolean {
    const now = this.now();
    while ((this.shedAtMs[0] ?? now) <= now - transitMs) this.shedAtMs.shift();
    const live = this.open - this.closing;
    // In transit: told to close less than transitMs ago and not closed yet.
    const share = connectionShare(live + Math.min(this.closing, this.shedAtMs.length), this.pod());
    return overShare(live, share, this.leastSlack) && shedDue(now, this.lastShedMs, this.shedGapMs);
  }

  /** One connection was told to close (after wantsShed said so). */
  shedding(): void {
    this.lastShedMs = this.now();
    this.closing += 1;
    this.shedAtMs.push(this.lastShedMs);
  }
}

export interface WorkerConnectionsOptions {
  /** A listener's connections on the other workers and the number of workers, from the primary (undefined until it said). */
  readonly pod: (kind: ConnectionKind) => PodConnections | undefined;
  /** This worker's open connections changed: tell the primary. */
  readonly report: (open: OpenConnections) => void;
  /** At most one report per this many ms (default 100). */
  readonly reportMs?: number;
  /** At most one REST connection closed per this many ms (default 10). */
  readonly httpShedGapMs?: number;
  /** At most one gRPC connection sent GOAWAY per this many ms (default 100). */
  readonly grpcShedGapMs?: number;
}

/** A worker's two listeners' shares, their counts reported to the primary when they change. */
export class WorkerConnections {
  readonly http: ConnectionShare;
  readonly grpc: ConnectionShare;
  private reported: OpenConnections = { http: -1, grpc: -1 };
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly o: WorkerConnectionsOptions) {
    this.http = new ConnectionShare(() => o.pod('http'), o.httpShedGapMs ?? 10, 1);
    this.grpc = new ConnectionShare(() => o.pod('grpc'), o.grpcShedGapMs ?? 100, 0);
    this.timer = setInterval(() => this.tick(), o.reportMs ?? 100);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const open = { http: this.http.connections, grpc: this.grpc.connections };
    if (open.http === this.reported.http && open.grpc === this.reported.grpc) return;
    this.reported = open;
    this.o.report(open);
  }
}

/** Counts an HTTP server's connections in `share`, and answers with `Connection: close` while the share wants one shed. */
export function balanceHttp(server: Server, share: ConnectionShare): void {
  server.on('connection', (socket: Socket & { [shed]?: boolean }) => {
    share.opened();
    socket.once('close', () => share.closed(socket[shed] === true));
  });
  server.prependListener('request', (req: { socket: Socket & { [shed]?: boolean } }, res: { setHeader(n: string, v: string): unknown }) => {
    if (req.socket[shed] === true || !share.wantsShed()) return;
    req.socket[shed] = true;
    share.shedding();
    res.setHeader('connection', 'close');
  });
}
