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
    ['without the new fields: no row id, fed-back copies dropped, the default drift reference, no refit, no baseline gate', (tp) => { tp.spec.data.feedbackFrom = 'md'; }, (c) => {
      assert.deepEqual([c.schema.rowId, c.data.feedback?.duplicates, c.data.driftReference, c.evaluation.refit, c.evaluation.gates.minImprovementOverBaseline],
        [undefined, 'prefer-uploaded', undefined, false, undefined]);
    }],
    ['rowIdColumn becomes schema.rowId', (tp) => { tp.spec.data.schema.rowIdColumn = 'id'; }, (c) => assert.equal(c.schema.rowId, 'id')],
    ['feedbackDuplicates DropFeedbackCopy: prefer-uploaded', (tp) => { tp.spec.data.feedbackFrom = 'md'; tp.spec.data.feedbackDuplicates = 'DropFeedbackCopy'; }, (c) => assert.equal(c.data.feedback?.duplicates, 'prefer-uploaded')],
    ['feedbackDuplicates KeepBoth: keep-both', (tp) => { tp.spec.data.feedbackFrom = 'md'; tp.spec.data.feedbackDuplicates = 'KeepBoth'; }, (c) => assert.equal(c.data.feedback?.duplicates, 'keep-both')],
    ['without feedbackFrom there is no feedback, whatever feedbackDuplicates says', (tp) => { tp.spec.data.feedbackDuplicates = 'KeepBoth'; }, (c) => assert.equal(c.data.feedback, undefined)],
    ['driftReference lastRows goes as it is', (tp) => { tp.spec.data.driftReference = { lastRows: 5000 }; }, (c) => assert.deepEqual(c.data.driftReference, { lastRows: 5000, lastDays: undefined })],
    ['driftReference duration becomes days', (tp) => { tp.spec.data.schema.timestampColumn = 't'; tp.spec.data.driftReference = { duration: '168h' }; }, (c) => assert.deepEqual(c.data.driftReference, { lastRows: undefined, lastDays: 7 })],
    ['driftReference with both', (tp) => { tp.spec.data.schema.timestampColumn = 't'; tp.spec.data.driftReference = { lastRows: 2000, duration: '8760h' }; }, (c) => assert.deepEqual(c.data.driftReference, { lastRows: 2000, lastDays: 365 })],
    ['an empty driftReference (stored before its rule) is the default', (tp) => { tp.spec.data.driftReference = {}; }, (c) => assert.equal(c.data.driftReference, undefined)],
    ['evaluation.refit goes to the trainer', (tp) => { tp.spec.evaluation.refit = true; }, (c) => assert.equal(c.evaluation.refit, true)],
    ['minImprovementOverBaseline becomes the trainer\'s baseline gate', (tp) => { tp.spec.evaluation.minImprovementOverBaseline = 0.05; }, (c) => assert.equal(c.evaluation.gates.minImprovementOverBaseline, 0.05)],
    ['a baseline margin of 0 is a gate too (beat the baseline at all)', (tp) => { tp.spec.evaluation.minImprovementOverBaseline = 0; }, (c) => assert.equal(c.evaluation.gates.minImprovementOverBaseline, 0)],
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
