// A TrainingPipeline and a hand-written trainer config get the same defaults: each field the CRD defaults is
// compared with what the trainer's parser fills into a minimal config (the operator sends every value
// explicitly, but a config written by hand must train the same model as a pipeline that leaves them out).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrainerConfig, trainerConfigApiVersion, type TrainerConfig } from '../shared/trainer-config.js';
import type { JsonSchema } from './schema.js';
import { trainingPipelineSpecSchema } from './training-pipeline.js';

const minimal = parseTrainerConfig(JSON.stringify({
  apiVersion: trainerConfigApiVersion,
  pipeline: { name: 'p' },
  runId: 'r1',
  version: 'v1',
  data: { sources: [{ prefix: 'data/', format: 'csv' }], feedback: { predictionsPrefix: 'p/', feedbackPrefix: 'f/' } },
  schema: { features: [{ name: 'x', type: 'numeric' }], label: 'y', task: 'classification' },
}));

function crdDefault(path: string): unknown {
  let schema: JsonSchema | undefined = trainingPipelineSpecSchema.json;
  for (const name of path.split('.')) schema = schema?.properties?.[name];
  assert.ok(schema && 'default' in schema, `spec.${path} has a default in the CRD`);
  return schema.default;
}

describe('defaults of the CRD and the trainer config', () => {
  const table: [string, (c: TrainerConfig) => unknown][] = [
    ['trainer.model.hiddenUnits', (c) => c.model.hiddenUnits],
    ['trainer.model.activation', (c) => c.model.activation],
    ['trainer.model.dropout', (c) => c.model.dropout],
    ['trainer.hyperparameters.epochs', (c) => c.hyperparameters.epochs],
    ['trainer.hyperparameters.batchSize', (c) => c.hyperparameters.batchSize],
    ['trainer.hyperparameters.learningRate', (c) => c.hyperparameters.learningRate],
    ['trainer.hyperparameters.earlyStoppingPatience', (c) => c.hyperparameters.patience],
    ['trainer.hyperparameters.validationSplit', (c) => c.hyperparameters.validationFraction],
    ['trainer.seed', (c) => c.seed],
    ['validation.minRows', (c) => c.validation.minRows],
    ['validation.maxMissingRate', (c) => c.validation.maxMissingRate],
    ['data.replayFraction', (c) => c.data.replayFraction],
    ['data.maxFeedbackShare', (c) => c.data.feedback?.maxShare],
    ['evaluation.holdout.fraction', (c) => (c.evaluation.holdout.kind === 'lastFraction' ? c.evaluation.holdout.fraction : undefined)],
  ];
  for (const [path, trainer] of table) {
    it(`spec.${path}`, () => assert.deepEqual(trainer(minimal), crdDefault(path)));
  }

  it('spec.validation as a whole defaults to the same values as its fields', () => {
    const whole = crdDefault('validation') as Record<string, unknown>;
    assert.deepEqual([whole['minRows'], whole['maxMissingRate']], [minimal.validation.minRows, minimal.validation.maxMissingRate]);
  });

  it('the primary metric: accuracy for classification, as the CRD documents', () => {
    assert.equal(minimal.evaluation.primaryMetric, 'accuracy');
    assert.match(trainingPipelineSpecSchema.json.properties?.['evaluation']?.properties?.['primaryMetric']?.description ?? '', /default accuracy for classification, rmse for regression/);
  });
});
