import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelDeploymentSpec } from '../../../api/model-deployment.js';
import { analysisDue, decideStep, maxWindowOf, rolloutSteps, weightAt, type RolloutStep, type StepDecision, type StepState } from './canary-steps.js';

const rollout = (over: Partial<ModelDeploymentSpec['rollout']> = {}): ModelDeploymentSpec['rollout'] => ({
  strategy: 'Canary',
  canary: { steps: [{ setWeight: 20 }, { analysis: {} }, { pause: { duration: '1m' } }, { setWeight: 50 }, { pause: {} }, { analysis: { duration: '2m' } }] },
  trafficRouting: { type: 'Replicas' },
  analysis: { interval: '30s', minSamples: 100, inconclusiveLimit: 3, gates: { maxErrorRate: 0.01 } },
  rollbackWindow: '1h', progressDeadline: '10m', paused: false, abort: false,
  ...over,
});

describe('rolloutSteps', () => {
  it('canary steps, analysis defaulting to the interval', () => {
    assert.deepEqual(rolloutSteps(rollout()), [
      { kind: 'setWeight', weight: 20 }, { kind: 'analysis', durationMs: 30_000 }, { kind: 'pause', durationMs: 60_000 },
      { kind: 'setWeight', weight: 50 }, { kind: 'pause', durationMs: undefined }, { kind: 'analysis', durationMs: 120_000 },
    ]);
  });
  it('shadow comes first', () => {
    const steps = rolloutSteps(rollout({ shadow: { percent: 50, duration: '5m', minAgreement: 0.9 }, canary: { steps: [{ setWeight: 10 }] } }));
    assert.deepEqual(steps, [{ kind: 'shadow', durationMs: 300_000, percent: 50, minAgreement: 0.9 }, { kind: 'setWeight', weight: 10 }]);
  });
  it('blue-green is one preview step', () => {
    assert.deepEqual(rolloutSteps(rollout({ strategy: 'BlueGreen', blueGreen: { autoPromoteAfter: '10m' } })), [{ kind: 'preview', autoPromoteAfterMs: 600_000 }]);
    assert.deepEqual(rolloutSteps(rollout({ strategy: 'BlueGreen' })), [{ kind: 'preview', autoPromoteAfterMs: undefined }]);
  });
});

describe('weightAt', () => {
  const steps = rolloutSteps(rollout());
  const table: Array<[number, number]> = [[0, 20], [1, 20], [2, 20], [3, 50], [4, 50], [5, 50], [6, 100]];
  for (const [i, w] of table) it(`step ${i} → ${w}%`, () => assert.equal(weightAt(steps, i), w));
  it('0 before any setWeight (shadow)', () => assert.equal(weightAt([{ kind: 'shadow', durationMs: 1, percent: 10, minAgreement: 0 }], 0), 0));
});

describe('analysisDue', () => {
  const a: RolloutStep = { kind: 'analysis', durationMs: 30_000 };
  const table: Array<[string, RolloutStep, number, boolean]> = [
    ['analysis before its window ends', a, 29_999, false],
    ['analysis at the end of its window', a, 30_000, true],
    ['a setWeight is never analysed', { kind: 'setWeight', weight: 5 }, 99_999, false],
    ['a preview without autoPromote is never analysed', { kind: 'preview', autoPromoteAfterMs: undefined }, 99_999, false],
    ['a preview with autoPromote is analysed when it is due', { kind: 'preview', autoPromoteAfterMs: 10_000 }, 10_000, true],
  ];
  for (const [name, step, now, want] of table) it(name, () => assert.equal(analysisDue(step, 0, now), want));
});

describe('decideStep', () => {
  const steps = rolloutSteps(rollout());
  const base: StepState = {
    steps, index: 0, stepStartMs: 1_000_000, nowMs: 1_000_000, intervalMs: 30_000, reached: false, command: 'none', paused: false,
    verdict: undefined, served: undefined, inconclusiveCount: 0, inconclusiveLimit: 3, maxWindowMs: 0,
  };
  type Want = Pick<StepDecision, 'action'> & { requeueMs?: number | undefined; paused?: string | undefined };
  const table: Array<[string, Partial<StepState>, Want]> = [
    ['setWeight waits for the candidate', {}, { action: 'wait', requeueMs: 30_000, paused: undefined }],
    ['setWeight advances once reached', { reached: true }, { action: 'advance' }],
    ['analysis measures until its window ends', { index: 1, nowMs: 1_010_000 }, { action: 'wait', requeueMs: 20_000, paused: undefined }],
    ['analysis passed advances', { index: 1, nowMs: 1_030_000, verdict: 'Passed' }, { action: 'advance' }],
    ['analysis failed aborts', { index: 1, nowMs: 1_030_000, verdict: 'Failed' }, { action: 'abort' }],
    ['analysis inconclusive restarts its window', { index: 1, nowMs: 1_030_000, verdict: 'Inconclusive' }, { action: 'restartWindow' }],
    ['too many inconclusive pauses for a person', { index: 1, nowMs: 1_030_000, verdict: 'Inconclusive', inconclusiveCount: 3 }, { action: 'wait', paused: 'InconclusiveAnalysis', requeueMs: undefined }],
    ['a timed pause waits the rest of its duration', { index: 2, nowMs: 1_045_000 }, { action: 'wait', requeueMs: 15_000, paused: undefined }],
    ['a timed pause ends', { index: 2, nowMs: 1_060_000 }, { action: 'advance' }],
    ['an untimed pause waits for a promote', { index: 4, nowMs: 9_000_000 }, { action: 'wait', paused: 'PausedAtStep', requeueMs: undefined }],
    ['promote advances an untimed pause', { index: 4, command: 'promoteStep' }, { action: 'advance' }],
    ['promote advances past a running analysis', { index: 1, command: 'promoteStep' }, { action: 'advance' }],
    ['promote full promotes from any step', { index: 0, command: 'promoteFull' }, { action: 'promote' }],
    ['after the last step the candidate is promoted', { index: 6 }, { action: 'promote' }],
    ['spec.rollout.paused holds any step', { reached: true, paused: true }, { action: 'wait', paused: 'PausedBySpec', requeueMs: undefined }],
    ['promote wins over paused', { paused: true, command: 'promoteStep' }, { action: 'advance' }],
  ];
  for (const [name, over, want] of table) {
    it(name, () => {
      const d = decideStep({ ...base, ...over });
      const got: Want = { action: d.action, ...(d.action === 'wait' ? { requeueMs: d.requeueMs, paused: d.paused } : {}) };
      assert.deepEqual(got, want, d.message);
    });
  }

  const shadowSteps = rolloutSteps(rollout({ shadow: { percent: 100, duration: '1m', minAgreement: 0.9 }, canary: { steps: [{ setWeight: 10 }] } }));
  const green = rolloutSteps(rollout({ strategy: 'BlueGreen', blueGreen: { autoPromoteAfter: '1m' } }));
  const manualGreen = rolloutSteps(rollout({ strategy: 'BlueGreen' }));
  const more: Array<[string, Partial<StepState>, StepDecision['action'], string | undefined]> = [
    ['shadow waits for its pods', { steps: shadowSteps }, 'wait', undefined],
    ['shadow passed moves to the canary steps', { steps: shadowSteps, reached: true, nowMs: 1_060_000, verdict: 'Passed' }, 'advance', undefined],
    ['shadow with bad agreement aborts', { steps: shadowSteps, reached: true, nowMs: 1_060_000, verdict: 'Failed' }, 'abort', undefined],
    ['blue-green preview without autoPromote waits for a person', { steps: manualGreen, reached: true }, 'wait', 'PausedAtStep'],
    ['blue-green preview passed: switch (the next step is the end)', { steps: green, reached: true, nowMs: 1_060_000, verdict: 'Passed' }, 'advance', undefined],
    ['blue-green promote switches at once', { steps: manualGreen, command: 'promoteFull' }, 'promote', undefined],
    ['blue-green preview nobody sent traffic to: promoted after autoPromoteAfter (readiness was the check)',
      { steps: green, reached: true, nowMs: 1_060_000, verdict: 'Inconclusive', served: 0 }, 'advance', undefined],
    ['...even after inconclusive windows with traffic before', { steps: green, reached: true, nowMs: 1_060_000, verdict: 'Inconclusive', served: 0, inconclusiveCount: 2 }, 'advance', undefined],
    ['blue-green preview with some traffic, too little to judge: measured again', { steps: green, reached: true, nowMs: 1_060_000, verdict: 'Inconclusive', served: 12 }, 'restartWindow', undefined],
    ['blue-green preview the provider could not measure: measured again', { steps: green, reached: true, nowMs: 1_060_000, verdict: 'Inconclusive', served: undefined }, 'restartWindow', undefined],
    ['blue-green preview failing its gates on the traffic it got: aborted', { steps: green, reached: true, nowMs: 1_060_000, verdict: 'Failed', served: 500 }, 'abort', undefined],
    ['blue-green preview before its window ends: measuring', { steps: green, reached: true, nowMs: 1_030_000, served: 0 }, 'wait', undefined],
    ['an analysis step without traffic is not passed: measured again', { index: 1, nowMs: 1_030_000, verdict: 'Inconclusive', served: 0 }, 'restartWindow', undefined],
    ['a shadow step without traffic is not passed: measured again', { steps: shadowSteps, reached: true, nowMs: 1_060_000, verdict: 'Inconclusive', served: 0 }, 'restartWindow', undefined],
  ];
  for (const [name, over, action, paused] of more) {
    it(name, () => {
      const d = decideStep({ ...base, ...over });
      assert.equal(d.action, action, d.message);
      if (d.action === 'wait') assert.equal(d.paused, paused);
    });
  }
});

describe('maxWindowOf: how long a step\'s window may grow while short of samples', () => {
  const table: Array<[string, RolloutStep, number | undefined, number]> = [
    ['unset: 10 intervals', { kind: 'analysis', durationMs: 30_000 }, undefined, 300_000],
    ['unset, a step longer than 10 intervals: the step (no growth)', { kind: 'shadow', durationMs: 600_000, percent: 100, minAgreement: 0.9 }, undefined, 600_000],
    ['set', { kind: 'analysis', durationMs: 30_000 }, 3_600_000, 3_600_000],
    ['set shorter than the step (stored before the rule): the step', { kind: 'analysis', durationMs: 120_000 }, 60_000, 120_000],
    ['an auto-promoting preview', { kind: 'preview', autoPromoteAfterMs: 60_000 }, 600_000, 600_000],
    ['a step that judges nothing', { kind: 'setWeight', weight: 10 }, 600_000, 0],
  ];
  for (const [name, step, maxWindow, want] of table) it(name, () => assert.equal(maxWindowOf(step, 30_000, maxWindow), want));
});

describe('decideStep: a window short of samples grows until analysis.maxWindow (5m here), uncounted', () => {
  const steps = rolloutSteps(rollout());
  const green = rolloutSteps(rollout({ strategy: 'BlueGreen', blueGreen: { autoPromoteAfter: '1m' } }));
  const base: StepState = {
    steps, index: 1, stepStartMs: 1_000_000, nowMs: 1_030_000, intervalMs: 30_000, reached: true, command: 'none', paused: false,
    verdict: 'Inconclusive', served: 10, inconclusiveCount: 0, inconclusiveLimit: 3, maxWindowMs: 300_000,
  };
  type Want = { action: StepDecision['action']; requeueMs?: number | undefined; growing?: boolean };
  const table: Array<[string, Partial<StepState>, Want]> = [
    ['inconclusive at the end of the step\'s duration: the window keeps growing', {}, { action: 'wait', requeueMs: 30_000, growing: true }],
    ['...a batch of predictions and no label yet, 4m in', { nowMs: 1_240_000, served: 500 }, { action: 'wait', requeueMs: 30_000, growing: true }],
    ['...wakes exactly at maxWindow', { nowMs: 1_290_000 }, { action: 'wait', requeueMs: 10_000, growing: true }],
    ['...the labels came: passed in the grown window', { nowMs: 1_270_000, verdict: 'Passed' }, { action: 'advance' }],
    ['...or failed in it', { nowMs: 1_270_000, verdict: 'Failed' }, { action: 'abort' }],
    ['at maxWindow still too few: inconclusive as before, a new window (counted)', { nowMs: 1_300_000 }, { action: 'restartWindow' }],
    ['inconclusiveLimit reached still pauses', { inconclusiveCount: 3 }, { action: 'wait', requeueMs: undefined, growing: false }],
    ['the provider could not be asked: the window grows too', { served: undefined }, { action: 'wait', requeueMs: 30_000, growing: true }],
    ['a preview nobody sent traffic to is still promoted at autoPromoteAfter', { steps: green, index: 0, nowMs: 1_060_000, served: 0 }, { action: 'advance' }],
    ['a preview with some traffic, too little: grows', { steps: green, index: 0, nowMs: 1_060_000, served: 12 }, { action: 'wait', requeueMs: 30_000, growing: true }],
    ['no growth (maxWindow = the step): restarted at once, as before', { maxWindowMs: 30_000 }, { action: 'restartWindow' }],
  ];
  for (const [name, over, want] of table) {
    it(name, () => {
      const d = decideStep({ ...base, ...over });
      const got: Want = { action: d.action, ...(d.action === 'wait' ? { requeueMs: d.requeueMs, growing: d.growing === true } : {}) };
      assert.deepEqual(got, want, d.message);
    });
  }
});
