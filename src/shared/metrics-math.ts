// Evaluation metrics, pure and dependency-free, shared by the trainer (holdout evaluation) and the server
// (live accuracy from feedback). Conventions: empty input gives NaN (absent is not zero); classes are indices.

/** Share of predictions equal to the truth. */
export function accuracy(truth: readonly number[], predicted: readonly number[]): number {
  if (truth.length === 0) return Number.NaN;
  let hit = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] === predicted[i]) hit++;
  return hit / truth.length;
}

/** Per-class confusion counts. */
export function confusion(truth: readonly number[], predicted: readonly number[], classes: number): { tp: number[]; fp: number[]; fn: number[] } {
  const tp = new Array<number>(classes).fill(0);
  const fp = new Array<number>(classes).fill(0);
  const fn = new Array<number>(classes).fill(0);
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i] ?? -1;
    const p = predicted[i] ?? -1;
    if (t === p) tp[t] = (tp[t] ?? 0) + 1;
    else {
      fp[p] = (fp[p] ?? 0) + 1;
      fn[t] = (fn[t] ?? 0) + 1;
    }
  }
  return { tp, fp, fn };
}

/**
 * Unweighted mean of per-class F1 over the classes present in truth or predictions (scikit-learn's
 * labels=None behaviour); a class with no true and no predicted rows is left out rather than counted as 0.
 */
export function macroF1(truth: readonly number[], predicted: readonly number[], classes: number): number {
  if (truth.length === 0) return Number.NaN;
  const { tp, fp, fn } = confusion(truth, predicted, classes);
  let sum = 0;
  let n = 0;
  for (let k = 0; k < classes; k++) {
    const t = tp[k] ?? 0;
    const support = t + (fp[k] ?? 0) + (fn[k] ?? 0);
    if (support === 0) continue;
    sum += (2 * t) / (2 * t + (fp[k] ?? 0) + (fn[k] ?? 0));
    n++;
  }
  return n === 0 ? Number.NaN : sum / n;
}

/**
 * ROC AUC for a binary task from scores of the positive class: the Mann-Whitney statistic with average ranks
 * for ties. NaN when only one class is present.
 */
export function rocAuc(truth: readonly number[], scores: readonly number[]): number {
  const idx = truth.map((_, i) => i).sort((a, b) => (scores[a] ?? 0) - (scores[b] ?? 0));
  const ranks = new Array<number>(idx.length).fill(0);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1] ?? 0] === scores[idx[i] ?? 0]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[idx[k] ?? 0] = avg;
    i = j + 1;
  }
  let pos = 0;
  let rankSum = 0;
  truth.forEach((t, i) => {
    if (t === 1) {
      pos++;
      rankSum += ranks[i] ?? 0;
    }
  });
  const neg = truth.length - pos;
  if (pos === 0 || neg === 0) return Number.NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Mean negative log-likelihood of the true class; probabilities clipped to [eps, 1−eps] as scikit-learn does. */
export function logLoss(truth: readonly number[], probabilities: readonly (readonly number[])[], eps = 1e-15): number {
  if (truth.length === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < truth.length; i++) {
    const p = probabilities[i]?.[truth[i] ?? -1] ?? 0;
    sum -= Math.log(Math.min(1 - eps, Math.max(eps, p)));
  }
  return sum / truth.length;
}

export function rmse(truth: readonly number[], predicted: readonly number[]): number {
  if (truth.length === 0) return Number.NaN;
  let s = 0;
  for (let i = 0; i < truth.length; i++) s += ((truth[i] ?? 0) - (predicted[i] ?? 0)) ** 2;
  return Math.sqrt(s / truth.length);
}

export function mae(truth: readonly number[], predicted: readonly number[]): number {
  if (truth.length === 0) return Number.NaN;
  let s = 0;
  for (let i = 0; i < truth.length; i++) s += Math.abs((truth[i] ?? 0) - (predicted[i] ?? 0));
  return s / truth.length;
}

/** Coefficient of determination; 1 − SSres/SStot, NaN when the truth is constant. */
export function r2(truth: readonly number[], predicted: readonly number[]): number {
  if (truth.length === 0) return Number.NaN;
  const mean = truth.reduce((a, b) => a + b, 0) / truth.length;
  let res = 0;
  let tot = 0;
  for (let i = 0; i < truth.length; i++) {
    res += ((truth[i] ?? 0) - (predicted[i] ?? 0)) ** 2;
    tot += ((truth[i] ?? 0) - mean) ** 2;
  }
  return tot === 0 ? Number.NaN : 1 - res / tot;
}

/** Index of the largest value (first on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] ?? -Infinity) > (values[best] ?? -Infinity)) best = i;
  return best;
}
