// Keeps a pod's keep-alive HTTP connections spread over its serving workers (PERENNIAL_SERVER_WORKERS > 1).
// Workers accept from the shared socket themselves (SCHED_NONE, cluster-primary.ts): the kernel gives a new
// connection to a worker waiting in accept, and connections opened in one burst (a client's pool starting, a
// proxy reconnecting) can all land on one worker while the other idles. At half the peak rate that worker queued
// requests for 30-270 ms until the connection age (http-io.ts) moved them, seconds later (decision 0012). This moves
// them within one answer each:
//   worker  ──(its open connections, when they changed, at most every reportMs)──►  primary
//   primary ──(the other workers' open connections as reported, and how many workers there are)──►  every worker
//   a worker's share is ceil((its own live count + the others') / workers); over it (plus a little slack) the worker
//   answers a request with `Connection: close`, at most one every shedGapMs, until it is not; the client opens a
//   new connection, which goes to whichever worker waits in accept.
// Its own count is live, the others' is as old as their last report: a share from the primary alone (both counts
// old) ran low while a client's connections were still arriving, and the worker closed one on every answer, while
// the reconnections often came back to it (a busy worker is the one awake to accept): 2,000 closes in 12 s of a
// load that needed 64 connections. The gap bounds that whatever the counts say: at most 100 closes a second per
// worker by default, which still moves a burst of 32 within a fraction of a second.
// Counts, not load: a pod's clients are alike enough for that (Envoy's least-request works on counts too). gRPC's
// HTTP/2 connections are not counted here: grpc-js sends GOAWAY at their age (grpc-server.ts).
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { PodConnections } from './cluster-messages.js';

/** A worker's share of the pod's open connections: its own and the others' summed, split evenly, rounded up (0: not known yet). */
export function connectionShare(own: number, pod: PodConnections | undefined): number {
  if (pod === undefined || pod.workers <= 0) return 0;
  return Math.ceil((own + pod.others) / pod.workers);
}

/** How far over its share a worker may be before it sheds: an eighth of the share, at least one connection. */
export function shareSlack(share: number): number {
  return Math.max(1, Math.floor(share / 8));
}

/**
 * Whether a worker closes the connection it answers now: `open` connections, `closing` of them already told to
 * close, the pod's `share` (0: not known yet, never shed).
 */
export function overShare(open: number, closing: number, share: number): boolean {
  return share > 0 && open - closing > share + shareSlack(share);
}

const shed = Symbol('perennial.shed');

/** Whether a worker may close one more connection now: the last was at least `gapMs` ago. */
export function shedDue(nowMs: number, lastShedMs: number, gapMs: number): boolean {
  return nowMs - lastShedMs >= gapMs;
}

export interface ConnectionBalanceOptions {
  /** The other workers' connections and the number of workers, from the primary (undefined until it said). */
  readonly pod: () => PodConnections | undefined;
  /** This worker's open connections changed: tell the primary. */
  readonly report: (open: number) => void;
  /** At most one report per this many ms (default 100). */
  readonly reportMs?: number;
  /** At most one connection closed per this many ms (default 10). */
  readonly shedGapMs?: number;
}

/** One worker's side: counts the server's connections, reports them, sheds those over the share. */
export class ConnectionBalance {
  private open = 0;
  private closing = 0;
  private reported = -1;
  private lastShedMs = -Infinity;
  private readonly timer: NodeJS.Timeout;

  constructor(server: Server, private readonly o: ConnectionBalanceOptions) {
    server.on('connection', (socket: Socket & { [shed]?: boolean }) => {
      this.open += 1;
      socket.once('close', () => {
        this.open -= 1;
        if (socket[shed] === true) this.closing -= 1;
      });
    });
    server.prependListener('request', (req: { socket: Socket & { [shed]?: boolean } }, res: { setHeader(n: string, v: string): unknown }) => {
      if (req.socket[shed] === true || !overShare(this.open, this.closing, connectionShare(this.open, o.pod()))) return;
      const now = performance.now();
      if (!shedDue(now, this.lastShedMs, o.shedGapMs ?? 10)) return;
      this.lastShedMs = now;
      req.socket[shed] = true;
      this.closing += 1;
      res.setHeader('connection', 'close');
    });
    this.timer = setInterval(() => this.tick(), o.reportMs ?? 100);
    this.timer.unref();
  }

  /** Open connections now (closing ones included). */
  get connections(): number {
    return this.open;
  }

  close(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    if (this.open === this.reported) return;
    this.reported = this.open;
    this.o.report(this.open);
  }
}
