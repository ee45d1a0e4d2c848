import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from './resource.js';
import { lastAppliedAnnotation, shapeObject, type Shape } from './transforms.js';

const managedFields = [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': {} } }];
const meta = {
  name: 'a', namespace: 'ns', uid: 'u1', resourceVersion: '7', generation: 2, labels: { app: 'x' },
  ownerReferences: [{ apiVersion: 'v1', kind: 'K', name: 'o', uid: 'u0', controller: true }],
};

describe('shapeObject', () => {
  const cases: Array<{ name: string; obj: Record<string, unknown>; shape: Shape; want: Record<string, unknown> }> = [
    {
      name: 'drops managedFields and last-applied, keeps the other annotations, spec and status whole',
      obj: { apiVersion: 'g/v1', kind: 'K', metadata: { ...meta, managedFields, annotations: { [lastAppliedAnnotation]: '{"big":1}', keep: 'me' } }, spec: { a: 1, b: { c: 2 } }, status: { s: 1 } },
      shape: { spec: 'all', status: 'all', annotations: true },
      want: { apiVersion: 'g/v1', kind: 'K', metadata: { ...meta, annotations: { keep: 'me' } }, spec: { a: 1, b: { c: 2 } }, status: { s: 1 } },
    },
    {
      name: 'no annotations member left when last-applied was the only one',
      obj: { metadata: { ...meta, annotations: { [lastAppliedAnnotation]: '{}' } } },
      shape: { spec: 'all', status: 'all', annotations: true },
      want: { metadata: meta },
    },
    {
      name: 'annotations false drops every annotation',
      obj: { metadata: { ...meta, managedFields, annotations: { 'deployment.kubernetes.io/revision': '1' } } },
      shape: { spec: 'all', status: 'all', annotations: false },
      want: { metadata: meta },
    },
    {
      name: 'keeps only the named spec fields (a Job without its pod template) and the whole status',
      obj: { metadata: meta, spec: { template: { spec: { containers: [{ name: 'c', image: 'i' }] } }, backoffLimit: 0 }, status: { conditions: [{ type: 'Complete', status: 'True' }], completionTime: 't' } },
      shape: { spec: [], status: 'all', annotations: false },
      want: { metadata: meta, spec: {}, status: { conditions: [{ type: 'Complete', status: 'True' }], completionTime: 't' } },
    },
    {
      name: 'named fields that are absent stay absent; a missing spec or status stays missing',
      obj: { metadata: meta, spec: { replicas: 2, template: {} } },
      shape: { spec: ['replicas', 'progressDeadlineSeconds'], status: ['readyReplicas'], annotations: false },
      want: { metadata: meta, spec: { replicas: 2 } },
    },
    {
      name: 'other top-level members stay (a ConfigMap\'s data)',
      obj: { kind: 'ConfigMap', metadata: { ...meta, managedFields }, data: { k: 'v' } },
      shape: { spec: [], status: [], annotations: false },
      want: { kind: 'ConfigMap', metadata: meta, data: { k: 'v' } },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const before = structuredClone(c.obj);
      assert.deepEqual(shapeObject(c.obj as KubeObject, c.shape), c.want);
      assert.deepEqual(c.obj, before, 'the input is not mutated');
    });
  }
});
