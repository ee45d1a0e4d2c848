import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelDeploymentStatus } from '../../../api/model-deployment.js';
import { contextOf, deployment, draftOf, observedOf, revisionName, revisions, rolling, serving } from './fixtures.js';
import type { ObservedRevision } from './observed.js';
import { trafficFor } from './traffic.js';
import type { Draft } from './rollout-state.js';
import { rolloutStatus } from './rollout-status.js';

const [v1, v2] = [revisionName('v1'), revisionName('v2')];

function statusOf(status: ModelDeploymentStatus, desired: string, cached: Map<string, ObservedRevision>, edit: (d: Draft) => Draft = (d) => d): ModelDeploymentStatus {
  const ctx = contextOf(observedOf(deployment().withStatus(status).build(), desired, { revisions: cached }));
  const d = edit(draftOf(ctx));
  return rolloutStatus(ctx, d, trafficFor(ctx, d, d.status.currentStep ?? 0, false));
}

const conditions = (s: ModelDeploymentStatus): string[] => (s.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`);

describe('rolloutStatus', () => {
  const table: Array<[string, ModelDeploymentStatus, string, Map<string, ObservedRevision>, (d: Draft) => Draft, ModelDeploymentStatus['phase'], string[]]> = [
    ['the first version, no pod ready yet: Pending', serving('v1', { phase: 'Pending' }), 'v1', revisions({ [v1]: [2, 0] }), (d) => d, 'Pending',
      ['Available=False/ReplicasUnavailable', 'Progressing=False/RolloutComplete', 'Degraded=False/RolloutComplete', 'Paused=False/RolloutComplete']],
    ['a stable that lost its pods later: Progressing, not Pending', serving('v1'), 'v1', revisions({ [v1]: [2, 0] }), (d) => d, 'Progressing',
      ['Available=False/ReplicasUnavailable', 'Progressing=False/RolloutComplete', 'Degraded=False/RolloutComplete', 'Paused=False/RolloutComplete']],
    ['every pod ready: Healthy', serving('v1'), 'v1', revisions({ [v1]: [2, 2] }), (d) => d, 'Healthy',
      ['Available=True/ReplicasReady', 'Progressing=False/RolloutComplete', 'Degraded=False/RolloutComplete', 'Paused=False/RolloutComplete']],
    ['some pods ready: Progressing', serving('v1'), 'v1', revisions({ [v1]: [2, 1] }), (d) => d, 'Progressing',
      ['Available=True/ReplicasReady', 'Progressing=False/RolloutComplete', 'Degraded=False/RolloutComplete', 'Paused=False/RolloutComplete']],
    ['a rollout: Progressing', rolling('v1', 'v2', 0), 'v2', revisions({ [v1]: [2, 2], [v2]: [1, 0] }), (d) => d, 'Progressing',
      ['Available=True/ReplicasReady', 'Progressing=True/RolloutProgressing', 'Degraded=False/RolloutProgressing', 'Paused=False/RolloutProgressing']],
    ['paused: Paused', rolling('v1', 'v2', 0), 'v2', revisions({ [v1]: [2, 2] }), (d) => ({ ...d, pausedReason: 'PausedAtStep', message: 'waiting for a promote' }), 'Paused',
      ['Available=True/ReplicasReady', 'Progressing=True/RolloutProgressing', 'Degraded=False/RolloutProgressing', 'Paused=True/PausedAtStep']],
    ['the aborted version still wanted: Degraded', serving('v1', { abortedRevision: v2, abortedVersion: 'v2' }), 'v2', revisions({ [v1]: [2, 2] }), (d) => d, 'Degraded',
      ['Available=True/ReplicasReady', 'Progressing=False/RolloutComplete', 'Degraded=True/RolloutAborted', 'Paused=False/RolloutComplete']],
    ['an aborted version no longer wanted: not Degraded', serving('v1', { abortedRevision: v2, abortedVersion: 'v2' }), 'v1', revisions({ [v1]: [2, 2] }), (d) => d, 'Healthy',
      ['Available=True/ReplicasReady', 'Progressing=False/RolloutComplete', 'Degraded=False/RolloutComplete', 'Paused=False/RolloutComplete']],
  ];
  for (const [name, status, desired, cached, edit, phase, want] of table) {
    it(name, () => {
      const s = statusOf(status, desired, cached, edit);
      assert.equal(s.phase, phase);
      assert.deepEqual(conditions(s).slice(1), want, 'after Accepted');
    });
  }

  const pull = { kind: 'imagePull', pod: 'p', container: 'server', image: 'server:nope', reason: 'ErrImagePull', message: 'not found', sinceMs: 0 } as const;
  const stuck = (ready: number, deadlineExceeded: boolean): Map<string, ObservedRevision> =>
    new Map([[v1, { name: v1, uid: 'u', replicas: 2, readyReplicas: ready, deadlineExceeded, podFault: pull }]]);

  it('a first version whose Deployment gave up: Degraded/ProgressDeadlineExceeded and Available=False, both naming the cause', () => {
    const s = statusOf(serving('v1', { phase: 'Pending' }), 'v1', stuck(0, true));
    assert.equal(s.phase, 'Degraded');
    assert.deepEqual(conditions(s).slice(1), ['Available=False/ReplicasUnavailable', 'Progressing=False/RolloutComplete', 'Degraded=True/ProgressDeadlineExceeded', 'Paused=False/RolloutComplete']);
    const degraded = s.conditions?.find((c) => c.type === 'Degraded')?.message;
    assert.equal(degraded, 'The pods of v1 did not become ready within spec.rollout.progressDeadline (10m): image "server:nope" cannot be pulled (ErrImagePull: not found).');
    assert.equal(s.conditions?.find((c) => c.type === 'Available')?.message, 'No ready pod of v1: image "server:nope" cannot be pulled (ErrImagePull: not found).');
  });

  it('before the deadline the first version is Pending, Available=False already naming what holds its pods', () => {
    const s = statusOf(serving('v1', { phase: 'Pending' }), 'v1', stuck(0, false));
    assert.equal(s.phase, 'Pending');
    assert.equal(s.conditions?.find((c) => c.type === 'Degraded')?.status, 'False');
    assert.match(s.conditions?.find((c) => c.type === 'Available')?.message ?? '', /^No ready pod of v1: image "server:nope" cannot be pulled/);
  });

  it('a Secret missing from the namespace: Available=False/ConfigMissing naming the Secret', () => {
    const secret = { kind: 'configMissing', pod: 'p', container: 'server', secret: 'perennial-s3', key: undefined, message: 'secret "perennial-s3" not found' } as const;
    const s = statusOf(serving('v1', { phase: 'Pending' }), 'v1', new Map([[v1, { name: v1, uid: 'u', replicas: 2, readyReplicas: 0, podFault: secret }]]));
    const available = s.conditions?.find((c) => c.type === 'Available');
    assert.equal(`${available?.status}/${available?.reason}`, 'False/ConfigMissing');
    assert.equal(available?.message, 'No ready pod of v1: container server cannot start: Secret "perennial-s3" does not exist in the namespace (CreateContainerConfigError: secret "perennial-s3" not found).');
  });

  it('an aborted version still wanted: Degraded says why it was aborted', () => {
    const s = statusOf(serving('v1', { abortedRevision: v2, abortedVersion: 'v2', abortedMessage: 'ProgressDeadlineExceeded: its pods did not become ready' }), 'v2', revisions({ [v1]: [2, 2] }));
    assert.match(s.conditions?.find((c) => c.type === 'Degraded')?.message ?? '', /^v2 was aborted \(ProgressDeadlineExceeded: its pods did not become ready\) and rolled back; v1 serves/);
  });

  it('weights and readiness as they are: no weight to a candidate without ready pods', () => {
    const s = statusOf(rolling('v1', 'v2', 0), 'v2', revisions({ [v1]: [2, 2], [v2]: [1, 0] }));
    assert.deepEqual([s.canaryWeight, s.stableWeight, s.stableReadyReplicas, s.canaryReadyReplicas], [0, 100, 2, 0]);
    assert.equal(s.message, 'Rolling out v2.');
    const done = statusOf(serving('v1', { canaryReadyReplicas: 1 }), 'v1', revisions({ [v1]: [2, 2] }));
    assert.equal(done.canaryReadyReplicas, undefined, 'no candidate, no candidate readiness');
    assert.equal(done.message, 'v1 serves 2/2 pods ready.');
  });
});
