import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelDeploymentStatus } from '../../../api/model-deployment.js';
import { at, contextOf, deployment, draftOf, observedOf, revisionName, rolling, serving, t0 } from './fixtures.js';
import {
  abortCandidate, clearCandidate, dropCandidate, endRollbackWindow, forgetAborted, holdAborted, promoteCandidate, rollBack, serveFirst, startRollout,
  type Draft, type Revision,
} from './rollout-state.js';
import { startOf } from './plan-context.js';

/** A draft from status, and the revision of `version` as the plan would make it. */
function from(status: ModelDeploymentStatus, version = 'v3'): { d: Draft; r: Revision } {
  const ctx = contextOf(observedOf(deployment().withStatus(status).build(), version));
  if (!ctx.desired) throw new Error('no desired revision');
  return { d: draftOf(ctx), r: ctx.desired };
}

/** The status fields a transition moves, by version. */
function fields(d: Draft): Record<string, unknown> {
  const s = d.status;
  return {
    stable: s.stableVersion, canary: s.canaryVersion, previous: s.previousVersion, aborted: s.abortedVersion, step: s.currentStep,
    weights: [s.canaryWeight, s.stableWeight], events: d.events.map((e) => `${e.type} ${e.reason}`),
  };
}

describe('rollout-state transitions', () => {
  const previous = { previousRevision: revisionName('v1'), previousVersion: 'v1', promotedTime: at(t0 - 60_000) };
  const table: Array<[string, () => Draft, Record<string, unknown>]> = [
    ['NO STABLE → SERVING', () => {
      const ctx = contextOf(observedOf(deployment().build(), 'v1'));
      return ctx.desired ? serveFirst(startOf(ctx), ctx.desired, t0) : draftOf(ctx);
    }, { stable: 'v1', weights: [undefined, undefined], events: ['Normal RolloutProgressing'] }],
    ['SERVING → ROLLING step 0, the rollback window ended', () => { const { d, r } = from(serving('v2', previous)); return startRollout(d, r, t0); },
      { stable: 'v2', canary: 'v3', step: 0, weights: [undefined, undefined], events: ['Normal RolloutProgressing'] }],
    ['ROLLING → SUPERSEDED → ROLLING the newer one', () => { const { d, r } = from(rolling('v1', 'v2', 1)); return startRollout(d, r, t0); },
      { stable: 'v1', canary: 'v3', step: 0, weights: [undefined, undefined], events: ['Normal RolloutAborted', 'Normal RolloutProgressing'] }],
    ['ROLLING → ABORTED', () => abortCandidate(from(rolling('v1', 'v2', 1)).d, 'step 2/2 (analysis) failed'),
      { stable: 'v1', aborted: 'v2', weights: [0, 100], events: ['Warning RolloutAborted'] }],
    ['ROLLING → DROPPED', () => dropCandidate(from(rolling('v1', 'v2', 1)).d),
      { stable: 'v1', weights: [0, 100], events: ['Normal RolloutAborted'] }],
    ['PROMOTING → PROMOTED, the old stable kept as previous', () => promoteCandidate(from(rolling('v1', 'v2', 2)).d, t0),
      { stable: 'v2', previous: 'v1', weights: [0, 100], events: ['Normal RolloutComplete'] }],
    ['SERVING with previous → ROLLED BACK', () => { const { d, r } = from(serving('v2', previous), 'v1'); return rollBack(d, r, t0); },
      { stable: 'v1', previous: 'v2', weights: [0, 100], events: ['Normal RolledBack'] }],
    ['the rollback window ends', () => endRollbackWindow(from(serving('v2', previous)).d),
      { stable: 'v2', weights: [undefined, undefined], events: [] }],
    ['an aborted version held back', () => { const { d, r } = from(rolling('v1', 'v2', 0, { abortedRevision: revisionName('v2'), abortedVersion: 'v2' }), 'v2'); return holdAborted(d, r); },
      { stable: 'v1', aborted: 'v2', weights: [0, 100], events: [] }],
    ['an aborted version forgotten', () => forgetAborted(from(serving('v1', { abortedRevision: revisionName('v2'), abortedVersion: 'v2' })).d),
      { stable: 'v1', weights: [undefined, undefined], events: [] }],
  ];
  for (const [name, run, want] of table) {
    it(name, () => {
      const base = { stable: undefined, canary: undefined, previous: undefined, aborted: undefined, step: undefined };
      assert.deepEqual(fields(run()), { ...base, ...want });
    });
  }

  it('ending a rollout clears every candidate field', () => {
    const d = clearCandidate(from(rolling('v1', 'v2', 1, { inconclusiveCount: 2 })).d);
    for (const k of ['canaryRevision', 'canaryVersion', 'canaryURI', 'currentStep', 'stepStartTime', 'inconclusiveCount'] as const) {
      assert.equal(k in d.status, false, k);
    }
    assert.equal(d.canary, undefined);
  });

  it('the revisions the draft names follow the status it writes', () => {
    const { d } = from(rolling('v1', 'v2', 2));
    const promoted = promoteCandidate(d, t0);
    assert.deepEqual([promoted.stable.name, promoted.previous?.name], [promoted.status.stableRevision, promoted.status.previousRevision]);
    assert.equal(promoted.status.promotedTime, at(t0));
  });
});
