import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { ApiException } from '@kubernetes/client-node';
import { Controller, type ReconcileResult } from './controller.js';
import { ConflictError } from './errors.js';
import { WriteExpectations } from './expectations.js';
import type { CacheReader } from './informer.js';
import { createLogger } from './log.js';
import { RuntimeMetrics } from './metrics.js';
import type { KubeObject, ObjectKey } from './resource.js';
import { FakeClock } from './testing/fake-clock.js';

class MapCache implements CacheReader<KubeObject> {
  readonly objects = new Map<string, KubeObject>();
  put(name: string, resourceVersion: string, generation = 1): void {
    this.objects.set(`ns/${name}`, { metadata: { namespace: 'ns', name, resourceVersion, generation } });
  }
  get(namespace: string, name: string): KubeObject | undefined {
    return this.objects.get(`${namespace}/${name}`);
  }
  list(): KubeObject[] {
    return [...this.objects.values()];
  }
  hasSynced(): boolean {
    return true;
  }
}

function setup(behaviour: (key: ObjectKey, call: number) => Promise<ReconcileResult>) {
  const clock = new FakeClock();
  const cache = new MapCache();
  cache.put('a', '1');
  const metrics = new RuntimeMetrics({ defaultMetrics: false });
  const expectations = new WriteExpectations(clock, 5000);
  const calls: string[] = [];
  const c = new Controller({
    name: 'test', primary: cache, workers: 2, expectations, clock, metrics, logger: createLogger({ silent: true }),
    backoff: { baseMs: 10, capMs: 1000 },
    reconciler: {
      reconcile: (key) => {
        calls.push(key.name);
        return behaviour(key, calls.length);
      },
    },
  });
  return { clock, cache, metrics, expectations, calls, c };
}

describe('Controller.processKey', () => {
  it('forgets the backoff on success and requeues after requeueAfterMs', async () => {
    const { c, clock } = setup(() => Promise.resolve({ requeueAfterMs: 500 }));
    c.queue.addRateLimited('ns/a'); // a previous failure
    assert.equal(c.queue.numRequeues('ns/a'), 1);
    assert.equal(await c.processKey('ns/a'), 'requeue');
    assert.equal(c.queue.numRequeues('ns/a'), 0);
    clock.advance(499);
    assert.equal(c.queue.len(), 1, 'the earlier backoff entry (10 ms) fired; the requeue is still pending');
    assert.equal(c.queue.delayedLen(), 0, 'a later due time for a queued key is dropped with it');
  });

  it('retries failures with a per-key backoff that grows, and counts them by class', async () => {
    const { c, clock, metrics } = setup(() => Promise.reject(new ApiException(409, 'x', JSON.stringify({ reason: 'Conflict' }), {})));
    assert.equal(await c.processKey('ns/a'), 'error');
    clock.advance(9);
    assert.equal(c.queue.len(), 0);
    clock.advance(1);
    assert.equal(c.queue.len(), 1, 'first retry after 10 ms');
    assert.equal(await c.queue.get(), 'ns/a');
    assert.equal(await c.processKey('ns/a'), 'error');
    c.queue.done('ns/a');
    clock.advance(19);
    assert.equal(c.queue.len(), 0);
    clock.advance(1);
    assert.equal(c.queue.len(), 1, 'second retry after 20 ms');
    assert.equal(await metrics.value('perennial_reconcile_errors_total', { controller: 'test', error: 'conflict' }), 2);
    assert.equal(await metrics.value('perennial_workqueue_retries_total', { controller: 'test' }), 2);
  });

  it("requeues after the server's retry hint", async () => {
    const body = JSON.stringify({ reason: 'TooManyRequests', details: { retryAfterSeconds: 2 } });
    const { c, clock } = setup(() => Promise.reject(new ApiException(429, 'x', body, {})));
    assert.equal(await c.processKey('ns/a'), 'error');
    clock.advance(1999);
    assert.equal(c.queue.len(), 0);
    clock.advance(1);
    assert.equal(c.queue.len(), 1);
  });

  it('does not reconcile a cache older than its own write, and resumes when the informer delivers it', async () => {
    const { c, calls, expectations, cache } = setup(() => Promise.resolve({}));
    expectations.expect('ns/a', '2');
    assert.equal(await c.processKey('ns/a'), 'stale');
    assert.deepEqual(calls, []);
    assert.equal(c.queue.delayedLen(), 1, 'a safety-net requeue');
    cache.put('a', '2');
    c.onPrimaryEvent('update', cache.get('ns', 'a') ?? {});
    assert.equal(await c.processKey('ns/a'), 'success');
    assert.deepEqual(calls, ['a']);
  });

  it('counts a conflict error thrown as a typed error the same way', async () => {
    const { c } = setup(() => Promise.reject(new ConflictError('stale', 409, 'Conflict')));
    assert.equal(await c.processKey('ns/a'), 'error');
    assert.equal(c.queue.numRequeues('ns/a'), 1);
  });
});

describe('Controller workers', () => {
  it('process enqueued keys, and drain waits for the reconcile in flight', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { c, calls } = setup(async (key) => {
      if (key.name === 'slow') await gate;
      return {};
    });
    c.start();
    c.enqueue({ namespace: 'ns', name: 'slow' });
    c.enqueue({ namespace: 'ns', name: 'a' });
    for (let i = 0; i < 5; i++) await tick();
    assert.deepEqual(calls.sort(), ['a', 'slow']);
    let drained = false;
    const drain = c.drain().then(() => {
      drained = true;
    });
    await tick();
    assert.equal(drained, false, 'the slow reconcile is still running');
    c.enqueue({ namespace: 'ns', name: 'late' });
    release();
    await drain;
    assert.equal(calls.includes('late'), false, 'no new work after drain began');
  });
});
