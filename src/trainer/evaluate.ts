// Evaluation: metrics of a model's predictions on a set of rows, per slice, the majority/mean baseline, and
// the gate verdicts. The verdicts are recorded in metrics.json for the controller, which alone decides to
// bless a version. Pure (the predictions are computed by the caller).
import { accuracy, argmax, logLoss, macroF1, mae, r2, rmse, rocAuc } from '../shared/metrics-math.js';
import { encodeLabel, toCategory, type PreprocessingSpec } from '../shared/preprocessing.js';
import { lowerIsBetter, type MetricName } from '../shared/metric-names.js';
import type { Evaluation } from '../shared/trainer-config.js';
import type { Predictions } from '../ml/predict.js';
import type { Row } from './rows.js';

import type { GateVerdict, ModelEvaluation, MetricValues, SliceMetrics } from '../shared/evaluation-report.js';

// The report's types live in src/shared (the operator reads metrics.json too); re-exported for the trainer's modules.
export type { GateStatus, GateVerdict, MetricValues, ModelEvaluation, SliceMetrics } from '../shared/evaluation-report.js';

/** Truth of rows in the model's label encoding (class index, or the raw regression value). */
export function truthOf(spec: PreprocessingSpec, rows: readonly Row[]): number[] {
  return rows.map((r) => {
    const v = r.values[spec.label.name];
    if (spec.label.task === 'classification') return encodeLabel(spec, v) ?? -1;
    const scaled = encodeLabel(spec, v) ?? 0;
    return scaled * spec.label.std + spec.label.mean;
  });
}

/** Metrics of predictions against rows, for the requested metric names (NaN when undefined on the data). */
export function computeMetrics(spec: PreprocessingSpec, rows: readonly Row[], p: Predictions, names: readonly MetricName[]): MetricValues {
  const truth = truthOf(spec, rows);
  const out: MetricValues = {};
  if (p.task === 'classification' && spec.label.task === 'classification') {
    const k = spec.label.classes.length;
    const predicted = p.probabilities.map((q) => argmax(q));
    for (const m of names) {
      if (m === 'accuracy') out.accuracy = accuracy(truth, predicted);
      if (m === 'macroF1') out.macroF1 = macroF1(truth, predicted, k);
      if (m === 'logLoss') out.logLoss = logLoss(truth, p.probabilities);
      if (m === 'rocAuc') out.rocAuc = k === 2 ? rocAuc(truth, p.probabilities.map((q) => q[1] ?? 0)) : Number.NaN;
    }
  } else if (p.task === 'regression') {
    for (const m of names) {
      if (m === 'rmse') out.rmse = rmse(truth, p.values);
      if (m === 'mae') out.mae = mae(truth, p.values);
      if (m === 'r2') out.r2 = r2(truth, p.values);
    }
  }
  return out;
}

function subset(p: Predictions, idx: readonly number[]): Predictions {
  return p.task === 'classification'
    ? { task: 'classification', probabilities: idx.map((i) => p.probabilities[i] ?? []) }
    : { task: 'regression', values: idx.map((i) => p.values[i] ?? 0) };
}

/** Metrics per value of the slice column (missing values form the slice "<missing>"). */
export function sliceMetrics(spec: PreprocessingSpec, rows: readonly Row[], p: Predictions, column: string, names: readonly MetricName[]): SliceMetrics[] {
  const groups = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const v = toCategory(r.values[column]) ?? '<missing>';
    const g = groups.get(v) ?? [];
    g.push(i);
    groups.set(v, g);
  });
  return [...groups.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([value, idx]) => ({
    value,
    rows: idx.length,
    metrics: computeMetrics(spec, idx.map((i) => rows[i]).filter((r): r is Row => r !== undefined), subset(p, idx), names),
  }));
}

/** Predictions of the trivial model: the training majority class (with training class shares) or the mean. */
export function baselinePredictions(spec: PreprocessingSpec, train: readonly Row[], n: number): Predictions {
  const truth = truthOf(spec, train);
  if (spec.label.task === 'classification') {
    const k = spec.label.classes.length;
    const counts = new Array<number>(k).fill(0);
    for (const t of truth) if (t >= 0) counts[t] = (counts[t] ?? 0) + 1;
    const total = counts.reduce((a, b) => a + b, 0) || 1;
    const shares = counts.map((c) => c / total);
    return { task: 'classification', probabilities: Array.from({ length: n }, () => shares) };
  }
  const mean = truth.reduce((a, b) => a + b, 0) / Math.max(1, truth.length);
  return { task: 'regression', values: new Array<number>(n).fill(mean) };
}

/** How much worse `a` is than `b` on a metric (positive = worse), whatever the metric's direction. */
export function degradation(metric: MetricName, a: number, b: number): number {
  return lowerIsBetter.has(metric) ? a - b : b - a;
}

const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : String(x));

/**
 * gates.minImprovementOverBaseline: the candidate's primary metric must beat the baseline's (the majority class with
 * training class shares, or the training mean, on the same holdout) by at least the limit in the metric's good
 * direction. `observed` is the improvement (negative: worse than the baseline).
 */
export function baselineVerdict(evaluation: Evaluation, candidate: ModelEvaluation, baseline: MetricValues | undefined): GateVerdict | undefined {
  const limit = evaluation.gates.minImprovementOverBaseline;
  if (limit === undefined) return undefined;
  const primary = evaluation.primaryMetric;
  const c = candidate.metrics[primary] ?? Number.NaN;
  const b = baseline?.[primary] ?? Number.NaN;
  if (!Number.isFinite(b)) return { gate: 'baseline', metric: primary, limit, status: 'skipped', message: `the baseline's ${primary} is undefined on this holdout` };
  const improvement = lowerIsBetter.has(primary) ? b - c : c - b;
  const ok = Number.isFinite(c) && improvement >= limit - 1e-12;
  const direction = lowerIsBetter.has(primary) ? 'below' : 'above';
  return {
    gate: 'baseline', metric: primary, observed: improvement, limit, status: ok ? 'pass' : 'fail',
    message: `${primary} ${fmt(c)} vs baseline ${fmt(b)}: ${fmt(Math.abs(improvement))} ${improvement >= 0 ? direction : (direction === 'above' ? 'below' : 'above')} it, ${ok ? 'at least' : 'short of'} the required ${limit}`,
  };
}

export function gateVerdicts(evaluation: Evaluation, candidate: ModelEvaluation, champion: ModelEvaluation | undefined, baseline?: MetricValues): GateVerdict[] {
  const out: GateVerdict[] = [];
  const g = evaluation.gates;
  const primary = evaluation.primaryMetric;
  for (const [metric, limit] of Object.entries(g.thresholds) as [MetricName, number][]) {
    const observed = candidate.metrics[metric] ?? Number.NaN;
    const lower = lowerIsBetter.has(metric);
    const ok = Number.isFinite(observed) && (lower ? observed <= limit : observed >= limit);
    out.push({ gate: 'threshold', metric, observed, limit, status: ok ? 'pass' : 'fail', message: `${metric} ${fmt(observed)} ${lower ? '≤' : '≥'} ${limit}: ${ok ? 'met' : 'not met'}` });
  }
  if (g.maxDegradationVsChampion !== undefined) {
    const c = candidate.metrics[primary];
    const ch = champion?.metrics[primary];
    if (champion === undefined || c === undefined || ch === undefined || !Number.isFinite(ch)) {
      out.push({ gate: 'vsChampion', metric: primary, status: 'skipped', message: 'no champion evaluated on this holdout' });
    } else {
      const d = degradation(primary, c, ch);
      const ok = d <= g.maxDegradationVsChampion;
      out.push({ gate: 'vsChampion', metric: primary, observed: d, limit: g.maxDegradationVsChampion, status: ok ? 'pass' : 'fail', message: `${primary} ${fmt(c)} vs champion ${fmt(ch)} (worse by ${fmt(d)})` });
    }
  }
  if (g.maxForgetting !== undefined) {
    const c = candidate.historical?.metrics[primary];
    const ch = champion?.historical?.metrics[primary];
    if (c === undefined || ch === undefined || !Number.isFinite(ch) || (candidate.historical?.rows ?? 0) === 0) {
      out.push({ gate: 'forgetting', metric: primary, status: 'skipped', message: 'no historical slice or no champion to compare with' });
    } else {
      const d = degradation(primary, c, ch);
      const ok = d <= g.maxForgetting;
      out.push({ gate: 'forgetting', metric: primary, observed: d, limit: g.maxForgetting, status: ok ? 'pass' : 'fail', message: `historical ${primary} ${fmt(c)} vs champion ${fmt(ch)} (worse by ${fmt(d)})` });
    }
  }
  if (g.maxSliceGap !== undefined) {
    const values = candidate.slices.filter((s) => s.rows >= evaluation.minSliceRows).map((s) => s.metrics[primary]).filter((v): v is number => v !== undefined && Number.isFinite(v));
    if (values.length < 2) out.push({ gate: 'sliceGap', metric: primary, status: 'skipped', message: 'fewer than two slices large enough to compare' });
    else {
      const gap = Math.max(...values) - Math.min(...values);
      const ok = gap <= g.maxSliceGap;
      out.push({ gate: 'sliceGap', metric: primary, observed: gap, limit: g.maxSliceGap, status: ok ? 'pass' : 'fail', message: `gap of ${fmt(gap)} between best and worst slice` });
    }
  }
  const vsBaseline = baselineVerdict(evaluation, candidate, baseline);
  if (vsBaseline) out.push(vsBaseline);
  return out;
}
