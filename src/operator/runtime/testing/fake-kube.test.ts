import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AlreadyExistsError, ConflictError, NotFoundError, TransientError } from '../errors.js';
import type { KubeObject, ResourceRef } from '../resource.js';
import { FakeKube } from './fake-kube.js';

const jobs: ResourceRef = { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job', namespaced: true };
type Job = KubeObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

describe('FakeKube', () => {
  it('records writes in order and behaves like the API server for create, patch, status and delete', async () => {
    const kube = new FakeKube();
    const job: Job = { metadata: { namespace: 'ml', name: 'p-1' }, spec: { parallelism: 1 } };
    const created = await kube.create(jobs, job);
    assert.equal(created.created, true);
    assert.equal(created.object?.metadata?.generation, 1);
    assert.deepEqual(await kube.create(jobs, job, { alreadyExistsOk: true }), { object: undefined, created: false });
    await assert.rejects(kube.create(jobs, job), AlreadyExistsError);

    const patched = await kube.patch<Job>(jobs, { namespace: 'ml', name: 'p-1' }, { spec: { suspend: true } });
    assert.deepEqual(patched.spec, { parallelism: 1, suspend: true });
    assert.equal(patched.metadata?.generation, 2, 'a spec change bumps the generation');
    const withStatus = await kube.patchStatus<Job>(jobs, { namespace: 'ml', name: 'p-1' }, { status: { active: 1 }, spec: { ignored: true } });
    assert.deepEqual(withStatus.status, { active: 1 });
    assert.equal(withStatus.spec?.['ignored'], undefined, 'the status subresource changes only status');
    assert.equal(withStatus.metadata?.generation, 2, 'a status write does not bump the generation');
    await assert.rejects(kube.patchStatus(jobs, { namespace: 'ml', name: 'p-1' }, { metadata: { resourceVersion: '1' }, status: {} }), ConflictError);
    await assert.rejects(kube.patch(jobs, { namespace: 'ml', name: 'nope' }, {}), NotFoundError);

    kube.failNext('delete', new TransientError('down', 503, 'ServiceUnavailable', undefined));
    await assert.rejects(kube.delete(jobs, { namespace: 'ml', name: 'p-1' }), TransientError);
    assert.equal(await kube.delete(jobs, { namespace: 'ml', name: 'p-1' }, { propagationPolicy: 'Background' }), true);
    assert.equal(await kube.delete(jobs, { namespace: 'ml', name: 'p-1' }), false, 'already gone');

    assert.deepEqual(kube.summary(), [
      'create jobs.batch ml/p-1',
      'create jobs.batch ml/p-1',
      'create jobs.batch ml/p-1 !AlreadyExistsError',
      'patch jobs.batch ml/p-1',
      'patchStatus jobs.batch ml/p-1',
      'patchStatus jobs.batch ml/p-1 !ConflictError',
      'patch jobs.batch ml/nope !NotFoundError',
      'delete jobs.batch ml/p-1 !TransientError',
      'delete jobs.batch ml/p-1',
      'delete jobs.batch ml/p-1',
    ]);
    assert.deepEqual(kube.writes[8]?.options, { propagationPolicy: 'Background' });
    assert.deepEqual(kube.list(jobs), []);
  });
});
