import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { driftReferenceRowsOf } from './drift-reference.js';
import type { Row } from './rows.js';

const row = (id: string, time: number | undefined): Row => ({ values: { id }, ref: { object: 'o', line: 1 }, time });
const ids = (rows: readonly Row[]): string[] => rows.map((r) => String(r.values['id']));

describe('driftReferenceRowsOf', () => {
  const cases: { name: string; train: Row[]; validation?: Row[]; holdout: Row[]; size: number; want: string[] }[] = [
    { name: 'the most recent rows of every split, oldest first', train: [row('t1', 1), row('t5', 5)], validation: [row('v3', 3)], holdout: [row('h4', 4), row('h6', 6)], size: 3, want: ['h4', 't5', 'h6'] },
    { name: 'fewer rows than the size: all of them', train: [row('t2', 2)], holdout: [row('h1', 1)], size: 10, want: ['h1', 't2'] },
    { name: 'fed-back rows (newest) crowd out the history', train: [row('seattle', 10), row('ny-fb-1', 1_000)], holdout: [row('ny-fb-2', 2_000)], size: 2, want: ['ny-fb-1', 'ny-fb-2'] },
    { name: 'no timestamp column: the training split', train: [row('a', undefined), row('b', undefined)], holdout: [row('c', undefined)], size: 1, want: ['a', 'b'] },
    { name: 'some rows without time: the training split', train: [row('a', 1), row('b', undefined)], holdout: [row('c', 3)], size: 1, want: ['a', 'b'] },
    { name: 'nothing at all', train: [], holdout: [], size: 5, want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(ids(driftReferenceRowsOf({ train: c.train, validation: c.validation ?? [], holdout: c.holdout }, c.size)), c.want);
    });
  }
});
