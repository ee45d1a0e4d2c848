import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Annotation } from '../../../api/conditions.js';
import type { ModelDeployment } from '../../../api/model-deployment.js';
import { advanceStep, type Stepped } from './advance-step.js';
import { emptyMeasurement } from './metrics/provider.js';
import { at, contextOf, deployment, draftOf, healthy, observedOf, revisionName, revisions, rolling, serving, t0 } from './fixtures.js';
import type { Observed } from './observed.js';

const v1 = revisionName('v1');
const v2 = revisionName('v2');
const measured = (m: typeof healthy) => ({ ok: true as const, m });

function stepped(md: ModelDeployment, edit: Partial<Observed>): Stepped {
  const ctx = contextOf(observedOf(md, md.status?.canaryVersion ?? md.status?.stableVersion, edit));
  return advanceStep(ctx, draftOf(ctx));
}

/** What a row looks at. */
function summary(s: Stepped): Record<string, unknown> {
  const d = s.draft;
  return {
    stable: d.stable.version, canary: d.canary?.version, step: d.status.currentStep, events: d.events.map((e) => e.reason),
    requeues: d.requeues, paused: d.pausedReason, analysis: (d.status.analysis ?? []).map((a) => a.verdict), replicas: s.route.replicas,
  };
}

describe('advanceStep', () => {
  const ready = revisions({ [v1]: [1, 1], [v2]: [1, 1] });
  const table: Array<[string, ModelDeployment, Partial<Observed>, Record<string, unknown>]> = [
    ['no rollout: all traffic to stable', deployment().withStatus(serving('v1')).build(), { revisions: revisions({ [v1]: [2, 2] }) },
      { stable: 'v1', canary: undefined, step: undefined, replicas: { stable: 2, canary: 0 } }],
    ['setWeight, the candidate not ready: wait an interval', deployment().withStatus(rolling('v1', 'v2', 0)).build(), { revisions: revisions({ [v1]: [2, 2], [v2]: [1, 0] }) },
      { step: 0, requeues: [30_000], replicas: { stable: 2, canary: 1 } }],
    ['setWeight reached: the next step, looked at again soon', deployment().withStatus(rolling('v1', 'v2', 0)).build(), { revisions: ready },
      { step: 1, events: ['RolloutProgressing'], requeues: [1000], replicas: { stable: 1, canary: 1 } }],
    ['analysis window not over: measuring, nothing judged', deployment().withStatus(rolling('v1', 'v2', 1, { stepStartTime: at(t0 - 10_000) })).build(), { revisions: ready, candidate: measured(healthy) },
      { step: 1, requeues: [30_000] }],
    ['analysis passed past the last step: the verdict recorded, promoting', deployment().withStatus(rolling('v1', 'v2', 1)).build(), { revisions: ready, candidate: measured(healthy), stableInWindow: measured(healthy) },
      { step: 2, events: ['RolloutProgressing'], requeues: [1000, 30_000], analysis: ['Passed'], replicas: { stable: 1, canary: 2 } }],
    ['analysis failed: aborted, all traffic to stable', deployment().withStatus(rolling('v1', 'v2', 1)).build(), { revisions: ready, candidate: measured({ ...healthy, errors: 60 }) },
      { canary: undefined, step: undefined, events: ['RolloutAborted'], analysis: ['Failed'], replicas: { stable: 2, canary: 0 } }],
    ['no values at the end of the step: inconclusive, the window grows (default maxWindow 10 intervals), uncounted', deployment().withStatus(rolling('v1', 'v2', 1)).build(), { revisions: ready },
      { step: 1, requeues: [30_000], analysis: ['Inconclusive'] }],
    ['no values at maxWindow: inconclusive, the window starts again (counted)', deployment().withStatus(rolling('v1', 'v2', 1, { stepStartTime: at(t0 - 300_000) })).build(), { revisions: ready },
      { step: 1, events: ['InconclusiveAnalysis'], requeues: [30_000], analysis: ['Inconclusive'] }],
    ['analysis.maxWindow set: grows until then', deployment().withAnalysis({ maxWindow: '1h' }).withStatus(rolling('v1', 'v2', 1, { stepStartTime: at(t0 - 3_590_000) })).build(), { revisions: ready },
      { step: 1, requeues: [10_000], analysis: ['Inconclusive'] }],
    ['inconclusiveLimit reached: paused for a person, said once, nothing recorded', deployment().withStatus(rolling('v1', 'v2', 1, { inconclusiveCount: 3 })).build(), { revisions: ready },
      { step: 1, events: ['InconclusiveAnalysis'], paused: 'InconclusiveAnalysis' }],
    ['...and not said again while paused', deployment().withStatus(rolling('v1', 'v2', 1, { inconclusiveCount: 3, phase: 'Paused' })).build(), { revisions: ready },
      { step: 1, paused: 'InconclusiveAnalysis' }],
    ['paused by spec: held, nothing judged', deployment().withRollout({ paused: true }).withStatus(rolling('v1', 'v2', 1)).build(), { revisions: ready, candidate: measured(healthy) },
      { step: 1, paused: 'PausedBySpec' }],
    ['a pause step without a duration waits for a promote', deployment().withCanarySteps({ setWeight: 50 }, { pause: {} }).withStatus(rolling('v1', 'v2', 1)).build(), { revisions: ready },
      { step: 1, events: ['PausedAtStep'], paused: 'PausedAtStep' }],
    ['promote full: the candidate first gets every pod', deployment().withAnnotations({ [Annotation.promote]: 'full' }).withStatus(rolling('v1', 'v2', 0)).build(), { revisions: ready },
      { step: 2, requeues: [30_000], replicas: { stable: 1, canary: 2 } }],
    ['all its pods ready: promoted, the old stable kept as previous', deployment().withStatus(rolling('v1', 'v2', 2)).build(), { revisions: revisions({ [v1]: [2, 2], [v2]: [2, 2] }) },
      { stable: 'v2', canary: undefined, step: undefined, events: ['RolloutComplete'], replicas: { stable: 2, canary: 0 } }],
  ];
  const green = (): ReturnType<typeof deployment> => deployment().blueGreen({ autoPromoteAfter: '30s' });
  const allReady = revisions({ [v1]: [2, 2], [v2]: [2, 2] });
  table.push(
    ['blue-green preview ready for autoPromoteAfter, nobody sent it traffic: promoted', green().withStatus(rolling('v1', 'v2', 0)).build(),
      { revisions: allReady, candidate: measured(emptyMeasurement) },
      { stable: 'v2', canary: undefined, step: undefined, events: ['RolloutProgressing', 'RolloutComplete'], requeues: [1000], analysis: ['Inconclusive'], replicas: { stable: 2, canary: 0 } }],
    ['...and so when the provider has no values of it at all (no series: no request)', green().withStatus(rolling('v1', 'v2', 0)).build(),
      { revisions: allReady, candidate: { ok: false, reason: 'NoValuesError: no series for v2' } },
      { stable: 'v2', canary: undefined, step: undefined, events: ['RolloutProgressing', 'RolloutComplete'], requeues: [1000], analysis: ['Inconclusive'], replicas: { stable: 2, canary: 0 } }],
    ['blue-green preview the provider could not be asked about: measured again (its window grows)', green().withStatus(rolling('v1', 'v2', 0)).build(),
      { revisions: allReady, candidate: { ok: false, reason: 'ProviderError: the Prometheus metric provider could not be asked' } },
      { step: 0, requeues: [30_000], analysis: ['Inconclusive'] }],
    ['blue-green preview failing a gate on the traffic it got: aborted', green().withStatus(rolling('v1', 'v2', 0)).build(),
      { revisions: allReady, candidate: measured({ ...healthy, errors: 60 }) },
      { canary: undefined, step: undefined, events: ['RolloutAborted'], analysis: ['Failed'], replicas: { stable: 2, canary: 0 } }],
  );
  for (const [name, md, observed, want] of table) {
    it(name, () => {
      const { replicas, ...got } = summary(stepped(md, observed));
      const base = { stable: 'v1', canary: 'v2', events: [], requeues: [], paused: undefined, analysis: [] };
      // The replicas the route wants, where the row says.
      assert.deepEqual('replicas' in want ? { ...got, replicas } : got, { ...base, ...want });
    });
  }

  it('a preview not ready yet: its autoPromoteAfter counts from when it is (the step starts again now)', () => {
    const s = stepped(deployment().blueGreen({ autoPromoteAfter: '30s' }).withStatus(rolling('v1', 'v2', 0)).build(), { revisions: revisions({ [v1]: [2, 2], [v2]: [2, 1] }) });
    assert.equal(s.draft.status.stepStartTime, at(t0));
    assert.equal(s.draft.canary?.version, 'v2');
  });

  it('says why a promotion waits', () => {
    const s = stepped(deployment().withStatus(rolling('v1', 'v2', 2)).build(), { revisions: ready });
    assert.equal(s.draft.message, 'Promoting v2: waiting for all 2 of its pods (1 ready).');
  });

  it('a growing window is one record, replaced at each interval, and not counted', () => {
    const few = measured({ ...healthy, requests: 40 });
    const first = stepped(deployment().withStatus(rolling('v1', 'v2', 1)).build(), { revisions: ready, candidate: few });
    assert.equal(first.draft.status.inconclusiveCount, 0);
    const [rec] = first.draft.status.analysis ?? [];
    assert.match(rec?.message ?? '', /^window growing, not counted: step 2\/2 \(analysis\): too few samples yet, window growing \(60s of at most 300s\); errorRate: 40 of 100 served requests needed$/);
    const older = { time: at(t0 - 90_000), version: 'v2', step: 1, verdict: 'Passed' as const, message: 'an earlier window' };
    const again = stepped(deployment().withStatus(rolling('v1', 'v2', 1, { analysis: [{ ...rec!, time: at(t0 - 30_000) }, older] })).build(), { revisions: ready, candidate: few });
    assert.deepEqual(again.draft.status.analysis?.map((a) => a.time), [at(t0), at(t0 - 90_000)]);
    assert.equal(again.draft.status.inconclusiveCount, 0);
  });

  it('keeps at most 20 analyses, newest first', () => {
    const old = Array.from({ length: 20 }, (_, i) => ({ time: at(t0 - i), version: 'v2', verdict: 'Inconclusive' as const }));
    const s = stepped(deployment().withStatus(rolling('v1', 'v2', 1, { analysis: old })).build(), { revisions: ready, candidate: measured(healthy), stableInWindow: measured(healthy) });
    assert.equal(s.draft.status.analysis?.length, 20);
    assert.equal(s.draft.status.analysis?.[0]?.verdict, 'Passed');
  });
});
