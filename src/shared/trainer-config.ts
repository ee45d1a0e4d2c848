// The trainer config: one JSON document the operator hands the training Job (env PERENNIAL_TRAINER_CONFIG or
// a mounted file named by PERENNIAL_TRAINER_CONFIG_FILE, see pod-contract.ts). Version 1 ("perennial.dev/v1").
// parseTrainerConfig() applies defaults and rejects anything unknown or out of range with every problem listed,
// so a bad spec fails fast with exit code invalidConfig instead of half-way through training.
//
// One definition (trainerConfigDefinition, built with json-contract.ts) gives the TrainerConfig type, the parser
// and the JSON Schema published in docs/contracts (trainer-config-schema.ts). The defaults a hand-written config
// gets are those of a TrainingPipeline (trainerDefaults, which src/api/training-pipeline.ts uses for the CRD):
// a config written by hand and one the operator builds train the same model.
import { c, readDocument, type Field, type Infer } from './json-contract.js';
import {
  defaultPrimaryMetric, isMetricName, metricNames, metricsOf, tasks, type MetricName, type Task,
} from './metric-names.js';

export const trainerConfigApiVersion = 'perennial.dev/trainer-config/v1';

/** Defaults shared with the TrainingPipeline CRD (and the ones the operator fills in from them). */
export const trainerDefaults = {
  replayFraction: 0,
  maxFeedbackShare: 0.5,
  minRows: 100,
  maxMissingRate: 0.1,
  minClassShare: 0,
  maxLineBytes: 1024 * 1024,
  maxExampleRows: 20,
  csvDelimiter: ',',
  hiddenUnits: [64, 32],
  activation: 'relu',
  dropout: 0,
  epochs: 50,
  batchSize: 64,
  learningRate: 0.001,
  patience: 5,
  validationFraction: 0.1,
  seed: 42,
  holdoutFraction: 0.2,
  /** Slices with fewer holdout rows are reported but not gated (by the trainer and the operator alike). */
  minSliceRows: 30,
} as const;

const fraction = (): Field<number> => c.number({ minimum: 0, maximum: 1 });
const range = c.object({ min: c.number().optional(), max: c.number().optional() });
const severity = c.enum(['error', 'warning', 'off']);

const dataSource = c.object({
  /** Defaults to the store bucket of the pod contract. */
  bucket: c.string().optional(),
  /** Every object under the prefix is read (sorted by key). */
  prefix: c.string(),
  format: c.enum(['csv', 'jsonl']),
  /** The field separator of CSV objects (JSON Lines ignore it). */
  delimiter: c.enum([',', ';', '\t', '|']).default(trainerDefaults.csvDelimiter),
});

const feedbackSource = c.object({
  bucket: c.string().optional(),
  predictionsPrefix: c.string(),
  feedbackPrefix: c.string(),
  /** Model version whose predictions count; all versions when absent. */
  modelVersion: c.string().optional(),
  /**
   * Largest share (0-1) of the training rows that may be fed-back rows; beyond it the newest are kept. Fed-back
   * rows come from clients, uploaded data from the pipeline's owner: the cap bounds what labels alone can teach.
   */
  maxShare: fraction().default(trainerDefaults.maxFeedbackShare),
  /**
   * Rows that arrive both as feedback and as uploaded data: 'prefer-uploaded' drops the fed-back copy (matched by
   * schema.rowId when declared, else by event time plus every feature value) and counts it in lineage; 'keep-both'
   * trains on both.
   */
  duplicates: c.enum(['prefer-uploaded', 'keep-both']).default('prefer-uploaded'),
});

const data = c.object({
  sources: c.array(dataSource, { minItems: 1 }),
  /** Keep only rows whose `column` (as text) is one of `in`. */
  where: c.object({ column: c.string(), in: c.array(c.string(), { minItems: 1 }) }).optional(),
  /** lastRows: the newest N rows (by timestamp, else by reading order); lastDays: rows newer than (newest − days). */
  window: c.object({ lastRows: c.integer({ minimum: 1 }).optional(), lastDays: c.number({ minimum: 0 }).optional() }).optional(),
  /** Share of rows older than the window kept as replay against forgetting. */
  replayFraction: fraction().default(trainerDefaults.replayFraction),
  feedback: feedbackSource.optional(),
  /**
   * The rows the drift reference profile is built from, by event time: the newest `lastRows` rows and/or the rows of
   * the newest `lastDays` days of the run (uploaded and fed back). Absent: the newest year (a year holds the daily,
   * weekly and yearly cycles), and at least driftReferenceMinRows rows when the year holds fewer.
   */
  driftReference: c.object({ lastRows: c.integer({ minimum: 10 }).optional(), lastDays: c.number({ exclusiveMinimum: 0 }).optional() }).optional(),
});

const schema = c.object({
  features: c.array(c.object({ name: c.string(), type: c.enum(['numeric', 'categorical', 'date']) }), { minItems: 1 }),
  label: c.string(),
  task: c.enum(tasks),
  /** Fixed class list for classification; when absent the classes are those seen in the uploaded (trusted) data. */
  classes: c.array(c.string(), { minItems: 2, unique: 'class' }).optional(),
  /** Declared range of a regression label: fed-back labels outside it are dropped, and servers refuse them. */
  labelRange: range.optional(),
  /**
   * Column holding each row's event time, ISO-8601 (or epoch milliseconds); needed for windows and time-based
   * holdouts. Requests may carry it too: the server logs it, and fed-back rows keep it.
   */
  timestamp: c.string().optional(),
  /** Column holding a row's id, in uploaded rows and in requests: how a fed-back row and its uploaded copy are matched. */
  rowId: c.string().optional(),
});

const validation = c.object({
  minRows: c.integer({ minimum: 1 }).default(trainerDefaults.minRows),
  /** Largest tolerated share of missing values per feature column (the label may never be missing). */
  maxMissingRate: fraction().default(trainerDefaults.maxMissingRate),
  maxMissingRateByColumn: c.record(fraction()).orEmpty(),
  ranges: c.record(range).orEmpty(),
  /** Categories a categorical column may take; anything else is an unseen category. */
  allowedCategories: c.record(c.array(c.string(), { minItems: 1 })).orEmpty(),
  unseenCategories: severity.default('error'),
  /** Each class must hold at least this share of labelled rows (classification). */
  minClassShare: c.number({ minimum: 0, maximum: 0.5 }).default(trainerDefaults.minClassShare),
  /** Schema drift against the previous run's profile (columns or types changed). */
  schemaDrift: severity.default('error'),
  /**
   * Largest PSI of any feature of the run's most recent rows against the champion's reference profile; above it the
   * data is rejected as a break upstream (the run publishes nothing). Absent: not checked.
   */
  maxSchemaDriftPsi: c.number({ minimum: 0 }).optional(),
  /** A line longer than this (bytes) is an invalid row; it is never held in memory whole. */
  maxLineBytes: c.integer({ minimum: 64 }).default(trainerDefaults.maxLineBytes),
  /** How many offending rows a report lists per issue. */
  maxExampleRows: c.integer({ minimum: 1 }).default(trainerDefaults.maxExampleRows),
});

/** The model families (docs/model-families.md): a neural network, or trees (src/ml/trees). */
export const modelFamilies = ['mlp', 'gradient-boosting', 'random-forest'] as const;
export type ModelFamily = (typeof modelFamilies)[number];

/**
 * The tree families' settings. Absent fields take the family's defaults for the run's row count (treeDefaults in
 * src/ml/trees), which lineage records as used.
 */
const trees = c.object({
  /** Trees (random forest) or the most boosting rounds (gradient boosting; early stopping on the validation rows). */
  count: c.integer({ minimum: 1, maximum: 5000 }).optional(),
  maxDepth: c.integer({ minimum: 1, maximum: 32 }).optional(),
  /** Shrinkage of each boosting round (gradient boosting only). */
  learningRate: c.number({ exclusiveMinimum: 0, maximum: 1 }).optional(),
  minRowsPerLeaf: c.integer({ minimum: 1 }).optional(),
  /** Histogram bins per numeric input (the split candidates). */
  maxBins: c.integer({ minimum: 2, maximum: 255 }).optional(),
  /** Share of rows each tree sees (random forest: a bootstrap sample of this size). */
  rowSubsample: c.number({ exclusiveMinimum: 0, maximum: 1 }).optional(),
  /** Share of inputs considered at each split. */
  featureSubsample: c.number({ exclusiveMinimum: 0, maximum: 1 }).optional(),
  /** L2 penalty on leaf values (gradient boosting). */
  l2: c.number({ minimum: 0 }).optional(),
  /** Boosting rounds without improvement of the validation loss before stopping (gradient boosting; 0: never). */
  earlyStoppingRounds: c.integer({ minimum: 0 }).optional(),
});

const model = c.object({
  type: c.enum(modelFamilies).default('mlp'),
  // The MLP's settings (type mlp).
  hiddenUnits: c.array(c.integer({ minimum: 1, maximum: 4096 })).default(trainerDefaults.hiddenUnits),
  activation: c.enum(['relu', 'tanh', 'sigmoid', 'elu', 'selu']).default(trainerDefaults.activation),
  dropout: c.number({ minimum: 0, maximum: 0.9 }).default(trainerDefaults.dropout),
  l2: c.number({ minimum: 0 }).default(0),
  // The tree families' settings (type gradient-boosting or random-forest).
  trees: trees.orEmpty(),
  /**
   * Classification: probabilities rescaled so they mean what they say, fitted on the validation rows after training
   * (temperature scaling: one parameter, never changes the predicted class). Recorded in the preprocessing spec and
   * applied by the servers. Regression ignores it.
   */
  calibration: c.enum(['temperature', 'none']).default('temperature'),
});

/** Parameters a search may vary (src/trainer/search.ts) ... */
export const searchParameterNames = [
  'learningRate', 'batchSize', 'hiddenUnits', 'dropout', 'l2', 'treeCount', 'maxDepth', 'minRowsPerLeaf', 'rowSubsample', 'featureSubsample',
] as const;
export type SearchParameterName = (typeof searchParameterNames)[number];
/** ... and the families each applies to. */
export const searchParameters: Readonly<Record<SearchParameterName, readonly ModelFamily[]>> = {
  learningRate: ['mlp', 'gradient-boosting'],
  batchSize: ['mlp'],
  hiddenUnits: ['mlp'],
  dropout: ['mlp'],
  l2: ['mlp', 'gradient-boosting'],
  treeCount: ['gradient-boosting', 'random-forest'],
  maxDepth: ['gradient-boosting', 'random-forest'],
  minRowsPerLeaf: ['gradient-boosting', 'random-forest'],
  rowSubsample: ['gradient-boosting', 'random-forest'],
  featureSubsample: ['gradient-boosting', 'random-forest'],
};

/**
 * Hyperparameter search inside the run: up to `trials` settings (the spec's own first, then random draws from the
 * space), each trained on the training rows and judged on the validation rows (never the holdout); the best is
 * trained again as the run's candidate and gated as without search. Every trial goes to lineage.
 */
const search = c.object({
  trials: c.integer({ minimum: 1, maximum: 500 }),
  /** Stop starting trials after this many seconds (the trials done count). */
  maxSeconds: c.number({ exclusiveMinimum: 0 }).optional(),
  parameters: c.array(c.object({
    name: c.enum(searchParameterNames),
    /** A range (numbers; integer parameters are rounded) ... */
    min: c.number().optional(),
    max: c.number().optional(),
    scale: c.enum(['linear', 'log']).default('linear'),
    /** ... or a list of values (hiddenUnits: "64,32" for two layers). */
    values: c.array(c.string(), { minItems: 1 }).optional(),
  }), { minItems: 1 }),
});

const hyperparameters = c.object({
  epochs: c.integer({ minimum: 1, maximum: 10000 }).default(trainerDefaults.epochs),
  batchSize: c.integer({ minimum: 1, maximum: 65536 }).default(trainerDefaults.batchSize),
  learningRate: c.number({ exclusiveMinimum: 0, maximum: 10 }).default(trainerDefaults.learningRate),
  /** Epochs without improvement of the validation loss before stopping; 0 disables early stopping. */
  patience: c.integer({ minimum: 0 }).default(trainerDefaults.patience),
  /** Share of the training rows (the newest) used as validation set for early stopping. */
  validationFraction: c.number({ minimum: 0, maximum: 0.5 }).default(trainerDefaults.validationFraction),
});

export type Holdout =
  | { readonly kind: 'lastFraction'; readonly fraction: number }
  | { readonly kind: 'from'; readonly from: string };

const holdout = c.object({
  lastFraction: c.number({ minimum: 0.01, maximum: 0.9 }).default(trainerDefaults.holdoutFraction),
  from: c.time().optional(),
}, { atMostOne: true }).orEmpty().transform((h): Holdout => (h.from !== undefined ? { kind: 'from', from: h.from } : { kind: 'lastFraction', fraction: h.lastFraction }));

const metric = c.enum(metricNames);

const evaluation = c.object({
  holdout,
  /** Defaults to every metric of the task. */
  metrics: c.array(metric, { minItems: 1 }).optional(),
  /** The metric the gates compare; defaults to defaultPrimaryMetric of the task. */
  primaryMetric: metric.optional(),
  sliceColumn: c.string().optional(),
  /** Slices with fewer rows are reported but not gated. */
  minSliceRows: c.integer({ minimum: 1 }).default(trainerDefaults.minSliceRows),
  historicalSlice: c.object({ from: c.time().optional(), to: c.time() }).optional(),
  /**
   * After the gates pass, train the served model again on every row (the holdout too), for the epochs the gated model
   * needed; lineage names the gated model's metrics and the refit. A failing gate publishes the gated model unrefit.
   */
  refit: c.boolean().default(false),
  /** Each gate is checked only when set. */
  gates: c.object({
    /** Absolute floors (for loss-like metrics: ceilings) on the candidate's holdout metrics. */
    thresholds: c.keyed(metricNames, c.number()).orEmpty(),
    /** Candidate may be worse than the champion on the primary metric by at most this much. */
    maxDegradationVsChampion: c.number({ minimum: 0 }).optional(),
    /** Candidate may be worse than the champion on the historical slice by at most this much. */
    maxForgetting: c.number({ minimum: 0 }).optional(),
    /** Largest gap of the primary metric between the best and worst slice. */
    maxSliceGap: c.number({ minimum: 0 }).optional(),
    /**
     * The candidate must beat the baseline (majority class for classification, the training mean for regression) on
     * the primary metric by at least this much (accuracy 0.05: five points above the majority class's accuracy).
     */
    minImprovementOverBaseline: c.number({ minimum: 0 }).optional(),
  }).orEmpty(),
}).orEmpty();

const document = c.object({
  apiVersion: c.literal(trainerConfigApiVersion),
  pipeline: c.object({ namespace: c.name().default('default'), name: c.name() }),
  runId: c.name(),
  /** The version this run publishes, e.g. "v7". */
  version: c.name(),
  /** Bucket for artifacts; defaults to the pod contract's bucket. */
  outputBucket: c.string().optional(),
  data,
  schema,
  validation: validation.orEmpty(),
  model: model.orEmpty(),
  hyperparameters: hyperparameters.orEmpty(),
  search: search.optional(),
  seed: c.integer({ minimum: 0, maximum: 2147483647 }).default(trainerDefaults.seed),
  /** "champion" starts from the champion's weights when there is a compatible champion, else from scratch. */
  warmStart: c.enum(['champion', 'scratch']).default('scratch'),
  championVersion: c.name().optional(),
  evaluation,
});

type Document = Infer<typeof document>;
export type Schema = Document['schema'];
export type NumericRange = Infer<typeof range>;
export type ValidationRules = Document['validation'];
export type ModelSpec = Document['model'];
export type Hyperparameters = Document['hyperparameters'];
export type TreeSettings = ModelSpec['trees'];
export type SearchSpec = NonNullable<Document['search']>;
export type SearchParameter = SearchSpec['parameters'][number];
/** The evaluation with the task's metrics and primary metric filled in. */
export type Evaluation = Omit<Document['evaluation'], 'metrics' | 'primaryMetric'> & {
  readonly metrics: readonly MetricName[];
  readonly primaryMetric: MetricName;
};
export type TrainerConfig = Omit<Document, 'evaluation'> & { readonly evaluation: Evaluation };

/** Rules across fields that JSON Schema cannot express; each returns its problems. */
const crossFieldRules: readonly ((d: Document) => readonly string[])[] = [
  ({ schema: s }) => {
    const names = s.features.map((f) => f.name);
    const dup = names.filter((n, i) => names.indexOf(n) !== i);
    return dup.length > 0 ? [`$.schema.features: duplicate feature(s) ${[...new Set(dup)].join(', ')}`] : [];
  },
  ({ schema: s }) => (s.features.some((f) => f.name === s.label) ? ['$.schema.label: the label cannot also be a feature'] : []),
  ({ schema: s }) => (s.rowId !== undefined && (s.rowId === s.label || s.rowId === s.timestamp || s.features.some((f) => f.name === s.rowId)) ? ['$.schema.rowId: must be a column of its own (not a feature, the label or the timestamp)'] : []),
  ({ schema: s, data: d }) => (d.driftReference?.lastDays !== undefined && s.timestamp === undefined ? ['$.data.driftReference.lastDays: needs $.schema.timestamp'] : []),
  ({ schema: s }) => (s.classes && s.task === 'regression' ? ['$.schema.classes: only for classification'] : []),
  ({ schema: s }) => (s.labelRange && s.task === 'classification' ? ['$.schema.labelRange: only for regression'] : []),
  ({ schema: { labelRange: r } }) => (r?.min !== undefined && r.max !== undefined && r.min > r.max ? ['$.schema.labelRange: min is greater than max'] : []),
  ({ schema: s, validation: v }) => [...Object.keys(v.ranges), ...Object.keys(v.maxMissingRateByColumn)]
    .filter((col) => !s.features.some((f) => f.name === col)).map((col) => `$.validation: ${col} is not a feature`),
  ({ schema: s, validation: v }) => Object.keys(v.allowedCategories)
    .filter((col) => !isCategorical(s, col)).map((col) => `$.validation.allowedCategories.${col}: not a categorical feature`),
  ({ schema: s, evaluation: e }) => (e.holdout.kind === 'from' && s.timestamp === undefined ? ['$.evaluation.holdout.from: needs $.schema.timestamp'] : []),
  ({ schema: s, data: d }) => (d.window?.lastDays !== undefined && s.timestamp === undefined ? ['$.data.window.lastDays: needs $.schema.timestamp'] : []),
  ({ schema: s, evaluation: e }) => (e.historicalSlice && s.timestamp === undefined ? ['$.evaluation.historicalSlice: needs $.schema.timestamp'] : []),
  ({ schema: s, evaluation: e }) => (e.sliceColumn !== undefined && !isCategorical(s, e.sliceColumn) ? ['$.evaluation.sliceColumn: must name a categorical feature'] : []),
  ({ schema: s, evaluation: e }) => (e.metrics ?? []).flatMap((m, i) => notOfTask(s.task, m, `$.evaluation.metrics[${i}]`)),
  ({ schema: s, evaluation: e }) => (e.primaryMetric === undefined ? [] : notOfTask(s.task, e.primaryMetric, '$.evaluation.primaryMetric')),
  ({ schema: s, evaluation: e }) => Object.keys(e.gates.thresholds)
    .filter((m) => !metricsOf(s.task).some((x) => x === m)).map((m) => `$.evaluation.gates.thresholds.${m}: not a ${s.task} metric`),
  ({ model: m, search: sr }) => (sr?.parameters ?? []).flatMap((p, i) => searchParameterProblems(m.type, p, `$.search.parameters[${i}]`)),
  ({ search: sr }) => {
    const names = (sr?.parameters ?? []).map((p) => p.name);
    const dup = names.filter((n, i) => names.indexOf(n) !== i);
    return dup.length > 0 ? [`$.search.parameters: ${[...new Set(dup)].join(', ')} listed twice`] : [];
  },
  // Trials are judged on the validation rows; the holdout stays for the gates.
  ({ search: sr, hyperparameters: h }) => (sr !== undefined && h.validationFraction === 0 ? ['$.search: needs validation rows to judge the trials on (hyperparameters.validationFraction > 0)'] : []),
];

/** A search parameter must suit the family and give either a range or values, each readable. */
export function searchParameterProblems(family: ModelFamily, p: SearchParameter, path: string): string[] {
  const families = searchParameters[p.name];
  if (!families.includes(family)) return [`${path}.name: ${p.name} does not apply to model type ${family} (it applies to ${families.join(', ')})`];
  const hasRange = p.min !== undefined || p.max !== undefined;
  if (hasRange === (p.values !== undefined)) return [`${path}: give either min and max, or values`];
  if (p.values !== undefined) {
    return p.values.flatMap((v, j) => (parseSearchValue(p.name, v) === undefined ? [`${path}.values[${j}]: "${v}" is not a valid ${p.name}`] : []));
  }
  if (p.name === 'hiddenUnits') return [`${path}: hiddenUnits takes values (e.g. "64,32"), not a range`];
  if (p.min === undefined || p.max === undefined) return [`${path}: a range needs both min and max`];
  if (p.min > p.max) return [`${path}: min is greater than max`];
  if (p.scale === 'log' && p.min <= 0) return [`${path}: a log scale needs min > 0`];
  // Integer parameters round their bounds (as the draws do); others take them as they are: 1.4 is no learning rate.
  const rounds = integerSearchParameters.includes(p.name);
  const problems = [p.min, p.max].filter((v) => parseSearchValue(p.name, String(rounds ? Math.round(v) : v)) === undefined);
  return problems.length > 0 ? [`${path}: the range ${p.min}..${p.max} is outside what ${p.name} accepts`] : [];
}

/** Integer-valued search parameters (a range is rounded). */
export const integerSearchParameters: readonly SearchParameterName[] = ['batchSize', 'treeCount', 'maxDepth', 'minRowsPerLeaf'];

/**
 * One value of a search parameter from its text, within the bounds the config accepts for the field it sets;
 * undefined when it is not one. hiddenUnits: comma-separated layer widths ("" for no hidden layer).
 */
export function parseSearchValue(name: SearchParameterName, text: string): number | readonly number[] | undefined {
  if (name === 'hiddenUnits') {
    if (text.trim() === '') return [];
    const units = text.split(',').map((u) => Number(u.trim()));
    return units.every((u) => Number.isInteger(u) && u >= 1 && u <= 4096) && units.length <= 8 ? units : undefined;
  }
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) return undefined;
  const bounds: Record<Exclude<SearchParameterName, 'hiddenUnits'>, { min: number; max: number; exclusiveMin?: boolean }> = {
    learningRate: { min: 0, max: 1, exclusiveMin: true },
    batchSize: { min: 1, max: 65536 },
    dropout: { min: 0, max: 0.9 },
    l2: { min: 0, max: Number.MAX_VALUE },
    treeCount: { min: 1, max: 5000 },
    maxDepth: { min: 1, max: 32 },
    minRowsPerLeaf: { min: 1, max: Number.MAX_SAFE_INTEGER },
    rowSubsample: { min: 0, max: 1, exclusiveMin: true },
    featureSubsample: { min: 0, max: 1, exclusiveMin: true },
  };
  const b = bounds[name];
  if (integerSearchParameters.includes(name) && !Number.isInteger(v)) return undefined;
  if (v > b.max || v < b.min || (b.exclusiveMin === true && v === b.min)) return undefined;
  return v;
}

function isCategorical(s: Schema, column: string): boolean {
  return s.features.some((f) => f.name === column && f.type === 'categorical');
}

function notOfTask(task: Task, m: MetricName, path: string): string[] {
  const allowed = metricsOf(task);
  return isMetricName(m) && !allowed.includes(m) ? [`${path}: must be one of ${allowed.join(', ')}`] : [];
}

/** The definition of the document: its JSON Schema is trainerConfigJsonSchema (trainer-config-schema.ts). */
export const trainerConfigDefinition = document.check((d) => crossFieldRules.flatMap((rule) => rule(d))).transform((d): TrainerConfig => ({
  ...d,
  evaluation: {
    ...d.evaluation,
    metrics: d.evaluation.metrics ?? metricsOf(d.schema.task),
    primaryMetric: d.evaluation.primaryMetric ?? defaultPrimaryMetric[d.schema.task],
  },
}));

export class InvalidConfigError extends Error {
  override readonly name = 'InvalidConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid trainer config: ${problems.join('; ')}`);
  }
}

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
  const { value, problems } = readDocument(trainerConfigDefinition, doc);
  if (problems.length > 0) throw new InvalidConfigError(problems);
  return value;
}
