import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainingPipeline } from '../../../api/training-pipeline.js';
import { readTrainerConfig, type TrainerConfig } from '../../../shared/trainer-config.js';
import { pipeline } from './fixtures.js';
import { buildTrainerConfig } from './trainer-config.js';

function build(edit: (tp: TrainingPipeline) => void = () => undefined, champion: string | undefined = undefined): TrainerConfig {
  const tp = pipeline(edit);
  const doc = buildTrainerConfig(tp.spec, { namespace: 'ml', pipeline: 'weather', runId: 'weather-3', version: 'v3', championVersion: champion });
  // The trainer's own parser is the judge: whatever the spec, the document must be accepted as it travels.
  return readTrainerConfig(JSON.parse(JSON.stringify(doc)));
}

describe('buildTrainerConfig', () => {
  const table: Array<[string, (tp: TrainingPipeline) => void, (c: TrainerConfig) => void]> = [
    ['names the run, the version and the pipeline', () => undefined, (c) => {
      assert.deepEqual([c.runId, c.version, c.pipeline], ['weather-3', 'v3', { namespace: 'ml', name: 'weather' }]);
    }],
    ['the primary metric defaults to accuracy for classification (not the trainer\'s macroF1)', () => undefined, (c) => assert.equal(c.evaluation.primaryMetric, 'accuracy')],
    ['and to rmse for regression, with regression metrics', (tp) => { tp.spec.data.schema.label.task = 'regression'; }, (c) => {
      assert.equal(c.evaluation.primaryMetric, 'rmse');
      assert.deepEqual(c.evaluation.metrics, ['rmse', 'mae', 'r2']);
    }],
    ['a declared class list and the feedback share go to the trainer', (tp) => {
      tp.spec.data.schema.label.classes = ['rain', 'sun'];
      tp.spec.data.feedbackFrom = 'weather';
      tp.spec.data.maxFeedbackShare = 0.25;
    }, (c) => {
      assert.deepEqual(c.schema.classes, ['rain', 'sun']);
      assert.equal(c.data.feedback?.maxShare, 0.25);
    }],
    ['a declared regression label range goes to the trainer (and on into the model for the servers)', (tp) => {
      tp.spec.data.schema.label = { name: 'y', task: 'regression', min: 0, max: 500 };
    }, (c) => assert.deepEqual(c.schema.labelRange, { min: 0, max: 500 })],
    ['validation.maxSchemaDriftPsi goes to the trainer (unset: no check)', (tp) => { tp.spec.validation.maxSchemaDriftPsi = 2; }, (c) => assert.equal(c.validation.maxSchemaDriftPsi, 2)],
    ['a window duration becomes days', (tp) => { tp.spec.data.window = { duration: '36h' }; tp.spec.data.schema.timestampColumn = 't'; }, (c) => assert.equal(c.data.window?.lastDays, 1.5)],
    ['feature bounds and categories become validation rules', (tp) => {
      tp.spec.data.schema.features = [{ name: 'x', type: 'numeric', min: 0, max: 5 }, { name: 'city', type: 'categorical', categories: ['a', 'b'] }];
    }, (c) => {
      assert.deepEqual(c.validation.ranges['x'], { min: 0, max: 5 });
      assert.deepEqual(c.validation.allowedCategories, { city: ['a', 'b'] });
      assert.equal(c.validation.unseenCategories, 'error');
    }],
    ['allowUnseenCategories turns the unseen-category check off', (tp) => { tp.spec.validation.allowUnseenCategories = true; }, (c) => assert.equal(c.validation.unseenCategories, 'off')],
    ['thresholds go to the trainer on the side that matters', (tp) => {
      tp.spec.evaluation.thresholds = [{ metric: 'accuracy', min: 0.7, max: 0.99 }, { metric: 'logLoss', max: 0.5 }];
    }, (c) => assert.deepEqual(c.evaluation.gates.thresholds, { accuracy: 0.7, logLoss: 0.5 })],
    ['gates: maxRegression, forgetting and slices', (tp) => {
      tp.spec.data.schema.timestampColumn = 't';
      tp.spec.data.schema.features.push({ name: 'city', type: 'categorical' });
      tp.spec.evaluation.forgetting = { from: '2013-01-01', to: '2014-01-01', maxDrop: 0.05 };
      tp.spec.evaluation.slices = { column: 'city', maxGap: 0.2 };
    }, (c) => {
      assert.deepEqual([c.evaluation.historicalSlice?.from, c.evaluation.historicalSlice?.to], ['2013-01-01', '2014-01-01']);
      assert.equal(c.evaluation.sliceColumn, 'city');
      assert.deepEqual([c.evaluation.gates.maxDegradationVsChampion, c.evaluation.gates.maxForgetting, c.evaluation.gates.maxSliceGap], [0.01, 0.05, 0.2]);
    }],
    ['a holdout start replaces the fraction', (tp) => { tp.spec.data.schema.timestampColumn = 't'; tp.spec.evaluation.holdout = { fraction: 0.2, from: '2015-06-01' }; }, (c) => assert.deepEqual(c.evaluation.holdout, { kind: 'from', from: '2015-06-01' })],
    ['feedback from a deployment reads its prediction and feedback logs', (tp) => { tp.spec.data.feedbackFrom = 'weather-md'; }, (c) => {
      assert.equal(c.data.feedback?.predictionsPrefix, 'deployments/ml/weather-md/predictions/');
      assert.equal(c.data.feedback?.feedbackPrefix, 'deployments/ml/weather-md/feedback/');
    }],
    ['warm start from the champion', (tp) => { tp.spec.trainer.warmStart = 'Champion'; }, (c) => assert.equal(c.warmStart, 'champion')],
    ['absent model and hyperparameters take the CRD\'s documented defaults', (tp) => { delete tp.spec.trainer.model; delete tp.spec.trainer.hyperparameters; }, (c) => {
      assert.deepEqual(c.model.hiddenUnits, [64, 32]);
      assert.equal(c.hyperparameters.epochs, 50);
    }],
  ];
  for (const [name, edit, check] of table) {
    it(name, () => {
      check(build(edit));
    });
  }

  it('passes the champion on for the comparison on the same holdout', () => assert.equal(build(undefined, 'v2').championVersion, 'v2'));
});
