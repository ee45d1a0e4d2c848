// Keeps a pod's keep-alive HTTP connections spread over its serving workers (PERENNIAL_SERVER_WORKERS > 1).
// Workers accept from the shared socket themselves (SCHED_NONE, cluster-primary.ts): the kernel gives a new
// connection to a worker waiting in accept, and connections opened in one burst (a client's pool starting, a
// proxy reconnecting) can all land on one worker while the other idles. At half the peak rate that worker queued
// requests for 30-270 ms until the connection age (http-io.ts) moved them, seconds later (decision 0012). This moves
// them within one answer each:
//   worker  ──(its open connections, when they changed, at most every reportMs)──►  primary
//   primary ──(the pod's share: ceil(open connections / workers))──►  every worker
//   a worker over its share (plus a little slack) answers requests with `Connection: close` until it is not; the
//   client opens a new connection, which goes to whichever worker waits in accept: mostly the one with fewer
//   connections, as it is idle more.
// Counts, not load: a pod's clients are alike enough for that (Envoy's least-request works on counts too). gRPC's
// HTTP/2 connections are not counted here: grpc-js sends GOAWAY at their age (grpc-server.ts).
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** The pod's share of open connections per worker: the workers' counts summed, split evenly, rounded up. */
export function connectionShare(open: readonly number[]): number {
  if (open.length === 0) return 0;
  return Math.ceil(open.reduce((a, b) => a + b, 0) / open.length);
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

export interface ConnectionBalanceOptions {
  /** The pod's share from the primary (0 until it said). */
  readonly share: () => number;
  /** This worker's open connections changed: tell the primary. */
  readonly report: (open: number) => void;
  /** At most one report per this many ms (default 100). */
  readonly reportMs?: number;
}

/** One worker's side: counts the server's connections, reports them, sheds those over the share. */
export class ConnectionBalance {
  private open = 0;
  private closing = 0;
  private reported = -1;
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
      if (req.socket[shed] === true || !overShare(this.open, this.closing, o.share())) return;
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
