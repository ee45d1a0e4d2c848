import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError } from './errors.js';
import { WriteExpectations } from './expectations.js';
import type { KubeObject, ResourceRef } from './resource.js';
import { StatusWriter } from './status-writer.js';
import { FakeClock } from './testing/fake-clock.js';
import { FakeKube } from './testing/fake-kube.js';

const ref: ResourceRef = { group: 'perennial.dev', version: 'v1alpha1', plural: 'widgets', kind: 'Widget', namespaced: true };
type Widget = KubeObject & { spec?: unknown; status?: Record<string, unknown> };

function setup(status?: Record<string, unknown>) {
  const clock = new FakeClock();
  const kube = new FakeKube();
  const expectations = new WriteExpectations(clock, 1000);
  let writes = 0;
  const writer = new StatusWriter(kube, expectations, { onWrite: () => writes++ });
  const obj = kube.seed<Widget>(ref, { metadata: { namespace: 'ns', name: 'w' }, spec: { a: 1 }, ...(status ? { status } : {}) });
  return { clock, kube, expectations, writer, obj, writes: () => writes };
}

describe('StatusWriter', () => {
  it('writes nothing when the desired status equals the cached one, whatever the key order', async () => {
    const { writer, kube, obj, writes } = setup({ observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }] });
    const result = await writer.write(ref, obj, { conditions: [{ status: 'True', type: 'Ready' }], observedGeneration: 1, extra: undefined });
    assert.deepEqual(result, { written: false });
    assert.equal(kube.writes.length, 0);
    assert.equal(writes(), 0);
  });

  it('writes only the difference, with the resourceVersion, and records the written version', async () => {
    const { writer, kube, obj, expectations, writes } = setup({ observedGeneration: 1, phase: 'Old', gone: 'x' });
    const result = await writer.write(ref, obj, { observedGeneration: 2, phase: 'Old' });
    assert.equal(result.written, true);
    assert.deepEqual(kube.summary(), ['patchStatus widgets.perennial.dev ns/w']);
    assert.deepEqual(kube.writes[0]?.body, {
      metadata: { resourceVersion: obj.metadata?.resourceVersion },
      status: { observedGeneration: 2, gone: null },
    });
    assert.deepEqual(kube.get<Widget>(ref, { namespace: 'ns', name: 'w' })?.status, { observedGeneration: 2, phase: 'Old' });
    assert.equal(writes(), 1);
    assert.equal(result.written && expectations.expected('ns/w'), result.written && result.resourceVersion);
  });

  it('turns a stale resourceVersion into a ConflictError', async () => {
    const { writer, kube, obj } = setup({ phase: 'A' });
    await writer.write(ref, obj, { phase: 'B' });
    await assert.rejects(writer.write(ref, obj, { phase: 'C' }), ConflictError);
    assert.deepEqual(kube.get<Widget>(ref, { namespace: 'ns', name: 'w' })?.status, { phase: 'B' });
  });
});

describe('WriteExpectations', () => {
  it('holds a key until the cache shows the written version, or the timeout passes', () => {
    const clock = new FakeClock();
    const e = new WriteExpectations(clock, 1000);
    assert.equal(e.waitFor('ns/a', '1'), 0, 'nothing expected: trust the cache');
    e.expect('ns/a', '5');
    assert.equal(e.waitFor('ns/a', '4'), 1000);
    clock.advance(400);
    assert.equal(e.waitFor('ns/a', '4'), 600);
    e.observe('ns/a', '4');
    assert.equal(e.expected('ns/a'), '5', 'another version does not satisfy it');
    e.observe('ns/a', '5');
    assert.equal(e.waitFor('ns/a', '4'), 0, 'delivered by the informer');
    e.expect('ns/b', '7');
    assert.equal(e.waitFor('ns/b', '7'), 0, 'the cache already has it');
    e.expect('ns/c', '9');
    clock.advance(1000);
    assert.equal(e.waitFor('ns/c', '8'), 0, 'expired');
    e.expect('ns/d', '9');
    e.observe('ns/d', undefined, true);
    assert.equal(e.size, 0, 'a deletion clears it');
  });
});
