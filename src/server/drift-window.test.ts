// The drift window's row bound (PERENNIAL_SERVER_DRIFT_WINDOW_ROWS) beside its wall-clock one; the wall-clock ring
// alone is tested in state.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { profileFeature, type FeatureProfile } from '../shared/drift.js';
import type { RawRow } from '../shared/preprocessing.js';
import { DriftWindow, minDriftRows } from './drift-window.js';

const ref: RawRow[] = Array.from({ length: 1000 }, (_, i) => ({ x: i % 100, c: i % 2 === 0 ? 'a' : 'b' }));
const profiles = [profileFeature('x', 'numeric', ref.map((r) => r['x'] ?? null)), profileFeature('c', 'categorical', ref.map((r) => r['c'] ?? null))];
const shifted: RawRow[] = ref.map((r) => ({ x: Number(r['x']) + 60, c: 'z' }));
const minute = 60_000;
const hour = 60 * minute;

/** The window's part of a snapshot (the sequential detector sees every row, whatever the window keeps). */
const windowOf = (w: DriftWindow, at: number): { rows: number; psi: ReadonlyMap<string, number> } => {
  const { rows, psi } = w.snapshot(at);
  return { rows, psi };
};

/** PSI of x, or undefined while the window holds too few rows. */
const psiX = (w: DriftWindow, at: number): number | undefined => w.snapshot(at).psi.get('x');

describe('DriftWindow with a row bound', () => {
  it('holds at most the newest N rows: a high-traffic window compares its newest rows, not the hour\'s', () => {
    const capped = new DriftWindow(profiles, hour, { maxRows: 300 });
    const uncapped = new DriftWindow(profiles, hour);
    for (const w of [capped, uncapped]) {
      w.add(ref, 0);
      w.add(shifted.slice(0, 300), 1000);
    }
    assert.equal(capped.snapshot(2000).rows, 300);
    assert.equal(uncapped.snapshot(2000).rows, 1300);
    const only = new DriftWindow(profiles, hour);
    only.add(shifted.slice(0, 300), 1000);
    assert.deepEqual(windowOf(capped, 2000), windowOf(only, 2000), 'exactly the newest 300 rows, the older ones fully subtracted');
    assert.ok((psiX(capped, 2000) ?? 0) > (psiX(uncapped, 2000) ?? 0));
  });

  it('keeps a request larger than the ring by its newest rows', () => {
    const w = new DriftWindow(profiles, hour, { maxRows: 300 });
    w.add([...ref.slice(0, 700), ...shifted.slice(0, 300)], 0);
    const only = new DriftWindow(profiles, hour);
    only.add(shifted.slice(0, 300), 0);
    assert.deepEqual(windowOf(w, 1), windowOf(only, 1));
  });

  const expiry: [string, number, number][] = [
    ['before any row is a minute old', 59_999, 15], ['the first rows exactly a minute old are gone', 60_000, 5],
    ['the second rows 59 s old', 89_000, 5], ['all gone', 90_000, 0], ['long after', 10 * hour, 0],
  ];
  for (const [name, at, rows] of expiry) {
    it(`expires rows by time, from the oldest end: ${name}`, () => {
      const w = new DriftWindow(profiles, minute, { maxRows: 1000 });
      w.add(ref.slice(0, 10), 0);
      w.add(ref.slice(0, 5), 30_000);
      assert.equal(w.snapshot(at).rows, rows);
    });
  }

  it('judges a batch followed by silence on its newest N rows for as long as the duration allows', () => {
    const w = new DriftWindow(profiles, hour, { maxRows: 500 });
    const uncapped = new DriftWindow(profiles, hour);
    // 2,000 one-row requests over two minutes; the last 500 drifted.
    const batch = [...ref, ...ref.slice(0, 500), ...shifted.slice(0, 500)];
    batch.forEach((row, i) => {
      w.add([row], i * 60);
      uncapped.add([row], i * 60);
    });
    const after = 2 * minute;
    for (const at of [after, after + 30 * minute, after + 57 * minute]) {
      assert.equal(w.snapshot(at).rows, 500, `at ${at / minute} min`);
      assert.ok((psiX(w, at) ?? 0) > 0.25, 'the newest 500 rows: all drifted');
    }
    assert.equal(uncapped.snapshot(after).rows, 2000);
    assert.equal(w.snapshot(after + hour).rows, 0, 'a duration after the batch nothing is left');
    assert.equal(w.snapshot(after + hour).psi.size, 0);
    // New traffic after the silence starts an empty window.
    w.add(ref.slice(0, 10), after + 2 * hour);
    assert.equal(w.snapshot(after + 2 * hour).rows, 10);
  });

  it('still publishes no PSI below minDriftRows, whatever N allows', () => {
    const cRows = minDriftRows(profiles[1] as FeatureProfile);
    const xRows = minDriftRows(profiles[0] as FeatureProfile);
    const small = new DriftWindow(profiles, hour, { maxRows: cRows - 1 });
    small.add(shifted, 0);
    assert.equal(small.snapshot(1).rows, cRows - 1);
    assert.deepEqual([...small.snapshot(1).psi.keys()], [], 'a ring smaller than minDriftRows never speaks');
    const w = new DriftWindow(profiles, hour, { maxRows: 1000 });
    w.add(shifted.slice(0, cRows), 0);
    assert.deepEqual([...w.snapshot(1).psi.keys()], ['c']);
    w.add(shifted.slice(0, xRows - cRows), 0);
    assert.deepEqual([...w.snapshot(1).psi.keys()], ['x', 'c']);
    assert.equal(w.snapshot(hour).psi.size, 0, 'expired: below the minimum again');
  });

  it('agrees with a naive list of (time, row) under random traffic, caps and expiry', () => {
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const cap = 400;
    const w = new DriftWindow(profiles, 10 * minute, { maxRows: cap });
    let kept: { t: number; row: RawRow }[] = [];
    let now = 0;
    for (let step = 0; step < 300; step++) {
      now += Math.floor(rand() * 20_000);
      const n = 1 + Math.floor(rand() * 40);
      const rows = Array.from({ length: n }, () => (rand() < 0.5 ? ref : shifted)[Math.floor(rand() * 1000)] as RawRow);
      w.add(rows, now);
      kept = [...kept, ...rows.map((row) => ({ t: now, row }))].filter((e) => e.t > now - 10 * minute).slice(-cap);
      if (step % 10 === 0) {
        const naive = new DriftWindow(profiles, 10 * minute);
        naive.add(kept.map((e) => e.row), now);
        assert.deepEqual(windowOf(w, now), windowOf(naive, now), `step ${step}`);
      }
    }
  });

  it('works with no features (a profile without any) and with 0 meaning no row bound', () => {
    const none = new DriftWindow([], minute, { maxRows: 10 });
    none.add(ref.slice(0, 20), 0);
    assert.deepEqual(windowOf(none, 1), { rows: 10, psi: new Map() });
    assert.equal(none.snapshot(1).sequential.detectedAtMs, undefined);
    const zero = DriftWindow.fromProfile({ version: 1, features: profiles } as unknown as Parameters<typeof DriftWindow.fromProfile>[0], minute, 0);
    zero.add(ref, 0);
    assert.equal(zero.snapshot(1).rows, 1000);
  });
});

describe('DriftWindow\'s sequential detector', () => {
  it('sees every row, also those the row bound or the clock dropped from the window', () => {
    const w = new DriftWindow(profiles, minute, { maxRows: 10 });
    w.add(ref.slice(0, 100), 0);
    w.add(ref.slice(0, 100), 10 * minute);
    const s = w.snapshot(10 * minute);
    assert.equal(s.rows, 10);
    assert.equal(s.sequential.rows, 200);
    assert.deepEqual([...s.sequential.evidence.keys()], ['x', 'c']);
  });

  it('stays unset on reference rows in random order, however many', () => {
    // In random order: `ref` in its own order is x = 0, 1, ..., 99 again and again, runs of one bin that are not the
    // independent rows the detector assumes (and it says so: such a stream does set it).
    let seed = 11;
    const rand = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const w = new DriftWindow(profiles, hour);
    for (let i = 0; i < 20; i++) w.add(Array.from({ length: 1000 }, () => ref[Math.floor(rand() * ref.length)] as RawRow), i * 1000);
    assert.equal(w.snapshot(20_000).sequential.detectedAtMs, undefined);
    const ordered = new DriftWindow(profiles, hour);
    for (let i = 0; i < 20; i++) ordered.add(ref, i * 1000);
    assert.notEqual(ordered.snapshot(20_000).sequential.detectedAtMs, undefined, 'sorted runs are not independent rows');
  });

  it('is set, with the time of the request that crossed, within a few dozen shifted rows, before the window has PSI', () => {
    const w = new DriftWindow(profiles, hour);
    w.add(ref, 0);
    let at: number | undefined;
    for (let i = 0; i < 100 && at === undefined; i++) {
      w.add(shifted.slice(i, i + 1), 1000 + i);
      at = w.snapshot(1000 + i).sequential.detectedAtMs;
    }
    assert.ok(at !== undefined && at < 1000 + 40, `detected at ${String(at)}`);
    assert.ok((psiX(w, at) ?? 0) < 0.25, 'the PSI of the window (1,000 old rows) has not moved much yet');
  });

  it('starts afresh with the next model: a new window knows nothing of the rows before it', () => {
    const old = new DriftWindow(profiles, hour);
    old.add(shifted, 0);
    assert.notEqual(old.snapshot(1).sequential.detectedAtMs, undefined);
    const next = new DriftWindow(profiles, hour);
    assert.deepEqual(next.snapshot(1).sequential, { rows: 0, evidence: new Map([['x', 0], ['c', 0]]), detectedAtMs: undefined, threshold: old.snapshot(1).sequential.threshold });
  });
});
