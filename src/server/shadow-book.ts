// The pairing a shadow pod keeps between the mirrored rows it answered and what happened to the same requests on
// the serving version. A Gateway mirrors a request to the shadow (HTTPRoute RequestMirror) and drops the shadow's
// answer, so nothing ties the shadow's prediction to the prediction id the client got and later labels — except
// the request itself. The shadow pod holds its answer under the row's fingerprint (the row's values); the serving
// pods log each prediction with its id and the row (the inference log); reading those records back, the book pairs
// a logged row with a held answer of the same fingerprint made within pairWindowMs of it, which gives
//   - agreement per request: the serving version's prediction against the shadow's, for the same row, and
//   - the shadow's accuracy: a label for the paired id scores the shadow's own prediction, under its own version.
// Rows with the same values are interchangeable (one model answers them the same way), so a repeated row pairs
// with any held answer of its fingerprint. Bounded: at most maxHeld held answers (oldest out), maxPaired paired ids
// and maxPending labels waiting for their prediction record; everything older than holdMs is forgotten.
// Pure apart from the clock the caller passes in; shadow-scoring.ts does the reading.
import { createHash } from 'node:crypto';
import type { FeedbackRecord, PredictionRecord } from '../shared/inference-log.js';
import type { RawRow } from '../shared/preprocessing.js';
import type { Prediction } from './model.js';
import type { ScoredPrediction } from './metrics.js';
import { agrees } from './shadow.js';

export interface ShadowBookOptions {
  /** The shadow's own version: records of it are its own and never paired. */
  readonly version: string;
  /** Relative tolerance under which two regression values agree. */
  readonly tolerance: number;
  readonly pairWindowMs: number;
  readonly holdMs: number;
  readonly maxHeld: number;
  readonly maxPaired: number;
  readonly maxPending: number;
}

export const defaultShadowBookOptions: Omit<ShadowBookOptions, 'version'> = {
  tolerance: 0.01, pairWindowMs: 60_000, holdMs: 15 * 60_000, maxHeld: 100_000, maxPaired: 100_000, maxPending: 100_000,
};

export type BookEvent =
  | { readonly kind: 'compared'; readonly agree: boolean }
  | { readonly kind: 'label'; readonly scored: ScoredPrediction; readonly label: string | number };

interface Held {
  readonly atMs: number;
  readonly prediction: Prediction;
}

/** The fingerprint of a row: its values with the keys in order, hashed (16 bytes are plenty against collisions). */
export function rowFingerprint(row: Readonly<RawRow>): string {
  const keys = Object.keys(row).sort();
  return createHash('sha256').update(JSON.stringify(keys.map((k) => [k, row[k] ?? null]))).digest('base64url').slice(0, 22);
}

function scoredOf(p: Prediction): ScoredPrediction {
  return 'label' in p ? { prediction: p.label, probabilities: p.probabilities } : { prediction: p.value };
}

export class ShadowBook {
  /** fingerprint → held answers, oldest first. */
  private readonly held = new Map<string, Held[]>();
  /** Insertion order of held answers, for the count bound: [fingerprint, atMs]. */
  private readonly heldOrder: Array<[string, number]> = [];
  private heldCount = 0;
  /** Prediction id of the serving version → the shadow's answer to the same request (Map order: oldest first). */
  private readonly paired = new Map<string, { atMs: number; scored: ScoredPrediction }>();
  /** Labels read before their prediction record: id → label. */
  private readonly pending = new Map<string, { atMs: number; label: string | number }>();

  constructor(private readonly o: ShadowBookOptions) {}

  /** What is held, for tests and the bound. */
  size(): { held: number; paired: number; pending: number } {
    return { held: this.heldCount, paired: this.paired.size, pending: this.pending.size };
  }

  /** Nothing held, paired or waiting. */
  idle(): boolean {
    return this.heldCount === 0 && this.paired.size === 0 && this.pending.size === 0;
  }

  /** The shadow answered these mirrored rows at atMs. */
  hold(rows: readonly Readonly<RawRow>[], predictions: readonly Prediction[], atMs: number): void {
    rows.forEach((row, i) => {
      const prediction = predictions[i];
      if (prediction === undefined) return;
      const fp = rowFingerprint(row);
      const list = this.held.get(fp) ?? [];
      list.push({ atMs, prediction });
      this.held.set(fp, list);
      this.heldOrder.push([fp, atMs]);
      this.heldCount += 1;
    });
    // The order list also keeps entries of answers paired since (they are skipped when they come up): bounded too.
    while (this.heldCount > this.o.maxHeld || this.heldOrder.length > 2 * this.o.maxHeld) this.dropOldestHeld();
  }

  /** A prediction record of the inference log (any version, any pod): pairs it if the shadow answered the same row. */
  prediction(r: PredictionRecord): BookEvent[] {
    if (r.modelVersion === this.o.version || r.track === 'shadow') return [];
    const atMs = Date.parse(r.time);
    const fp = rowFingerprint(r.features);
    const list = this.held.get(fp);
    const i = list?.findIndex((h) => Math.abs(h.atMs - atMs) <= this.o.pairWindowMs) ?? -1;
    if (list === undefined || i < 0) return [];
    const [h] = list.splice(i, 1);
    if (list.length === 0) this.held.delete(fp);
    this.heldCount -= 1;
    if (h === undefined) return [];
    const out: BookEvent[] = [{ kind: 'compared', agree: agrees(h.prediction, r.prediction, this.o.tolerance) }];
    const scored = scoredOf(h.prediction);
    const waiting = this.pending.get(r.id);
    if (waiting !== undefined) {
      this.pending.delete(r.id);
      out.push({ kind: 'label', scored, label: waiting.label });
    } else {
      this.paired.set(r.id, { atMs: h.atMs, scored });
      while (this.paired.size > this.o.maxPaired) this.paired.delete(this.paired.keys().next().value as string);
    }
    return out;
  }

  /** A feedback record: scores the shadow's answer to the same request, or waits for the prediction record. */
  feedback(r: FeedbackRecord, nowMs: number): BookEvent[] {
    const p = this.paired.get(r.id);
    if (p !== undefined) {
      this.paired.delete(r.id);
      return [{ kind: 'label', scored: p.scored, label: r.label }];
    }
    if (!this.pending.has(r.id)) {
      this.pending.set(r.id, { atMs: nowMs, label: r.label });
      while (this.pending.size > this.o.maxPending) this.pending.delete(this.pending.keys().next().value as string);
    }
    return [];
  }

  /** Forgets everything older than holdMs. */
  expire(nowMs: number): void {
    const limit = nowMs - this.o.holdMs;
    while ((this.heldOrder[0]?.[1] ?? Infinity) < limit) this.dropOldestHeld();
    for (const [id, p] of this.paired) {
      if (p.atMs >= limit) break;
      this.paired.delete(id);
    }
    for (const [id, p] of this.pending) {
      if (p.atMs >= limit) break;
      this.pending.delete(id);
    }
  }

  private dropOldestHeld(): void {
    const first = this.heldOrder.shift();
    if (first === undefined) return;
    const [fp, atMs] = first;
    const list = this.held.get(fp);
    const i = list?.findIndex((h) => h.atMs === atMs) ?? -1;
    if (list === undefined || i < 0) return; // paired already
    list.splice(i, 1);
    if (list.length === 0) this.held.delete(fp);
    this.heldCount -= 1;
  }
}
