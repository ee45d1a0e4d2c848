// The evaluation report (metrics.json in a version's prefix, see artifact-layout.ts): what the trainer measured
// of the candidate, the champion on the same holdout, a trivial baseline, per-slice and historical metrics, and
// its own gate verdicts. Version 1. The trainer writes it; the operator reads it and alone decides to bless a
// version, applying the pipeline's gates to these numbers. A trainer in another language writes the same JSON.
//
// JSON has no NaN: a metric that is undefined on the data (rocAuc of a multi-class model) is written as null and
// read back as absent, so a reader only ever sees finite numbers. Metric names are those of metric-names.ts; a
// value under another name is not read (a typed MetricValues never holds a name the gates do not know).
import { isMetricName, type MetricName, type Task } from './metric-names.js';

export const evaluationReportVersion = 1;

export type MetricValues = Partial<Record<MetricName, number>>;

export interface SliceMetrics {
  readonly value: string;
  readonly rows: number;
  readonly metrics: MetricValues;
}

export interface ModelEvaluation {
  readonly rows: number;
  readonly metrics: MetricValues;
  readonly slices: readonly SliceMetrics[];
  readonly historical?: { readonly rows: number; readonly metrics: MetricValues };
}

export type GateStatus = 'pass' | 'fail' | 'skipped';

export interface GateVerdict {
  readonly gate: string;
  readonly status: GateStatus;
  readonly metric?: MetricName;
  readonly observed?: number;
  readonly limit?: number;
  readonly message: string;
}

export interface EvaluationReport {
  readonly version: typeof evaluationReportVersion;
  readonly task: Task;
  readonly primaryMetric: MetricName;
  readonly holdout: { readonly kind: string; readonly rows: number; readonly from?: string; readonly to?: string };
  readonly candidate: ModelEvaluation;
  /** The champion the trainer was given, evaluated on the same holdout (absent without one). */
  readonly champion?: (ModelEvaluation & { readonly version: string }) | undefined;
  readonly baseline: { readonly kind: string; readonly metrics: MetricValues };
  readonly gates: readonly GateVerdict[];
  readonly gatesPassed: boolean;
  /** Free-form facts about the training (backend, epochs, throughput); not interpreted by the operator. */
  readonly training: Readonly<Record<string, unknown>>;
}

export class InvalidEvaluationReportError extends Error {
  override readonly name = 'InvalidEvaluationReportError';
}

type Obj = Readonly<Record<string, unknown>>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function metricValues(v: unknown, path: string): MetricValues {
  if (!isObj(v)) throw new InvalidEvaluationReportError(`${path}: must be an object of metric values`);
  const out: Partial<Record<MetricName, number>> = {};
  for (const [k, x] of Object.entries(v)) if (isMetricName(k) && typeof x === 'number' && Number.isFinite(x)) out[k] = x;
  return out;
}

function evaluation(v: unknown, path: string): ModelEvaluation {
  if (!isObj(v)) throw new InvalidEvaluationReportError(`${path}: must be an object`);
  const rows = typeof v['rows'] === 'number' ? v['rows'] : 0;
  const slices = Array.isArray(v['slices'])
    ? (v['slices'] as unknown[]).filter(isObj).map((s, i) => ({
      value: String(s['value']),
      rows: typeof s['rows'] === 'number' ? s['rows'] : 0,
      metrics: metricValues(s['metrics'] ?? {}, `${path}.slices[${i}].metrics`),
    }))
    : [];
  const h = v['historical'];
  const historical = isObj(h)
    ? { historical: { rows: typeof h['rows'] === 'number' ? h['rows'] : 0, metrics: metricValues(h['metrics'] ?? {}, `${path}.historical.metrics`) } }
    : {};
  return { rows, metrics: metricValues(v['metrics'], `${path}.metrics`), slices, ...historical };
}

function gateStatus(v: unknown): GateStatus {
  return v === 'pass' || v === 'fail' ? v : 'skipped';
}

/** Reads metrics.json. Throws InvalidEvaluationReportError when it is not a version-1 report. */
export function parseEvaluationReport(text: string): EvaluationReport {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e: unknown) {
    throw new InvalidEvaluationReportError(`not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isObj(doc)) throw new InvalidEvaluationReportError('must be an object');
  if (doc['version'] !== evaluationReportVersion) throw new InvalidEvaluationReportError(`unsupported version ${String(doc['version'])}`);
  const task = doc['task'];
  if (task !== 'classification' && task !== 'regression') throw new InvalidEvaluationReportError('task must be classification or regression');
  const primaryMetric = doc['primaryMetric'];
  if (primaryMetric === undefined) throw new InvalidEvaluationReportError('primaryMetric is missing');
  if (!isMetricName(primaryMetric)) throw new InvalidEvaluationReportError(`primaryMetric ${JSON.stringify(primaryMetric)} is not a metric name`);
  const holdout = isObj(doc['holdout']) ? doc['holdout'] : {};
  const champ = doc['champion'];
  const champion = isObj(champ) && typeof champ['version'] === 'string'
    ? { ...evaluation(champ, 'champion'), version: champ['version'] }
    : undefined;
  const baseline = isObj(doc['baseline']) ? doc['baseline'] : {};
  const gates = Array.isArray(doc['gates'])
    ? doc['gates'].filter(isObj).map((g) => ({
      gate: String(g['gate']),
      status: gateStatus(g['status']),
      message: typeof g['message'] === 'string' ? g['message'] : '',
      ...(isMetricName(g['metric']) ? { metric: g['metric'] } : {}),
      ...(typeof g['observed'] === 'number' ? { observed: g['observed'] } : {}),
      ...(typeof g['limit'] === 'number' ? { limit: g['limit'] } : {}),
    }))
    : [];
  return {
    version: evaluationReportVersion,
    task,
    primaryMetric,
    holdout: {
      kind: typeof holdout['kind'] === 'string' ? holdout['kind'] : '',
      rows: typeof holdout['rows'] === 'number' ? holdout['rows'] : 0,
      ...(typeof holdout['from'] === 'string' ? { from: holdout['from'] } : {}),
      ...(typeof holdout['to'] === 'string' ? { to: holdout['to'] } : {}),
    },
    candidate: evaluation(doc['candidate'], 'candidate'),
    champion,
    baseline: { kind: typeof baseline['kind'] === 'string' ? baseline['kind'] : '', metrics: metricValues(baseline['metrics'] ?? {}, 'baseline.metrics') },
    gates,
    gatesPassed: doc['gatesPassed'] === true,
    training: isObj(doc['training']) ? doc['training'] : {},
  };
}
