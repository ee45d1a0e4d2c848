import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataPolls, ListingDeferred, type PollState, deferredPollAtMs, firstPollAtMs, listingNeed, nextPollAtMs, pollStretch, reserveToken, takeToken, watermarkListing } from './data-polls.js';
import type { DataListing } from './triggers.js';

const listing = (objects: number): DataListing => ({ objects, digest: `d${objects}`, newestMs: 1, newObjects: 0, newRows: 0 });
const state: PollState = { listing: listing(1), basis: 'b', dueAtMs: 10_000, pollMs: 60_000, countedFromMs: 5 };

describe('listingNeed', () => {
  const table: Array<{ name: string; state: PollState | undefined; basis: string; counted?: number | undefined; same?: boolean; now: number; changed: boolean; standIn: boolean; want: string }> = [
    { name: 'no listing yet, no watermark: required', state: undefined, basis: 'b', now: 0, changed: false, standIn: false, want: 'required' },
    { name: 'no listing since the start, a watermark stands in: the first listing deferred', state: undefined, basis: 'b', now: 0, changed: false, standIn: true, want: 'first-deferred' },
    { name: 'no listing since the start, but a notification: required', state: undefined, basis: 'b', now: 0, changed: true, standIn: true, want: 'required' },
    { name: 'the sources changed: required', state, basis: 'other', now: 0, changed: false, standIn: true, want: 'required' },
    { name: 'the watermark moved to other data (a run gave its rows back): required', state, basis: 'b', counted: 3, same: false, now: 0, changed: false, standIn: true, want: 'required' },
    { name: 'the watermark moved to this very listing (the baseline, a run took it): rebase', state, basis: 'b', counted: 7, same: true, now: 0, changed: false, standIn: true, want: 'rebase' },
    { name: 'a notification named the pipeline: required, even before the poll is due', state, basis: 'b', now: 0, changed: true, standIn: true, want: 'required' },
    { name: 'the poll is due: poll', state, basis: 'b', now: 10_000, changed: false, standIn: true, want: 'poll' },
    { name: 'nothing new and the poll not due: reuse the listing', state, basis: 'b', now: 9_999, changed: false, standIn: true, want: 'none' },
  ];
  for (const t of table) {
    it(t.name, () => assert.equal(listingNeed(t.state, t.basis, 'counted' in t ? t.counted : 5, t.same ?? false, t.now, t.changed, t.standIn), t.want));
  }
});

describe('watermarkListing', () => {
  it('the watermark as a listing with no new objects', () => {
    assert.deepEqual(watermarkListing({ objects: 3, digest: 'd', newestObjectTime: '2026-12-05T06:00:00.123Z' }),
      { objects: 3, digest: 'd', newestMs: Date.parse('2026-12-05T06:00:00.123Z'), newObjects: 0, newRows: 0 });
    assert.deepEqual(watermarkListing({ objects: 0, digest: 'e' }), { objects: 0, digest: 'e', newestMs: undefined, newObjects: 0, newRows: 0 });
  });
  it('nothing stands in without a complete watermark', () => {
    assert.equal(watermarkListing(undefined), undefined);
    assert.equal(watermarkListing({ digest: 'd' }), undefined);
    assert.equal(watermarkListing({ objects: 1 }), undefined);
  });
});

describe('firstPollAtMs', () => {
  it('a point of one poll interval', () => {
    assert.equal(firstPollAtMs(1000, 60_000, 0), 1000);
    assert.equal(firstPollAtMs(1000, 60_000, 0.5), 31_000);
    assert.equal(firstPollAtMs(1000, 60_000, 0.999999), 61_000);
  });
});

describe('nextPollAtMs', () => {
  it('stretches the interval by 0.8 to 1.2', () => {
    assert.equal(nextPollAtMs(1000, 60_000, 0), 1000 + 48_000);
    assert.equal(nextPollAtMs(1000, 60_000, 0.5), 1000 + 60_000);
    assert.equal(nextPollAtMs(1000, 60_000, 0.999999), 1000 + 72_000);
  });
});

describe('pollStretch', () => {
  const table: Array<{ name: string; demand: number; rate: number; want: number }> = [
    { name: 'no pipelines', demand: 0, rate: 50, want: 1 },
    { name: 'polls within 80% of the budget: not stretched', demand: 40, rate: 50, want: 1 },
    { name: '1,000 pipelines every 60 s of 50/s: fit', demand: 1000 / 60, rate: 50, want: 1 },
    { name: '10,000 pipelines every 60 s of 50/s: ×4.17 (every 250 s)', demand: 10_000 / 60, rate: 50, want: 10_000 / 60 / 40 },
    { name: 'a larger budget stretches less', demand: 10_000 / 60, rate: 500, want: 1 },
  ];
  for (const t of table) it(t.name, () => assert.ok(Math.abs(pollStretch(t.demand, t.rate) - t.want) < 1e-9, String(pollStretch(t.demand, t.rate))));
});

describe('deferredPollAtMs', () => {
  const table: Array<{ name: string; now: number; wait: number; nextSlot: number; rate: number; want: { atMs: number; nextSlotMs: number } }> = [
    { name: 'no queue: when the next token is free', now: 1000, wait: 20, nextSlot: 0, rate: 50, want: { atMs: 1020, nextSlotMs: 1040 } },
    { name: 'a queue: after it, one token later than the last', now: 1000, wait: 20, nextSlot: 1500, rate: 50, want: { atMs: 1500, nextSlotMs: 1520 } },
    { name: 'a queue that has drained: when the next token is free', now: 2000, wait: 100, nextSlot: 1500, rate: 10, want: { atMs: 2100, nextSlotMs: 2200 } },
  ];
  for (const t of table) it(t.name, () => assert.deepEqual(deferredPollAtMs(t.now, t.wait, t.nextSlot, t.rate), t.want));
});

describe('takeToken', () => {
  const table: Array<{ name: string; tokens: number; elapsedMs: number; rate: number; burst: number; wantWait: number; wantTokens: number }> = [
    { name: 'a token there: taken at once', tokens: 3, elapsedMs: 0, rate: 10, burst: 5, wantWait: 0, wantTokens: 2 },
    { name: 'empty: wait for the next one', tokens: 0, elapsedMs: 0, rate: 10, burst: 5, wantWait: 100, wantTokens: 0 },
    { name: 'in debt to reservations: wait until they are paid and one more is there', tokens: -3, elapsedMs: 0, rate: 10, burst: 5, wantWait: 400, wantTokens: -3 },
    { name: 'refilled by the time passed', tokens: 0, elapsedMs: 250, rate: 10, burst: 5, wantWait: 0, wantTokens: 1.5 },
    { name: 'refill capped at the burst', tokens: 0, elapsedMs: 60_000, rate: 10, burst: 5, wantWait: 0, wantTokens: 4 },
  ];
  for (const t of table) {
    it(t.name, () => {
      const r = takeToken({ tokens: t.tokens, atMs: 1000 }, 1000 + t.elapsedMs, t.rate, t.burst);
      assert.equal(r.waitMs, t.wantWait);
      assert.ok(Math.abs(r.bucket.tokens - t.wantTokens) < 1e-9, `tokens ${r.bucket.tokens}`);
    });
  }
});

describe('reserveToken', () => {
  const table: Array<{ name: string; tokens: number; elapsedMs: number; rate: number; burst: number; wantAt: number; wantTokens: number }> = [
    { name: 'a token there: now', tokens: 3, elapsedMs: 0, rate: 10, burst: 5, wantAt: 0, wantTokens: 2 },
    { name: 'empty: reserved for when the next one is due', tokens: 0, elapsedMs: 0, rate: 10, burst: 5, wantAt: 100, wantTokens: -1 },
    { name: 'in debt: reserved after the earlier reservations', tokens: -3, elapsedMs: 0, rate: 10, burst: 5, wantAt: 400, wantTokens: -4 },
    { name: 'the debt paid back by the time passed', tokens: -3, elapsedMs: 400, rate: 10, burst: 5, wantAt: 0, wantTokens: 0 },
    { name: 'refill capped at the burst', tokens: 0, elapsedMs: 60_000, rate: 10, burst: 5, wantAt: 0, wantTokens: 4 },
    { name: 'half a token: reserved for when the other half is due', tokens: 0.5, elapsedMs: 0, rate: 2, burst: 2, wantAt: 250, wantTokens: -0.5 },
  ];
  for (const t of table) {
    it(t.name, () => {
      const r = reserveToken({ tokens: t.tokens, atMs: 1000 }, 1000 + t.elapsedMs, t.rate, t.burst);
      assert.equal(r.atMs - (1000 + t.elapsedMs), t.wantAt);
      assert.ok(Math.abs(r.bucket.tokens - t.wantTokens) < 1e-9, `tokens ${r.bucket.tokens}`);
    });
  }
});

describe('DataPolls', () => {
  function polls(burst: number, listingsPerSecond = 1) {
    let now = 0;
    const p = new DataPolls({ now: () => now, random: () => 0.5, listingsPerSecond, burst });
    let calls = 0;
    const list = () => { calls++; return Promise.resolve(listing(calls)); };
    return { p, list, calls: () => calls, now: () => now, advance: (ms: number) => { now += ms; } };
  }
  const deferredAt = async (p: Promise<unknown>): Promise<number> => {
    try {
      await p;
    } catch (e: unknown) {
      if (e instanceof ListingDeferred) return e.atMs;
      throw e;
    }
    throw new Error('listed, not deferred');
  };

  it('lists once, reuses the listing until the poll is due, then lists again', async () => {
    const t = polls(10);
    const first = await t.p.listing('ns/a', 'b', 60_000, t.list);
    assert.equal(first.nextPollAtMs, 60_000);
    t.advance(59_999);
    assert.equal((await t.p.listing('ns/a', 'b', 60_000, t.list)).objects, 1);
    assert.equal(t.calls(), 1);
    t.advance(1);
    assert.equal((await t.p.listing('ns/a', 'b', 60_000, t.list)).objects, 2);
  });

  it('a notification makes the next reconcile list, however far the poll is', async () => {
    const t = polls(10);
    await t.p.listing('ns/a', 'b', 3_600_000, t.list);
    t.p.markChanged('ns/a');
    t.p.markChanged('ns/other');
    assert.equal((await t.p.listing('ns/a', 'b', 3_600_000, t.list)).objects, 2);
    assert.equal((await t.p.listing('ns/a', 'b', 3_600_000, t.list)).objects, 2, 'and only once');
  });

  it('a due poll yields to a listing a pipeline cannot do without: it reuses its listing until a token is free', async () => {
    const t = polls(1);
    await t.p.listing('ns/a', 'b', 1_000, t.list); // takes the only token
    t.advance(1_000); // a is due, and the bucket has refilled one token … which c, new, takes first:
    assert.equal((await t.p.listing('ns/c', 'b', 1_000, t.list)).objects, 2);
    assert.equal(await deferredAt(t.p.listing('ns/d', 'b', 1_000, t.list)), 2_000, 'd, new, reserves the next token');
    const deferred = await t.p.listing('ns/a', 'b', 1_000, t.list);
    assert.equal(deferred.objects, 1, 'a reuses its listing');
    assert.equal(deferred.kept, true);
    assert.equal(deferred.nextPollAtMs, 3_000, 'until a token is free after d\'s');
    t.advance(1_000);
    assert.equal((await t.p.listing('ns/d', 'b', 1_000, t.list)).objects, 3, 'd lists at its token');
    t.advance(1_000);
    assert.equal((await t.p.listing('ns/a', 'b', 1_000, t.list)).objects, 4, 'then a');
    assert.equal(t.calls(), 4);
  });

  it('a notified pipeline that finds no token reserves one, and reuses its listing until then', async () => {
    const t = polls(1);
    await t.p.listing('ns/a', 'b', 3_600_000, t.list);
    t.p.markChanged('ns/a');
    const kept = await t.p.listing('ns/a', 'b', 3_600_000, t.list);
    assert.deepEqual([kept.objects, kept.kept, kept.nextPollAtMs], [1, true, 1_000]);
    assert.equal(await deferredAt(t.p.listing('ns/new', 'b', 60_000, t.list)), 2_000, 'queued behind it');
    t.advance(1_000);
    assert.equal((await t.p.listing('ns/a', 'b', 3_600_000, t.list)).objects, 2);
  });

  it('polls due together with no token left come back one per token: one deferral each, never a reconcile waiting', async () => {
    const t = polls(5); // 1 token a second, a burst of 5
    const keys = ['ns/p0', 'ns/p1', 'ns/p2', 'ns/p3', 'ns/p4'];
    for (const k of keys) await t.p.listing(k, 'b', 60_000, t.list); // all listed at 0: due at 60 s (random() is 0.5)
    t.advance(59_900);
    for (let i = 0; i < 5; i++) await t.p.listing(`ns/other${i}`, 'b', 60_000, t.list); // the bucket emptied just before
    t.advance(100);
    // Each pipeline reconciled at its wake-up, earliest first, until each has listed again.
    const wake = new Map(keys.map((k) => [k, 60_000]));
    let reconciles = 0;
    while (wake.size > 0) {
      const [key, at] = [...wake.entries()].sort((x, y) => x[1] - y[1])[0] ?? ['', 0];
      t.advance(Math.max(0, at - t.now()));
      const before = t.calls();
      const l = await t.p.listing(key, 'b', 60_000, t.list);
      reconciles++;
      if (t.calls() > before) wake.delete(key);
      else wake.set(key, l.nextPollAtMs ?? 0);
    }
    assert.equal(reconciles, 10, 'one deferral and one listing each');
  });

  it('a pipeline without a usable listing and no token: ListingDeferred at its reservation, then it lists', async () => {
    const t = polls(1);
    await t.p.listing('ns/a', 'b', 60_000, t.list);
    assert.equal(await deferredAt(t.p.listing('ns/b', 'b', 60_000, t.list)), 1_000, 'a new pipeline');
    assert.equal(await deferredAt(t.p.listing('ns/a', 'other sources', 60_000, t.list)), 2_000, 'sources changed: the kept listing is no use');
    t.advance(1_000);
    assert.equal((await t.p.listing('ns/b', 'b', 60_000, t.list)).objects, 2);
    t.advance(1_000);
    assert.equal((await t.p.listing('ns/a', 'other sources', 60_000, t.list)).objects, 3);
  });

  it('stretches every poll interval when the polls ask for more than 80% of the budget, and less as pipelines go', async () => {
    const t = polls(1000, 10); // 10 listings a second: the polls may take 8
    for (let i = 0; i < 20; i++) await t.p.listing(`ns/p${i}`, 'b', 1_000, t.list); // 20 pipelines polling every second ask 20/s
    assert.equal(t.p.stretch(), 2.5);
    assert.equal((await t.p.listing('ns/last', 'b', 1_000, t.list)).nextPollAtMs, 2_500, 'its next poll: 1 s × 2.5');
    assert.equal(t.p.stretch(), 21 / 8);
    for (let i = 0; i < 15; i++) t.p.forget(`ns/p${i}`);
    assert.equal(t.p.stretch(), 1, '6 pipelines fit');
    for (let i = 15; i < 20; i++) t.p.forget(`ns/p${i}`);
    t.p.forget('ns/last');
    assert.equal(t.p.stretch(), 1);
  });

  it('after a restart the watermark stands in: no listing (and no token) until the first poll, spread over the interval', async () => {
    const t = polls(1);
    const standIn = listing(7);
    const first = await t.p.listing('ns/a', 'b', 60_000, t.list, standIn);
    assert.deepEqual(first, { ...standIn, kept: true, nextPollAtMs: 30_000 }, 'random() is 0.5: half the interval');
    assert.equal(t.calls(), 0);
    assert.equal((await t.p.listing('ns/b', 'b', 60_000, t.list, standIn)).kept, true, 'the one token is still there…');
    assert.equal((await t.p.listing('ns/c', 'b', 60_000, t.list)).objects, 1, '…for a pipeline that must list');
    t.advance(30_000);
    const polled = await t.p.listing('ns/a', 'b', 60_000, t.list, standIn);
    assert.equal(polled.objects, 2, 'the first poll lists');
    assert.equal(polled.kept, undefined);
  });

  it('a watermark taken from the kept listing rebases it (nothing new, no listing); one of other data lists again', async () => {
    const t = polls(10);
    const baseline = await t.p.listing('ns/a', 'b', 60_000, t.list); // no watermark yet: objects 1, digest d1
    const watermark = { objects: baseline.objects, digest: baseline.digest, newestMs: 50, newObjects: 0, newRows: 0 };
    const rebased = await t.p.listing('ns/a', 'b', 60_000, t.list, watermark);
    assert.deepEqual(rebased, { ...watermark, kept: true, nextPollAtMs: 60_000 });
    assert.equal(t.calls(), 1);
    assert.equal((await t.p.listing('ns/a', 'b', 60_000, t.list, watermark)).kept, true, 'and kept after');
    const givenBack = { ...watermark, objects: 0, digest: 'd0', newestMs: 10 };
    assert.equal((await t.p.listing('ns/a', 'b', 60_000, t.list, givenBack)).objects, 2, 'a watermark of other data: listed');
    assert.equal(t.calls(), 2);
  });

  it('a notification before the first poll lists at once', async () => {
    const t = polls(10);
    t.p.markChanged('ns/a');
    assert.equal((await t.p.listing('ns/a', 'b', 60_000, t.list, listing(7))).objects, 1);
  });

  it('listNow lists even while a kept listing would do, and keeps what it found', async () => {
    const t = polls(10);
    assert.equal((await t.p.listing('ns/a', 'b', 60_000, t.list, listing(7))).kept, true);
    const now = await t.p.listNow('ns/a', 'b', 60_000, t.list, listing(7));
    assert.equal(now.objects, 1);
    assert.equal(now.kept, undefined);
    const again = await t.p.listing('ns/a', 'b', 60_000, t.list, listing(7));
    assert.equal(again.objects, 1, 'reused until its poll');
    assert.equal(again.kept, true);
    assert.equal(t.calls(), 1);
  });

  it('listNow without a token: ListingDeferred, then it lists at its reservation', async () => {
    const t = polls(1);
    await t.p.listing('ns/a', 'b', 60_000, t.list);
    assert.equal(await deferredAt(t.p.listNow('ns/a', 'b', 60_000, t.list)), 1_000);
    t.advance(1_000);
    assert.equal((await t.p.listNow('ns/a', 'b', 60_000, t.list)).objects, 2);
  });

  it('a failed listing keeps the notification for the next attempt', async () => {
    const t = polls(10);
    await t.p.listing('ns/a', 'b', 3_600_000, t.list);
    t.p.markChanged('ns/a');
    await assert.rejects(t.p.listing('ns/a', 'b', 3_600_000, () => Promise.reject(new Error('store down'))));
    assert.equal((await t.p.listing('ns/a', 'b', 3_600_000, t.list)).objects, 2);
  });
});
