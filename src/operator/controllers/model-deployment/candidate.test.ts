import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Annotation } from '../../../api/conditions.js';
import type { ModelDeploymentStatus } from '../../../api/model-deployment.js';
import { chooseCandidate, firstStable } from './candidate.js';
import { at, contextOf, deployment, draftOf, observedOf, revisionName, rolling, serving, t0 } from './fixtures.js';
import { startOf } from './plan-context.js';
import type { Draft } from './rollout-state.js';

/** What a table row looks at: the revisions by version, the aborted one, the events and the step. */
function summary(d: Draft): Record<string, unknown> {
  return {
    stable: d.stable.version, canary: d.canary?.version, previous: d.previous?.version, aborted: d.status.abortedVersion,
    events: d.events.map((e) => `${e.reason}: ${e.note}`), step: d.status.currentStep, message: d.message,
  };
}

describe('firstStable', () => {
  it('keeps the stable revision status names', () => {
    const ctx = contextOf(observedOf(deployment().withStatus(serving('v1')).build(), 'v2'));
    assert.equal(firstStable(ctx, startOf(ctx))?.stable.version, 'v1');
  });
  it('serves the first desired version directly, and says so', () => {
    const ctx = contextOf(observedOf(deployment().build(), 'v1'));
    const d = firstStable(ctx, startOf(ctx));
    assert.deepEqual(d && summary(d), { stable: 'v1', canary: undefined, previous: undefined, aborted: undefined, events: [`RolloutProgressing: Serving v1 (${revisionName('v1')}).`], step: undefined, message: '' });
    assert.equal(d?.status.promotedTime, at(t0));
  });
  it('has nothing to serve while no version is known', () => {
    const ctx = contextOf(observedOf(deployment().build(), undefined));
    assert.equal(firstStable(ctx, startOf(ctx)), undefined);
  });
});

describe('chooseCandidate', () => {
  const within = at(t0 - 60_000); // promoted a minute ago; the fixture's rollbackWindow is 10m
  const table: Array<[string, ModelDeploymentStatus, string | undefined, Record<string, string>, Record<string, unknown>]> = [
    ['the stable version wanted, no rollout: nothing changes', serving('v1'), 'v1', {},
      { stable: 'v1', events: [] }],
    ['a new version starts a rollout at step 0', serving('v1'), 'v2', {},
      { stable: 'v1', canary: 'v2', step: 0, events: ['RolloutProgressing: Rollout of v2 started (stable v1).'] }],
    ['a new rollout ends the rollback window', serving('v2', { previousRevision: revisionName('v1'), previousVersion: 'v1', promotedTime: within }), 'v3', {},
      { stable: 'v2', canary: 'v3', previous: undefined, step: 0, events: ['RolloutProgressing: Rollout of v3 started (stable v2).'] }],
    ['the running candidate stays', rolling('v1', 'v2', 1), 'v2', {},
      { stable: 'v1', canary: 'v2', step: 1, events: [] }],
    ['the stable version wanted again: the rollout is dropped', rolling('v1', 'v2', 1), 'v1', {},
      { stable: 'v1', events: ['RolloutAborted: Rollout of v2 dropped: v1 is wanted again.'] }],
    ['a newer version supersedes the candidate', rolling('v1', 'v2', 1), 'v3', {},
      { stable: 'v1', canary: 'v3', step: 0, events: ['RolloutAborted: Rollout of v2 superseded by v3.', 'RolloutProgressing: Rollout of v3 started (stable v1).'] }],
    ['the previous version within the rollback window: rolled back at once', serving('v2', { previousRevision: revisionName('v1'), previousVersion: 'v1', promotedTime: within }), 'v1', {},
      { stable: 'v1', previous: 'v2', events: ['RolledBack: Rolled back from v2 to v1.'] }],
    ['the previous version after the window: rolled out like any other', serving('v2', { previousRevision: revisionName('v1'), previousVersion: 'v1', promotedTime: at(t0 - 11 * 60_000) }), 'v1', {},
      { stable: 'v2', canary: 'v1', step: 0, events: ['RolloutProgressing: Rollout of v1 started (stable v2).'] }],
    ['an aborted version is not rolled out again', serving('v1', { abortedRevision: revisionName('v2'), abortedVersion: 'v2' }), 'v2', {},
      { stable: 'v1', aborted: 'v2', events: [], message: 'v2 was aborted and is not retried until a newer version or a retry.' }],
    ['...until a retry: the aborted mark goes', serving('v1', { abortedRevision: revisionName('v2'), abortedVersion: 'v2' }), 'v2', { [Annotation.retry]: '1' },
      { stable: 'v1', canary: 'v2', step: 0, events: ['RolloutProgressing: Rollout of v2 started (stable v1).'] }],
    ['a newer version than the aborted one is rolled out, the mark stays', serving('v1', { abortedRevision: revisionName('v2'), abortedVersion: 'v2' }), 'v3', {},
      { stable: 'v1', canary: 'v3', aborted: 'v2', step: 0, events: ['RolloutProgressing: Rollout of v3 started (stable v1).'] }],
    ['a retry with nothing to roll out forgets the aborted version', serving('v1', { abortedRevision: revisionName('v2'), abortedVersion: 'v2' }), undefined, { [Annotation.retry]: '1' },
      { stable: 'v1', events: [] }],
  ];
  for (const [name, status, desired, annotations, want] of table) {
    it(name, () => {
      const ctx = contextOf(observedOf(deployment().withAnnotations(annotations).withStatus(status).build(), desired));
      const base = { stable: undefined, canary: undefined, previous: undefined, aborted: undefined, events: [], step: undefined, message: '' };
      assert.deepEqual(summary(chooseCandidate(ctx, draftOf(ctx))), { ...base, ...want });
    });
  }

  it('a retry of a rollout paused by inconclusive analyses starts its window again', () => {
    const md = deployment().withAnnotations({ [Annotation.retry]: '2' }).withStatus(rolling('v1', 'v2', 1, { inconclusiveCount: 3 })).build();
    const ctx = contextOf(observedOf(md, 'v2'));
    const d = chooseCandidate(ctx, draftOf(ctx));
    assert.equal(d.status.inconclusiveCount, 0);
    assert.equal(d.status.stepStartTime, at(t0));
    assert.equal(d.status.currentStep, 1, 'the same step');
  });
});
