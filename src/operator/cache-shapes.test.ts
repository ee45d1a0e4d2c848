import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cacheShape } from './cache-shapes.js';
import { jobLabels } from './controllers/training-pipeline/job.js';
import { jobState } from './controllers/training-pipeline/observe.js';
import { revisionSelector, selectorLabels } from './controllers/model-deployment/names.js';
import { deployments, jobs, modelDeployments, pods, services, trainingPipelines } from './resources.js';
import { matches, parseSelector } from './runtime/label-selector.js';
import type { ResourceRef } from './runtime/resource.js';

const managedFields = [{ manager: 'perennial-operator', operation: 'Update', fieldsV1: {} }];
const owner = { apiVersion: 'perennial.dev/v1alpha1', kind: 'K', name: 'o', uid: 'u0', controller: true };

function shaped(ref: ResourceRef, obj: Record<string, unknown>): Record<string, unknown> {
  const transform = cacheShape(ref)?.transform;
  assert.ok(transform, `${ref.plural} has a transform`);
  return transform(obj) as Record<string, unknown>;
}

describe('cache shapes', () => {
  it('select the children by the labels the controllers put on them', () => {
    const cases: Array<[ResourceRef, Record<string, string>]> = [
      [jobs, jobLabels('tp', 'tp-1', 'v1')],
      [deployments, revisionSelector('md', 'abc')],
      [services, selectorLabels('md')],
    ];
    for (const [ref, labels] of cases) {
      const selector = cacheShape(ref)?.labelSelector;
      assert.ok(selector, `${ref.plural} is label-selected`);
      assert.equal(matches(parseSelector(selector), labels), true, `${ref.plural}: ${selector} selects ${JSON.stringify(labels)}`);
      assert.equal(matches(parseSelector(selector), { app: 'someone-else' }), false);
    }
    assert.equal(cacheShape(trainingPipelines)?.labelSelector, undefined, 'every TrainingPipeline');
    assert.equal(cacheShape(modelDeployments)?.labelSelector, undefined, 'every ModelDeployment');
    assert.equal(cacheShape(pods), undefined, 'pods are not watched');
  });

  it('keep what training-pipeline/observe.ts reads of a Job, not its pod template', () => {
    const status = { conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'm' }], completionTime: '2026-01-01T00:00:00Z' };
    const metadata = { name: 'tp-1', namespace: 'ns', uid: 'j1', resourceVersion: '3', labels: jobLabels('tp', 'tp-1', 'v1'), ownerReferences: [owner] };
    const job = { metadata: { ...metadata, managedFields, annotations: { a: 'b' } }, spec: { template: { spec: { containers: [{ name: 'trainer' }] } } }, status };
    const kept = shaped(jobs, job);
    assert.deepEqual(kept, { metadata, spec: {}, status });
    assert.deepEqual(jobState(kept), jobState(job));
  });

  it('keep what model-deployment/observe.ts reads of a server Deployment and a Service', () => {
    const metadata = { name: 'md-abc', namespace: 'ns', uid: 'd1', labels: revisionSelector('md', 'abc'), ownerReferences: [owner] };
    const status = { readyReplicas: 1, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] };
    const dep = { metadata: { ...metadata, managedFields }, spec: { replicas: 2, progressDeadlineSeconds: 600, template: { spec: {} }, selector: {} }, status };
    assert.deepEqual(shaped(deployments, dep), { metadata, spec: { replicas: 2, progressDeadlineSeconds: 600 }, status });
    const svc = { metadata: { ...metadata, managedFields }, spec: { selector: { a: 'b' }, ports: [{ port: 80 }], clusterIP: '10.0.0.1' }, status: { loadBalancer: {} } };
    assert.deepEqual(shaped(services, svc), { metadata, spec: { selector: { a: 'b' }, ports: [{ port: 80 }] }, status: {} });
  });

  it('keep the whole spec, status and annotations of the primaries, without managedFields and last-applied', () => {
    for (const ref of [trainingPipelines, modelDeployments]) {
      const metadata = { name: 'x', namespace: 'ns', generation: 3, annotations: { 'perennial.dev/champion': 'v2' } };
      const obj = {
        metadata: { ...metadata, managedFields, annotations: { ...metadata.annotations, 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
        spec: { a: { b: [1] } }, status: { observedGeneration: 3, conditions: [] },
      };
      assert.deepEqual(shaped(ref, obj), { metadata, spec: obj.spec, status: obj.status });
    }
  });
});
