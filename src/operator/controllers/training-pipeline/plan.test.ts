import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainingPipeline } from '../../../api/training-pipeline.js';
import { planTrainingPipeline } from './plan.js';

const t0 = Date.parse('2026-11-21T10:00:00Z');

function pipeline(edit: (tp: TrainingPipeline) => void = () => undefined): TrainingPipeline {
  const tp: TrainingPipeline = {
    apiVersion: 'perennial.dev/v1alpha1',
    kind: 'TrainingPipeline',
    metadata: { name: 'weather', namespace: 'ml', generation: 3, resourceVersion: '10' },
    spec: {
      data: {
        sources: [{ prefix: 'data/', format: 'csv' }],
        schema: { features: [{ name: 'x', type: 'numeric' }], label: { name: 'y', task: 'classification' } },
        replayFraction: 0,
      },
      validation: { minRows: 100, maxMissingRate: 0.1, allowUnseenCategories: false },
      triggers: { minInterval: '10m', concurrencyPolicy: 'Forbid' },
      trainer: {
        image: 'trainer:dev',
        model: { type: 'MLP', hiddenUnits: [8], activation: 'relu', dropout: 0 },
        hyperparameters: { epochs: 5, batchSize: 32, learningRate: 0.01, earlyStoppingPatience: 2, validationSplit: 0.1 },
        seed: 1, warmStart: 'Scratch', activeDeadlineSeconds: 600, backoffLimit: 1,
      },
      evaluation: { maxRegression: 0.01 },
      retention: { keepVersions: 3, onDelete: 'Retain' },
      suspend: false,
      historyLimit: 5,
    },
  };
  edit(tp);
  return tp;
}

const badCron = (tp: TrainingPipeline): void => { tp.spec.triggers.schedule = { cron: '0 0 30 2 *', startingDeadline: '1h' }; };

describe('planTrainingPipeline', () => {
  it('accepts a valid spec: Idle, Accepted=True, Ready=False until a champion exists, no events', () => {
    const plan = planTrainingPipeline(pipeline(), t0);
    assert.equal(plan.status.phase, 'Idle');
    assert.equal(plan.status.observedGeneration, 3);
    const byType = Object.fromEntries((plan.status.conditions ?? []).map((c) => [c.type, c]));
    assert.equal(byType['Accepted']?.status, 'True');
    assert.equal(byType['Ready']?.reason, 'NoChampionYet');
    assert.equal(byType['Accepted']?.observedGeneration, 3);
    assert.deepEqual(plan.events, []);
  });

  it('rejects an invalid spec: Failed, Accepted=False/InvalidSpec naming the field, one Warning event', () => {
    const plan = planTrainingPipeline(pipeline(badCron), t0);
    assert.equal(plan.status.phase, 'Failed');
    const accepted = plan.status.conditions?.find((c) => c.type === 'Accepted');
    assert.equal(accepted?.status, 'False');
    assert.equal(accepted?.reason, 'InvalidSpec');
    assert.match(accepted?.message ?? '', /spec\.triggers\.schedule\.cron/);
    assert.deepEqual(plan.events.map((e) => [e.type, e.reason]), [['Warning', 'InvalidSpec']]);
  });

  it('is a fixed point: planning on its own output changes nothing and emits no event again', () => {
    for (const edit of [() => undefined, badCron]) {
      const first = planTrainingPipeline(pipeline(edit), t0);
      const second = planTrainingPipeline(pipeline((tp) => { edit(tp); tp.status = first.status; }), t0 + 60_000);
      assert.deepEqual(second.status, first.status, 'the second reconcile would write nothing');
      assert.deepEqual(second.events, []);
    }
  });

  it('keeps lastTransitionTime while the status holds and moves it when it flips', () => {
    const first = planTrainingPipeline(pipeline(), t0);
    const fixed = planTrainingPipeline(pipeline((tp) => { badCron(tp); tp.metadata.generation = 4; tp.status = first.status; }), t0 + 60_000);
    const before = first.status.conditions?.find((c) => c.type === 'Accepted');
    const after = fixed.status.conditions?.find((c) => c.type === 'Accepted');
    assert.notEqual(after?.lastTransitionTime, before?.lastTransitionTime);
    assert.equal(after?.observedGeneration, 4);
  });

  it('reports a suspended pipeline as Suspended', () => {
    assert.equal(planTrainingPipeline(pipeline((tp) => { tp.spec.suspend = true; }), t0).status.phase, 'Suspended');
  });
});
