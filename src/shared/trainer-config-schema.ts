// The trainer config as JSON Schema (draft 2020-12), for trainers written in other languages and for editors.
// docs/contracts/trainer-config.schema.json is this object, checked by trainer-config-schema.test.ts, which
// also walks a config using every field through both this schema and parseTrainerConfig so the two agree.
import { trainerConfigApiVersion } from './trainer-config.js';

type Schema = Readonly<Record<string, unknown>>;

const str: Schema = { type: 'string', minLength: 1 };
const name: Schema = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' };
const time: Schema = { type: 'string', description: 'ISO-8601 date or date-time' };
const fraction: Schema = { type: 'number', minimum: 0, maximum: 1 };
const severity: Schema = { enum: ['error', 'warning', 'off'] };
const metric: Schema = { enum: ['accuracy', 'macroF1', 'rocAuc', 'logLoss', 'rmse', 'mae', 'r2'] };

function object(properties: Record<string, Schema>, required: readonly string[] = []): Schema {
  return { type: 'object', additionalProperties: false, properties, ...(required.length > 0 ? { required } : {}) };
}

function map(values: Schema): Schema {
  return { type: 'object', additionalProperties: values };
}

export const trainerConfigJsonSchema: Schema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://perennial.dev/schemas/trainer-config-v1.json',
  title: 'Perennial trainer config',
  description: 'One JSON document handed to the training Job (PERENNIAL_TRAINER_CONFIG or PERENNIAL_TRAINER_CONFIG_FILE). Semantic rules beyond this schema (e.g. a slice column must be a categorical feature) are listed in docs/contracts/README.md.',
  ...object({
    apiVersion: { const: trainerConfigApiVersion },
    pipeline: object({ namespace: name, name }, ['name']),
    runId: name,
    version: name,
    outputBucket: str,
    data: object({
      sources: { type: 'array', minItems: 1, items: object({ bucket: str, prefix: str, format: { enum: ['csv', 'jsonl'] } }, ['prefix', 'format']) },
      where: object({ column: str, in: { type: 'array', minItems: 1, items: str } }, ['column', 'in']),
      window: object({ lastRows: { type: 'integer', minimum: 1 }, lastDays: { type: 'number', minimum: 0 } }),
      replayFraction: fraction,
      feedback: object({ bucket: str, predictionsPrefix: str, feedbackPrefix: str, modelVersion: str, maxShare: { ...fraction, default: 0.5 } }, ['predictionsPrefix', 'feedbackPrefix']),
    }, ['sources']),
    schema: object({
      features: { type: 'array', minItems: 1, items: object({ name: str, type: { enum: ['numeric', 'categorical', 'date'] } }, ['name', 'type']) },
      label: str,
      task: { enum: ['classification', 'regression'] },
      classes: { type: 'array', minItems: 2, uniqueItems: true, items: str },
      labelRange: object({ min: { type: 'number' }, max: { type: 'number' } }),
      timestamp: str,
    }, ['features', 'label', 'task']),
    validation: object({
      minRows: { type: 'integer', minimum: 1, default: 50 },
      maxMissingRate: { ...fraction, default: 0.2 },
      maxMissingRateByColumn: map(fraction),
      ranges: map(object({ min: { type: 'number' }, max: { type: 'number' } })),
      allowedCategories: map({ type: 'array', minItems: 1, items: str }),
      unseenCategories: { ...severity, default: 'error' },
      minClassShare: { type: 'number', minimum: 0, maximum: 0.5, default: 0 },
      schemaDrift: { ...severity, default: 'error' },
      maxLineBytes: { type: 'integer', minimum: 64, default: 1048576 },
      maxExampleRows: { type: 'integer', minimum: 1, default: 20 },
    }),
    model: object({
      type: { const: 'mlp' },
      hiddenUnits: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 4096 }, default: [32, 16] },
      activation: { enum: ['relu', 'tanh', 'sigmoid', 'elu', 'selu'], default: 'relu' },
      dropout: { type: 'number', minimum: 0, maximum: 0.9, default: 0 },
      l2: { type: 'number', minimum: 0, default: 0 },
    }),
    hyperparameters: object({
      epochs: { type: 'integer', minimum: 1, maximum: 10000, default: 50 },
      batchSize: { type: 'integer', minimum: 1, maximum: 65536, default: 32 },
      learningRate: { type: 'number', exclusiveMinimum: 0, maximum: 10, default: 0.001 },
      patience: { type: 'integer', minimum: 0, default: 5 },
      validationFraction: { type: 'number', minimum: 0, maximum: 0.5, default: 0.1 },
    }),
    seed: { type: 'integer', minimum: 0, maximum: 2147483647, default: 42 },
    warmStart: { enum: ['champion', 'scratch'], default: 'scratch' },
    championVersion: name,
    evaluation: object({
      holdout: { ...object({ lastFraction: { type: 'number', minimum: 0.01, maximum: 0.9 }, from: time }), maxProperties: 1, default: { lastFraction: 0.2 } },
      metrics: { type: 'array', minItems: 1, items: metric },
      primaryMetric: metric,
      sliceColumn: str,
      minSliceRows: { type: 'integer', minimum: 1, default: 30 },
      historicalSlice: object({ from: time, to: time }, ['to']),
      gates: object({
        thresholds: { type: 'object', additionalProperties: false, properties: Object.fromEntries(['accuracy', 'macroF1', 'rocAuc', 'logLoss', 'rmse', 'mae', 'r2'].map((m) => [m, { type: 'number' }])) },
        maxDegradationVsChampion: { type: 'number', minimum: 0 },
        maxForgetting: { type: 'number', minimum: 0 },
        maxSliceGap: { type: 'number', minimum: 0 },
      }),
    }),
  }, ['apiVersion', 'pipeline', 'runId', 'version', 'data', 'schema']),
};
