// Sequential drift detection: a CUSUM per feature on the incoming rows' bins against the reference profile's bin
// shares, which signals as soon as the evidence is strong instead of waiting for a PSI window to fill.
//
// The statistic (the e-CUSUM of Shin, Ramdas & Rinaldo, "E-detectors", with a predictable plug-in estimate of the
// shifted distribution, as in Lorden & Pollak's adaptive CUSUM): for each row with bin b,
//   S ← max(S, 0) + ln(q̂(b) / p(b)) − δ,       q̂(b) = (w_b + m·p(b)) / (Σw + m)
// where p is the reference share of each bin, w_b the rows seen recently in bin b, weighted down by half every
// `memoryRows` rows (so q̂ is made from earlier rows only — predictable — and follows a shift within a few dozen
// rows), m the weight of the reference in the estimate (q̂ starts at p and moves towards the recent rows' own shares)
// and δ the smallest shift worth a retrain, in nats per row. Under a shift S climbs at about KL(q‖p) − δ per row once
// q̂ has caught up; under no change it hovers at 0.
//
// Why it can be trusted on stationary traffic: under no change each factor q̂(b)/p(b)·e^−δ has expectation
// e^−δ ≤ 1 (Σ_b p(b)·q̂(b)/p(b) = 1 because q̂ is fixed before the row is drawn). e^S is the largest, over start rows
// j, of the product of the factors since j, so it is bounded by their sum, a Shiryaev–Roberts sum of test
// supermartingales, and the first time S reaches ln c comes after c rows on average at the least (ARL₀ ≥ c). With F
// features, alarming when any S_f reaches ln(F/α) alarms no sooner than their average e-detector reaches 1/α
// (Bonferroni): on average at least 1/α rows between false alarms, whatever the number of features. The bound needs
// no simulation and holds for any bins and shares.
//
// Why δ: the reference shares are themselves estimated (about 1,000 rows: KL ≈ (B−1)/2N ≈ 0.005 nats of sampling
// error) and live traffic is never exactly the reference year; any test with power enough would flag those
// differences eventually. δ = 0.05 nats per row is about a PSI of 0.1 ("moderate"): shifts smaller than that drift S
// down, larger ones up at KL(q‖p) − δ per row. It is CUSUM's reference value.
//
// Pure, O(1) per row and feature (one logarithm); memory O(bins).
import type { FeatureProfile } from './drift.js';

/** False alarms per row at most, the default (one per hundred million rows served, across the deployment). */
export const defaultFalseAlarmRate = 1e-8;
/** Smallest shift worth detecting, in nats per row (≈ PSI 0.1, "moderate"). */
export const indifferenceNats = 0.05;
/** Weight of the reference in the estimate of the shifted shares, in rows. */
export const priorRows = 4;
/** Half-life of the recent rows' weight in the estimate, in rows. */
export const memoryRows = 32;
/**
 * Floor of a reference share: a bin the reference never saw (often "missing") needs a share to divide by. Raising
 * shares to it and renormalising scales the others by at most 1 + bins·minShare (1.0054 at 54 bins, 50 categories),
 * so each row's factor has expectation at most e^−δ·1.0054 < 1 under no change: the bound above still holds.
 */
export const minShare = 1e-4;

/**
 * The level S must reach for an alarm: ln(F/α) for F features at α false alarms per row (Bonferroni).
 * Throws RangeError for a rate outside (0, 1) or no features.
 */
export function detectionThreshold(features: number, falseAlarmRate = defaultFalseAlarmRate): number {
  if (!(falseAlarmRate > 0 && falseAlarmRate < 1)) throw new RangeError(`falseAlarmRate ${falseAlarmRate} is not in (0, 1)`);
  if (!(features >= 1)) throw new RangeError(`${features} features`);
  return Math.log(features / falseAlarmRate);
}

/** Reference shares floored at minShare and renormalised, so that every bin has a share and they sum to 1. */
export function referenceShares(shares: readonly number[]): number[] {
  const floored = shares.map((s) => Math.max(minShare, Number.isFinite(s) ? s : 0));
  const sum = floored.reduce((a, b) => a + b, 0);
  return floored.map((s) => s / sum);
}

/**
 * The evidence one row in bin `bin` adds: ln(q̂(b)/p(b)) − δ, with q̂ from the recent rows' weights `w` (summing to
 * `total`) shrunk towards the reference `p` by `m` rows.
 */
export function rowEvidence(p: readonly number[], w: readonly number[], total: number, bin: number, m = priorRows, delta = indifferenceNats): number {
  const pb = p[bin] ?? 0;
  const q = ((w[bin] ?? 0) + m * pb) / (total + m);
  return Math.log(q / pb) - delta;
}

export interface CusumOptions {
  readonly priorRows?: number;
  readonly memoryRows?: number;
  readonly indifferenceNats?: number;
}

/** Above this the weights are rescaled (they grow by 2^(1/memoryRows) per row instead of all shrinking). */
const rescaleAbove = 1e200;

/** One feature's CUSUM. */
export class FeatureCusum {
  private readonly p: number[];
  /**
   * The recent rows' weights, kept multiplied by `scale`: rather than shrinking every bin's weight each row (O(bins)),
   * the next row's weight grows by 1/decay, so a row costs O(1); the weights are divided back now and then.
   */
  private readonly w: number[];
  private total = 0;
  private scale = 1;
  private readonly m: number;
  private readonly delta: number;
  private readonly decay: number;
  /** The statistic now (nats). */
  statistic = 0;
  /** The largest the statistic has been since the start (nats): what an alarm is judged on, so no peak is missed between two reads. */
  peak = 0;

  constructor(shares: readonly number[], o: CusumOptions = {}) {
    this.p = referenceShares(shares);
    this.w = new Array<number>(this.p.length).fill(0);
    this.m = o.priorRows ?? priorRows;
    this.delta = o.indifferenceNats ?? indifferenceNats;
    this.decay = 2 ** (-1 / (o.memoryRows ?? memoryRows));
  }

  /** Takes one row's bin; returns the statistic after it. */
  add(bin: number): number {
    // Weights and the reference's m rows scaled alike: the same q̂ as unscaled.
    const s = Math.max(this.statistic, 0) + rowEvidence(this.p, this.w, this.total, bin, this.m * this.scale, this.delta);
    this.statistic = s;
    if (s > this.peak) this.peak = s;
    this.scale /= this.decay;
    this.w[bin] = (this.w[bin] ?? 0) + this.scale;
    this.total += this.scale;
    if (this.scale > rescaleAbove) {
      for (let b = 0; b < this.w.length; b++) this.w[b] = (this.w[b] as number) / this.scale;
      this.total /= this.scale;
      this.scale = 1;
    }
    return s;
  }
}

export interface SequentialState {
  /** Rows taken since the detector started (the model was loaded). */
  readonly rows: number;
  /** Per feature, the peak statistic since the start (nats). */
  readonly evidence: ReadonlyMap<string, number>;
  /** When the first feature reached the threshold (ms since the epoch), if one has. */
  readonly detectedAtMs: number | undefined;
  /** The threshold detection was judged at (nats). */
  readonly threshold: number;
}

/** The CUSUMs of every feature of a profile, and the time the first of them reached the threshold. */
export class SequentialDetector {
  private readonly cusums: FeatureCusum[];
  private rows = 0;
  private detectedAtMs: number | undefined;
  readonly threshold: number;

  constructor(private readonly features: readonly FeatureProfile[], falseAlarmRate = defaultFalseAlarmRate, options: CusumOptions = {}) {
    this.cusums = features.map((f) => new FeatureCusum(f.shares, options));
    this.threshold = features.length === 0 ? Infinity : detectionThreshold(features.length, falseAlarmRate);
  }

  /** Takes one row as its bin per feature (in the profile's order). */
  add(bins: ArrayLike<number>, nowMs: number): void {
    this.rows += 1;
    for (let k = 0; k < this.cusums.length; k++) {
      const s = (this.cusums[k] as FeatureCusum).add(bins[k] ?? 0);
      if (s >= this.threshold && this.detectedAtMs === undefined) this.detectedAtMs = nowMs;
    }
  }

  state(): SequentialState {
    return {
      rows: this.rows,
      evidence: new Map(this.features.map((f, k) => [f.name, (this.cusums[k] as FeatureCusum).peak])),
      detectedAtMs: this.detectedAtMs,
      threshold: this.threshold,
    };
  }
}
