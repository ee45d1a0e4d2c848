// Label-free early warning: the accuracy a classifier expects of itself on its recent traffic, from its own
// probabilities (confidence-based performance estimation, CBPE). If the probabilities are calibrated — of the rows
// given a top-class probability of 0.8, about 80 % are right — then each row is right with probability
// max_c p_c, and the expected accuracy of a set of rows is the mean of their top-class probabilities. No label is
// needed, so the figure is there while labels are late or never come.
//
// What it can and cannot see (docs/loop-semantics.md, "Estimated accuracy without labels"):
//   - a shift in the mix of familiar inputs (P(x) moves within the training data): followed, as the rows the model
//     is unsure of come and go;
//   - inputs outside the training data: calibration is fitted in-domain, and a model can be confidently wrong there
//     (New York rows to a Seattle weather model raised the estimate while the accuracy fell);
//   - concept drift (P(y|x) moves): invisible. The model is as confident as ever, only labels reveal it;
//   - uncalibrated probabilities (calibration None, an overconfident MLP) bias it upwards.
//
// The window follows the drift window's bounds (PERENNIAL_SERVER_DRIFT_WINDOW_SECONDS and _ROWS), so the estimate
// and the PSI describe the same rows: a wall-clock ring of time slots holding sums, or, with a row bound, a ring of the
// newest N rows' confidences. Confidences are kept in millionths (integers), so running sums stay exact however
// often rows enter and leave.

/** Confidence of one prediction: the probability of its top class. */
export function topProbability(probabilities: readonly number[]): number {
  let top = 0;
  for (const p of probabilities) if (Number.isFinite(p) && p > top) top = p;
  return Math.min(1, top);
}

/** The expected accuracy of predictions with these class probabilities: the mean top-class probability (undefined for none). */
export function expectedAccuracy(rows: readonly (readonly number[])[]): number | undefined {
  if (rows.length === 0) return undefined;
  return rows.reduce((a, p) => a + topProbability(p), 0) / rows.length;
}

const scale = 1_000_000;
const micro = (probabilities: readonly number[]): number => Math.round(topProbability(probabilities) * scale);

/** The confidences (top-class probabilities, in millionths) of the predictions that have probabilities. */
export function confidencesOf(predictions: readonly ({ readonly probabilities: readonly number[] } | { readonly value: number })[]): number[] {
  const confidences: number[] = [];
  for (const p of predictions) if ('probabilities' in p && p.probabilities.length > 0) confidences.push(micro(p.probabilities));
  return confidences;
}

export interface ConfidenceSnapshot {
  /** Classification rows in the window. */
  readonly rows: number;
  /** The sum of their top-class probabilities (what several pods add up). */
  readonly sum: number;
  /** Their mean top-class probability; undefined without rows. */
  readonly expectedAccuracy: number | undefined;
}

interface Ring {
  add(confidences: readonly number[], nowMs: number): void;
  /** Rows in the window at nowMs and the sum of their confidences (millionths). */
  totals(nowMs: number): { rows: number; sum: number };
}

/** The wall-clock window: slots of a fraction of the duration, each with its rows and summed confidence. */
class SlotRing implements Ring {
  private readonly slots: { index: number; rows: number; sum: number }[];
  private readonly slotMs: number;

  constructor(windowMs: number, slotCount: number) {
    this.slotMs = Math.max(1, Math.floor(windowMs / slotCount));
    this.slots = Array.from({ length: slotCount }, () => ({ index: -1, rows: 0, sum: 0 }));
  }

  add(confidences: readonly number[], nowMs: number): void {
    const index = Math.floor(nowMs / this.slotMs);
    const slot = this.slots[index % this.slots.length] as { index: number; rows: number; sum: number };
    if (slot.index !== index) Object.assign(slot, { index, rows: 0, sum: 0 });
    slot.rows += confidences.length;
    for (const c of confidences) slot.sum += c;
  }

  totals(nowMs: number): { rows: number; sum: number } {
    const current = Math.floor(nowMs / this.slotMs);
    let rows = 0;
    let sum = 0;
    for (const s of this.slots) {
      if (s.index <= current - this.slots.length || s.index > current) continue;
      rows += s.rows;
      sum += s.sum;
    }
    return { rows, sum };
  }
}

/** The newest `capacity` rows younger than the duration; a row leaves when a newer one needs its place or it ages out. */
class RowRing implements Ring {
  private readonly confidences: Int32Array;
  private readonly times: Float64Array;
  private head = 0;
  private size = 0;
  private sum = 0;

  constructor(private readonly windowMs: number, private readonly capacity: number) {
    this.confidences = new Int32Array(capacity);
    this.times = new Float64Array(capacity);
  }

  private dropOldest(): void {
    this.sum -= this.confidences[this.head] as number;
    this.head = (this.head + 1) % this.capacity;
    this.size -= 1;
  }

  private expire(nowMs: number): void {
    const oldest = nowMs - this.windowMs;
    while (this.size > 0 && (this.times[this.head] as number) <= oldest) this.dropOldest();
  }

  add(confidences: readonly number[], nowMs: number): void {
    this.expire(nowMs);
    for (let r = Math.max(0, confidences.length - this.capacity); r < confidences.length; r++) {
      if (this.size === this.capacity) this.dropOldest();
      const slot = (this.head + this.size) % this.capacity;
      const c = confidences[r] as number;
      this.confidences[slot] = c;
      this.times[slot] = nowMs;
      this.sum += c;
      this.size += 1;
    }
  }

  totals(nowMs: number): { rows: number; sum: number } {
    this.expire(nowMs);
    return { rows: this.size, sum: this.sum };
  }
}

export class ConfidenceWindow {
  private readonly ring: Ring;

  /** `windowMs`: the wall-clock duration; `maxRows` > 0 also keeps at most that many of the newest rows. */
  constructor(windowMs: number, maxRows = 0, slots = 60) {
    this.ring = maxRows > 0 ? new RowRing(windowMs, maxRows) : new SlotRing(windowMs, slots);
  }

  /** Adds the predictions of one request; those without probabilities (regression) are not counted. */
  add(predictions: readonly ({ readonly probabilities: readonly number[] } | { readonly value: number })[], nowMs: number): void {
    this.addConfidences(confidencesOf(predictions), nowMs);
  }

  /** Confidences taken elsewhere with confidencesOf (a serving worker's rows; cluster-worker.ts). */
  addConfidences(confidences: readonly number[], nowMs: number): void {
    if (confidences.length > 0) this.ring.add(confidences, nowMs);
  }

  snapshot(nowMs: number): ConfidenceSnapshot {
    const { rows, sum } = this.ring.totals(nowMs);
    return { rows, sum: sum / scale, expectedAccuracy: rows === 0 ? undefined : sum / scale / rows };
  }
}
