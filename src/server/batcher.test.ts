import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MicroBatcher, QueueFullError } from './batcher.js';

function recording(delayMs = 0): { calls: number[][]; run: (xs: readonly number[]) => Promise<number[]> } {
  const calls: number[][] = [];
  return {
    calls,
    run: async (xs) => {
      calls.push([...xs]);
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      return xs.map((x) => x * 10);
    },
  };
}

describe('MicroBatcher', () => {
  it('gathers concurrent requests into one call and gives each its own results in order', async () => {
    const r = recording();
    const b = new MicroBatcher(r.run, { maxSize: 64, maxWaitMs: 5, maxQueueRows: 1000 });
    const [a, c, d] = await Promise.all([b.submit([1, 2]), b.submit([3]), b.submit([4, 5, 6])]);
    assert.deepEqual(a, [10, 20]);
    assert.deepEqual(c, [30]);
    assert.deepEqual(d, [40, 50, 60]);
    assert.deepEqual(r.calls, [[1, 2, 3, 4, 5, 6]]);
  });

  it('never puts more than maxSize rows in one call, splitting a large request', async () => {
    const r = recording();
    const b = new MicroBatcher(r.run, { maxSize: 4, maxWaitMs: 1, maxQueueRows: 1000 });
    const out = await b.submit([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(out, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    assert.deepEqual(r.calls.map((c) => c.length), [4, 4, 2]);
  });

  it('runs one call at a time; rows arriving meanwhile form the next batch (batches grow with load)', async () => {
    const r = recording(20);
    const sizes: number[] = [];
    const b = new MicroBatcher(r.run, { maxSize: 100, maxWaitMs: 0, maxQueueRows: 1000, onBatch: (n) => sizes.push(n) });
    const first = b.submit([1]);
    await new Promise((res) => setTimeout(res, 5)); // the first call is running now
    const rest = Array.from({ length: 30 }, (_, i) => b.submit([i + 2]));
    await Promise.all([first, ...rest]);
    assert.deepEqual(sizes, [1, 30]);
  });

  it('rejects with QueueFullError when the queue would exceed its bound, and serves the rest', async () => {
    const r = recording(10);
    const b = new MicroBatcher(r.run, { maxSize: 2, maxWaitMs: 0, maxQueueRows: 3 });
    const ok = b.submit([1, 2]); // flushed at once (maxSize reached)
    const queued = b.submit([3, 4, 5]);
    await assert.rejects(b.submit([6]), QueueFullError);
    assert.deepEqual(await ok, [10, 20]);
    assert.deepEqual(await queued, [30, 40, 50]);
  });

  it('fails every request of a failed call, and later calls still run', async () => {
    let fail = true;
    const b = new MicroBatcher<number, number>((xs) => {
      if (fail) throw new Error('model broke');
      return xs.map((x) => -x);
    }, { maxSize: 8, maxWaitMs: 1, maxQueueRows: 100 });
    const results = await Promise.allSettled([b.submit([1]), b.submit([2])]);
    assert.deepEqual(results.map((x) => x.status), ['rejected', 'rejected']);
    fail = false;
    assert.deepEqual(await b.submit([3]), [-3]);
  });

  it('idle() waits for queued and running calls', async () => {
    const r = recording(10);
    const b = new MicroBatcher(r.run, { maxSize: 1, maxWaitMs: 0, maxQueueRows: 100 });
    let done = 0;
    for (let i = 0; i < 3; i++) void b.submit([i]).then(() => (done += 1));
    await b.idle();
    await new Promise((res) => setImmediate(res));
    assert.equal(done, 3);
    assert.equal(b.queued, 0);
  });
});
