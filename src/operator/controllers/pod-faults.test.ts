import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeFault, podFaults, worstFault, type ContainerStatusObject, type PodFault, type PodObject } from './pod-faults.js';

/** A pod named p with one container c (image img, optional memory limit) and the kubelet's view of it. */
function pod(statuses: ContainerStatusObject[], extra: { limit?: string; scheduled?: { status: string; reason?: string; message?: string }; deleting?: boolean } = {}): PodObject {
  return {
    metadata: { name: 'p', creationTimestamp: '2026-11-21T10:00:00Z', ...(extra.deleting ? { deletionTimestamp: '2026-11-21T10:05:00Z' } : {}) },
    spec: { containers: [{ name: 'c', image: 'img:1', ...(extra.limit ? { resources: { limits: { memory: extra.limit } } } : {}) }] },
    status: {
      phase: 'Pending', startTime: '2026-11-21T10:00:05Z',
      ...(extra.scheduled ? { conditions: [{ type: 'PodScheduled', ...extra.scheduled }] } : {}),
      containerStatuses: statuses,
    },
  };
}

const waiting = (reason: string, message = ''): ContainerStatusObject => ({ name: 'c', ready: false, state: { waiting: { reason, message } } });
const since = Date.parse('2026-11-21T10:00:05Z');

describe('podFaults', () => {
  const table: Array<[string, PodObject, PodFault[]]> = [
    ['a running, ready container: nothing', pod([{ name: 'c', ready: true, state: { running: {} } }]), []],
    ['a container being created: nothing yet', pod([waiting('ContainerCreating')]), []],
    ['ErrImagePull names the image and the kubelet\'s message, since the pod started',
      pod([waiting('ErrImagePull', 'failed to resolve reference')]),
      [{ kind: 'imagePull', pod: 'p', container: 'c', image: 'img:1', reason: 'ErrImagePull', message: 'failed to resolve reference', sinceMs: since }]],
    ['ImagePullBackOff', pod([waiting('ImagePullBackOff', 'Back-off pulling image "img:1"')]),
      [{ kind: 'imagePull', pod: 'p', container: 'c', image: 'img:1', reason: 'ImagePullBackOff', message: 'Back-off pulling image "img:1"', sinceMs: since }]],
    ['ErrImageNeverPull', pod([waiting('ErrImageNeverPull', 'not present')]),
      [{ kind: 'imagePull', pod: 'p', container: 'c', image: 'img:1', reason: 'ErrImageNeverPull', message: 'not present', sinceMs: since }]],
    ['InvalidImageName', pod([waiting('InvalidImageName')]),
      [{ kind: 'imagePull', pod: 'p', container: 'c', image: 'img:1', reason: 'InvalidImageName', message: '', sinceMs: since }]],
    ['a kubelet message is cut to 300 characters', pod([waiting('ErrImagePull', 'x'.repeat(1000))]),
      [{ kind: 'imagePull', pod: 'p', container: 'c', image: 'img:1', reason: 'ErrImagePull', message: `${'x'.repeat(299)}…`, sinceMs: since }]],
    ['terminated OOMKilled, with the limit', pod([{ name: 'c', state: { terminated: { reason: 'OOMKilled', exitCode: 137 } } }], { limit: '40Mi' }),
      [{ kind: 'oomKilled', pod: 'p', container: 'c', memoryLimit: '40Mi' }]],
    ['OOMKilled before the last restart, now crash-looping: the OOM kill is the cause', pod([{
      name: 'c', restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { reason: 'OOMKilled', exitCode: 137 } },
    }]), [{ kind: 'oomKilled', pod: 'p', container: 'c', memoryLimit: undefined }]],
    ['CrashLoopBackOff with the last exit', pod([{
      name: 'c', restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { reason: 'Error', exitCode: 1 } },
    }]), [{ kind: 'crashLoop', pod: 'p', container: 'c', lastExit: 'exit code 1 (Error)' }]],
    ['running but not ready: the readiness probe fails', pod([{ name: 'c', ready: false, state: { running: {} } }]), [{ kind: 'notReady', pod: 'p', container: 'c' }]],
    ['the exit of a completed container is no fault', pod([{ name: 'c', state: { terminated: { reason: 'Completed', exitCode: 0 } } }]), []],
    ['Unschedulable, with the scheduler\'s message', pod([], { scheduled: { status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient nvidia.com/gpu.' } }),
      [{ kind: 'unschedulable', pod: 'p', message: '0/1 nodes are available: 1 Insufficient nvidia.com/gpu.' }]],
    ['scheduling under way is no fault', pod([], { scheduled: { status: 'False', reason: 'SchedulerError' } }), []],
    ['a pod being deleted says nothing', pod([waiting('ErrImagePull')], { deleting: true }), []],
    ['CreateContainerConfigError for a missing Secret names it', pod([waiting('CreateContainerConfigError', 'secret "perennial-s3" not found')]),
      [{ kind: 'configMissing', pod: 'p', container: 'c', secret: 'perennial-s3', key: undefined, message: 'secret "perennial-s3" not found' }]],
    ['...for a Secret that lacks a key names both', pod([waiting('CreateContainerConfigError', 'couldn\'t find key AWS_ACCESS_KEY_ID in Secret ml/perennial-s3')]),
      [{ kind: 'configMissing', pod: 'p', container: 'c', secret: 'perennial-s3', key: 'AWS_ACCESS_KEY_ID', message: 'couldn\'t find key AWS_ACCESS_KEY_ID in Secret ml/perennial-s3' }]],
    ['...for anything else keeps the kubelet\'s words', pod([waiting('CreateContainerConfigError', 'configmap "settings" not found')]),
      [{ kind: 'configMissing', pod: 'p', container: 'c', secret: undefined, key: undefined, message: 'configmap "settings" not found' }]],
  ];
  for (const [name, p, want] of table) it(name, () => assert.deepEqual(podFaults(p), want));

  it('the worst fault among pods: an OOM kill before a missing image before a crash loop', () => {
    const crash = pod([{ name: 'c', state: { waiting: { reason: 'CrashLoopBackOff' } } }]);
    const pull = pod([waiting('ErrImagePull')]);
    const oom = pod([{ name: 'c', state: { terminated: { reason: 'OOMKilled', exitCode: 137 } } }]);
    assert.equal(worstFault([crash, pull])?.kind, 'imagePull');
    assert.equal(worstFault([crash, pull, oom])?.kind, 'oomKilled');
    assert.equal(worstFault([]), undefined);
  });
});

describe('describeFault', () => {
  const table: Array<[PodFault, string]> = [
    [{ kind: 'oomKilled', pod: 'p', container: 'trainer', memoryLimit: '40Mi' }, 'container trainer was killed for using more memory than its limit of 40Mi (OOMKilled, exit code 137)'],
    [{ kind: 'oomKilled', pod: 'p', container: 'trainer', memoryLimit: undefined }, 'container trainer was killed for using more memory than its limit (no limit set: the node ran out) (OOMKilled, exit code 137)'],
    [{ kind: 'imagePull', pod: 'p', container: 'c', image: 'img:1', reason: 'ErrImagePull', message: 'no such host', sinceMs: 0 }, 'image "img:1" cannot be pulled (ErrImagePull: no such host)'],
    [{ kind: 'imagePull', pod: 'p', container: 'c', image: 'img:1', reason: 'InvalidImageName', message: '', sinceMs: 0 }, 'image "img:1" cannot be pulled (InvalidImageName)'],
    [{ kind: 'crashLoop', pod: 'p', container: 'server', lastExit: 'exit code 1 (Error)' }, 'container server keeps crashing (CrashLoopBackOff, last exit code 1 (Error))'],
    [{ kind: 'notReady', pod: 'p', container: 'server' }, 'container server runs but is not ready (its readiness probe fails)'],
    [{ kind: 'unschedulable', pod: 'p', message: '0/1 nodes are available' }, 'pod p cannot be scheduled: 0/1 nodes are available'],
    [{ kind: 'configMissing', pod: 'p', container: 'server', secret: 'perennial-s3', key: undefined, message: 'secret "perennial-s3" not found' },
      'container server cannot start: Secret "perennial-s3" does not exist in the namespace (CreateContainerConfigError: secret "perennial-s3" not found)'],
    [{ kind: 'configMissing', pod: 'p', container: 'server', secret: 'perennial-s3', key: 'token', message: 'couldn\'t find key token in Secret ml/perennial-s3' },
      'container server cannot start: Secret "perennial-s3" has no key "token" (CreateContainerConfigError: couldn\'t find key token in Secret ml/perennial-s3)'],
    [{ kind: 'configMissing', pod: 'p', container: 'server', secret: undefined, key: undefined, message: 'configmap "x" not found' },
      'container server cannot start: its configuration cannot be made (CreateContainerConfigError: configmap "x" not found)'],
  ];
  for (const [fault, want] of table) it(fault.kind, () => assert.equal(describeFault(fault), want));
});
