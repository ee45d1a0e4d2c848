import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { systemClock } from './clock.js';
import { FakeClock } from './testing/fake-clock.js';
import { ExponentialBackoff, WorkQueue } from './work-queue.js';

describe('WorkQueue', () => {
  it('de-duplicates a key while it is queued', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('ns/a');
    q.add('ns/b');
    q.add('ns/a');
    assert.equal(q.len(), 2);
    assert.equal(await q.get(), 'ns/a');
    assert.equal(await q.get(), 'ns/b');
    assert.equal(q.len(), 0);
  });

  it('re-queues a key added while it is processed, only after done', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('ns/a');
    const key = await q.get();
    assert.equal(key, 'ns/a');
    q.add('ns/a');
    q.add('ns/a');
    assert.equal(q.len(), 0, 'not handed out while being processed');
    q.done('ns/a');
    assert.equal(q.len(), 1);
    assert.equal(await q.get(), 'ns/a');
    q.done('ns/a');
    assert.equal(q.len(), 0);
  });

  it('hands a key straight to a waiting worker', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const waiting = q.get();
    q.add('ns/a');
    assert.equal(await waiting, 'ns/a');
    assert.ok(q.isProcessing('ns/a'));
  });

  it('never runs one key twice at once, with many workers and concurrent adds, and ends on the newest add', async () => {
    const q = new WorkQueue({ clock: systemClock() });
    const keys = ['ns/a', 'ns/b', 'ns/c'];
    const running = new Set<string>();
    const lastAdd = new Map<string, number>();
    const lastStart = new Map<string, number>();
    let seq = 0;
    let overlaps = 0;
    let processed = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const key = await q.get();
        if (key === undefined) return;
        if (running.has(key)) overlaps++;
        running.add(key);
        lastStart.set(key, seq++);
        processed++;
        for (let i = 0; i < 1 + (processed % 3); i++) await tick();
        running.delete(key);
        q.done(key);
      }
    };
    const workers = Array.from({ length: 8 }, () => worker());
    for (let round = 0; round < 200; round++) {
      const key = keys[round % keys.length] ?? 'ns/a';
      q.add(key);
      lastAdd.set(key, seq++);
      if (round % 7 === 0) await tick();
    }
    // Let the queue settle, then stop.
    for (let i = 0; i < 50 && (q.len() > 0 || running.size > 0); i++) await tick();
    await q.shutDownWithDrain();
    await Promise.all(workers);
    assert.equal(overlaps, 0);
    assert.ok(processed < 200, `adds were de-duplicated (${processed} reconciles for 200 adds)`);
    for (const key of keys) {
      // Level-triggered: every key was reconciled after its last add.
      assert.ok((lastStart.get(key) ?? -1) > (lastAdd.get(key) ?? 0), `${key} reconciled after its newest add`);
    }
  });

  it('backs off per key, exponentially up to the cap, and resets on forget', () => {
    const clock = new FakeClock();
    const limiter = new ExponentialBackoff(10, 100);
    const q = new WorkQueue({ clock, rateLimiter: limiter });
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) delays.push(limiter.when('ns/a'));
    assert.deepEqual(delays, [10, 20, 40, 80, 100, 100]);
    assert.equal(limiter.when('ns/b'), 10, 'another key has its own backoff');
    limiter.forget('ns/a');
    assert.equal(limiter.when('ns/a'), 10);
    limiter.forget('ns/a');
    limiter.forget('ns/b');

    q.addRateLimited('ns/a');
    assert.equal(q.len(), 0);
    clock.advance(9);
    assert.equal(q.len(), 0);
    clock.advance(1);
    assert.equal(q.len(), 1);
    assert.equal(q.numRequeues('ns/a'), 1);
    q.forget('ns/a');
    assert.equal(q.numRequeues('ns/a'), 0);
  });

  it('keeps the earliest due time of addAfter and fires in due order', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('ns/late', 300);
    q.addAfter('ns/early', 100);
    q.addAfter('ns/late', 200); // earlier: replaces 300
    q.addAfter('ns/late', 500); // later: ignored
    assert.equal(q.delayedLen(), 2);
    clock.advance(150);
    assert.equal(q.len(), 1);
    clock.advance(100);
    assert.equal(q.len(), 2);
    assert.equal(await q.get(), 'ns/early');
    assert.equal(await q.get(), 'ns/late');
    clock.advance(1000);
    assert.equal(q.len(), 0, 'the ignored later due time does not fire again');
    assert.equal(clock.timerCount, 0);
  });

  it('addAfter with a due time in the past adds at once', () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.addAfter('ns/a', 0);
    assert.equal(q.len(), 1);
  });

  it('drains: stops accepting, releases idle workers, waits for in-flight keys', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.add('ns/a');
    q.add('ns/b');
    q.addAfter('ns/c', 50);
    const inFlight = await q.get();
    assert.equal(inFlight, 'ns/a');
    let drained = false;
    const drain = q.shutDownWithDrain().then(() => {
      drained = true;
    });
    assert.equal(await q.get(), undefined, 'no more keys after shut down');
    q.add('ns/d');
    clock.advance(100);
    assert.equal(q.len(), 0, 'adds and delayed adds are dropped');
    await tick();
    assert.equal(drained, false, 'waits for the in-flight key');
    q.add('ns/a');
    q.done('ns/a');
    await drain;
    assert.equal(drained, true);
    assert.equal(q.len(), 0, 'a key re-added during drain is not queued');
  });

  it('reports depth, adds and retries to its observer', async () => {
    const depths: number[] = [];
    let adds = 0;
    let retries = 0;
    const clock = new FakeClock();
    const q = new WorkQueue({
      clock,
      observer: { onDepth: (d) => depths.push(d), onAdd: () => adds++, onRetry: () => retries++ },
    });
    q.add('ns/a');
    q.add('ns/b');
    await q.get();
    q.addRateLimited('ns/c');
    clock.advance(10_000);
    assert.deepEqual(depths, [1, 2, 1, 2]);
    assert.equal(adds, 3);
    assert.equal(retries, 1);
  });
});
