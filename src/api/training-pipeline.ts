// TrainingPipeline: like a CronJob that knows about models. When a trigger fires it runs the trainer as a Job,
// then blesses the candidate as the new champion or rejects it by the evaluation gates.
import type { apiVersion } from './common.js';
import { conditions, type ObjectMeta, duration, nodeSelector, objectName, resources, tolerations } from './common.js';
import { s, type Infer } from './schema.js';
import { classificationMetrics, liveMetricNames, metricNames, regressionMetrics } from '../shared/metric-names.js';
import { trainerDefaults as d } from '../shared/trainer-config.js';
import { defaultFalseAlarmRate } from '../shared/drift-sequential.js';

export const trainingPipelineKind = 'TrainingPipeline';

/**
 * Bounds of the durations that set how often the operator acts for a pipeline (the API server refuses values
 * outside them; the controller checks them again for objects stored before the rule existed): at most one run
 * start per second, whatever fires.
 */
export const tpDurationBounds = {
  minInterval: { min: '1s' },
  imagePullTimeout: { min: '10s' },
  pollInterval: { min: '10s' },
  driftReference: { min: '1h' },
  searchTimeBudget: { min: '1s' },
} as const;

// Cron fields as RE2 without backslashes (CEL string literals would need them doubled): value, range, step, list.
function cronField(value: string): string {
  const item = `([*]|(${value})(-(${value}))?)(/[0-9]{1,2})?`;
  return `${item}(,${item})*`;
}
const months = 'JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC';
const days = 'SUN|MON|TUE|WED|THU|FRI|SAT';
export const cronPattern = '^(@(yearly|annually|monthly|weekly|daily|hourly)|' + [
  cronField('[0-5]?[0-9]'),
  cronField('[01]?[0-9]|2[0-3]'),
  cronField('0?[1-9]|[12][0-9]|3[01]|[?]'),
  cronField(`0?[1-9]|1[0-2]|${months}`),
  cronField(`[0-7]|${days}|[?]`),
].join('[ ]+') + ')$';

const metric = (description: string) => s.enum(description, metricNames);
/** A CEL list literal of names, e.g. ['rmse', 'mae', 'r2']. */
const celList = (names: readonly string[]): string => `[${names.map((n) => `'${n}'`).join(', ')}]`;
/** Names for a message, e.g. "rmse, mae or r2". */
const wordList = (names: readonly string[]): string => `${names.slice(0, -1).join(', ')} or ${names.at(-1) ?? ''}`;

/** data.feedbackDuplicates, as the trainer config names them (trainer-config.ts maps them). */
export const feedbackDuplicatesPolicies = ['DropFeedbackCopy', 'KeepBoth'] as const;

const source = s.object('Objects in the store that hold training rows.', {
  bucket: s.string('Bucket holding the data; defaults to the operator\'s bucket.', { minLength: 3, maxLength: 63 }),
  prefix: s.string('Key prefix: every object under it is read (for example data/weather/).', { minLength: 1, maxLength: 1024 }),
  format: s.enum('How the objects are encoded.', ['csv', 'jsonl'] as const).default('csv'),
}, ['prefix']);

const feature = s.object('One input column of the model.', {
  name: s.string('Column name in the data.', { minLength: 1, maxLength: 128 }),
  type: s.enum('numeric: standardised; categorical: one-hot encoded with an "unknown" bucket.', ['numeric', 'categorical'] as const),
  categories: s.array('For categorical features: the allowed values. Rows with others fail validation unless validation.allowUnseenCategories.',
    s.string('A category.', { maxLength: 256 }), { maxItems: 256 }),
  min: s.number('For numeric features: the smallest valid value (validation).'),
  max: s.number('For numeric features: the largest valid value (validation).'),
}, ['name', 'type']).rule('!has(self.categories) || self.type == \'categorical\'', 'categories only apply to categorical features', { fieldPath: '.categories' })
  .rule('!(has(self.min) || has(self.max)) || self.type == \'numeric\'', 'min and max only apply to numeric features')
  .rule('!(has(self.min) && has(self.max)) || self.min <= self.max', 'min must not be greater than max');

const schema = s.object('The columns of the data: features, label and time.', {
  features: s.array('Input columns, in the order the model sees them.', feature,
    { minItems: 1, maxItems: 256, listType: 'map', mapKeys: ['name'] }),
  label: s.object('The column to predict.', {
    name: s.string('Column name of the label.', { minLength: 1, maxLength: 128 }),
    task: s.enum('classification: the label is a category; regression: a number.', ['classification', 'regression'] as const),
    classes: s.array('Classification: the fixed class list, in output order. Uploaded rows with another label fail validation, and servers refuse other labels as feedback. Unset: the classes of the uploaded data (a new class enters only through uploaded data, never through feedback).',
      s.string('A class.', { minLength: 1, maxLength: 256 }), { minItems: 2, maxItems: 1000 }),
    min: s.number('Regression: the smallest valid label. Servers refuse feedback below it and the trainer drops such fed-back rows.'),
    max: s.number('Regression: the largest valid label.'),
  }, ['name', 'task']).rule('!has(self.classes) || self.task == \'classification\'', 'classes only apply to classification', { fieldPath: '.classes' })
    .rule('!(has(self.min) || has(self.max)) || self.task == \'regression\'', 'min and max only apply to regression')
    .rule('!(has(self.min) && has(self.max)) || self.min <= self.max', 'label min must not be greater than max'),
  timestampColumn: s.string('Column holding each row\'s event time (ISO 8601 or epoch seconds); drives the window, the time-based holdout and the drift reference. Requests may carry it too: the server logs it and fed-back rows keep it.', { maxLength: 128 }),
  rowIdColumn: s.string('Column holding each row\'s id, in uploaded rows and in requests (the server logs it with the prediction, never feeds it to the model): how a fed-back row and the same row uploaded later are matched (data.feedbackDuplicates). A column of its own: not a feature, the label or the timestamp column.', { minLength: 1, maxLength: 128 }),
}, ['features', 'label']).rule('self.features.all(f, f.name != self.label.name)', 'the label column must not also be a feature', { fieldPath: '.label.name' })
  .rule('!has(self.timestampColumn) || self.features.all(f, f.name != self.timestampColumn)', 'the timestamp column must not also be a feature', { fieldPath: '.timestampColumn' })
  .rule('!has(self.rowIdColumn) || (self.rowIdColumn != self.label.name && (!has(self.timestampColumn) || self.rowIdColumn != self.timestampColumn) && self.features.all(f, f.name != self.rowIdColumn))',
    'the row id column must be a column of its own: not a feature, the label or the timestamp column', { fieldPath: '.rowIdColumn' });

const driftReference = s.object('Which rows the drift reference profile is built from (what live traffic is compared with), by event time, from every row of the run (uploaded and fed back). Unset: the newest year of event time (a year holds the daily, weekly and yearly cycles, so seasonal data does not drift against its own reference), extended to at least the newest 1000 rows when the year holds fewer and capped at the newest 100000; without a timestampColumn, the training rows.', {
  lastRows: s.integer('At most the newest N rows by event time, at least 10 (without a timestampColumn: the last N training rows).', { minimum: 10 }),
  duration: duration('The rows within this span of event time back from the newest row, at least 1h; needs schema.timestampColumn. With lastRows as well, both apply: at most the newest lastRows rows of the span.', tpDurationBounds.driftReference),
}).rule('has(self.lastRows) || has(self.duration)', 'set lastRows, duration or both');

const data = s.object('Where the training data comes from and what it looks like.', {
  sources: s.array('Object-store prefixes to read rows from.', source, { minItems: 1, maxItems: 16 }),
  schema,
  window: s.object('Which rows count as recent: the last N rows or the last span of time (by timestampColumn).', {
    lastRows: s.integer('Train on at most the newest N rows.', { minimum: 1 }),
    duration: duration('Train on rows newer than this, relative to the newest row.'),
  }).rule('!(has(self.lastRows) && has(self.duration))', 'set either lastRows or duration, not both'),
  replayFraction: s.number('Share (0-1) of rows older than the window mixed back in, so the model does not forget.', { minimum: 0, maximum: 1 }).default(d.replayFraction),
  feedbackFrom: objectName('A ModelDeployment in this namespace whose logged predictions, joined with their feedback labels, are added to the training data (never to the evaluation holdout).'),
  maxFeedbackShare: s.number('Largest share (0-1) of the training rows that may come from feedback; beyond it the newest fed-back rows are kept. Feedback comes from label senders, uploaded data from you: the cap bounds what labels alone can teach.', { minimum: 0, maximum: 1 }).default(d.maxFeedbackShare),
  feedbackDuplicates: s.enum('Rows that arrive both as feedback (feedbackFrom) and as uploaded data, such as a batch you scored and later upload with its labels. A fed-back row is the same as an uploaded one when their schema.rowIdColumn values are equal, or, without a rowIdColumn, when their event time (timestampColumn) and every feature value are equal. DropFeedbackCopy: train on the uploaded row only; KeepBoth: train on both (the row weighs twice). Either way a fed-back copy of a holdout row never trains (it would flatter the gates), uploaded rows repeating a row id count once (the last read), and the run\'s lineage counts what was dropped.', feedbackDuplicatesPolicies).default('DropFeedbackCopy'),
  driftReference,
}, ['sources', 'schema']).rule('!has(self.window) || !has(self.window.duration) || has(self.schema.timestampColumn)',
  'a window duration needs schema.timestampColumn', { fieldPath: '.window.duration' })
  .rule('!has(self.driftReference) || !has(self.driftReference.duration) || has(self.schema.timestampColumn)',
    'a driftReference duration needs schema.timestampColumn (event time); without one, set driftReference.lastRows', { fieldPath: '.driftReference.duration' });

const validation = s.object('Checks the data must pass before training; a failing run publishes nothing.', {
  minRows: s.integer(`Fewest rows a run must have to train (after the window; uploaded and fed back), default ${d.minRows}. Fewer: the run ends InvalidData saying how many rows there were and nothing is published. A small first period (the first upload of a new dataset) is refused this way: lower minRows or wait for more data; the newData trigger starts a run once more has arrived.`, { minimum: 1 }).default(d.minRows),
  maxMissingRate: s.number('Largest share (0-1) of missing values in any column.', { minimum: 0, maximum: 1 }).default(d.maxMissingRate),
  allowUnseenCategories: s.boolean('Accept categorical values outside a feature\'s categories (they map to "unknown").').default(false),
  minClassShare: s.number('Smallest share (0-1) of rows any label class may have (classification).', { minimum: 0, maximum: 1 }),
  maxSchemaDriftPsi: s.number('Largest PSI of any feature of the run\'s most recent rows against the champion\'s reference profile (the most recent rows of the run that trained it); above it the data is rejected as a schema or pipeline break: the run ends InvalidData, its validation report names each feature and its PSI, nothing is published and the champion keeps serving. Unset: not checked.', { minimum: 0 }),
});

const schedule = s.object('Run on a cron schedule.', {
  cron: s.string('Standard 5-field cron expression (minute hour day-of-month month day-of-week) or a macro such as @daily.', { minLength: 1, maxLength: 128 })
    .rule(`self.matches('${cronPattern}')`, 'must be a 5-field cron expression such as "0 3 * * *" or a macro such as @daily'),
  timeZone: s.string('IANA time zone of the schedule, such as Europe/Berlin; default UTC.', { maxLength: 64 }),
  startingDeadline: duration('A run that could not start this long after its scheduled time is skipped; one missed run is caught up after downtime.').default('1h'),
}, ['cron']);

const newData = s.object('Run when enough new data has arrived under the sources since the last run.', {
  minObjects: s.integer('New or changed objects needed.', { minimum: 1 }),
  minRows: s.integer('New rows needed (counted from the new objects).', { minimum: 1 }),
  pollInterval: duration('How often the sources are listed for new data (a bucket cannot be watched), at least 10s. Unset: the operator\'s setting (PERENNIAL_DATA_POLL_SECONDS, chart value dataPollSeconds, default 60s). A short interval costs a listing of the sources (and a read of each new object with minRows) per poll.', tpDurationBounds.pollInterval),
}).rule('has(self.minObjects) || has(self.minRows)', 'set minObjects or minRows');

/** How the drift trigger decides (triggers.drift.detector). */
export const driftDetectors = ['Sequential', 'Window'] as const;

const driftTrigger = s.object('Run when a ModelDeployment\'s live traffic has shifted away from its model\'s reference profile: `for` after the servers\' sequential detector has evidence enough (detector Sequential), or after a feature\'s PSI has stayed above psiThreshold for `for` (both detectors). docs/loop-semantics.md, "Drift detection".', {
  deployment: objectName('The ModelDeployment (same namespace) whose live drift is watched.'),
  detector: s.enum('Sequential (unset: Sequential): also run once the servers\' sequential test (a CUSUM per feature on the rows\' bins against the reference shares) has detected a shift at falseAlarmRate, without waiting for a PSI window to fill. Window: only the PSI of the servers\' drift window, as psiThreshold says.', driftDetectors),
  falseAlarmRate: s.number(`Sequential: false alarms per row served at most (a bound, Bonferroni-corrected over the features; stationary traffic stays well below it). Unset: ${defaultFalseAlarmRate}. Lower detects a little later: each factor of 10 costs ln 10 ≈ 2.3 nats of evidence, a few rows of a clear shift.`, { minimum: 1e-15, maximum: 1e-2 }),
  psiThreshold: s.number('Drift when any feature\'s PSI exceeds this (0.1 moderate, 0.25 major) for `for`, whatever the detector; also the magnitude a Sequential detection reports.', { minimum: 0 }).default(0.25),
  for: duration('How long the drift must persist before a run starts: PSI above psiThreshold, or a Sequential detection (which persists). After a detection it is the time the shifted traffic gets to reach the store before the retrain, whose drift reference is its newest rows: retrained seconds after a shift, the new model is profiled on pre-shift rows and drifts at once.').default('10m'),
}, ['deployment']);

const performanceTrigger = s.object('Run when a ModelDeployment\'s live quality from feedback labels (or, with estimatedAccuracy, estimated from the model\'s own confidence without labels) falls below a threshold.', {
  deployment: objectName('The ModelDeployment (same namespace) whose live metrics are watched.'),
  metric: s.enum('The live metric to watch: accuracy, logLoss or rmse from feedback labels; or estimatedAccuracy (classification), the accuracy the model expects of itself on its recent traffic from its calibrated probabilities, which needs no labels (it follows shifts within the training data, not concept drift nor inputs outside it: docs/loop-semantics.md).', liveMetricNames).default('accuracy'),
  threshold: s.number('For accuracy and estimatedAccuracy: run when below it; for logLoss and rmse: run when above it.'),
  minSamples: s.integer('Labels the live metric must rest on (the deployment\'s status.liveMetrics.labelledSamples; for estimatedAccuracy the predictions behind it, estimatedSamples) before it counts. A measurement on fewer labels (batch traffic between batches, a quiet night) neither starts nor stops the `for` timer. Keep it at most the labels the ModelDeployment accumulates its live metrics over, or the trigger never sees enough (docs/training-pipeline-controller.md, "Batch traffic and the performance trigger").', { minimum: 1 }).default(100),
  for: duration('How long the metric must stay on the wrong side before a run starts: from the first measurement with at least minSamples labels on the wrong side, as long as no such measurement was on the right side since. It does not depend on the ModelDeployment\'s analysis interval: measurements with too few labels in between do not reset it, so batches hours apart can fire it.').default('10m'),
}, ['deployment', 'threshold']);

const triggers = s.object('What starts a training run. Any trigger may fire; a run can also be started by the annotation perennial.dev/trigger.', {
  schedule,
  newData,
  drift: driftTrigger,
  performance: performanceTrigger,
  minInterval: duration('Least time between the starts of two runs, whatever fires; at least 1s.', tpDurationBounds.minInterval).default('10m'),
  concurrencyPolicy: s.enum('When a trigger fires during a run: Forbid waits for it to end; Replace stops it and starts anew.', ['Forbid', 'Replace'] as const).default('Forbid'),
});

const gpu = s.object('GPUs for the training pod.', {
  count: s.integer('GPUs per training pod.'),
  resourceName: s.string('Extended resource name of the GPU.', { maxLength: 253 }).default('nvidia.com/gpu'),
}, ['count']).rule('self.count > 0', 'gpu.count must be greater than 0; leave gpu unset to train on CPU', { fieldPath: '.count' });

const trees = s.object('Settings of the tree families (GradientBoosting, RandomForest). Unset fields take the family\'s defaults for the run\'s row count, which the run\'s lineage records.', {
  count: s.integer('Trees (RandomForest), or the most boosting rounds (GradientBoosting, which stops early when the validation loss stops improving).', { minimum: 1, maximum: 5000 }),
  maxDepth: s.integer('Deepest a tree may grow.', { minimum: 1, maximum: 32 }),
  learningRate: s.number('Shrinkage of each boosting round (GradientBoosting).', { minimum: 0, maximum: 1 }).rule('self > 0.0', 'trees.learningRate must be greater than 0'),
  minRowsPerLeaf: s.integer('Fewest training rows a leaf may hold.', { minimum: 1 }),
  maxBins: s.integer('Histogram bins per input: the split candidates.', { minimum: 2, maximum: 255 }),
  rowSubsample: s.number('Share of the rows each tree sees (RandomForest: a bootstrap sample of this size).', { minimum: 0, maximum: 1 }).rule('self > 0.0', 'trees.rowSubsample must be greater than 0'),
  featureSubsample: s.number('Share of the inputs considered at each split.', { minimum: 0, maximum: 1 }).rule('self > 0.0', 'trees.featureSubsample must be greater than 0'),
  l2: s.number('L2 penalty on leaf values (GradientBoosting).', { minimum: 0 }),
  earlyStoppingRounds: s.integer('Boosting rounds without improvement on the validation split before stopping (GradientBoosting; 0 never stops early).', { minimum: 0 }),
});

export const modelTypes = ['MLP', 'GradientBoosting', 'RandomForest'] as const;

const model = s.object('The model to train.', {
  type: s.enum('Model family. MLP: a multi-layer perceptron (hiddenUnits, activation, dropout). GradientBoosting: boosted decision trees on histograms of the inputs. RandomForest: bagged decision trees. The trees take the settings under trees.', modelTypes).default('MLP'),
  hiddenUnits: s.array('Units per hidden layer (MLP).', s.integer('Units in this layer.', { minimum: 1, maximum: 4096 }), { maxItems: 8 }).default([...d.hiddenUnits]),
  activation: s.enum('Activation of the hidden layers (MLP).', ['relu', 'tanh', 'sigmoid', 'elu'] as const).default(d.activation),
  dropout: s.number('Dropout rate after each hidden layer (MLP; 0 disables).', { minimum: 0, maximum: 0.9 }).default(d.dropout),
  trees,
  calibration: s.enum('Classification: Temperature rescales the probabilities, fitted on the validation split after training, so that a 0.8 is right about 80% of the time (it never changes the predicted class); the servers apply it. None: the model\'s own probabilities.', ['Temperature', 'None'] as const).default('Temperature'),
});

export const searchParameterNamesCrd = ['learningRate', 'batchSize', 'hiddenUnits', 'dropout', 'l2', 'treeCount', 'maxDepth', 'minRowsPerLeaf', 'rowSubsample', 'featureSubsample'] as const;

const searchParameter = s.object('One parameter to vary: a range (min and max) or a list of values.', {
  name: s.enum('The parameter. MLP: learningRate, batchSize, hiddenUnits, dropout, l2. GradientBoosting: learningRate, l2, treeCount, maxDepth, minRowsPerLeaf, rowSubsample, featureSubsample. RandomForest: treeCount, maxDepth, minRowsPerLeaf, rowSubsample, featureSubsample.', searchParameterNamesCrd),
  min: s.number('Lowest value of the range (integer parameters are rounded).'),
  max: s.number('Highest value of the range.'),
  scale: s.enum('How the range is sampled: Linear, or Log (even on a log scale; needs min > 0).', ['Linear', 'Log'] as const).default('Linear'),
  values: s.array('Values to choose from, as text (hiddenUnits: "64,32" is two layers).', s.string('One value.', { maxLength: 64 }), { maxItems: 32 }),
}, ['name']).rule('has(self.values) ? !has(self.min) && !has(self.max) : has(self.min) && has(self.max)', 'give either min and max, or values')
  .rule('!(has(self.min) && has(self.max)) || self.min <= self.max', 'min must not be greater than max')
  .rule('self.scale != \'Log\' || !has(self.min) || self.min > 0.0', 'a Log scale needs min > 0')
  .rule('self.name != \'hiddenUnits\' || has(self.values)', 'hiddenUnits takes values such as "64,32", not a range');

const search = s.object('Hyperparameter search inside each run: up to `trials` settings (the spec\'s own first, then random draws), each trained on the training rows and judged on the validation split (never the holdout); the best is trained again as the run\'s candidate and gated as usual. Every trial\'s parameters and score go to the run\'s lineage.', {
  trials: s.integer('Settings tried, the spec\'s own included.', { minimum: 1, maximum: 500 }),
  timeBudget: duration('Stop starting trials after this long, at least 1s (the trials done count); unset: no limit but activeDeadlineSeconds.', tpDurationBounds.searchTimeBudget),
  parameters: s.array('The search space.', searchParameter, { minItems: 1, maxItems: 16 }),
}, ['trials', 'parameters']);

const hyperparameters = s.object('Training hyperparameters.', {
  epochs: s.integer('Most passes over the training data.', { minimum: 1, maximum: 10000 }).default(d.epochs),
  batchSize: s.integer('Rows per gradient step.', { minimum: 1, maximum: 65536 }).default(d.batchSize),
  learningRate: s.number('Adam learning rate.', { minimum: 0 }).rule('self > 0.0', 'learningRate must be greater than 0').default(d.learningRate),
  earlyStoppingPatience: s.integer('Stop after this many epochs without improvement on the validation split (0 disables).', { minimum: 0 }).default(d.patience),
  validationSplit: s.number('Share of the training rows held back for early stopping.', { minimum: 0, maximum: 0.5 }).default(d.validationFraction),
});

const trainer = s.object('The training Job: image, resources, placement and the model to train.', {
  image: s.string('The trainer image (perennial-trainer, or your own that honours the pod contract).', { minLength: 1, maxLength: 512 }),
  resources,
  gpu,
  nodeSelector,
  tolerations,
  priorityClassName: s.string('PriorityClass of the training pods.', { maxLength: 253 }),
  queueName: s.string('Kueue LocalQueue to submit the Job to; the Job is created suspended and Kueue admits it.', { maxLength: 63 }),
  model,
  hyperparameters,
  search,
  seed: s.integer('Random seed: the same seed, data and backend give the same model.', { minimum: 0 }).default(d.seed),
  warmStart: s.enum('Champion: start from the champion\'s weights (incremental); Scratch: start from random weights.', ['Champion', 'Scratch'] as const).default('Scratch'),
  activeDeadlineSeconds: s.integer('Longest a run may take before it is stopped.', { minimum: 1 }).default(3600),
  imagePullTimeout: duration('How long the training pod may fail to get its image (ErrImagePull, ImagePullBackOff, ErrImageNeverPull) before the run ends Failed, at least 10s; the champion keeps serving and the next trigger starts a new run. An invalid image name ends the run at once.', tpDurationBounds.imagePullTimeout).default('5m'),
  backoffLimit: s.integer('Retries of a failed training pod (invalid data is never retried).', { minimum: 0, maximum: 20 }).default(2),
}, ['image'])
  .rule('!has(self.search) || (has(self.model) && self.model.type != \'MLP\') || self.search.parameters.all(p, p.name in [\'learningRate\', \'batchSize\', \'hiddenUnits\', \'dropout\', \'l2\'])', 'search.parameters: model type MLP can vary learningRate, batchSize, hiddenUnits, dropout and l2', { fieldPath: '.search.parameters' })
  .rule('!has(self.search) || !has(self.model) || self.model.type != \'GradientBoosting\' || self.search.parameters.all(p, !(p.name in [\'batchSize\', \'hiddenUnits\', \'dropout\']))', 'search.parameters: model type GradientBoosting can vary learningRate, l2, treeCount, maxDepth, minRowsPerLeaf, rowSubsample and featureSubsample', { fieldPath: '.search.parameters' })
  .rule('!has(self.search) || !has(self.model) || self.model.type != \'RandomForest\' || self.search.parameters.all(p, !(p.name in [\'learningRate\', \'l2\', \'batchSize\', \'hiddenUnits\', \'dropout\']))', 'search.parameters: model type RandomForest can vary treeCount, maxDepth, minRowsPerLeaf, rowSubsample and featureSubsample', { fieldPath: '.search.parameters' });

const threshold = s.object('An absolute bound on a holdout metric.', {
  metric: metric('The metric.'),
  min: s.number('The metric must be at least this.'),
  max: s.number('The metric must be at most this.'),
}, ['metric']).rule('has(self.min) || has(self.max)', 'set min, max or both');

const evaluation = s.object('How a candidate is judged before it may become the champion.', {
  holdout: s.object('The rows held out for evaluation: the newest by timestampColumn (or the last rows read).', {
    fraction: s.number('Share of the newest rows held out.', { minimum: 0.01, maximum: 0.9 }).default(d.holdoutFraction),
    from: s.string('Instead of a fraction: every row at or after this time (ISO 8601) is held out.', { maxLength: 64 }),
  }),
  primaryMetric: metric('The metric that ranks candidates; default accuracy for classification, rmse for regression.'),
  thresholds: s.array('Absolute minimums or maximums the candidate must meet.', threshold, { maxItems: 16 }),
  maxRegression: s.number('The candidate may be worse than the champion on the same holdout by at most this much of the primary metric.', { minimum: 0 }).default(0.01),
  forgetting: s.object('No forgetting: the candidate is also evaluated on an older slice of data.', {
    from: s.string('Start (ISO 8601) of the historical slice.', { maxLength: 64 }),
    to: s.string('End (ISO 8601, exclusive) of the historical slice.', { maxLength: 64 }),
    maxDrop: s.number('Largest drop of the primary metric on the historical slice versus the champion.', { minimum: 0 }).default(0.05),
  }, ['from', 'to']),
  slices: s.object('Fairness across slices: metrics per value of a categorical column.', {
    column: s.string('The column to slice by.', { minLength: 1, maxLength: 128 }),
    maxGap: s.number('Largest gap of the primary metric between the best and the worst slice.', { minimum: 0 }),
  }, ['column']),
  minImprovementOverBaseline: s.number('Beat the baseline by at least this much on the primary metric: the majority class for classification, the mean of the training labels for regression, measured by the trainer on the same holdout (accuracy 0.05: five points above always predicting the most frequent class; rmse 0.5: an RMSE at least 0.5 below the mean predictor\'s). A floor that follows the dataset, instead of guessing an absolute threshold. Unset: not checked.', { minimum: 0 }),
  refit: s.boolean('After the gates pass, train the served model again on every row, the holdout included, for as many epochs as the gated model needed: the newest rows, held out for judging, are then learnt too. The gates judge the model trained without the holdout; the run\'s lineage names both. Off: the gated model is served.').default(false),
});

const retention = s.object('How long model versions are kept in the store.', {
  keepVersions: s.integer('Versions kept; older ones are deleted. The champion and versions being served are always kept.', { minimum: 1, maximum: 1000 }).default(10),
  onDelete: s.enum('When the pipeline is deleted: Retain keeps its versions in the store, Delete removes them.', ['Retain', 'Delete'] as const).default('Retain'),
});

const storage = s.object('Where this pipeline keeps models (under pipelines/<namespace>/<name>/ in the bucket); defaults come from the operator\'s configuration.', {
  bucket: s.string('Bucket for models and run artifacts.', { minLength: 3, maxLength: 63 }),
  credentialsSecret: objectName('A Secret in this namespace with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for the store, instead of the operator\'s.'),
});

const mlflow = s.object('Export every run to an MLflow tracking server (as an MLflow run: the trainer settings as parameters, metrics per epoch and final, the validation report, lineage and a link to the version in the store) and register every blessed version as a version of the registered model <namespace>-<name>, with the alias `champion` on the champion (moved back on a rollback). The operator exports after a run ends, through MLflow\'s REST API; while MLflow is away the export waits and is retried (condition MLflowSynced), and training and promotion go on.', {
  trackingURI: s.string('The tracking server\'s base URL, http(s)://host[:port][/path].', { pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?$', maxLength: 512 }),
  experiment: s.string('The experiment the runs go to (created if missing). Unset: perennial/<namespace>/<name>.', { minLength: 1, maxLength: 500 }),
  secretName: objectName('A Secret in this namespace with `token` (sent as a bearer token, as MLFLOW_TRACKING_TOKEN) or `username` and `password` (basic authentication, as MLFLOW_TRACKING_USERNAME/PASSWORD). Unset: no authentication.'),
}, ['trackingURI']);

const integrations = s.object('Systems outside Perennial this pipeline reports to.', {
  mlflow,
});

export const trainingPipelineSpecSchema = s.object('What to train, when, and how to judge it.', {
  data,
  validation: validation.default({ minRows: d.minRows, maxMissingRate: d.maxMissingRate, allowUnseenCategories: false }),
  triggers: triggers.default({ minInterval: '10m', concurrencyPolicy: 'Forbid' }),
  trainer,
  evaluation: evaluation.default({ maxRegression: 0.01, refit: false }),
  retention: retention.default({ keepVersions: 10, onDelete: 'Retain' }),
  storage,
  integrations,
  suspend: s.boolean('Stop starting new runs (a running one finishes).').default(false),
  historyLimit: s.integer('How many past runs status keeps.', { minimum: 1, maximum: 20 }).default(10),
}, ['data', 'trainer']).rule(
  '!has(self.evaluation.slices) || self.data.schema.features.exists(f, f.name == self.evaluation.slices.column && f.type == \'categorical\')',
  'evaluation.slices.column must name a categorical feature', { fieldPath: '.evaluation.slices.column' },
).rule(
  `!has(self.evaluation.thresholds) || self.data.schema.label.task == 'regression' || self.evaluation.thresholds.all(t, t.metric in ${celList(classificationMetrics)})`,
  `classification pipelines can gate on ${wordList(classificationMetrics)} only`, { fieldPath: '.evaluation.thresholds' },
).rule(
  `!has(self.evaluation.thresholds) || self.data.schema.label.task == 'classification' || self.evaluation.thresholds.all(t, t.metric in ${celList(regressionMetrics)})`,
  `regression pipelines can gate on ${wordList(regressionMetrics)} only`, { fieldPath: '.evaluation.thresholds' },
);

export const runOutcomes = ['Running', 'Blessed', 'Rejected', 'Failed', 'InvalidData'] as const;
export const triggerKinds = ['Schedule', 'NewData', 'Drift', 'Performance', 'Manual', 'Initial'] as const;

const gateVerdict = s.object('The verdict of one evaluation gate.', {
  name: s.string('The gate (threshold:accuracy, champion, forgetting, slices, ...).', { maxLength: 128 }),
  passed: s.boolean('Whether the candidate passed it.'),
  message: s.string('Measured values and the bound.', { maxLength: 1024 }),
}, ['name', 'passed']);

const run = s.object('One training run.', {
  name: s.string('Run name; also the name of its Job.', { maxLength: 63 }),
  version: s.string('The model version this run publishes.', { maxLength: 63 }),
  trigger: s.enum('What started the run.', triggerKinds),
  reason: s.string('Why the trigger fired, in words.', { maxLength: 1024 }),
  startTime: s.string('When the run started.', { format: 'date-time' }),
  completionTime: s.string('When the run ended.', { format: 'date-time' }),
  outcome: s.enum('Running, or how the run ended.', runOutcomes),
  message: s.string('Details of the outcome.', { maxLength: 4096 }),
  metrics: s.map('Holdout metrics of the candidate.', s.number('A metric value.')),
  championMetrics: s.map('Holdout metrics of the champion on the same holdout.', s.number('A metric value.')),
  gates: s.array('Verdicts of the evaluation gates.', gateVerdict, { maxItems: 32 }),
}, ['name', 'trigger', 'startTime', 'outcome']);

function dataWatermark(description: string) {
  return s.object(description, {
    objects: s.integer('Objects under the sources then.', { minimum: 0 }),
    digest: s.string('Digest of the object keys and ETags then.', { maxLength: 128 }),
    newestObjectTime: s.string('Last-modified time of the newest object then; objects written later are new data.', { format: 'date-time' }),
  });
}

const demotion = s.object('A champion production rolled back, and what became champion instead.', {
  version: s.string('The demoted version.', { maxLength: 63 }),
  to: s.string('The version that became champion: the one the deployment serves as stable (or an earlier blessed one).', { maxLength: 63 }),
  deployment: s.string('The ModelDeployment that rolled it back.', { maxLength: 253 }),
  time: s.string('When the pipeline demoted it.', { format: 'date-time' }),
  reason: s.string('Why the deployment aborted it (its status.abortedMessage).', { maxLength: 2048 }),
}, ['version', 'to', 'deployment', 'time']);

const mlflowRegistered = s.object('A version registered in MLflow.', {
  version: s.string('The Perennial version.', { maxLength: 63 }),
  modelVersion: s.string('Its version number in the registered model.', { maxLength: 32 }),
}, ['version', 'modelVersion']);

const mlflowStatus = s.object('What has been exported to MLflow (spec.integrations.mlflow).', {
  experimentId: s.string('The experiment the runs went to.', { maxLength: 64 }),
  exportedRuns: s.array('Runs exported, newest first (the runs status keeps).', s.string('A run name.', { maxLength: 63 }), { maxItems: 40 }),
  registeredVersions: s.array('Blessed versions registered, newest first.', mlflowRegistered, { maxItems: 40 }),
  champion: s.string('The version the `champion` alias points to.', { maxLength: 63 }),
  failures: s.integer('Exports failed in a row (the wait before the next grows with it).', { minimum: 0 }),
  lastError: s.string('Why the last export failed, if the last one did.', { maxLength: 1024 }),
  lastErrorTime: s.string('When it failed.', { format: 'date-time' }),
});

export const trainingPipelineStatusSchema = s.object('The observed state of the pipeline.', {
  observedGeneration: s.integer('The metadata.generation this status describes.', { minimum: 0 }),
  phase: s.enum('Summary: Idle (waiting for a trigger), Running, Suspended or Failed (the spec cannot be acted on).', ['Idle', 'Running', 'Suspended', 'Failed'] as const),
  conditions,
  currentRun: s.string('The run in progress, if any.', { maxLength: 63 }),
  runs: s.array('The latest runs, newest first.', run, { maxItems: 20 }),
  runCount: s.integer('Runs started so far; numbers the next run.', { minimum: 0 }),
  latestVersion: s.string('The newest version a run published (blessed or not).', { maxLength: 63 }),
  championVersion: s.string('The latest blessed version: what a ModelDeployment following this pipeline serves.', { maxLength: 63 }),
  championMetrics: s.map('Holdout metrics of the champion when it was blessed.', s.number('A metric value.')),
  demotions: s.array('Champions demoted because a ModelDeployment following this pipeline rolled them back (aborted them), newest first: the champion went back to what production serves as stable.', demotion, { maxItems: 10 }),
  lastChampionPin: s.string('The perennial.dev/champion annotation value in force or last refused (an annotation naming a version that was never published is refused once, with a Warning event).', { maxLength: 63 }),
  storedVersions: s.array('The versions (v<n>) in the store after the last retention pass, oldest first: those that exist (what kubectl perennial versions lists).', s.string('A version.', { maxLength: 63 }), { maxItems: 2000 }),
  modelPrefix: s.string('Where this pipeline\'s versions live: s3://bucket/prefix.', { maxLength: 1100 }),
  lastScheduleTime: s.string('The last scheduled time a run was started for.', { format: 'date-time' }),
  nextScheduleTime: s.string('The next scheduled run.', { format: 'date-time' }),
  lastTriggerTime: s.string('When the last run was started, whatever started it.', { format: 'date-time' }),
  lastManualTrigger: s.string('The value of the perennial.dev/trigger annotation last acted on.', { maxLength: 256 }),
  dataWatermark: dataWatermark('The data under the sources when the run in progress, or the last run that trained, started (a baseline before the first run): the newData trigger counts objects written later as new data.'),
  trainedDataWatermark: dataWatermark('dataWatermark as it was when the last run that trained on its data started (it published a version, or refused the data as invalid). A run that ends without training (Failed, replaced) sets dataWatermark back to it, so its rows count again as new data.'),
  driftSince: s.string('When the watched deployment\'s drift was first seen above the threshold (cleared when it falls below or a run starts).', { format: 'date-time' }),
  performanceSince: s.string('When the watched deployment\'s live metric was first seen on the wrong side of the threshold (cleared when it recovers or a run starts).', { format: 'date-time' }),
  message: s.string('A sentence on the current state.', { maxLength: 4096 }),
  mlflow: mlflowStatus,
});

export type TrainingPipelineSpec = Infer<typeof trainingPipelineSpecSchema>;
export type TrainingPipelineStatus = Infer<typeof trainingPipelineStatusSchema>;
export type TrainingRun = Infer<typeof run>;
export type Demotion = Infer<typeof demotion>;
export type MlflowStatus = Infer<typeof mlflowStatus>;
export type MlflowSpec = Infer<typeof mlflow>;
export type RunOutcome = (typeof runOutcomes)[number];
export type TriggerKind = (typeof triggerKinds)[number];

export interface TrainingPipeline {
  apiVersion: typeof apiVersion;
  kind: typeof trainingPipelineKind;
  metadata: ObjectMeta;
  spec: TrainingPipelineSpec;
  status?: TrainingPipelineStatus;
}
