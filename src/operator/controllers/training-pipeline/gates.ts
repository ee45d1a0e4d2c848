// The evaluation gates: whether a candidate becomes the champion. Pure; a chain of small named checks over the
// numbers the trainer measured (metrics.json), judged by the pipeline spec as it is now. The trainer's own
// verdicts in the report are informative only: the operator alone blesses.
//   threshold:<metric>  the candidate's holdout metric within [min, max]
//   champion            not worse than the current champion on the same holdout by more than maxRegression
//   forgetting          not worse than the champion on the historical slice by more than forgetting.maxDrop
//   slices              gap of the primary metric between the best and the worst slice at most slices.maxGap
//   baseline            better than the trainer's baseline (majority class / training mean) on the same holdout by at
//                       least minImprovementOverBaseline on the primary metric
// A gate that cannot be measured for a reason that is not the candidate's fault (no champion yet, no historical
// rows, fewer than two large slices) passes with "skipped" in its message. A champion gate against a champion
// other than the current one fails: the comparison would be meaningless. A baseline gate whose numbers the report
// lacks fails (like a threshold on a metric that was not measured): the spec asked for it, and nothing was judged.
import type { TrainingPipelineSpec } from '../../../api/training-pipeline.js';
import type { EvaluationReport, MetricValues } from '../../../shared/evaluation-report.js';
import { lowerIsBetter, type MetricName } from '../../../shared/metric-names.js';
import { minSliceRows, primaryMetricOf } from './trainer-config.js';

export interface GateResult {
  readonly name: string;
  readonly passed: boolean;
  readonly message: string;
}

export interface Judgement {
  readonly blessed: boolean;
  readonly gates: readonly GateResult[];
  /** The first failing gate, for the run's message. */
  readonly failed: GateResult | undefined;
}

const fmt = (x: number): string => x.toFixed(4);

/** How much worse `a` is than `b` (positive = worse), whatever the metric's direction. */
export function degradation(metric: MetricName, a: number, b: number): number {
  return lowerIsBetter.has(metric) ? a - b : b - a;
}

function thresholdGates(spec: TrainingPipelineSpec, metrics: MetricValues): GateResult[] {
  return (spec.evaluation.thresholds ?? []).map((t) => {
    const name = `threshold:${t.metric}`;
    const v = metrics[t.metric];
    if (v === undefined) return { name, passed: false, message: `${t.metric} was not measured` };
    const problems = [
      ...(t.min !== undefined && v < t.min ? [`below the minimum ${t.min}`] : []),
      ...(t.max !== undefined && v > t.max ? [`above the maximum ${t.max}`] : []),
    ];
    return { name, passed: problems.length === 0, message: `${t.metric} ${fmt(v)} ${problems.length === 0 ? 'within bounds' : problems.join(' and ')}` };
  });
}

function championGate(spec: TrainingPipelineSpec, report: EvaluationReport, champion: string | undefined): GateResult {
  const name = 'champion';
  const primary = primaryMetricOf(spec);
  if (champion === undefined) return { name, passed: true, message: 'skipped: no champion yet' };
  if (report.champion?.version !== champion) {
    return { name, passed: false, message: `the candidate was compared with ${report.champion?.version ?? 'no champion'}, but the champion is ${champion}` };
  }
  const c = report.candidate.metrics[primary];
  const ch = report.champion.metrics[primary];
  if (c === undefined || ch === undefined) return { name, passed: false, message: `${primary} was not measured for both candidate and champion` };
  const d = degradation(primary, c, ch);
  const passed = d <= spec.evaluation.maxRegression;
  return { name, passed, message: `${primary} ${fmt(c)} vs champion ${champion} ${fmt(ch)}: ${d > 0 ? `worse by ${fmt(d)}` : 'not worse'}${passed ? '' : `, more than maxRegression ${spec.evaluation.maxRegression}`}` };
}

function forgettingGate(spec: TrainingPipelineSpec, report: EvaluationReport, champion: string | undefined): GateResult | undefined {
  const f = spec.evaluation.forgetting;
  if (!f) return undefined;
  const name = 'forgetting';
  const primary = primaryMetricOf(spec);
  if (champion === undefined) return { name, passed: true, message: 'skipped: no champion yet' };
  const c = report.candidate.historical;
  const ch = report.champion?.version === champion ? report.champion.historical : undefined;
  const cv = c?.metrics[primary];
  const chv = ch?.metrics[primary];
  if (!c || c.rows === 0 || cv === undefined || chv === undefined) return { name, passed: true, message: 'skipped: no rows in the historical slice' };
  const d = degradation(primary, cv, chv);
  const passed = d <= f.maxDrop;
  return { name, passed, message: `historical ${primary} ${fmt(cv)} vs champion ${fmt(chv)}: ${d > 0 ? `worse by ${fmt(d)}` : 'not worse'}${passed ? '' : `, more than maxDrop ${f.maxDrop}`}` };
}

function sliceGate(spec: TrainingPipelineSpec, report: EvaluationReport): GateResult | undefined {
  const maxGap = spec.evaluation.slices?.maxGap;
  if (maxGap === undefined) return undefined;
  const name = 'slices';
  const primary = primaryMetricOf(spec);
  const values = report.candidate.slices.filter((s) => s.rows >= minSliceRows)
    .map((s) => ({ value: s.value, metric: s.metrics[primary] }))
    .filter((s): s is { value: string; metric: number } => s.metric !== undefined);
  if (values.length < 2) return { name, passed: true, message: `skipped: fewer than two slices with ${minSliceRows} rows` };
  const sorted = [...values].sort((a, b) => a.metric - b.metric);
  const lo = sorted[0];
  const hi = sorted[sorted.length - 1];
  if (!lo || !hi) return { name, passed: true, message: 'skipped: no slices' };
  const gap = hi.metric - lo.metric;
  const passed = gap <= maxGap;
  return { name, passed, message: `${primary} gap ${fmt(gap)} between ${hi.value} and ${lo.value}${passed ? '' : `, more than maxGap ${maxGap}`}` };
}

function baselineGate(spec: TrainingPipelineSpec, report: EvaluationReport): GateResult | undefined {
  const margin = spec.evaluation.minImprovementOverBaseline;
  if (margin === undefined) return undefined;
  const name = 'baseline';
  const primary = primaryMetricOf(spec);
  const c = report.candidate.metrics[primary];
  const b = report.baseline.metrics[primary];
  const kind = report.baseline.kind || 'baseline';
  if (c === undefined) return { name, passed: false, message: `${primary} was not measured for the candidate` };
  if (b === undefined) return { name, passed: false, message: `the report has no ${kind} baseline ${primary} to compare with` };
  const gain = -degradation(primary, c, b);
  // Metrics are floats: 0.45 − 0.40 is 0.0499…, which must meet a margin of 0.05.
  const passed = gain >= margin - 1e-9;
  const by = gain >= 0 ? `better by ${fmt(gain)}` : `worse by ${fmt(-gain)}`;
  return { name, passed, message: `${primary} ${fmt(c)} vs ${kind} baseline ${fmt(b)}: ${by}${passed ? '' : `, less than minImprovementOverBaseline ${margin}`}` };
}

export function judgeCandidate(spec: TrainingPipelineSpec, report: EvaluationReport, champion: string | undefined): Judgement {
  const gates = [
    ...thresholdGates(spec, report.candidate.metrics),
    championGate(spec, report, champion),
    forgettingGate(spec, report, champion),
    sliceGate(spec, report),
    baselineGate(spec, report),
  ].filter((g): g is GateResult => g !== undefined);
  const failed = gates.find((g) => !g.passed);
  return { blessed: failed === undefined, gates, failed };
}
