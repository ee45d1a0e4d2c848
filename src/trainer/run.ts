// One training run, start to finish (the state of a run is only ever in the store, so any step may be
// retried by a new pod):
//   config → backend → already published? → load → duplicates → admit feedback → validate (report; invalid → stop,
//   nothing published) → split → champion (any family) → preprocessing (fit, or the champion's for an MLP warm start)
//   → search (config.search: trials on train, judged on validation) → train the family (the MLP with checkpoints) →
//   calibrate on the validation rows → evaluate candidate, champion, baseline, slices, historical slice → gates →
//   refit on every row when asked and the gates passed → publish, manifest last
import { createHash } from 'node:crypto';
import type { Logger } from 'winston';
import { mlpMultiplyAdds, selectBackend, type BackendChoice, type BackendName } from '../ml/backend.js';
import { loadTabularModel } from '../ml/load-model.js';
import { MlpModel } from '../ml/mlp-model.js';
import { predictRows, type Predictions } from '../ml/predict.js';
import { readSavedModel } from '../ml/store-io.js';
import type { SavedModel, TabularModel } from '../ml/tabular-model.js';
import {
  artifactKey, lastRunProfileKey, parseManifest, runValidationReportKey, versionPrefix, type PipelineRef,
} from '../shared/artifact-layout.js';
import { parseReferenceProfile, profileFeature, profileRows, referenceProfileVersion, defaultEpsilon, type ReferenceProfile } from '../shared/drift.js';
import { fitPreprocessing, parsePreprocessingSpec, type PreprocessingSpec } from '../shared/preprocessing.js';
import { evaluationReportVersion, type EvaluationReport } from '../shared/evaluation-report.js';
import { argmax } from '../shared/metrics-math.js';
import type { TrainerConfig } from '../shared/trainer-config.js';
import { ObjectNotFoundError, type ObjectStore } from '../storage/object-store.js';
import { ObjectStoreCheckpoints } from './checkpoints.js';
import {
  baselinePredictions, computeMetrics, gateVerdicts, sliceMetrics, type ModelEvaluation,
} from './evaluate.js';
import { loadData, type SourceObject } from './load-data.js';
import { publishVersion } from './publish.js';
import type { Row } from './rows.js';
import { driftReferenceRowsOf, type DriftReferenceSelection } from './drift-reference.js';
import { resolveDuplicates, type DuplicateStats } from './duplicates.js';
import { admitFeedback, trustedClasses } from './feedback-rows.js';
import { orderByTime, splitRows } from './split.js';
import { calibrate, uncalibrated } from './calibrate.js';
import { fitFamily, type FitSummary, type Fitted } from './fit-family.js';
import { searchSettings } from './search-trials.js';
import { validateData, type DataProfile, type Issue, type ValidationReport } from './validate.js';

export const metricsReportVersion = evaluationReportVersion;

export class InvalidDataError extends Error {
  override readonly name = 'InvalidDataError';
  constructor(readonly reportKey: string, readonly report: ValidationReport) {
    super(`data failed validation: ${report.issues.filter((i) => i.severity === 'error').map((i) => i.message).join('; ')}`);
  }
}

/** The version already exists and was published by another run: publishing again would replace a model. */
export class VersionTakenError extends Error {
  override readonly name = 'VersionTakenError';
}

export interface RunDeps {
  readonly store: ObjectStore;
  readonly bucket: string;
  readonly log: Logger;
  readonly forcedBackend: BackendName | undefined;
  readonly codeVersion: string;
  readonly now: () => Date;
}

export interface RunOutcome {
  readonly manifestKey: string;
  readonly alreadyPublished: boolean;
  readonly startEpoch: number;
}

function datasetDigest(sources: readonly SourceObject[]): string {
  const h = createHash('sha256');
  for (const s of [...sources].sort((a, b) => (`${a.bucket}/${a.key}` < `${b.bucket}/${b.key}` ? -1 : 1))) h.update(`${s.bucket}/${s.key}@${s.etag}\n`);
  return h.digest('hex');
}

async function readJson<T>(store: ObjectStore, bucket: string, key: string): Promise<T | undefined> {
  try {
    return JSON.parse((await store.getBuffer(bucket, key)).toString('utf8')) as T;
  } catch (e: unknown) {
    if (e instanceof ObjectNotFoundError) return undefined;
    throw e;
  }
}

interface Champion {
  readonly version: string;
  readonly model: TabularModel;
  /** Its files: an MLP warm start loads a second copy to train on, the champion itself is evaluated as it is. */
  readonly saved: SavedModel;
  readonly spec: PreprocessingSpec;
}

async function loadChampion(deps: RunDeps, pipeline: PipelineRef, version: string): Promise<Champion | undefined> {
  const { store, bucket, log } = deps;
  const manifestText = await store.getBuffer(bucket, artifactKey(pipeline, version, 'manifest')).catch((e: unknown) => {
    if (e instanceof ObjectNotFoundError) return undefined;
    throw e;
  });
  if (manifestText === undefined) {
    log.warn('champion has no manifest; evaluating without it', { championVersion: version });
    return undefined;
  }
  parseManifest(manifestText.toString('utf8'));
  const spec = parsePreprocessingSpec((await store.getBuffer(bucket, artifactKey(pipeline, version, 'preprocessing'))).toString('utf8'));
  const saved = await readSavedModel(store, bucket, versionPrefix(pipeline, version) + 'model/');
  const model = await loadTabularModel(saved);
  log.info('champion loaded', { championVersion: version, family: model.family });
  return { version, model, saved, spec };
}

/**
 * The champion's spec fits this run when it encodes the same features, types, label and classes; a class that
 * appeared since the champion was trained needs a new output layer, so training starts from scratch.
 */
function championSpecFits(spec: PreprocessingSpec, config: TrainerConfig, classes: readonly string[] | undefined): boolean {
  const s = config.schema;
  const sameFeatures = spec.features.length === s.features.length && spec.features.every((f, i) => f.name === s.features[i]?.name && f.kind === s.features[i]?.type);
  const l = spec.label;
  const sameLabel = l.name === s.label && l.task === s.task && (l.task !== 'classification' || classes === undefined || l.classes.join('\u0000') === classes.join('\u0000'));
  return sameFeatures && sameLabel;
}

function evaluateModel(model: TabularModel, spec: PreprocessingSpec, config: TrainerConfig, holdout: readonly Row[], historical: readonly Row[]): { evaluation: ModelEvaluation; predictions: Predictions } {
  const names = config.evaluation.metrics;
  const predictions = predictRows(model, spec, holdout.map((r) => r.values));
  const slices = config.evaluation.sliceColumn !== undefined ? sliceMetrics(spec, holdout, predictions, config.evaluation.sliceColumn, names) : [];
  let hist: ModelEvaluation['historical'];
  if (historical.length > 0) {
    const hp = predictRows(model, spec, historical.map((r) => r.values));
    hist = { rows: historical.length, metrics: computeMetrics(spec, historical, hp, names) };
  }
  return { evaluation: { rows: holdout.length, metrics: computeMetrics(spec, holdout, predictions, names), slices, ...(hist ? { historical: hist } : {}) }, predictions };
}

/**
 * The request columns the server logs besides the features (the event time and the row id, docs/loop-semantics.md)
 * go with the model; a warm start takes today's.
 */
function withRequestColumns(spec: PreprocessingSpec, schema: TrainerConfig['schema']): PreprocessingSpec {
  const { timestampColumn: _t, rowIdColumn: _r, ...rest } = spec;
  return { ...rest, ...(schema.timestamp !== undefined ? { timestampColumn: schema.timestamp } : {}), ...(schema.rowId !== undefined ? { rowIdColumn: schema.rowId } : {}) };
}

/** The declared label range goes with the model (the servers refuse feedback outside it); a warm start takes today's. */
function withLabelRange(spec: PreprocessingSpec, range: TrainerConfig['schema']['labelRange']): PreprocessingSpec {
  if (spec.label.task !== 'regression') return spec;
  const { min: _min, max: _max, ...label } = spec.label;
  return { ...spec, label: { ...label, ...(range?.min !== undefined ? { min: range.min } : {}), ...(range?.max !== undefined ? { max: range.max } : {}) } };
}

// A run is a sequence of steps, each below: the version not yet taken → the data read, de-duplicated, admitted,
// validated and split (a bad dataset stops here with its report) → the champion loaded and the preprocessing
// prepared (an MLP warm-starts from the champion's) → the search, when asked → the family trained with the settings
// chosen → calibrated → evaluated against the champion and the baseline → refit on every row when asked and the
// gates passed → published with its reference profile and lineage.
export async function runTraining(config: TrainerConfig, deps: RunDeps): Promise<RunOutcome> {
  const { store, log } = deps;
  const bucket = config.outputBucket ?? deps.bucket;
  const startedAt = deps.now();
  const published = await alreadyPublished(config, deps, bucket);
  if (published) return published;

  // The work per batch decides whether the native backend pays (src/ml/backend.ts); before the data is read the
  // input width is known only as the feature count, a lower bound, which the hidden layers outweigh in wide models.
  const workload = { multiplyAddsPerBatch: mlpMultiplyAdds(config.schema.features.length, config.model.hiddenUnits, 1, config.hyperparameters.batchSize) };
  const backend: BackendChoice = await selectBackend(deps.forcedBackend, workload);
  log.info('tensorflow backend selected', { backend: backend.backend, attempts: backend.attempts, multiplyAddsPerBatch: workload.multiplyAddsPerBatch });
  const data = await readValidatedData(config, deps, bucket);
  const prepared = await prepareModel(config, deps, data);
  const models: TabularModel[] = [];
  try {
    const searched = config.search === undefined ? undefined : await searchSettings({
      config: { ...config, search: config.search }, spec: prepared.spec, train: data.split.train, validation: data.split.validation, log, nowMs: Date.now,
    });
    const chosen = searched?.config ?? config;
    const fingerprint = createHash('sha256').update(JSON.stringify({
      digest: data.digest, spec: prepared.spec, model: chosen.model, hp: chosen.hyperparameters, seed: chosen.seed,
      warm: prepared.warm.used, champion: prepared.champion?.version, backend: backend.backend,
    })).digest('hex');
    const fitted = await fitCandidate(chosen, deps, bucket, data.split, prepared, fingerprint);
    models.push(fitted.model);
    const calibrated = calibrate(chosen, prepared.spec, fitted.model, data.split.validation, log);
    const candidate = { model: fitted.model, spec: calibrated.spec };
    const evaluation = evaluateRun(chosen, deps, data.split, candidate, prepared, backend, fitted.summary);
    const served = await refitIfAsked(chosen, deps, bucket, data.split, prepared, { ...fitted, spec: calibrated.spec }, evaluation.report, fingerprint);
    models.push(served.model);
    const reference = served.refitted ? { ...evaluation.reference, prediction: predictionProfile(served.model, served.spec, config, data.split.holdout) } : evaluation.reference;
    const lineage = {
      version: 1,
      pipeline: config.pipeline, runId: config.runId, modelVersion: config.version,
      sources: data.loaded.sources, datasetDigest: data.digest,
      feedback: data.loaded.feedback === undefined ? undefined : { ...data.loaded.feedback, admission: data.admission, fedBackRows: fedBackTimes(data.split) },
      duplicates: data.duplicates,
      rows: { loaded: data.loaded.rows.length, filteredOut: data.loaded.filteredOut, train: data.split.train.length, validation: data.split.validation.length, holdout: data.split.holdout.length, replayed: data.split.replayed },
      driftReference: evaluation.referenceSelection,
      refit: served.lineage,
      codeVersion: deps.codeVersion,
      hyperparameters: chosen.hyperparameters, model: chosen.model, seed: config.seed, backend: backend.backend,
      family: fitted.summary.family, settings: fitted.summary.settings,
      search: searched?.lineage,
      calibration: calibrated.lineage,
      warmStart: { requested: config.warmStart, used: prepared.warm.used, championVersion: config.championVersion, ...(prepared.warm.reason !== undefined ? { reason: prepared.warm.reason } : {}) },
      resumedFromEpoch: fitted.summary.family === 'mlp' ? fitted.summary.startEpoch : 0,
      startedAt: startedAt.toISOString(), finishedAt: deps.now().toISOString(),
    };
    const { manifestKey } = await publishVersion({
      store, bucket, pipeline: config.pipeline, version: config.version, runId: config.runId, task: config.schema.task, model: await served.model.toSaved(), now: deps.now,
      documents: { preprocessing: served.spec, referenceProfile: reference, metrics: evaluation.report, validationReport: data.report, lineage },
    });
    log.info('published', { version: config.version, manifest: manifestKey, family: fitted.summary.family });
    return { manifestKey, alreadyPublished: false, startEpoch: lineage.resumedFromEpoch };
  } finally {
    // Each model once: the trained model is the warm start's own object, and the refit may publish the gated model.
    for (const m of new Set([...models, prepared.initial, prepared.champion?.model])) m?.dispose();
  }
}

/** A version published by this run (a retried pod) is done; one published by another run is an error. */
async function alreadyPublished(config: TrainerConfig, deps: RunDeps, bucket: string): Promise<RunOutcome | undefined> {
  const manifestKey = artifactKey(config.pipeline, config.version, 'manifest');
  const existing = await readJson<{ runId?: string }>(deps.store, bucket, manifestKey);
  if (existing === undefined) return undefined;
  if (existing.runId !== config.runId) throw new VersionTakenError(`version ${config.version} was already published by run ${String(existing.runId)}`);
  deps.log.info('version already published by this run', { version: config.version });
  return { manifestKey, alreadyPublished: true, startEpoch: -1 };
}

/**
 * The champion's reference profile, for validation.maxSchemaDriftPsi: read only when the rule is set and there is a
 * champion; a champion without one (or with one this trainer cannot read) is not compared, and the log says so.
 */
async function championProfile(config: TrainerConfig, deps: RunDeps, bucket: string): Promise<{ version: string; profile: ReferenceProfile } | undefined> {
  const version = config.championVersion;
  if (config.validation.maxSchemaDriftPsi === undefined || version === undefined) return undefined;
  const key = artifactKey(config.pipeline, version, 'referenceProfile');
  const text = await deps.store.getBuffer(bucket, key).catch((e: unknown) => {
    if (e instanceof ObjectNotFoundError) return undefined;
    throw e;
  });
  try {
    if (text !== undefined) return { version, profile: parseReferenceProfile(text.toString('utf8')) };
  } catch (e: unknown) {
    deps.log.warn('the champion\'s reference profile cannot be read; feature drift is not checked', { championVersion: version, error: e instanceof Error ? e.message : String(e) });
    return undefined;
  }
  deps.log.warn('the champion has no reference profile; feature drift is not checked', { championVersion: version, key });
  return undefined;
}

interface ValidatedData {
  readonly loaded: Awaited<ReturnType<typeof loadData>>;
  readonly duplicates: DuplicateStats;
  readonly admission: ReturnType<typeof admitFeedback>['stats'];
  readonly report: ValidationReport;
  readonly split: ReturnType<typeof splitRows>;
  readonly digest: string;
}

/** Reads the data, admits fed-back rows, validates and splits; a dataset that fails stops the run with its report. */
async function readValidatedData(config: TrainerConfig, deps: RunDeps, bucket: string): Promise<ValidatedData> {
  const { store, log } = deps;
  const pipeline = config.pipeline;
  const read = await loadData(store, config, deps.bucket);
  const stampedNow = read.feedback?.eventTimeFromPredictionTime ?? 0;
  if (stampedNow > 0) {
    log.warn('fed-back rows without an event time are placed at their prediction time; windows and the holdout count back from the newest row, so send the timestamp column with requests', { rows: stampedNow, timestampColumn: config.schema.timestamp });
  }
  // Duplicates first (duplicates.ts): a dropped copy must not use up the feedback share the admission grants.
  const deduplicated = resolveDuplicates(read.rows, config);
  const admission = admitFeedback(deduplicated.rows, config);
  const loaded = { ...read, rows: admission.rows };
  log.info('data loaded', { rows: loaded.rows.length, objects: loaded.objects.length, badLines: loaded.badLines.length, filteredOut: loaded.filteredOut, feedback: loaded.feedback, duplicates: deduplicated.stats, admission: admission.stats });
  const previous = await readJson<DataProfile>(store, bucket, lastRunProfileKey(pipeline));
  const reference = await championProfile(config, deps, bucket);
  const { report: baseReport, profile } = validateData({
    schema: config.schema, rules: config.validation, objects: loaded.objects, badLines: loaded.badLines, rows: loaded.rows, previous, reference, driftReference: config.data.driftReference,
  });
  const split = splitRows(loaded.rows, config);
  const splitIssues: Issue[] = [];
  if (baseReport.ok && split.train.length === 0) splitIssues.push({ check: 'min-rows', severity: 'error', message: 'no training rows left after the holdout split and the window' });
  if (baseReport.ok && split.holdout.length === 0) splitIssues.push({ check: 'min-rows', severity: 'error', message: 'the holdout is empty (check evaluation.holdout against the data\'s time range)' });
  if (baseReport.ok && config.search !== undefined && split.validation.length === 0) {
    splitIssues.push({ check: 'min-rows', severity: 'error', message: `a search needs validation rows to judge its trials on; ${split.train.length} training rows × validationFraction ${config.hyperparameters.validationFraction} leave none (raise it, or add rows)` });
  }
  const report: ValidationReport = { ...baseReport, ok: baseReport.ok && splitIssues.length === 0, issues: [...baseReport.issues, ...splitIssues] };
  const reportKey = runValidationReportKey(pipeline, config.runId);
  await store.put(bucket, reportKey, JSON.stringify(report, null, 2), { contentType: 'application/json' });
  if (!report.ok) throw new InvalidDataError(reportKey, report);
  for (const w of report.issues) log.warn('validation warning', { check: w.check, column: w.column, message: w.message });
  await store.put(bucket, lastRunProfileKey(pipeline), JSON.stringify(profile, null, 2), { contentType: 'application/json' });
  log.info('data split', { train: split.train.length, validation: split.validation.length, holdout: split.holdout.length, historical: split.historical.length, replayed: split.replayed, outsideWindow: split.outsideWindow });
  return { loaded, duplicates: deduplicated.stats, admission: admission.stats, report, split, digest: datasetDigest(loaded.sources) };
}

interface PreparedModel {
  /** The preprocessing the candidate trains on (no calibration yet: that is fitted after training). */
  readonly spec: PreprocessingSpec;
  readonly warm: { readonly used: boolean; readonly reason?: string };
  /** An MLP warm start: a copy of the champion to train on. */
  readonly initial: MlpModel | undefined;
  readonly champion: Champion | undefined;
}

/**
 * Why an MLP warm start from the champion cannot be used (pure); undefined when it can. Only an MLP continues
 * training from weights; a search trains its trials from scratch, so its winner does too and the model gated is the
 * one the search judged.
 */
export function warmStartRefusal(
  config: Pick<TrainerConfig, 'warmStart' | 'search' | 'model'>, champion: { readonly family: string; readonly specFits: boolean } | undefined,
): string | undefined {
  if (config.warmStart !== 'champion') return 'not requested';
  if (config.model.type !== 'mlp') return `model type ${config.model.type} trains from scratch (a warm start continues an MLP's training)`;
  if (config.search !== undefined) return 'a search trains its trials from scratch, so the winner is trained from scratch too';
  if (champion === undefined) return 'no champion could be loaded';
  if (champion.family !== 'mlp') return `the champion is a ${champion.family} model, not an MLP`;
  if (!champion.specFits) return 'the champion\'s features, label or classes differ from this run\'s';
  return undefined;
}

/** The champion (any family, evaluated as the champion) and the preprocessing: the champion's for a warm start, else fitted. */
async function prepareModel(config: TrainerConfig, deps: RunDeps, data: ValidatedData): Promise<PreparedModel> {
  const champion = config.championVersion !== undefined ? await loadChampion(deps, config.pipeline, config.championVersion) : undefined;
  const classes = config.schema.task === 'classification' ? trustedClasses(config, data.loaded.rows) : undefined;
  const refusal = warmStartRefusal(config, champion && { family: champion.model.family, specFits: championSpecFits(champion.spec, config, classes) });
  const warm = refusal === undefined && champion !== undefined;
  if (config.warmStart === 'champion' && !warm) deps.log.warn('warm start not possible; training from scratch', { championVersion: config.championVersion, reason: refusal });
  const spec: PreprocessingSpec = withRequestColumns(withLabelRange(warm ? uncalibrated(champion.spec) : fitPreprocessing(data.split.train.map((r) => r.values), {
    features: config.schema.features, label: config.schema.label, task: config.schema.task, classes,
  }), config.schema.labelRange), config.schema);
  let initial: MlpModel | undefined;
  if (warm) {
    initial = await MlpModel.fromSaved(champion.saved);
    if (initial.inputWidth !== spec.width) throw new Error(`champion model takes ${initial.inputWidth} inputs, its spec produces ${spec.width}`);
  }
  return { spec, warm: { used: warm, ...(config.warmStart === 'champion' && refusal !== undefined ? { reason: refusal } : {}) }, initial, champion };
}

/** Trains the candidate on the training rows (early stopping on the validation rows); an MLP resumes from a checkpoint of this run. */
async function fitCandidate(config: TrainerConfig, deps: RunDeps, bucket: string, split: ValidatedData['split'], m: PreparedModel, fingerprint: string): Promise<Fitted> {
  const fitted = await fitFamily({
    config, spec: m.spec, train: split.train, validation: split.validation, log: deps.log, initial: m.initial, fingerprint,
    checkpoints: new ObjectStoreCheckpoints(deps.store, bucket, config.pipeline, config.runId),
  });
  const s = fitted.summary;
  if (s.family === 'mlp') deps.log.info('training done', { family: s.family, startEpoch: s.startEpoch, epochsDone: s.epochsDone, bestEpoch: s.bestEpoch, stoppedEarly: s.stoppedEarly, resumed: s.startEpoch > 0 });
  else deps.log.info('training done', { family: s.family, rounds: s.rounds, bestRound: s.bestRound, stoppedEarly: s.stoppedEarly, seconds: s.seconds, settings: s.settings });
  return fitted;
}

/** metrics.json's `training`: the family, its resolved settings and how the training went. */
function trainingRecord(s: FitSummary, backend: BackendChoice, warm: boolean, split: ValidatedData['split']): Record<string, unknown> {
  const rows = { rows: split.train.length, validationRows: split.validation.length };
  if (s.family === 'mlp') {
    return {
      family: s.family, settings: s.settings, backend: backend.backend, warmStart: warm, startEpoch: s.startEpoch, epochsDone: s.epochsDone, bestEpoch: s.bestEpoch,
      stoppedEarly: s.stoppedEarly, history: s.history, ...rows, rowsPerSecond: s.rowsPerSecond,
    };
  }
  return {
    family: s.family, settings: s.settings, warmStart: false, rounds: s.rounds, bestRound: s.bestRound, stoppedEarly: s.stoppedEarly,
    history: s.history, ...rows, seconds: s.seconds, rowsPerSecond: s.rowsPerSecond,
  };
}

/** The evaluation report (candidate, champion and baseline on the same holdout, the gates) and the drift reference. */
function evaluateRun(
  config: TrainerConfig, deps: RunDeps, split: ValidatedData['split'], candidate: { model: TabularModel; spec: PreprocessingSpec }, m: PreparedModel, backend: BackendChoice, training: FitSummary,
): { report: EvaluationReport; reference: ReferenceProfile; referenceSelection: DriftReferenceSelection } {
  const { spec } = candidate;
  const { champion } = m;
  const cand = evaluateModel(candidate.model, spec, config, split.holdout, split.historical);
  const champ = champion ? evaluateModel(champion.model, champion.spec, config, split.holdout, split.historical) : undefined;
  const baseline = computeMetrics(spec, split.holdout, baselinePredictions(spec, split.train, split.holdout.length), config.evaluation.metrics);
  const gates = gateVerdicts(config.evaluation, cand.evaluation, champ?.evaluation, baseline);
  deps.log.info('evaluated', { candidate: cand.evaluation.metrics, champion: champ?.evaluation.metrics, baseline, gates: gates.map((g) => `${g.gate}:${g.status}`) });

  const drift = driftReferenceRowsOf(split, config.data.driftReference);
  deps.log.info('drift reference', drift.selection);
  const reference: ReferenceProfile = {
    version: referenceProfileVersion,
    rows: drift.rows.length,
    features: profileRows(drift.rows.map((r) => r.values), config.schema.features),
    prediction: profileOfPredictions(spec, config, cand.predictions),
    epsilon: defaultEpsilon,
  };
  const times = split.holdout.map((r) => r.time).filter((t): t is number => t !== undefined);
  const report: EvaluationReport = {
    version: metricsReportVersion,
    task: config.schema.task,
    primaryMetric: config.evaluation.primaryMetric,
    holdout: {
      kind: config.evaluation.holdout.kind, rows: split.holdout.length,
      ...(times.length > 0 ? { from: new Date(times.reduce((a, b) => (b < a ? b : a))).toISOString(), to: new Date(times.reduce((a, b) => (b > a ? b : a))).toISOString() } : {}),
    },
    candidate: cand.evaluation,
    champion: champ && champion ? { version: champion.version, ...champ.evaluation } : undefined,
    baseline: { kind: config.schema.task === 'classification' ? 'majority-class' : 'training-mean', metrics: baseline },
    gates,
    gatesPassed: gates.every((g) => g.status !== 'fail'),
    training: trainingRecord(training, backend, m.warm.used, split),
  };
  return { report, reference, referenceSelection: drift.selection };
}

/** The reference profile's `prediction`: the served model's predicted classes (or values) on the holdout. */
function profileOfPredictions(spec: PreprocessingSpec, config: TrainerConfig, predictions: Predictions): NonNullable<ReferenceProfile['prediction']> {
  const values = predictions.task === 'classification'
    ? predictions.probabilities.map((p) => (spec.label.task === 'classification' ? spec.label.classes[argmax(p)] ?? null : null))
    : predictions.values;
  return profileFeature('prediction', config.schema.task === 'classification' ? 'categorical' : 'numeric', values);
}

function predictionProfile(model: TabularModel, spec: PreprocessingSpec, config: TrainerConfig, holdout: readonly Row[]): NonNullable<ReferenceProfile['prediction']> {
  return profileOfPredictions(spec, config, predictRows(model, spec, holdout.map((r) => r.values)));
}

/**
 * Event-time, prediction-time and label-arrival ranges of the fed-back rows the run trains on, for lineage (the
 * operator's feedback-loop latency starts at labelTime.to, docs/observability.md).
 */
function fedBackTimes(split: ValidatedData['split']): { rows: number; eventTime?: { from: string; to: string }; predictionTime?: { from: string; to: string }; labelTime?: { from: string; to: string } } {
  const fed = [...split.train, ...split.validation].filter((r) => r.fedBack);
  const range = (xs: readonly (number | undefined)[]): { from: string; to: string } | undefined => {
    const t = xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
    return t.length === 0 ? undefined : { from: new Date(t.reduce((a, b) => (b < a ? b : a))).toISOString(), to: new Date(t.reduce((a, b) => (b > a ? b : a))).toISOString() };
  };
  const eventTime = range(fed.map((r) => r.time));
  const predictionTime = range(fed.map((r) => r.predictionTime));
  const labelTime = range(fed.map((r) => r.labelTime));
  return { rows: fed.length, ...(eventTime ? { eventTime } : {}), ...(predictionTime ? { predictionTime } : {}), ...(labelTime ? { labelTime } : {}) };
}

/** What lineage says of the refit (evaluation.refit). */
export type RefitLineage =
  | { readonly requested: false }
  | { readonly requested: true; readonly skipped: string }
  | {
    readonly requested: true;
    readonly family: FitSummary['family'];
    /**
     * The model the gates judged (metrics.json): the epochs (MLP) or boosting rounds (trees) it kept, and the rows it
     * trained on.
     */
    readonly gatedModel: { readonly epochs?: number; readonly epochsDone?: number; readonly rounds?: number; readonly trainRows: number; readonly validationRows: number };
    /** Rows the published model trained on: train, validation and holdout. */
    readonly refitRows: number;
    readonly epochs?: number;
    readonly rounds?: number;
    readonly preprocessing: 'fitted on every row' | 'the champion\'s (warm start)';
    readonly warmStart: boolean;
    readonly calibration: 'the gated model\'s (fitted on its validation rows)' | 'none';
  };

/**
 * evaluation.refit: once the gates pass, the model that is published is trained again by the same recipe as the gated
 * one on every row, the holdout included: the MLP (same seed and architecture, from the champion's weights when the
 * gated model warm-started) for the epochs the gated model kept (its best epoch, at least 1), keeping the last epoch's
 * weights; the trees with the gated model's resolved settings for its best round count (no early stopping: nothing
 * is left to validate on). Its preprocessing is fitted on every row, so categories and scales first seen in the
 * newest rows reach the served model (a warm start keeps the champion's spec, which the champion's weights need).
 * The calibration stays the gated model's: there are no unseen rows left to fit another on. metrics.json keeps the
 * gated model's holdout metrics, the only honest ones; lineage says which model was gated. A failing gate
 * publishes the gated model.
 */
async function refitIfAsked(
  config: TrainerConfig, deps: RunDeps, bucket: string, split: ValidatedData['split'], m: PreparedModel, gated: Fitted & { spec: PreprocessingSpec },
  report: EvaluationReport, fingerprint: string,
): Promise<{ model: TabularModel; spec: PreprocessingSpec; refitted: boolean; lineage: RefitLineage }> {
  const asGated = { model: gated.model, spec: gated.spec, refitted: false };
  if (!config.evaluation.refit) return { ...asGated, lineage: { requested: false } };
  if (!report.gatesPassed) {
    const failed = report.gates.filter((g) => g.status === 'fail').map((g) => g.gate);
    deps.log.info('refit skipped: a gate failed; the gated model is published', { failed });
    return { ...asGated, lineage: { requested: true, skipped: `gates failed (${failed.join(', ')}): the gated model is published` } };
  }
  const rows = orderByTime([...split.train, ...split.validation, ...split.holdout]);
  const warm = m.warm.used && m.champion !== undefined;
  const fitted = withRequestColumns(withLabelRange(warm ? uncalibrated(m.spec) : fitPreprocessing(rows.map((r) => r.values), {
    features: config.schema.features, label: config.schema.label, task: config.schema.task, classes: m.spec.label.task === 'classification' ? m.spec.label.classes : undefined,
  }), config.schema.labelRange), config.schema);
  const spec: PreprocessingSpec = gated.spec.calibration === undefined ? fitted : { ...fitted, calibration: gated.spec.calibration };
  const g = gated.summary;
  const refit = g.family === 'mlp' ? { epochs: Math.max(1, g.bestEpoch) } : { settings: { ...g.settings, count: Math.max(1, g.bestRound), earlyStoppingRounds: 0 } };
  const out = await fitFamily({
    config, spec: uncalibrated(spec), train: rows, validation: [], log: deps.log, refit,
    initial: warm && m.champion ? await MlpModel.fromSaved(m.champion.saved) : undefined,
    fingerprint: createHash('sha256').update(JSON.stringify({ gated: fingerprint, refit: { spec, refit, rows: rows.length } })).digest('hex'),
    checkpoints: new ObjectStoreCheckpoints(deps.store, bucket, config.pipeline, config.runId, 'refit'),
  });
  const effort = g.family === 'mlp'
    ? { gatedModel: { epochs: g.bestEpoch, epochsDone: g.epochsDone }, epochs: Math.max(1, g.bestEpoch) }
    : { gatedModel: { rounds: g.bestRound }, rounds: Math.max(1, g.bestRound) };
  deps.log.info('refit done: the published model trained on every row', { rows: rows.length, family: g.family, ...effort, gatedTrainRows: split.train.length });
  return {
    model: out.model, spec, refitted: true,
    lineage: {
      requested: true, family: g.family,
      ...effort, gatedModel: { ...effort.gatedModel, trainRows: split.train.length, validationRows: split.validation.length },
      refitRows: rows.length, preprocessing: warm ? 'the champion\'s (warm start)' : 'fitted on every row', warmStart: warm,
      calibration: spec.calibration === undefined ? 'none' : 'the gated model\'s (fitted on its validation rows)',
    },
  };
}
