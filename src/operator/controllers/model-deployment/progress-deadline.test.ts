import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelDeploymentStatus } from '../../../api/model-deployment.js';
import type { PodFault } from '../pod-faults.js';
import { contextOf, deployment, draftOf, observedOf, revisionName, rolling, serving } from './fixtures.js';
import type { ObservedRevision } from './observed.js';
import { abortStuckCandidate, tellStuckStable } from './progress-deadline.js';
import type { Draft } from './rollout-state.js';

const [v1, v2] = [revisionName('v1'), revisionName('v2')];
const pull: PodFault = { kind: 'imagePull', pod: 'p', container: 'server', image: 'server:nope', reason: 'ImagePullBackOff', message: 'Back-off pulling image "server:nope"', sinceMs: 0 };
const secret: PodFault = { kind: 'configMissing', pod: 'p', container: 'server', secret: 'perennial-s3', key: undefined, message: 'secret "perennial-s3" not found' };
const crash: PodFault = { kind: 'crashLoop', pod: 'p', container: 'server', lastExit: 'exit code 1 (Error)' };

/** A cached revision: [replicas, ready], whether its Deployment gave up, and what its pods say. */
function rev(name: string, replicas: number, ready: number, deadlineExceeded = false, podFault?: PodFault): [string, ObservedRevision] {
  return [name, { name, uid: `uid-${name}`, replicas, readyReplicas: ready, deadlineExceeded, podFault }];
}

function draftFor(status: ModelDeploymentStatus, desired: string, cached: Array<[string, ObservedRevision]>) {
  const ctx = contextOf(observedOf(deployment().withRollout({ progressDeadline: '2m' }).withStatus(status).build(), desired, { revisions: new Map(cached) }));
  return { ctx, d: draftOf(ctx) };
}

describe('abortStuckCandidate', () => {
  const table: Array<[string, Array<[string, ObservedRevision]>, string | undefined]> = [
    ['the candidate\'s pods are coming up: nothing yet', [rev(v1, 2, 2), rev(v2, 1, 0, false, pull)], undefined],
    ['its Deployment gave up on an image that cannot be pulled: aborted, naming the image', [rev(v1, 2, 2), rev(v2, 1, 0, true, pull)],
      'ProgressDeadlineExceeded: its pods did not become ready within spec.rollout.progressDeadline (2m): image "server:nope" cannot be pulled (ImagePullBackOff: Back-off pulling image "server:nope")'],
    ['a crash loop', [rev(v1, 2, 2), rev(v2, 1, 0, true, crash)],
      'ProgressDeadlineExceeded: its pods did not become ready within spec.rollout.progressDeadline (2m): container server keeps crashing (CrashLoopBackOff, last exit code 1 (Error))'],
    ['its pods say nothing (listed before they existed): the deadline alone', [rev(v1, 2, 2), rev(v2, 1, 0, true)],
      'ProgressDeadlineExceeded: its pods did not become ready within spec.rollout.progressDeadline (2m)'],
    ['the stable Deployment is not the candidate\'s business', [rev(v1, 2, 2, true, crash), rev(v2, 1, 1)], undefined],
  ];
  for (const [name, cached, why] of table) {
    it(name, () => {
      const { ctx, d } = draftFor(rolling('v1', 'v2', 0), 'v2', cached);
      const out = abortStuckCandidate(ctx, d);
      if (why === undefined) {
        assert.equal(out, d);
        return;
      }
      assert.equal(out.canary, undefined, 'no candidate any more');
      assert.equal(out.stable.name, v1, 'the stable revision is untouched');
      assert.equal(out.status.abortedRevision, v2);
      assert.equal(out.status.abortedMessage, why);
      assert.deepEqual([out.status.canaryWeight, out.status.stableWeight], [0, 100]);
      assert.deepEqual(out.events.map((e) => [e.type, e.reason]), [['Warning', 'RolloutAborted']]);
      assert.ok(out.events[0]?.note.includes(why), out.events[0]?.note);
    });
  }
});

describe('tellStuckStable', () => {
  const stuck = [rev(v1, 2, 0, true, pull)];
  const tell = (status: ModelDeploymentStatus, cached: Array<[string, ObservedRevision]>): Draft => {
    const { ctx, d } = draftFor(status, 'v1', cached);
    return tellStuckStable(ctx, d);
  };

  it('a stable Deployment that gave up: one Warning naming the cause, and the message', () => {
    const out = tell(serving('v1', { phase: 'Pending' }), stuck);
    assert.deepEqual(out.events.map((e) => [e.type, e.reason, e.note]), [['Warning', 'ProgressDeadlineExceeded',
      'The pods of v1 did not become ready within spec.rollout.progressDeadline (2m): image "server:nope" cannot be pulled (ImagePullBackOff: Back-off pulling image "server:nope").']]);
    assert.match(out.message, /^The pods of v1 did not become ready/);
  });

  it('said once: not again while Degraded already says it', () => {
    const told = serving('v1', { conditions: [{ type: 'Degraded', status: 'True', reason: 'ProgressDeadlineExceeded', message: '', lastTransitionTime: '2026-11-21T09:00:00Z', observedGeneration: 1 }] });
    assert.deepEqual(tell(told, stuck).events, []);
  });

  it('pods that say nothing yet: looked at again each analysis interval, so the cause gets named', () => {
    assert.deepEqual(tell(serving('v1'), [rev(v1, 2, 0, true)]).requeues, [30_000]);
    assert.deepEqual(tell(serving('v1'), stuck).requeues, [], 'the cause is known');
  });

  it('no pod ready and none says why yet (a missing Secret is told only once the kubelet tried): looked at again each interval', () => {
    assert.deepEqual(tell(serving('v1'), [rev(v1, 2, 0)]).requeues, [30_000]);
    assert.deepEqual(tell(serving('v1'), [rev(v1, 2, 0, false, secret)]).requeues, [], 'the cause is known (Available says it)');
    assert.deepEqual(tell(serving('v1'), [rev(v1, 2, 1)]).requeues, [], 'a pod is ready');
  });

  it('pods unexplained for a while: looked at again after as long as they have been, at most every 5 minutes', () => {
    const unavailableSince = (iso: string): ModelDeploymentStatus => serving('v1', {
      conditions: [{ type: 'Available', status: 'False', reason: 'NoReadyPods', message: '', lastTransitionTime: iso, observedGeneration: 1 }],
    });
    const { ctx } = draftFor(serving('v1'), 'v1', []);
    const ago = (ms: number) => new Date(ctx.nowMs - ms).toISOString();
    assert.deepEqual(tell(unavailableSince(ago(240_000)), [rev(v1, 2, 0)]).requeues, [240_000]);
    assert.deepEqual(tell(unavailableSince(ago(3_600_000)), [rev(v1, 2, 0)]).requeues, [300_000]);
    assert.deepEqual(tell(unavailableSince(ago(3_600_000)), [rev(v1, 2, 0, true)]).requeues, [300_000], 'the stable Deployment gave up, its pods say nothing');
  });

  it('nothing to tell while the Deployment still waits, or once its pods are ready', () => {
    assert.deepEqual(tell(serving('v1'), [rev(v1, 2, 0, false, pull)]).events, []);
    assert.deepEqual(tell(serving('v1'), [rev(v1, 2, 2)]).events, []);
  });
});

