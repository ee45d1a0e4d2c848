import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type KubeObject, type ResourceRef, controllerOwnerKey, controllerRef, parseKey, resourcePath } from './resource.js';

const pipelines: ResourceRef = { group: 'perennial.dev', version: 'v1alpha1', plural: 'trainingpipelines', kind: 'TrainingPipeline', namespaced: true };
const configMaps: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
const namespaces: ResourceRef = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };

function job(owners: NonNullable<NonNullable<KubeObject['metadata']>['ownerReferences']>): KubeObject {
  return { apiVersion: 'batch/v1', kind: 'Job', metadata: { namespace: 'ml', name: 'p-1', ownerReferences: owners } };
}

describe('controllerOwnerKey', () => {
  const table: Array<[string, KubeObject, ReturnType<typeof controllerOwnerKey>]> = [
    ['maps a Job to its controlling pipeline', job([{ apiVersion: 'perennial.dev/v1alpha1', kind: 'TrainingPipeline', name: 'p', uid: 'u', controller: true }]), { namespace: 'ml', name: 'p' }],
    ['accepts another version of the same group', job([{ apiVersion: 'perennial.dev/v1', kind: 'TrainingPipeline', name: 'p', uid: 'u', controller: true }]), { namespace: 'ml', name: 'p' }],
    ['ignores a non-controller owner', job([{ apiVersion: 'perennial.dev/v1alpha1', kind: 'TrainingPipeline', name: 'p', uid: 'u' }]), undefined],
    ['ignores a controller of another kind', job([{ apiVersion: 'perennial.dev/v1alpha1', kind: 'ModelDeployment', name: 'p', uid: 'u', controller: true }]), undefined],
    ['ignores the same kind in another group', job([{ apiVersion: 'other.io/v1alpha1', kind: 'TrainingPipeline', name: 'p', uid: 'u', controller: true }]), undefined],
    ['no owners', job([]), undefined],
  ];
  for (const [name, obj, want] of table) {
    it(name, () => assert.deepEqual(controllerOwnerKey(obj, pipelines), want));
  }

  it('builds a controller reference that maps back', () => {
    const owner = { metadata: { name: 'p', namespace: 'ml', uid: 'u1' } };
    const ref = controllerRef(owner, pipelines);
    assert.deepEqual(ref, { apiVersion: 'perennial.dev/v1alpha1', kind: 'TrainingPipeline', name: 'p', uid: 'u1', controller: true, blockOwnerDeletion: true });
    assert.deepEqual(controllerOwnerKey(job([ref]), pipelines), { namespace: 'ml', name: 'p' });
  });
});

describe('resourcePath and keys', () => {
  it('builds core, group, cluster-wide and subresource paths', () => {
    assert.equal(resourcePath(configMaps, 'ns1', 'a'), '/api/v1/namespaces/ns1/configmaps/a');
    assert.equal(resourcePath(configMaps, ''), '/api/v1/configmaps');
    assert.equal(resourcePath(pipelines, 'ml', 'p', 'status'), '/apis/perennial.dev/v1alpha1/namespaces/ml/trainingpipelines/p/status');
    assert.equal(resourcePath(namespaces, 'ignored', 'x'), '/api/v1/namespaces/x');
  });
  it('parses keys', () => {
    assert.deepEqual(parseKey('ns/a'), { namespace: 'ns', name: 'a' });
    assert.deepEqual(parseKey('cluster-scoped'), { namespace: '', name: 'cluster-scoped' });
  });
});
