import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffCeilingMs, backoffDelayMs, retry } from './backoff.js';

describe('backoff', () => {
  const b = { baseMs: 100, capMs: 1000 };

  it('ceilings double from the base up to the cap, also far out', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 2000].map((n) => backoffCeilingMs(b, n)), [100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('waits are drawn below the ceiling (full jitter)', () => {
    const table: [number, number, number][] = [[0, 0, 0], [0, 0.5, 50], [3, 0.999, 799], [9, 0.25, 250]];
    for (const [n, r, want] of table) assert.equal(backoffDelayMs(b, n, () => r), want, `retry ${n}, random ${r}`);
  });

  it('spreads clients that failed together over the window', () => {
    const waits = Array.from({ length: 1000 }, () => backoffDelayMs(b, 3));
    assert.ok(waits.every((w) => w >= 0 && w < 800));
    assert.ok(new Set(waits.map((w) => Math.floor(w / 100))).size === 8, 'every tenth of the window is used');
  });
});

describe('retry', () => {
  const failing = (failures: number, error: () => Error) => {
    let calls = 0;
    return { calls: () => calls, attempt: () => (++calls <= failures ? Promise.reject(error()) : Promise.resolve(calls)) };
  };

  it('retries a retryable failure with jittered waits until it succeeds', async () => {
    const f = failing(2, () => new Error('blip'));
    const slept: number[] = [];
    const got = await retry(f.attempt, { attempts: 3, backoff: { baseMs: 100, capMs: 1000 }, retryable: () => true, random: () => 0.5, sleep: (ms) => { slept.push(ms); return Promise.resolve(); } });
    assert.equal(got, 3);
    assert.deepEqual(slept, [50, 100]);
  });

  it('throws the last failure once the attempts are used', async () => {
    const f = failing(5, () => new Error('down'));
    await assert.rejects(retry(f.attempt, { attempts: 3, backoff: { baseMs: 1, capMs: 1 }, retryable: () => true, sleep: () => Promise.resolve() }), /down/);
    assert.equal(f.calls(), 3);
  });

  it('throws a failure that is not retryable at once', async () => {
    const f = failing(5, () => new RangeError('refused'));
    await assert.rejects(retry(f.attempt, { attempts: 3, backoff: { baseMs: 1, capMs: 1 }, retryable: (e) => !(e instanceof RangeError), sleep: () => Promise.resolve() }), RangeError);
    assert.equal(f.calls(), 1);
  });
});
