// What one training run becomes in MLflow, from the records the run left in the store (metrics.json, lineage.json,
// the validation report) and its entry in the pipeline's status. Pure, table-tested.
//   parameters: the trainer settings (lineage: family, model, hyperparameters, the family's resolved settings, seed,
//               backend) and the rows it trained on, flattened to dotted keys
//   metrics:    per epoch (or boosting round) the training and validation loss, step = the epoch; final holdout
//               metrics of the candidate, the champion and the baseline, and per slice
//   tags:       the pipeline, run, version, outcome and trigger, the version's place in the object store, the
//               gates' verdicts, the dataset digest, the code version, the validation report's verdict
import type { TrainingRun } from '../../api/training-pipeline.js';
import type { PipelineRef } from '../../shared/artifact-layout.js';
import { versionPrefix } from '../../shared/artifact-layout.js';
import type { EvaluationReport } from '../../shared/evaluation-report.js';
import type { MlflowMetric, MlflowTag } from './mlflow-client.js';

/** The tag that names the run a MLflow run was exported from: found again after an interrupted export. */
export const runTag = 'perennial.run';

/** MLflow keeps parameter values up to 6000 characters, tag values up to 8000 (5000 in older servers). */
const maxParam = 6000;
const maxTag = 5000;

export interface RunDocuments {
  readonly report: EvaluationReport | undefined;
  readonly lineage: Readonly<Record<string, unknown>> | undefined;
  readonly validation: Readonly<Record<string, unknown>> | undefined;
}

export interface MlflowRunRecord {
  readonly runName: string;
  readonly startTime: number;
  readonly endTime: number;
  readonly status: 'FINISHED' | 'FAILED';
  /** Tags set when the run is created (the run tag first: the run is found again by it). */
  readonly createTags: readonly MlflowTag[];
  readonly params: readonly MlflowTag[];
  readonly metrics: readonly MlflowMetric[];
  readonly tags: readonly MlflowTag[];
  /** Where the version is in the store (the registered model version's source), when the run published one. */
  readonly source: string | undefined;
}

/** The registered model of a pipeline: `<namespace>-<name>`. */
export function registeredModelName(ref: PipelineRef): string {
  return `${ref.namespace}-${ref.name}`;
}

/** The experiment a pipeline's runs go to when the spec names none. */
export function defaultExperiment(ref: PipelineRef): string {
  return `perennial/${ref.namespace}/${ref.name}`;
}

/** Nested values as dotted keys (arrays as JSON), undefined and null left out. */
export function flatten(prefix: string, value: unknown, out: MlflowTag[] = []): MlflowTag[] {
  if (value === undefined || value === null) return out;
  if (typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flatten(prefix === '' ? k : `${prefix}.${k}`, v, out);
    return out;
  }
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  out.push({ key: prefix, value: text.slice(0, maxParam) });
  return out;
}

/** A metric key MLflow takes: letters, digits, _ - . / and spaces only. */
export function metricKey(text: string): string {
  return text.replace(/[^A-Za-z0-9_\-./ ]/g, '_').slice(0, 250);
}

function paramsOf(lineage: RunDocuments['lineage']): MlflowTag[] {
  if (lineage === undefined) return [];
  const pick = (k: string): unknown => lineage[k];
  const params = [
    ...flatten('family', pick('family')),
    ...flatten('model', pick('model')),
    ...flatten('hyperparameters', pick('hyperparameters')),
    ...flatten('settings', pick('settings')),
    ...flatten('seed', pick('seed')),
    ...flatten('backend', pick('backend')),
    ...flatten('rows', pick('rows')),
  ];
  // One value per key (MLflow refuses a parameter logged again with another value).
  return [...new Map(params.map((p) => [p.key, p])).values()];
}

function finite(n: unknown): n is number {
  return typeof n === 'number' && Number.isFinite(n);
}

function historyMetrics(training: Readonly<Record<string, unknown>>, at: number): MlflowMetric[] {
  const history = Array.isArray(training['history']) ? (training['history'] as Array<Record<string, unknown>>) : [];
  const out: MlflowMetric[] = [];
  for (const h of history) {
    const step = finite(h['epoch']) ? h['epoch'] : finite(h['round']) ? h['round'] : undefined;
    if (step === undefined) continue;
    if (finite(h['loss'])) out.push({ key: 'loss', value: h['loss'], timestamp: at, step });
    if (finite(h['valLoss'])) out.push({ key: 'val_loss', value: h['valLoss'], timestamp: at, step });
  }
  return out;
}

function reportMetrics(report: EvaluationReport | undefined, at: number): MlflowMetric[] {
  if (report === undefined) return [];
  const m = (key: string, value: unknown): MlflowMetric[] => (finite(value) ? [{ key: metricKey(key), value, timestamp: at, step: 0 }] : []);
  const of = (prefix: string, metrics: Readonly<Record<string, unknown>> | undefined): MlflowMetric[] =>
    Object.entries(metrics ?? {}).flatMap(([k, v]) => m(`${prefix}.${k}`, v));
  return [
    ...historyMetrics(report.training, at),
    ...of('holdout', report.candidate.metrics),
    ...of('champion', report.champion?.metrics),
    ...of('baseline', report.baseline.metrics),
    ...m('holdout.rows', report.holdout.rows),
    ...report.candidate.slices.flatMap((sl) => of(`slice.${sl.value}`, sl.metrics)),
  ];
}

function tagsOf(ref: PipelineRef, run: TrainingRun, docs: RunDocuments, source: string | undefined): MlflowTag[] {
  const tags: Array<[string, unknown]> = [
    ['perennial.pipeline', `${ref.namespace}/${ref.name}`],
    ['perennial.version', run.version],
    ['perennial.outcome', run.outcome],
    ['perennial.trigger', run.trigger],
    ['perennial.reason', run.reason],
    ['perennial.message', run.message],
    ['perennial.artifacts', source],
    ['perennial.gatesPassed', docs.report?.gatesPassed],
    ['perennial.gates', run.gates === undefined ? undefined : JSON.stringify(run.gates)],
    ['perennial.datasetDigest', docs.lineage?.['datasetDigest']],
    ['perennial.codeVersion', docs.lineage?.['codeVersion']],
    ['perennial.validation.ok', docs.validation?.['ok']],
    ['perennial.validation.issues', Array.isArray(docs.validation?.['issues']) ? (docs.validation['issues'] as unknown[]).length : undefined],
  ];
  return tags.filter(([, v]) => v !== undefined && v !== null).map(([key, v]) => ({ key, value: String(v).slice(0, maxTag) }));
}

/** The MLflow run of one ended run: its outcome decides FINISHED (it published a version) or FAILED. */
export function mlflowRunRecord(ref: PipelineRef, bucket: string, run: TrainingRun, docs: RunDocuments): MlflowRunRecord {
  const published = run.outcome === 'Blessed' || run.outcome === 'Rejected';
  const startTime = Date.parse(run.startTime);
  const endTime = run.completionTime === undefined ? startTime : Date.parse(run.completionTime);
  const source = published && run.version !== undefined ? `s3://${bucket}/${versionPrefix(ref, run.version)}` : undefined;
  return {
    runName: run.name,
    startTime,
    endTime,
    status: published ? 'FINISHED' : 'FAILED',
    createTags: [{ key: runTag, value: `${ref.namespace}/${ref.name}/${run.name}` }, { key: 'mlflow.runName', value: run.name }],
    params: paramsOf(docs.lineage),
    metrics: reportMetrics(docs.report, endTime),
    tags: tagsOf(ref, run, docs, source),
    source,
  };
}
