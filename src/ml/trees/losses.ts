// The losses boosting minimises and every family reports: mean squared error (regression, on the standardised
// label), the logistic loss (two classes, from one logit) and the softmax log loss (three and more).
import { minProbability } from '../../shared/calibration.js';

/** -log of a probability, floored like the rest of Perennial's log losses. */
export function nll(p: number): number {
  return -Math.log(Math.max(p, minProbability));
}

/** Mean log loss of probability rows (rows × k) against class indices. */
export function logLoss(probabilities: Float32Array | Float64Array, classOf: Int32Array, k: number): number {
  let s = 0;
  for (let r = 0; r < classOf.length; r++) s += nll(probabilities[r * k + (classOf[r] ?? 0)] ?? 0);
  return s / Math.max(1, classOf.length);
}

export function meanSquaredError(predictions: Float32Array | Float64Array, y: Float64Array): number {
  let s = 0;
  for (let r = 0; r < y.length; r++) s += ((predictions[r] ?? 0) - (y[r] ?? 0)) ** 2;
  return s / Math.max(1, y.length);
}
