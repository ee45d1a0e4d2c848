import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrainerConfig, trainerConfigApiVersion, type TrainerConfig } from '../shared/trainer-config.js';
import { contentKey, latestUploaded, resolveDuplicates, type DuplicateStats } from './duplicates.js';
import type { Row } from './rows.js';
import { splitRows } from './split.js';

const day = 86_400_000;
const t0 = Date.parse('2015-01-01T00:00:00Z');

function cfg(over: { rowId?: string; duplicates?: 'prefer-uploaded' | 'keep-both'; holdout?: Record<string, unknown> } = {}): TrainerConfig {
  return parseTrainerConfig(JSON.stringify({
    apiVersion: trainerConfigApiVersion, pipeline: { name: 'p' }, runId: 'r', version: 'v', seed: 3,
    data: { sources: [{ prefix: 'd/', format: 'csv' }], feedback: { predictionsPrefix: 'p/', feedbackPrefix: 'f/', ...(over.duplicates ? { duplicates: over.duplicates } : {}) } },
    schema: {
      features: [{ name: 'x', type: 'numeric' }, { name: 'c', type: 'categorical' }], label: 'y', task: 'classification', timestamp: 't',
      ...(over.rowId ? { rowId: over.rowId } : {}),
    },
    hyperparameters: { validationFraction: 0 },
    evaluation: { holdout: over.holdout ?? { lastFraction: 0.2 } },
  }));
}

// Ten uploaded rows, one a day (day 0..9); with lastFraction 0.2 the holdout is days 8 and 9.
const up = (d: number, values: Record<string, string | number> = {}): Row => ({ values: { x: d, c: 'a', y: 'yes', id: `u${d}`, ...values }, ref: { object: 'data.csv', line: d + 2 }, time: t0 + d * day });
const fb = (d: number, values: Record<string, string | number> = {}, line = d): Row => ({ values: { x: d, c: 'a', y: 'no', ...values }, ref: { object: 'feedback:f/', line }, time: t0 + d * day, fedBack: true });
const uploaded = Array.from({ length: 10 }, (_, d) => up(d));
const name = (r: Row): string => `${r.fedBack ? 'fb' : 'up'}${String(r.values['x'])}${r.values['id'] !== undefined ? `:${String(r.values['id'])}` : ''}`;

describe('contentKey', () => {
  const schema = cfg().schema;
  const cases: { name: string; a: Row; b: Row; same: boolean }[] = [
    { name: 'numbers as numbers ("2.50" is 2.5)', a: up(2, { x: '2.50' }), b: fb(2, { x: 2.5 }), same: true },
    { name: 'categories trimmed', a: up(2, { c: ' a ' }), b: fb(2), same: true },
    { name: 'the label is not in the key', a: up(2, { y: 'yes' }), b: fb(2, { y: 'no' }), same: true },
    { name: 'another event time is another row', a: up(2), b: fb(3, { x: 2 }), same: false },
    { name: 'another feature value is another row', a: up(2), b: fb(2, { c: 'b' }), same: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(contentKey(c.a, schema) === contentKey(c.b, schema), c.same));
});

describe('latestUploaded', () => {
  it('keeps the last read of rows repeated by row id (a correction) and every row without an id', () => {
    const rows = [up(1), up(2), up(3, { id: 'u1', y: 'corrected' }), up(4, { id: '' }), up(5, { id: '' })];
    const out = latestUploaded(rows, cfg({ rowId: 'id' }).schema);
    assert.deepEqual(out.rows.map(name), ['up2:u2', 'up3:u1', 'up4:', 'up5:']);
    assert.deepEqual([out.replaced, out.withoutId], [1, 2]);
  });
  it('without a declared row id nothing is replaced', () => {
    assert.equal(latestUploaded([up(1), up(1)], cfg().schema).rows.length, 2);
  });
});

describe('resolveDuplicates', () => {
  const zero = { uploadedReplaced: 0, uploadedWithoutRowId: 0, fedBackMatchingHoldout: 0, fedBackMatchingUploaded: 0, fedBackRepeated: 0 };
  const cases: { name: string; config: TrainerConfig; rows: Row[]; kept: string[]; stats: Partial<DuplicateStats> }[] = [
    {
      name: 'prefer-uploaded, by content: copies of uploaded rows dropped, the first of repeated fed-back rows kept',
      config: cfg(), rows: [...uploaded, fb(3), fb(20), fb(20, {}, 99), fb(21)],
      kept: ['fb20', 'fb21'], stats: { ...zero, matchedBy: 'content', policy: 'prefer-uploaded', fedBackMatchingUploaded: 1, fedBackRepeated: 1, fedBackKept: 2 },
    },
    {
      name: 'keep-both: copies of uploaded training rows train too, copies of holdout rows never',
      config: cfg({ duplicates: 'keep-both' }), rows: [...uploaded, fb(3), fb(9), fb(20), fb(20)],
      kept: ['fb3', 'fb20', 'fb20'], stats: { ...zero, policy: 'keep-both', fedBackMatchingHoldout: 1, fedBackKept: 3 },
    },
    {
      name: 'prefer-uploaded: a copy of a holdout row is counted as such',
      config: cfg(), rows: [...uploaded, fb(8), fb(9)],
      kept: [], stats: { ...zero, fedBackMatchingHoldout: 2, fedBackKept: 0 },
    },
    {
      name: 'by row id: an id matches whatever the values, a fed-back row without id falls back to content',
      config: cfg({ rowId: 'id' }), rows: [...uploaded, fb(30, { id: 'u2' }), fb(31, { id: 'u9' }), fb(32, { id: 'n1' }), fb(33, { id: 'n1' }), fb(4), fb(40)],
      kept: ['fb32:n1', 'fb40'], stats: { ...zero, matchedBy: 'rowId', fedBackMatchingHoldout: 1, fedBackMatchingUploaded: 2, fedBackRepeated: 1, fedBackKept: 2 },
    },
    {
      name: 'by row id: a fed-back row with a new id is not matched by content',
      config: cfg({ rowId: 'id' }), rows: [...uploaded, fb(3, { id: 'new' })],
      kept: ['fb3:new'], stats: { ...zero, fedBackKept: 1 },
    },
    {
      name: 'an uploaded correction replaces its earlier row; the holdout is drawn from the corrected rows',
      config: cfg({ rowId: 'id' }), rows: [...uploaded, up(11, { id: 'u0' }), fb(50, { id: 'u0' })],
      kept: [...uploaded.slice(1).map(name), 'up11:u0'], stats: { ...zero, uploadedReplaced: 1, fedBackMatchingHoldout: 1, fedBackKept: 0 },
    },
    {
      name: 'no fed-back rows: the uploaded rows untouched',
      config: cfg(), rows: uploaded, kept: uploaded.map(name), stats: { ...zero, fedBackKept: 0 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const out = resolveDuplicates(c.rows, c.config);
      assert.deepEqual(out.rows.filter((r) => r.fedBack || c.kept.some((k) => k.startsWith('up'))).map(name), c.kept);
      for (const [k, v] of Object.entries(c.stats)) assert.equal(out.stats[k as keyof DuplicateStats], v, k);
    });
  }

  // The issue's failure: fed-back copies of the newest uploaded rows (the holdout) trained on and, stamped with the
  // prediction time, ended up newest of all. By event time with the duplicate rules, in either policy, they never
  // train and the holdout stays the uploaded rows.
  for (const duplicates of ['prefer-uploaded', 'keep-both'] as const) {
    it(`${duplicates}: a fed-back copy of a newest uploaded row lands neither in training nor in the holdout`, () => {
      const config = cfg({ duplicates });
      const rows = [...uploaded, fb(9, { y: 'yes' }), fb(8, { y: 'no' }), fb(12)];
      const split = splitRows(resolveDuplicates(rows, config).rows, config);
      assert.deepEqual(split.holdout.map(name), ['up8:u8', 'up9:u9']);
      assert.deepEqual([...split.train, ...split.validation].filter((r) => r.fedBack).map(name), ['fb12']);
    });
  }
});
