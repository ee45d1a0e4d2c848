import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { podPhase, podStatus, type ContainerRun, type PodRun, type RestartPolicy } from './pod-status.js';

const t = Date.parse('2026-11-21T10:00:00Z');
const running: ContainerRun = { name: 'main', image: 'x', state: { kind: 'running', startedAt: t }, ready: true, restartCount: 0 };
const exited = (code: number, restarts = 0): ContainerRun => ({
  name: 'main', image: 'x', ready: false, restartCount: restarts,
  state: { kind: 'terminated', exitCode: code, reason: code === 0 ? 'Completed' : 'Error', startedAt: t, finishedAt: t + 5000 },
});
const waiting: ContainerRun = { name: 'main', image: 'x', state: { kind: 'waiting', reason: 'ContainerCreating' }, ready: false, restartCount: 0 };
const pod = (policy: RestartPolicy, ...containers: ContainerRun[]): PodRun => ({ podIP: '127.10.0.2', hostIP: '127.0.0.1', startTime: t, restartPolicy: policy, containers });

describe('podPhase', () => {
  const table: Array<[string, PodRun, string]> = [
    ['waiting to start', pod('Always', waiting), 'Pending'],
    ['running', pod('Always', running), 'Running'],
    ['a Job pod that exited 0', pod('Never', exited(0)), 'Succeeded'],
    ['a Job pod that exited 65', pod('Never', exited(65)), 'Failed'],
    ['OnFailure after a failure restarts, so still Running', pod('OnFailure', exited(1, 1)), 'Running'],
    ['OnFailure after success', pod('OnFailure', exited(0)), 'Succeeded'],
    ['Always after an exit: back-off, Running', pod('Always', exited(1, 2)), 'Running'],
    ['one of two still running', pod('Never', exited(0), { ...running, name: 'side' }), 'Running'],
  ];
  for (const [name, run, want] of table) it(name, () => assert.equal(podPhase(run), want));
});

describe('podStatus', () => {
  it('is Ready only when every container is ready and running, and keeps transition times', () => {
    const first = podStatus(pod('Always', running), [], t) as { conditions: Array<{ type: string; status: string; lastTransitionTime: string }> };
    assert.equal(first.conditions.find((c) => c.type === 'Ready')?.status, 'True');
    const later = podStatus(pod('Always', running), first.conditions, t + 60_000) as typeof first;
    assert.equal(later.conditions.find((c) => c.type === 'Ready')?.lastTransitionTime, '2026-11-21T10:00:00Z');
    const notReady = podStatus(pod('Always', { ...running, ready: false }), first.conditions, t + 60_000) as typeof first;
    assert.equal(notReady.conditions.find((c) => c.type === 'Ready')?.status, 'False');
    assert.equal(notReady.conditions.find((c) => c.type === 'Ready')?.lastTransitionTime, '2026-11-21T10:01:00Z');
  });
  it('reports the exit code and termination message of a finished container', () => {
    const st = podStatus(pod('Never', { ...exited(65), state: { kind: 'terminated', exitCode: 65, reason: 'Error', message: '{"outcome":"invalidData"}', startedAt: t, finishedAt: t + 1000 } }), [], t) as {
      phase: string; containerStatuses: Array<{ state: { terminated?: { exitCode: number; message?: string } } }>;
    };
    assert.equal(st.phase, 'Failed');
    assert.equal(st.containerStatuses[0]?.state.terminated?.exitCode, 65);
    assert.equal(st.containerStatuses[0]?.state.terminated?.message, '{"outcome":"invalidData"}');
  });
});
