// The trainer config: one JSON document the operator hands the training Job (env PERENNIAL_TRAINER_CONFIG or
// a mounted file named by PERENNIAL_TRAINER_CONFIG_FILE, see pod-contract.ts). Version 1 ("perennial.dev/v1").
// parseTrainerConfig() applies defaults and rejects anything unknown or out of range with every problem listed,
// so a bad spec fails fast with exit code invalidConfig instead of half-way through training.

export const trainerConfigApiVersion = 'perennial.dev/trainer-config/v1';

export type DataFormat = 'csv' | 'jsonl';
export type FeatureType = 'numeric' | 'categorical' | 'date';
export type Task = 'classification' | 'regression';
export type Activation = 'relu' | 'tanh' | 'sigmoid' | 'elu' | 'selu';
export type ClassificationMetric = 'accuracy' | 'macroF1' | 'rocAuc' | 'logLoss';
export type RegressionMetric = 'rmse' | 'mae' | 'r2';
export type MetricName = ClassificationMetric | RegressionMetric;

export interface DataSource {
  /** Defaults to the store bucket of the pod contract. */
  readonly bucket: string | undefined;
  /** Every object under the prefix is read (sorted by key). */
  readonly prefix: string;
  readonly format: DataFormat;
}

export interface FeatureSpec {
  readonly name: string;
  readonly type: FeatureType;
}

export interface Schema {
  readonly features: readonly FeatureSpec[];
  readonly label: string;
  readonly task: Task;
  /** Fixed class list for classification; when absent the classes are those seen in the uploaded (trusted) data. */
  readonly classes: readonly string[] | undefined;
  /** Declared range of a regression label: fed-back labels outside it are dropped, and servers refuse them. */
  readonly labelRange: NumericRange | undefined;
  /** Column holding an ISO-8601 date/time (or epoch milliseconds); needed for windows and time-based holdouts. */
  readonly timestamp: string | undefined;
}

/** Keep only rows whose `column` (as text) is one of `in`. */
export interface RowFilter {
  readonly column: string;
  readonly in: readonly string[];
}

export interface Window {
  /** Keep the newest N rows (by timestamp, else by reading order). */
  readonly lastRows: number | undefined;
  /** Keep rows newer than (newest timestamp − days). */
  readonly lastDays: number | undefined;
}

export interface FeedbackSource {
  readonly bucket: string | undefined;
  readonly predictionsPrefix: string;
  readonly feedbackPrefix: string;
  /** Model version whose predictions count; all versions when absent. */
  readonly modelVersion: string | undefined;
  /**
   * Largest share (0-1) of the training rows that may be fed-back rows; beyond it the newest are kept. Fed-back
   * rows come from clients, uploaded data from the pipeline's owner: the cap bounds what labels alone can teach.
   */
  readonly maxShare: number;
}

export interface NumericRange {
  readonly min: number | undefined;
  readonly max: number | undefined;
}

export type Severity = 'error' | 'warning' | 'off';

export interface ValidationRules {
  readonly minRows: number;
  /** Largest tolerated share of missing values per feature column (the label may never be missing). */
  readonly maxMissingRate: number;
  readonly maxMissingRateByColumn: Readonly<Record<string, number>>;
  readonly ranges: Readonly<Record<string, NumericRange>>;
  /** Categories a categorical column may take; anything else is an unseen category. */
  readonly allowedCategories: Readonly<Record<string, readonly string[]>>;
  readonly unseenCategories: Severity;
  /** Each class must hold at least this share of labelled rows (classification). */
  readonly minClassShare: number;
  /** Schema drift against the previous run's profile (columns or types changed). */
  readonly schemaDrift: Severity;
  /** A line longer than this (bytes) is an invalid row; it is never held in memory whole. */
  readonly maxLineBytes: number;
  /** How many offending rows a report lists per issue. */
  readonly maxExampleRows: number;
}

export interface ModelSpec {
  readonly type: 'mlp';
  readonly hiddenUnits: readonly number[];
  readonly activation: Activation;
  readonly dropout: number;
  readonly l2: number;
}

export interface Hyperparameters {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** Epochs without improvement of the validation loss before stopping; 0 disables early stopping. */
  readonly patience: number;
  /** Share of the training rows (the newest) used as validation set for early stopping. */
  readonly validationFraction: number;
}

export type Holdout =
  | { readonly kind: 'lastFraction'; readonly fraction: number }
  | { readonly kind: 'from'; readonly from: string };

export interface HistoricalSlice {
  readonly from: string | undefined;
  readonly to: string;
}

export interface Gates {
  /** Absolute floors (for loss-like metrics: ceilings) on the candidate's holdout metrics. */
  readonly thresholds: Readonly<Partial<Record<MetricName, number>>>;
  /** Candidate may be worse than the champion on the primary metric by at most this much. */
  readonly maxDegradationVsChampion: number | undefined;
  /** Candidate may be worse than the champion on the historical slice by at most this much. */
  readonly maxForgetting: number | undefined;
  /** Largest gap of the primary metric between the best and worst slice. */
  readonly maxSliceGap: number | undefined;
}

export interface Evaluation {
  readonly holdout: Holdout;
  readonly metrics: readonly MetricName[];
  /** The metric the gates compare; defaults to macroF1 (classification) or rmse (regression). */
  readonly primaryMetric: MetricName;
  readonly sliceColumn: string | undefined;
  /** Slices with fewer rows are reported but not gated. */
  readonly minSliceRows: number;
  readonly historicalSlice: HistoricalSlice | undefined;
  readonly gates: Gates;
}

export interface TrainerConfig {
  readonly apiVersion: typeof trainerConfigApiVersion;
  readonly pipeline: { readonly namespace: string; readonly name: string };
  readonly runId: string;
  /** The version this run publishes, e.g. "v7". */
  readonly version: string;
  /** Bucket for artifacts; defaults to the pod contract's bucket. */
  readonly outputBucket: string | undefined;
  readonly data: {
    readonly sources: readonly DataSource[];
    readonly where: RowFilter | undefined;
    readonly window: Window | undefined;
    /** Share of rows older than the window kept as replay against forgetting. */
    readonly replayFraction: number;
    readonly feedback: FeedbackSource | undefined;
  };
  readonly schema: Schema;
  readonly validation: ValidationRules;
  readonly model: ModelSpec;
  readonly hyperparameters: Hyperparameters;
  readonly seed: number;
  /** "champion" starts from the champion's weights when there is a compatible champion, else from scratch. */
  readonly warmStart: 'champion' | 'scratch';
  readonly championVersion: string | undefined;
  readonly evaluation: Evaluation;
}

export class InvalidConfigError extends Error {
  override readonly name = 'InvalidConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid trainer config: ${problems.join('; ')}`);
  }
}

type Json = unknown;
type Obj = Readonly<Record<string, Json>>;

/** Collects problems with their JSON paths instead of stopping at the first. */
class Reader {
  readonly problems: string[] = [];

  obj(v: Json, path: string, known: readonly string[]): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      this.problems.push(`${path}: must be an object`);
      return {};
    }
    for (const k of Object.keys(v)) if (!known.includes(k)) this.problems.push(`${path}.${k}: unknown field`);
    return v as Obj;
  }

  optObj(v: Json, path: string, known: readonly string[]): Obj | undefined {
    return v === undefined ? undefined : this.obj(v, path, known);
  }

  str(v: Json, path: string, fallback?: string): string {
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string' || v.length === 0) {
      this.problems.push(`${path}: must be a non-empty string`);
      return '';
    }
    return v;
  }

  optStr(v: Json, path: string): string | undefined {
    return v === undefined ? undefined : this.str(v, path);
  }

  oneOf<T extends string>(v: Json, path: string, allowed: readonly T[], fallback?: T): T {
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.problems.push(`${path}: must be one of ${allowed.join(', ')}`);
      return allowed[0] as T;
    }
    return v as T;
  }

  num(v: Json, path: string, opts: { min?: number; max?: number; int?: boolean; fallback?: number }): number {
    if (v === undefined && opts.fallback !== undefined) return opts.fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      this.problems.push(`${path}: must be a number`);
      return opts.fallback ?? 0;
    }
    if (opts.int === true && !Number.isInteger(v)) this.problems.push(`${path}: must be an integer`);
    if (opts.min !== undefined && v < opts.min) this.problems.push(`${path}: must be ≥ ${opts.min}`);
    if (opts.max !== undefined && v > opts.max) this.problems.push(`${path}: must be ≤ ${opts.max}`);
    return v;
  }

  optNum(v: Json, path: string, opts: { min?: number; max?: number; int?: boolean }): number | undefined {
    return v === undefined ? undefined : this.num(v, path, opts);
  }

  arr(v: Json, path: string, minLength = 0): readonly Json[] {
    if (!Array.isArray(v)) {
      this.problems.push(`${path}: must be an array`);
      return [];
    }
    if (v.length < minLength) this.problems.push(`${path}: needs at least ${minLength} item(s)`);
    return v as readonly Json[];
  }

  strArr(v: Json, path: string, minLength = 0): readonly string[] {
    return this.arr(v, path, minLength).map((x, i) => this.str(x, `${path}[${i}]`));
  }

  record<T>(v: Json, path: string, item: (x: Json, p: string) => T): Readonly<Record<string, T>> {
    if (v === undefined) return {};
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      this.problems.push(`${path}: must be an object`);
      return {};
    }
    const out: Record<string, T> = {};
    for (const [k, x] of Object.entries(v)) out[k] = item(x, `${path}.${k}`);
    return out;
  }

  time(v: Json, path: string): string {
    const s = this.str(v, path);
    if (s !== '' && Number.isNaN(Date.parse(s))) this.problems.push(`${path}: must be an ISO-8601 date or time`);
    return s;
  }
}

const classificationMetrics: readonly ClassificationMetric[] = ['accuracy', 'macroF1', 'rocAuc', 'logLoss'];
const regressionMetrics: readonly RegressionMetric[] = ['rmse', 'mae', 'r2'];
/** Metrics where lower is better; gates and comparisons flip for them. */
export const lowerIsBetter: ReadonlySet<MetricName> = new Set<MetricName>(['logLoss', 'rmse', 'mae']);

/** Parses and validates the JSON text of a trainer config. Throws InvalidConfigError listing every problem. */
export function parseTrainerConfig(text: string): TrainerConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e: unknown) {
    throw new InvalidConfigError([`not valid JSON: ${e instanceof Error ? e.message : String(e)}`]);
  }
  return readTrainerConfig(doc);
}

export function readTrainerConfig(doc: unknown): TrainerConfig {
  const r = new Reader();
  const top = r.obj(doc, '$', [
    'apiVersion', 'pipeline', 'runId', 'version', 'outputBucket', 'data', 'schema', 'validation', 'model',
    'hyperparameters', 'seed', 'warmStart', 'championVersion', 'evaluation',
  ]);
  if (top['apiVersion'] !== trainerConfigApiVersion) r.problems.push(`$.apiVersion: must be "${trainerConfigApiVersion}"`);

  const p = r.obj(top['pipeline'], '$.pipeline', ['namespace', 'name']);
  const pipeline = { namespace: r.str(p['namespace'], '$.pipeline.namespace', 'default'), name: r.str(p['name'], '$.pipeline.name') };

  const d = r.obj(top['data'], '$.data', ['sources', 'where', 'window', 'replayFraction', 'feedback']);
  const sources = r.arr(d['sources'], '$.data.sources', 1).map((s, i) => {
    const path = `$.data.sources[${i}]`;
    const o = r.obj(s, path, ['bucket', 'prefix', 'format']);
    return { bucket: r.optStr(o['bucket'], `${path}.bucket`), prefix: r.str(o['prefix'], `${path}.prefix`), format: r.oneOf(o['format'], `${path}.format`, ['csv', 'jsonl'] as const) };
  });
  const w = r.optObj(d['where'], '$.data.where', ['column', 'in']);
  const where = w && { column: r.str(w['column'], '$.data.where.column'), in: r.strArr(w['in'], '$.data.where.in', 1) };
  const win = r.optObj(d['window'], '$.data.window', ['lastRows', 'lastDays']);
  const window = win && {
    lastRows: r.optNum(win['lastRows'], '$.data.window.lastRows', { min: 1, int: true }),
    lastDays: r.optNum(win['lastDays'], '$.data.window.lastDays', { min: 0 }),
  };
  const replayFraction = r.num(d['replayFraction'], '$.data.replayFraction', { min: 0, max: 1, fallback: 0 });
  const fb = r.optObj(d['feedback'], '$.data.feedback', ['bucket', 'predictionsPrefix', 'feedbackPrefix', 'modelVersion', 'maxShare']);
  const feedback = fb && {
    bucket: r.optStr(fb['bucket'], '$.data.feedback.bucket'),
    predictionsPrefix: r.str(fb['predictionsPrefix'], '$.data.feedback.predictionsPrefix'),
    feedbackPrefix: r.str(fb['feedbackPrefix'], '$.data.feedback.feedbackPrefix'),
    modelVersion: r.optStr(fb['modelVersion'], '$.data.feedback.modelVersion'),
    maxShare: r.num(fb['maxShare'], '$.data.feedback.maxShare', { min: 0, max: 1, fallback: 0.5 }),
  };

  const s = r.obj(top['schema'], '$.schema', ['features', 'label', 'task', 'classes', 'labelRange', 'timestamp']);
  const features = r.arr(s['features'], '$.schema.features', 1).map((f, i) => {
    const o = r.obj(f, `$.schema.features[${i}]`, ['name', 'type']);
    return { name: r.str(o['name'], `$.schema.features[${i}].name`), type: r.oneOf(o['type'], `$.schema.features[${i}].type`, ['numeric', 'categorical', 'date'] as const) };
  });
  const task = r.oneOf(s['task'], '$.schema.task', ['classification', 'regression'] as const);
  const classes = s['classes'] === undefined ? undefined : r.strArr(s['classes'], '$.schema.classes', 2);
  const lr = r.optObj(s['labelRange'], '$.schema.labelRange', ['min', 'max']);
  const labelRange = lr && { min: r.optNum(lr['min'], '$.schema.labelRange.min', {}), max: r.optNum(lr['max'], '$.schema.labelRange.max', {}) };
  const schema: Schema = { features, label: r.str(s['label'], '$.schema.label'), task, classes, labelRange, timestamp: r.optStr(s['timestamp'], '$.schema.timestamp') };
  const names = features.map((f) => f.name);
  const dup = names.filter((n, i) => names.indexOf(n) !== i);
  if (dup.length > 0) r.problems.push(`$.schema.features: duplicate feature(s) ${[...new Set(dup)].join(', ')}`);
  if (names.includes(schema.label)) r.problems.push('$.schema.label: the label cannot also be a feature');
  if (classes && new Set(classes).size !== classes.length) r.problems.push('$.schema.classes: duplicate class');
  if (classes && task === 'regression') r.problems.push('$.schema.classes: only for classification');
  if (labelRange && task === 'classification') r.problems.push('$.schema.labelRange: only for regression');
  if (labelRange?.min !== undefined && labelRange.max !== undefined && labelRange.min > labelRange.max) r.problems.push('$.schema.labelRange: min is greater than max');

  const v = r.obj(top['validation'] ?? {}, '$.validation', [
    'minRows', 'maxMissingRate', 'maxMissingRateByColumn', 'ranges', 'allowedCategories', 'unseenCategories',
    'minClassShare', 'schemaDrift', 'maxLineBytes', 'maxExampleRows',
  ]);
  const severities = ['error', 'warning', 'off'] as const;
  const validation: ValidationRules = {
    minRows: r.num(v['minRows'], '$.validation.minRows', { min: 1, int: true, fallback: 50 }),
    maxMissingRate: r.num(v['maxMissingRate'], '$.validation.maxMissingRate', { min: 0, max: 1, fallback: 0.2 }),
    maxMissingRateByColumn: r.record(v['maxMissingRateByColumn'], '$.validation.maxMissingRateByColumn', (x, path) => r.num(x, path, { min: 0, max: 1 })),
    ranges: r.record(v['ranges'], '$.validation.ranges', (x, path) => {
      const o = r.obj(x, path, ['min', 'max']);
      return { min: r.optNum(o['min'], `${path}.min`, {}), max: r.optNum(o['max'], `${path}.max`, {}) };
    }),
    allowedCategories: r.record(v['allowedCategories'], '$.validation.allowedCategories', (x, path) => r.strArr(x, path, 1)),
    unseenCategories: r.oneOf(v['unseenCategories'], '$.validation.unseenCategories', severities, 'error'),
    minClassShare: r.num(v['minClassShare'], '$.validation.minClassShare', { min: 0, max: 0.5, fallback: 0 }),
    schemaDrift: r.oneOf(v['schemaDrift'], '$.validation.schemaDrift', severities, 'error'),
    maxLineBytes: r.num(v['maxLineBytes'], '$.validation.maxLineBytes', { min: 64, int: true, fallback: 1024 * 1024 }),
    maxExampleRows: r.num(v['maxExampleRows'], '$.validation.maxExampleRows', { min: 1, int: true, fallback: 20 }),
  };
  for (const col of [...Object.keys(validation.ranges), ...Object.keys(validation.maxMissingRateByColumn)]) {
    if (!names.includes(col)) r.problems.push(`$.validation: ${col} is not a feature`);
  }
  for (const col of Object.keys(validation.allowedCategories)) {
    if (!features.some((f) => f.name === col && f.type === 'categorical')) r.problems.push(`$.validation.allowedCategories.${col}: not a categorical feature`);
  }

  const m = r.obj(top['model'] ?? {}, '$.model', ['type', 'hiddenUnits', 'activation', 'dropout', 'l2']);
  const model: ModelSpec = {
    type: r.oneOf(m['type'], '$.model.type', ['mlp'] as const, 'mlp'),
    hiddenUnits: m['hiddenUnits'] === undefined ? [32, 16] : r.arr(m['hiddenUnits'], '$.model.hiddenUnits').map((u, i) => r.num(u, `$.model.hiddenUnits[${i}]`, { min: 1, max: 4096, int: true })),
    activation: r.oneOf(m['activation'], '$.model.activation', ['relu', 'tanh', 'sigmoid', 'elu', 'selu'] as const, 'relu'),
    dropout: r.num(m['dropout'], '$.model.dropout', { min: 0, max: 0.9, fallback: 0 }),
    l2: r.num(m['l2'], '$.model.l2', { min: 0, fallback: 0 }),
  };

  const h = r.obj(top['hyperparameters'] ?? {}, '$.hyperparameters', ['epochs', 'batchSize', 'learningRate', 'patience', 'validationFraction']);
  const hyperparameters: Hyperparameters = {
    epochs: r.num(h['epochs'], '$.hyperparameters.epochs', { min: 1, max: 10_000, int: true, fallback: 50 }),
    batchSize: r.num(h['batchSize'], '$.hyperparameters.batchSize', { min: 1, max: 65_536, int: true, fallback: 32 }),
    learningRate: r.num(h['learningRate'], '$.hyperparameters.learningRate', { min: 1e-7, max: 10, fallback: 0.001 }),
    patience: r.num(h['patience'], '$.hyperparameters.patience', { min: 0, int: true, fallback: 5 }),
    validationFraction: r.num(h['validationFraction'], '$.hyperparameters.validationFraction', { min: 0, max: 0.5, fallback: 0.1 }),
  };

  const warmStart = r.oneOf(top['warmStart'], '$.warmStart', ['champion', 'scratch'] as const, 'scratch');
  const championVersion = r.optStr(top['championVersion'], '$.championVersion');

  const e = r.obj(top['evaluation'] ?? {}, '$.evaluation', ['holdout', 'metrics', 'primaryMetric', 'sliceColumn', 'minSliceRows', 'historicalSlice', 'gates']);
  const ho = r.obj(e['holdout'] ?? { lastFraction: 0.2 }, '$.evaluation.holdout', ['lastFraction', 'from']);
  let holdout: Holdout;
  if (ho['from'] !== undefined && ho['lastFraction'] !== undefined) r.problems.push('$.evaluation.holdout: set either lastFraction or from');
  if (ho['from'] !== undefined) holdout = { kind: 'from', from: r.time(ho['from'], '$.evaluation.holdout.from') };
  else holdout = { kind: 'lastFraction', fraction: r.num(ho['lastFraction'], '$.evaluation.holdout.lastFraction', { min: 0.01, max: 0.9, fallback: 0.2 }) };
  if (holdout.kind === 'from' && schema.timestamp === undefined) r.problems.push('$.evaluation.holdout.from: needs $.schema.timestamp');
  if (window?.lastDays !== undefined && schema.timestamp === undefined) r.problems.push('$.data.window.lastDays: needs $.schema.timestamp');
  const taskMetrics: readonly MetricName[] = task === 'classification' ? classificationMetrics : regressionMetrics;
  const metrics = e['metrics'] === undefined
    ? taskMetrics
    : r.arr(e['metrics'], '$.evaluation.metrics', 1).map((x, i) => r.oneOf(x, `$.evaluation.metrics[${i}]`, taskMetrics));
  const primaryMetric = r.oneOf(e['primaryMetric'], '$.evaluation.primaryMetric', taskMetrics, task === 'classification' ? 'macroF1' : 'rmse');
  const hs = r.optObj(e['historicalSlice'], '$.evaluation.historicalSlice', ['from', 'to']);
  const historicalSlice = hs && {
    from: hs['from'] === undefined ? undefined : r.time(hs['from'], '$.evaluation.historicalSlice.from'),
    to: r.time(hs['to'], '$.evaluation.historicalSlice.to'),
  };
  if (historicalSlice && schema.timestamp === undefined) r.problems.push('$.evaluation.historicalSlice: needs $.schema.timestamp');
  const sliceColumn = r.optStr(e['sliceColumn'], '$.evaluation.sliceColumn');
  if (sliceColumn !== undefined && !features.some((f) => f.name === sliceColumn && f.type === 'categorical')) {
    r.problems.push('$.evaluation.sliceColumn: must name a categorical feature');
  }
  const g = r.obj(e['gates'] ?? {}, '$.evaluation.gates', ['thresholds', 'maxDegradationVsChampion', 'maxForgetting', 'maxSliceGap']);
  const thresholds: Partial<Record<MetricName, number>> = {};
  for (const [k, x] of Object.entries(r.record(g['thresholds'], '$.evaluation.gates.thresholds', (x, path) => r.num(x, path, {})))) {
    if ((taskMetrics as readonly string[]).includes(k)) thresholds[k as MetricName] = x;
    else r.problems.push(`$.evaluation.gates.thresholds.${k}: not a ${task} metric`);
  }
  const evaluation: Evaluation = {
    holdout, metrics, primaryMetric, sliceColumn, historicalSlice,
    minSliceRows: r.num(e['minSliceRows'], '$.evaluation.minSliceRows', { min: 1, int: true, fallback: 30 }),
    gates: {
      thresholds,
      maxDegradationVsChampion: r.optNum(g['maxDegradationVsChampion'], '$.evaluation.gates.maxDegradationVsChampion', { min: 0 }),
      maxForgetting: r.optNum(g['maxForgetting'], '$.evaluation.gates.maxForgetting', { min: 0 }),
      maxSliceGap: r.optNum(g['maxSliceGap'], '$.evaluation.gates.maxSliceGap', { min: 0 }),
    },
  };

  const config: TrainerConfig = {
    apiVersion: trainerConfigApiVersion,
    pipeline,
    runId: r.str(top['runId'], '$.runId'),
    version: r.str(top['version'], '$.version'),
    outputBucket: r.optStr(top['outputBucket'], '$.outputBucket'),
    data: { sources, where, window, replayFraction, feedback },
    schema, validation, model, hyperparameters,
    seed: r.num(top['seed'], '$.seed', { min: 0, max: 2 ** 31 - 1, int: true, fallback: 42 }),
    warmStart, championVersion, evaluation,
  };
  for (const [what, v2] of [['$.runId', config.runId], ['$.version', config.version], ['$.pipeline.name', pipeline.name], ['$.pipeline.namespace', pipeline.namespace]] as const) {
    if (v2 !== '' && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(v2)) r.problems.push(`${what}: only letters, digits, ".", "_" and "-"`);
  }
  if (r.problems.length > 0) throw new InvalidConfigError(r.problems);
  return config;
}
