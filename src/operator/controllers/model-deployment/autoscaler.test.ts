import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { autoscalerWrite, buildAutoscaler, scaleStatus } from './autoscaler.js';

const owner = { apiVersion: 'perennial.dev/v1alpha1', kind: 'ModelDeployment', name: 'weather', uid: 'u1', controller: true, blockOwnerDeletion: true };
const base = { namespace: 'ml', md: 'weather', owner };

describe('buildAutoscaler', () => {
  const cases: Array<[string, Parameters<typeof buildAutoscaler>[0]['autoscaling'], unknown[]]> = [
    ['CPU only', { minReplicas: 2, maxReplicas: 6, targetCPUUtilization: 70 },
      [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]],
    ['request rate in milli-units', { minReplicas: 1, maxReplicas: 4, targetRequestsPerSecond: 12.5 },
      [{ type: 'Pods', pods: { metric: { name: 'perennial_server_requests_per_second' }, target: { type: 'AverageValue', averageValue: '12500m' } } }]],
    ['both: the larger recommendation wins (the HPA\'s rule)', { minReplicas: 1, maxReplicas: 4, targetCPUUtilization: 50, targetRequestsPerSecond: 0.0001 },
      [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
        { type: 'Pods', pods: { metric: { name: 'perennial_server_requests_per_second' }, target: { type: 'AverageValue', averageValue: '1m' } } }]],
  ];
  for (const [name, autoscaling, metrics] of cases) {
    it(name, () => {
      const hpa = buildAutoscaler({ ...base, autoscaling }) as unknown as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
      assert.deepEqual(hpa.spec['scaleTargetRef'], { apiVersion: 'perennial.dev/v1alpha1', kind: 'ModelDeployment', name: 'weather' });
      assert.equal(hpa.spec['minReplicas'], autoscaling.minReplicas);
      assert.equal(hpa.spec['maxReplicas'], autoscaling.maxReplicas);
      assert.deepEqual(hpa.spec['metrics'], metrics);
      assert.equal(hpa.metadata['name'], 'weather');
      assert.deepEqual(hpa.metadata['ownerReferences'], [owner]);
    });
  }
});

describe('autoscalerWrite', () => {
  const autoscaling = { minReplicas: 1, maxReplicas: 3, targetCPUUtilization: 80 };
  it('writes a new autoscaler and records its hash', () => {
    const w = autoscalerWrite({ ...base, autoscaling }, undefined);
    assert.equal(w.kind, 'write');
  });
  it('writes nothing when the hash in status is the one wanted', () => {
    const first = autoscalerWrite({ ...base, autoscaling }, undefined);
    assert.ok(first.kind === 'write');
    assert.deepEqual(autoscalerWrite({ ...base, autoscaling }, first.hash), { kind: 'none', hash: first.hash });
  });
  it('writes again when a setting changes', () => {
    const first = autoscalerWrite({ ...base, autoscaling }, undefined);
    assert.ok(first.kind === 'write');
    assert.equal(autoscalerWrite({ ...base, autoscaling: { ...autoscaling, maxReplicas: 5 } }, first.hash).kind, 'write');
  });
  it('deletes the autoscaler when autoscaling is turned off, and only once', () => {
    assert.deepEqual(autoscalerWrite({ ...base, autoscaling: undefined }, 'abc'), { kind: 'delete', name: 'weather' });
    assert.deepEqual(autoscalerWrite({ ...base, autoscaling: undefined }, undefined), { kind: 'none', hash: undefined });
  });
});

describe('scaleStatus', () => {
  const cases: Array<[string, Array<{ hash: string; replicas: number }>, { replicas: number; selector: string }]> = [
    ['stable only', [{ hash: 'aaa', replicas: 3 }], { replicas: 3, selector: 'perennial.dev/deployment=weather,perennial.dev/revision in (aaa)' }],
    ['stable and candidate (a surge counts both)', [{ hash: 'bbb', replicas: 2 }, { hash: 'aaa', replicas: 2 }],
      { replicas: 4, selector: 'perennial.dev/deployment=weather,perennial.dev/revision in (aaa,bbb)' }],
  ];
  for (const [name, revisions, want] of cases) it(name, () => assert.deepEqual(scaleStatus('weather', revisions), want));
});
