import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aPipeline } from '../../../api/testing/builders.js';
import type { TrainingPipelineSpec } from '../../../api/training-pipeline.js';
import { checkTrainingPipelineSpec } from './spec-checks.js';

/** The shared builder's pipeline with a categorical feature and a time column (rules about both). */
function spec(edit: (s: TrainingPipelineSpec) => void = () => undefined): TrainingPipelineSpec {
  const tp = aPipeline('weather')
    .readingFrom({ prefix: 'data/', format: 'csv' })
    .withSchema({ features: [{ name: 'x', type: 'numeric' }, { name: 'city', type: 'categorical' }], label: { name: 'y', task: 'classification' }, timestampColumn: 'date' })
    .build();
  edit(tp.spec);
  return tp.spec;
}

describe('checkTrainingPipelineSpec', () => {
  const table: Array<[string, (s: TrainingPipelineSpec) => void, RegExp | undefined]> = [
    ['a valid spec has no problems', () => undefined, undefined],
    ['a schedule in a real time zone is fine', (s) => { s.triggers.schedule = { cron: '0 3 * * 1', timeZone: 'Europe/Berlin', startingDeadline: '1h' }; }, undefined],
    ['an unknown time zone is named', (s) => { s.triggers.schedule = { cron: '0 3 * * 1', timeZone: 'Mars/Olympus', startingDeadline: '1h' }; }, /timeZone: "Mars\/Olympus" is not an IANA time zone/],
    ['February 30th never comes', (s) => { s.triggers.schedule = { cron: '0 0 30 2 *', startingDeadline: '1h' }; }, /cron: "0 0 30 2 \*" never matches a real time/],
    ['a holdout start that is not a time', (s) => { s.evaluation.holdout = { fraction: 0.2, from: 'last year' }; }, /holdout.from: "last year" is not an ISO 8601 time/],
    ['a holdout start without a timestamp column', (s) => { s.evaluation.holdout = { fraction: 0.2, from: '2015-01-01' }; delete s.data.schema.timestampColumn; }, /holdout.from needs spec.data.schema.timestampColumn/],
    ['a forgetting slice that ends before it starts', (s) => { s.evaluation.forgetting = { from: '2014-01-01', to: '2013-01-01', maxDrop: 0.05 }; }, /forgetting: from must be before to/],
    ['a regression metric ranking a classifier', (s) => { s.evaluation.primaryMetric = 'rmse'; }, /primaryMetric: rmse does not apply to a classification task/],
    ['a classification metric ranking a regressor', (s) => { s.data.schema.label.task = 'regression'; s.evaluation.primaryMetric = 'accuracy'; }, /primaryMetric: accuracy does not apply to a regression task/],
    ['a minInterval of one second is fine', (s) => { s.triggers.minInterval = '1s'; }, undefined],
    ['a minInterval below a second (stored before the CRD refused it)', (s) => { s.triggers.minInterval = '1ms'; }, /^spec\.triggers\.minInterval: 1ms must be at least 1s$/],
    ['an image pull timeout of 20s is fine', (s) => { s.trainer.imagePullTimeout = '20s'; }, undefined],
    ['an image pull timeout below 10s', (s) => { s.trainer.imagePullTimeout = '1s'; }, /^spec\.trainer\.imagePullTimeout: 1s must be at least 10s$/],
    ['a data poll interval of 10s is fine', (s) => { s.triggers.newData = { minObjects: 1, pollInterval: '10s' }; }, undefined],
    ['a data poll interval below 10s', (s) => { s.triggers.newData = { minObjects: 1, pollInterval: '2s' }; }, /^spec\.triggers\.newData\.pollInterval: 2s must be at least 10s$/],
    ['a drift reference of a week is fine', (s) => { s.data.driftReference = { duration: '168h' }; }, undefined],
    ['a search over the MLP\'s learning rate and layers is fine', (s) => { s.trainer.search = { trials: 4, parameters: [{ name: 'learningRate', min: 0.0001, max: 0.01, scale: 'Log' }, { name: 'hiddenUnits', scale: 'Linear', values: ['32', '64,32'] }] }; }, undefined],
    ['a search value the parameter does not take', (s) => { s.trainer.search = { trials: 4, parameters: [{ name: 'batchSize', scale: 'Linear', values: ['64', 'big'] }] }; }, /^spec\.trainer\.search\.parameters\[0\]\.values\[1\]: "big" is not a valid batchSize$/],
    ['a learning rate range above 1', (s) => { s.trainer.search = { trials: 4, parameters: [{ name: 'learningRate', min: 0.1, max: 1.4, scale: 'Linear' }] }; }, /parameters\[0\]: the range 0.1..1.4 is outside what learningRate accepts/],
    ['a tree parameter searched for an MLP (stored before the CRD refused it)', (s) => { s.trainer.search = { trials: 4, parameters: [{ name: 'maxDepth', min: 2, max: 8, scale: 'Linear' }] }; }, /maxDepth does not apply to model type mlp/],
    ['a search without a validation split', (s) => { s.trainer.search = { trials: 4, parameters: [{ name: 'dropout', min: 0, max: 0.5, scale: 'Linear' }] }; s.trainer.hyperparameters = { ...s.trainer.hyperparameters!, validationSplit: 0 }; }, /search needs a validation split/],
    ['a search time budget below a second', (s) => { s.trainer.search = { trials: 4, timeBudget: '10ms', parameters: [{ name: 'dropout', min: 0, max: 0.5, scale: 'Linear' }] }; }, /^spec\.trainer\.search\.timeBudget: 10ms must be at least 1s$/],
    ['a drift reference span below an hour', (s) => { s.data.driftReference = { duration: '10m' }; }, /^spec\.data\.driftReference\.duration: 10m must be at least 1h$/],
  ];
  for (const [name, edit, want] of table) {
    it(name, () => {
      const problems = checkTrainingPipelineSpec(spec(edit));
      if (want === undefined) assert.deepEqual(problems, []);
      else assert.ok(problems.some((p) => want.test(p)), problems.join('; '));
    });
  }
});
