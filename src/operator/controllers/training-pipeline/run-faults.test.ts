import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerStatusObject, PodObject } from '../pod-faults.js';
import { judgeRunPods, podRecheckMs, type RunFault } from './run-faults.js';

const started = Date.parse('2026-11-21T10:00:00Z');
const timeoutMs = 60_000;

/** A training pod started at `started`, in `phase`, with the trainer's status (and a 40Mi limit). */
function pod(phase: string, trainer: ContainerStatusObject['state'] | undefined, scheduled?: { reason: string; message: string }): PodObject {
  return {
    metadata: { name: 'weather-1-abcde' },
    spec: { containers: [{ name: 'trainer', image: 'trainer:nope', resources: { limits: { memory: '40Mi' } } }] },
    status: {
      phase, startTime: '2026-11-21T10:00:00Z',
      ...(scheduled ? { conditions: [{ type: 'PodScheduled', status: 'False', ...scheduled }] } : {}),
      containerStatuses: trainer ? [{ name: 'trainer', state: trainer }] : [],
    },
  };
}

const pull = (reason: string): PodObject => pod('Pending', { waiting: { reason, message: 'not present' } });
const oom = pod('Failed', { terminated: { reason: 'OOMKilled', exitCode: 137 } });
const running = pod('Running', { running: {} });

describe('judgeRunPods: how soon a waiting pod is looked at again', () => {
  const createdAgo = (p: PodObject, ms: number): PodObject => ({ ...p, metadata: { ...p.metadata, creationTimestamp: new Date(started - ms).toISOString() } });
  const unschedulable = pod('Pending', undefined, { reason: 'Unschedulable', message: '0/1 nodes are available' });
  const secret = pod('Pending', { waiting: { reason: 'CreateContainerConfigError', message: 'secret "perennial-s3" not found' } });
  const creating = pod('Pending', { waiting: { reason: 'ContainerCreating' } });
  const table: Array<[string, PodObject, number, number]> = [
    ['created just now: the first look', creating, 0, podRecheckMs],
    ['waiting 45 s: after 45 s more', creating, 45_000, 45_000],
    ['unschedulable for an hour (a GPU queue): every 5 minutes', unschedulable, 3_600_000, 300_000],
    ['a Secret missing for 2 minutes: after 2 minutes more', secret, 120_000, 120_000],
  ];
  for (const [name, p, waitedMs, want] of table) {
    it(name, () => {
      const got = judgeRunPods({ pods: [createdAgo(p, waitedMs)], nowMs: started, imagePullTimeoutMs: timeoutMs });
      assert.equal('recheckMs' in got ? got.recheckMs : undefined, want);
    });
  }
  it('an image pull still looks every 10 s until its deadline', () => {
    const got = judgeRunPods({ pods: [createdAgo(pull('ImagePullBackOff'), 3_600_000)], nowMs: started + 1_000, imagePullTimeoutMs: timeoutMs });
    assert.equal('recheckMs' in got ? got.recheckMs : undefined, podRecheckMs);
  });
});

describe('judgeRunPods', () => {
  const table: Array<[string, readonly PodObject[], number, RunFault['action'], RegExp | undefined, number | undefined]> = [
    // name, pods, now (ms after the pod started), action, message, recheck
    ['no pod yet: the Job\'s update brings the next look', [], 0, 'none', undefined, undefined],
    ['a running trainer: nothing to say', [running], 5_000, 'none', undefined, undefined],
    ['a pod being created: look again soon', [pod('Pending', { waiting: { reason: 'ContainerCreating' } })], 1_000, 'wait', undefined, podRecheckMs],
    ['OOMKilled: failed at once, naming the limit to raise', [oom], 30_000, 'fail',
      /^The trainer container trainer was killed for using more memory than its limit of 40Mi \(OOMKilled, exit code 137\)\. Raise spec\.trainer\.resources\.limits\.memory/, undefined],
    ['an OOM kill in an earlier pod while a retry waits: still failed', [oom, pod('Pending', { waiting: { reason: 'ContainerCreating' } })], 30_000, 'fail', /OOMKilled/, undefined],
    ['ErrImageNeverPull within the timeout: reported with when the run will end', [pull('ErrImageNeverPull')], 20_000, 'report',
      /^The trainer image "trainer:nope" cannot be pulled \(ErrImageNeverPull: not present\); the run ends Failed at 2026-11-21T10:01:00Z/, podRecheckMs],
    ['ImagePullBackOff near the timeout: looked at again when it ends', [pull('ImagePullBackOff')], 55_000, 'report', /ImagePullBackOff/, 5_000],
    ['ErrImagePull past the timeout: failed', [pull('ErrImagePull')], 60_000, 'fail', /cannot be pulled \(ErrImagePull: not present\), for 60s \(spec\.trainer\.imagePullTimeout\)/, undefined],
    ['InvalidImageName: failed at once (a pod\'s image never changes)', [pull('InvalidImageName')], 1_000, 'fail', /InvalidImageName.*Fix spec\.trainer\.image/, undefined],
    ['Unschedulable: reported with the scheduler\'s message, never failed here', [pod('Pending', undefined, { reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient memory.' })], 3_600_000, 'report',
      /^The training pod weather-1-abcde cannot be scheduled: 0\/1 nodes are available: 1 Insufficient memory\.$/, podRecheckMs],
    ['a store Secret missing from the namespace: reported naming it, never failed here (it may be created)',
      [pod('Pending', { waiting: { reason: 'CreateContainerConfigError', message: 'secret "perennial-s3" not found' } })], 3_600_000, 'report',
      /^The trainer container trainer cannot start: Secret "perennial-s3" does not exist in the namespace \(CreateContainerConfigError: secret "perennial-s3" not found\)\.$/, podRecheckMs],
  ];
  for (const [name, pods, after, action, message, recheck] of table) {
    it(name, () => {
      const got = judgeRunPods({ pods, nowMs: started + after, imagePullTimeoutMs: timeoutMs });
      assert.equal(got.action, action, JSON.stringify(got));
      if (message) assert.match('message' in got ? got.message : '', message);
      assert.equal('recheckMs' in got ? got.recheckMs : undefined, recheck);
    });
  }

  it('the reasons: ImagePullFailed, OOMKilled, Unschedulable', () => {
    const reason = (pods: PodObject[], afterMs = 0): string | undefined => {
      const got = judgeRunPods({ pods, nowMs: started + afterMs, imagePullTimeoutMs: timeoutMs });
      return 'reason' in got ? got.reason : undefined;
    };
    assert.equal(reason([pull('ErrImagePull')]), 'ImagePullFailed');
    assert.equal(reason([pull('ErrImagePull')], timeoutMs), 'ImagePullFailed');
    assert.equal(reason([oom]), 'OOMKilled');
    assert.equal(reason([pod('Pending', undefined, { reason: 'Unschedulable', message: 'no' })]), 'Unschedulable');
  });

  it('the report is the same sentence at every look, so an unchanged status is not written again', () => {
    const at = (ms: number): RunFault => judgeRunPods({ pods: [pull('ErrImagePull')], nowMs: started + ms, imagePullTimeoutMs: timeoutMs });
    const a = at(10_000);
    const b = at(40_000);
    assert.ok(a.action === 'report' && b.action === 'report');
    assert.equal(a.message, b.message);
  });
});
