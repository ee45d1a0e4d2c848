// The pure parts of the chart tests' schema generation (no cluster needed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { schemaFileName, strictSchema } from './chart-tools.js';

describe('schemaFileName: kubeconform\'s {{ .ResourceKind }}{{ .KindSuffix }}.json', () => {
  const cases: [string, string, string, string][] = [
    ['Pod', '', 'v1', 'pod-v1.json'],
    ['Deployment', 'apps', 'v1', 'deployment-apps-v1.json'],
    ['ClusterRole', 'rbac.authorization.k8s.io', 'v1', 'clusterrole-rbac-v1.json'],
    ['TrainingPipeline', 'perennial.dev', 'v1alpha1', 'trainingpipeline-perennial-v1alpha1.json'],
  ];
  for (const [kind, group, version, want] of cases) it(`${group || 'core'}/${version} ${kind}`, () => assert.equal(schemaFileName(kind, group, version), want));
});

describe('strictSchema', () => {
  it('closes objects that list their properties, at every depth', () => {
    assert.deepEqual(strictSchema({ type: 'object', properties: { a: { type: 'object', properties: { b: { type: 'string' } } } } }), {
      type: 'object', additionalProperties: false,
      properties: { a: { type: 'object', additionalProperties: false, properties: { b: { type: 'string' } } } },
    });
  });

  it('leaves maps, open objects and a property named "properties" alone', () => {
    const map = { type: 'object', additionalProperties: { type: 'string' } };
    assert.deepEqual(strictSchema(map), map);
    const open = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { a: { type: 'string' } } };
    assert.deepEqual(strictSchema(open), open);
    const named = { type: 'object', properties: { properties: { type: 'string' } } };
    assert.deepEqual(strictSchema(named), { ...named, additionalProperties: false });
  });
});
