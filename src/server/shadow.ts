// Shadow mode: a sampled share of requests is mirrored to another server's `:predict` endpoint after our own
// answer is decided. The request path never awaits it (mirror() returns at once); the shadow's answers are
// compared with ours and only counted: agreement per row, latency per request. Mirrors in flight are bounded, so
// a slow shadow costs dropped mirrors, never memory or latency of the real traffic.
// Loop guard: every mirror carries `x-perennial-shadow`, and a request carrying it is never mirrored again; nor does a
// server on the shadow track mirror at all. So one request makes at most one mirror, even when a mirror URL points
// back at a mirroring server (itself included).
import type { IncomingHttpHeaders } from 'node:http';
import type { RawRow } from '../shared/preprocessing.js';
import type { Prediction } from './model.js';

export interface ShadowOptions {
  readonly url: string;
  readonly sample: number;
  readonly timeoutMs: number;
  readonly maxInFlight?: number;
  /** Relative tolerance under which two regression values agree (default 1%). */
  readonly tolerance?: number;
  readonly random?: () => number;
  readonly fetch?: typeof fetch;
}

export interface ShadowRecorder {
  outcome(o: 'agree' | 'disagree' | 'error' | 'dropped', n?: number): void;
  latency(seconds: number): void;
}

/** The header that marks a mirrored request. */
export const shadowHeader = 'x-perennial-shadow';

/** Whether a request answered by a server on `track` may be mirrored: not on the shadow track, not a mirror itself. */
export function shouldMirror(track: string, headers: IncomingHttpHeaders): boolean {
  return track !== 'shadow' && headers[shadowHeader] === undefined;
}

/** Whether the shadow's answer agrees with ours for one row. */
export function agrees(ours: Prediction, theirs: unknown, tolerance: number): boolean {
  if ('label' in ours) return typeof theirs === 'string' && theirs === ours.label;
  if (typeof theirs !== 'number') return false;
  return Math.abs(theirs - ours.value) <= tolerance * Math.max(1, Math.abs(ours.value));
}

export class ShadowMirror {
  private inFlight = 0;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly o: ShadowOptions, private readonly rec: ShadowRecorder) {}

  /** Fire and forget. */
  mirror(rows: readonly RawRow[], ours: readonly Prediction[]): void {
    if ((this.o.random ?? Math.random)() >= this.o.sample) return;
    if (this.inFlight >= (this.o.maxInFlight ?? 64)) {
      this.rec.outcome('dropped', rows.length);
      return;
    }
    this.inFlight += 1;
    const p = this.send(rows, ours).finally(() => {
      this.inFlight -= 1;
      this.pending.delete(p);
    });
    this.pending.add(p);
  }

  /** Waits for mirrors in flight (on shutdown, so their metrics are not cut off midway). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private async send(rows: readonly RawRow[], ours: readonly Prediction[]): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      const res = await (this.o.fetch ?? fetch)(this.o.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [shadowHeader]: '1' },
        body: JSON.stringify({ instances: rows }),
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      const body = (await res.json()) as { predictions?: unknown };
      this.rec.latency(Number(process.hrtime.bigint() - started) / 1e9);
      if (!res.ok || !Array.isArray(body.predictions) || body.predictions.length !== ours.length) {
        this.rec.outcome('error', rows.length);
        return;
      }
      const theirs = body.predictions as unknown[];
      let same = 0;
      ours.forEach((p, i) => {
        if (agrees(p, theirs[i], this.o.tolerance ?? 0.01)) same += 1;
      });
      if (same > 0) this.rec.outcome('agree', same);
      if (same < ours.length) this.rec.outcome('disagree', ours.length - same);
    } catch {
      this.rec.outcome('error', rows.length);
    }
  }
}
