// Calibration of a classifier's probabilities (model.calibration, docs/model-families.md): temperature scaling, one
// parameter T fitted on the validation rows after training. Each class probability p becomes p^(1/T) normalised
// (the same as dividing the logits by T), so the predicted class never changes; T > 1 softens overconfident
// probabilities, T < 1 sharpens timid ones. The trainer fits it and records it in the preprocessing spec; the
// servers and the trainer's evaluation apply it with applyCalibration, so both read the same probabilities.

export interface TemperatureCalibration {
  readonly method: 'temperature';
  readonly temperature: number;
  /** Validation rows it was fitted on, and their log loss before and after. */
  readonly rows: number;
  readonly logLossBefore: number;
  readonly logLossAfter: number;
}

export type Calibration = TemperatureCalibration;

/** Smallest probability fed to a logarithm: a class the model rules out entirely still gets a finite logit. */
export const minProbability = 1e-7;

/** Rescales `k`-class probability rows in place (row-major `rows × k`). */
export function applyCalibration(calibration: Calibration | undefined, probabilities: Float32Array | number[], k: number): void {
  if (calibration === undefined || calibration.temperature === 1) return;
  const inv = 1 / calibration.temperature;
  for (let start = 0; start + k <= probabilities.length; start += k) {
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < k; c++) max = Math.max(max, Math.log(Math.max(probabilities[start + c] ?? 0, minProbability)) * inv);
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const e = Math.exp(Math.log(Math.max(probabilities[start + c] ?? 0, minProbability)) * inv - max);
      probabilities[start + c] = e;
      sum += e;
    }
    for (let c = 0; c < k; c++) probabilities[start + c] = (probabilities[start + c] ?? 0) / sum;
  }
}

/** Fewest validation rows a temperature is fitted on: fewer say more about the rows than about the model. */
export const minCalibrationRows = 20;
/** The temperatures searched: 20 flattens any model's probabilities to near uniform, 0.05 sharpens them to near certain. */
export const temperatureBounds = { min: 0.05, max: 20 } as const;

/**
 * Fits the temperature minimising the log loss of `labels` (class index per row) under probabilities `rows × k`
 * (golden-section search on log T within temperatureBounds); returns the Calibration with rows and log loss
 * before/after. Fewer than minCalibrationRows rows or a single class: undefined (too little to fit). Throws a
 * RangeError for input no classifier gives (a length that is not rows × k, a label outside 0..k-1, a NaN or negative probability).
 *
 * The log losses are those applyCalibration's probabilities give (a probability of 0 counts as minProbability), so
 * logLossAfter is what the servers' probabilities score on these rows; the fit never returns a temperature whose
 * loss is above the uncalibrated one (it returns 1 instead).
 */
export function fitTemperature(probabilities: Float32Array | readonly number[], labels: readonly number[] | Int32Array, k: number): Calibration | undefined {
  const rows = labels.length;
  checkFitInput(probabilities, labels, k);
  if (rows < minCalibrationRows || new Set(labels).size < 2) return undefined;
  const logits = Float64Array.from(probabilities, (p) => Math.log(Math.max(p, minProbability)));
  const loss = (t: number): number => meanLogLoss(logits, labels, k, 1 / t);
  // The loss is convex in 1/T, hence unimodal in log T: golden-section search finds its minimum without derivatives.
  const ratio = (Math.sqrt(5) - 1) / 2;
  let lo = Math.log(temperatureBounds.min);
  let hi = Math.log(temperatureBounds.max);
  let a = hi - ratio * (hi - lo);
  let b = lo + ratio * (hi - lo);
  let fa = loss(Math.exp(a));
  let fb = loss(Math.exp(b));
  while (hi - lo > 1e-6) {
    if (fa <= fb) {
      hi = b; b = a; fb = fa;
      a = hi - ratio * (hi - lo);
      fa = loss(Math.exp(a));
    } else {
      lo = a; a = b; fa = fb;
      b = lo + ratio * (hi - lo);
      fb = loss(Math.exp(b));
    }
  }
  const before = loss(1);
  const fitted = Math.exp((lo + hi) / 2);
  const after = loss(fitted);
  const better = after < before;
  return { method: 'temperature', temperature: better ? fitted : 1, rows, logLossBefore: before, logLossAfter: better ? after : before };
}

function checkFitInput(probabilities: Float32Array | readonly number[], labels: readonly number[] | Int32Array, k: number): void {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`calibration needs at least 2 classes, got k = ${k}`);
  if (probabilities.length !== labels.length * k) throw new RangeError(`${probabilities.length} probabilities for ${labels.length} rows of ${k} classes`);
  const badLabel = labels.findIndex((y) => !Number.isInteger(y) || y < 0 || y >= k);
  if (badLabel >= 0) throw new RangeError(`label ${labels[badLabel]} of row ${badLabel} is not a class index below ${k}`);
  // Not p <= 1: sums of tree probabilities may overshoot 1 by a rounding error, which is harmless here.
  const badProbability = probabilities.findIndex((p) => !(p >= 0 && Number.isFinite(p)));
  if (badProbability >= 0) throw new RangeError(`probability ${probabilities[badProbability]} at ${badProbability} is not a finite number ≥ 0`);
}

/** Mean negative log-likelihood of the labels under softmax(beta · logits), row by row. */
function meanLogLoss(logits: Float64Array, labels: readonly number[] | Int32Array, k: number, beta: number): number {
  let total = 0;
  for (let r = 0; r < labels.length; r++) {
    const start = r * k;
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < k; c++) max = Math.max(max, beta * (logits[start + c] ?? 0));
    let sum = 0;
    for (let c = 0; c < k; c++) sum += Math.exp(beta * (logits[start + c] ?? 0) - max);
    total += max + Math.log(sum) - beta * (logits[start + (labels[r] ?? 0)] ?? 0);
  }
  return total / labels.length;
}
