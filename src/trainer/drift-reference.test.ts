import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { driftReferenceRowsOf, selectDriftReference, type DriftReferenceSetting } from './drift-reference.js';
import type { Row } from './rows.js';

const row = (id: string, time: number | undefined): Row => ({ values: { id }, ref: { object: 'o', line: 1 }, time });
const ids = (rows: readonly Row[]): string[] => rows.map((r) => String(r.values['id']));
const hour = 3_600_000;
const day = 24 * hour;
const t0 = Date.parse('2020-01-01T00:00:00Z');
/** n rows `step` apart, oldest first, ids 0..n-1. */
const series = (n: number, step: number): Row[] => Array.from({ length: n }, (_, i) => row(String(i), t0 + i * step));

describe('driftReferenceRowsOf', () => {
  const cases: { name: string; train: Row[]; validation?: Row[]; holdout: Row[]; setting: DriftReferenceSetting; want: string[] }[] = [
    { name: 'the most recent rows of every split, oldest first', train: [row('t1', 1), row('t5', 5)], validation: [row('v3', 3)], holdout: [row('h4', 4), row('h6', 6)], setting: { lastRows: 3 }, want: ['h4', 't5', 'h6'] },
    { name: 'fewer rows than asked for: all of them', train: [row('t2', 2)], holdout: [row('h1', 1)], setting: { lastRows: 10 }, want: ['h1', 't2'] },
    { name: 'fed-back rows with newer event times crowd out the history', train: [row('seattle', 10), row('ny-fb-1', 1_000)], holdout: [row('ny-fb-2', 2_000)], setting: { lastRows: 2 }, want: ['ny-fb-1', 'ny-fb-2'] },
    { name: 'no timestamp column: the training split', train: [row('a', undefined), row('b', undefined)], holdout: [row('c', undefined)], setting: undefined, want: ['a', 'b'] },
    { name: 'no timestamp column and lastRows: the training split\'s last rows', train: [row('a', undefined), row('b', undefined), row('c', undefined)], holdout: [], setting: { lastRows: 2 }, want: ['b', 'c'] },
    { name: 'some rows without time: the training split', train: [row('a', 1), row('b', undefined)], holdout: [row('c', 3)], setting: undefined, want: ['a', 'b'] },
    { name: 'nothing at all', train: [], holdout: [], setting: undefined, want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(ids(driftReferenceRowsOf({ train: c.train, validation: c.validation ?? [], holdout: c.holdout }, c.setting).rows), c.want);
    });
  }
});

describe('selectDriftReference', () => {
  const cases: { name: string; rows: Row[]; setting: DriftReferenceSetting; count: number; first: string; rule: string }[] = [
    // A year of hourly rows covers the daily, weekly and yearly cycles; the old constant 1,000 was six weeks of it.
    { name: 'default: the newest year of two years of hourly rows', rows: series(2 * 365 * 24, hour), setting: undefined, count: 365 * 24 + 1, first: String(365 * 24 - 1), rule: 'default' },
    { name: 'default: a year of daily rows holds fewer than 1,000: the newest 1,000', rows: series(2000, day), setting: undefined, count: 1000, first: '1000', rule: 'default' },
    { name: 'default: fewer than 1,000 rows in all: all of them', rows: series(400, 7 * day), setting: undefined, count: 400, first: '0', rule: 'default' },
    { name: 'default: at most the newest 100,000 rows of a busy year', rows: series(150_000, 60_000), setting: undefined, count: 100_000, first: '50000', rule: 'default' },
    { name: 'lastRows caps the count', rows: series(100, day), setting: { lastRows: 10 }, count: 10, first: '90', rule: 'configured' },
    { name: 'lastDays is the span back from the newest row (inclusive)', rows: series(100, day), setting: { lastDays: 3 }, count: 4, first: '96', rule: 'configured' },
    { name: 'lastDays alone is not extended to 1,000 rows', rows: series(2000, day), setting: { lastDays: 30 }, count: 31, first: '1969', rule: 'configured' },
    { name: 'both set, both apply: the span', rows: series(100, day), setting: { lastRows: 50, lastDays: 3 }, count: 4, first: '96', rule: 'configured' },
    { name: 'both set, both apply: the count', rows: series(100, day), setting: { lastRows: 2, lastDays: 30 }, count: 2, first: '98', rule: 'configured' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { rows, selection } = selectDriftReference(c.rows, [], c.setting);
      assert.equal(rows.length, c.count);
      assert.equal(ids(rows)[0], c.first);
      assert.equal(selection.rule, c.rule);
      assert.equal(selection.rows, c.count);
      assert.equal(selection.to, new Date(c.rows[c.rows.length - 1]?.time ?? 0).toISOString(), 'the newest row is always in');
      assert.equal(selection.from, new Date(rows[0]?.time ?? 0).toISOString());
    });
  }

  it('orders by event time, whatever the reading order (fed-back rows where their event time puts them)', () => {
    const rows = [row('new', 5 * day), row('old', 1 * day), { ...row('fb-old', 2 * day), fedBack: true as const }, row('mid', 4 * day)];
    assert.deepEqual(ids(selectDriftReference(rows, [], { lastDays: 3 }).rows), ['fb-old', 'mid', 'new']);
  });

  it('records what it used without time', () => {
    assert.deepEqual(selectDriftReference([row('a', undefined)], [row('a', undefined)], { lastRows: 10 }).selection, { rule: 'training-split', rows: 1, lastRows: 10 });
  });
});
