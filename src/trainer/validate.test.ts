import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrainerConfig, trainerConfigApiVersion, type TrainerConfig } from '../shared/trainer-config.js';
import type { Row } from './rows.js';
import { profileRows, referenceProfileVersion, defaultEpsilon, type ReferenceProfile } from '../shared/drift.js';
import { validateData, type DataProfile, type IssueCheck, type ObjectSummary, type ValidationInput } from './validate.js';

function config(validation: Record<string, unknown> = {}, classes?: string[]): TrainerConfig {
  return parseTrainerConfig(JSON.stringify({
    apiVersion: trainerConfigApiVersion, pipeline: { name: 'p' }, runId: 'r', version: 'v',
    data: { sources: [{ prefix: 'd/', format: 'csv' }] },
    schema: { features: [{ name: 'x', type: 'numeric' }, { name: 'c', type: 'categorical' }], label: 'y', task: 'classification', timestamp: 't', ...(classes ? { classes } : {}) },
    validation: { minRows: 4, ...validation },
  }));
}

const good = (i: number, over: Record<string, string | null> = {}): Row => ({
  values: { x: String(i), c: i % 2 ? 'a' : 'b', y: i % 2 ? 'yes' : 'no', t: `2024-01-${String((i % 28) + 1).padStart(2, '0')}`, ...over },
  ref: { object: 'd/1.csv', line: i + 2 },
  time: undefined,
});
const rows = (n: number): Row[] => Array.from({ length: n }, (_, i) => good(i));
const obj = (over: Partial<ObjectSummary> = {}): ObjectSummary => ({ key: 'd/1.csv', etag: 'e', size: 10, records: 10, rows: 10, columns: ['x', 'c', 'y', 't'], ...over });

function input(over: Partial<ValidationInput>, cfg = config()): ValidationInput {
  return { schema: cfg.schema, rules: cfg.validation, objects: [obj()], badLines: [], rows: rows(10), previous: undefined, ...over };
}

describe('data validation', () => {
  it('passes clean data and profiles it', () => {
    const { report, profile } = validateData(input({}));
    assert.equal(report.ok, true, JSON.stringify(report.issues));
    assert.deepEqual(report.labelDistribution, { no: 5, yes: 5 });
    assert.deepEqual(profile.categories['c'], ['a', 'b']);
    assert.equal(report.columns['x']?.max, 9);
  });

  const prev: DataProfile = { version: 1, columns: ['c', 'x', 'y', 't', 'gone'], features: [{ name: 'x', type: 'categorical' }, { name: 'c', type: 'categorical' }], label: 'y', task: 'classification', categories: { c: ['a'] } };
  const cases: { name: string; input: ValidationInput; check: IssueCheck; severity?: 'error' | 'warning'; column?: string; lines?: number[] }[] = [
    { name: 'missing column', input: input({ objects: [obj({ columns: ['x', 'y', 't'] })] }), check: 'missing-column', column: 'c' },
    { name: 'wrong type', input: input({ rows: [...rows(9), good(9, { x: 'warm' })] }), check: 'wrong-type', column: 'x', lines: [11] },
    { name: 'unreadable timestamp', input: input({ rows: [...rows(9), good(9, { t: 'someday' })] }), check: 'wrong-type', column: 't', lines: [11] },
    { name: 'empty object', input: input({ objects: [obj(), obj({ key: 'd/2.csv', records: 0, rows: 0, columns: [] })] }), check: 'empty-object' },
    { name: 'NaN label', input: input({ rows: [...rows(9), good(9, { y: 'NaN' })] }), check: 'missing-label', column: 'y', lines: [11] },
    { name: 'empty label', input: input({ rows: [good(0, { y: '' }), ...rows(10).slice(1)] }), check: 'missing-label', lines: [2] },
    { name: 'label outside declared classes', input: input({ rows: [...rows(9), good(9, { y: 'maybe' })] }, config({}, ['no', 'yes'])), check: 'unknown-label', lines: [11] },
    { name: 'malformed line', input: input({ badLines: [{ object: 'd/1.csv', line: 7, reason: 'line is 5242880 bytes, longer than the limit' }] }), check: 'malformed-line', lines: [7] },
    { name: 'too many missing', input: input({ rows: rows(10).map((r, i) => (i < 5 ? good(i, { x: '' }) : r)) }), check: 'missing-rate', column: 'x' },
    { name: 'out of range', input: input({}, config({ ranges: { x: { min: 0, max: 8 } } })), check: 'out-of-range', column: 'x', lines: [11] },
    { name: 'unseen category (declared list)', input: input({}, config({ allowedCategories: { c: ['a'] } })), check: 'unseen-category', severity: 'error', column: 'c' },
    { name: 'unseen category (previous run only warns)', input: input({ previous: { ...prev, columns: ['c', 't', 'x', 'y'], features: [{ name: 'x', type: 'numeric' }, { name: 'c', type: 'categorical' }] } }), check: 'unseen-category', severity: 'warning' },
    { name: 'too few rows', input: input({ rows: rows(3) }), check: 'min-rows' },
    { name: 'single class', input: input({ rows: rows(10).map((r) => ({ ...r, values: { ...r.values, y: 'yes' } })) }), check: 'label-balance' },
    { name: 'rare class', input: input({ rows: [...rows(10).map((r) => ({ ...r, values: { ...r.values, y: 'yes' } })), good(1, { y: 'no' })] }, config({ minClassShare: 0.2 })), check: 'label-balance' },
    { name: 'schema drift', input: input({ previous: prev }), check: 'schema-drift', severity: 'error' },
  ];
  for (const c of cases) {
    it(`flags ${c.name}`, () => {
      const { report } = validateData(c.input);
      const issue = report.issues.find((i) => i.check === c.check && (c.column === undefined || i.column === c.column));
      assert.ok(issue, `no ${c.check} issue in ${JSON.stringify(report.issues)}`);
      assert.equal(issue.severity, c.severity ?? 'error');
      assert.equal(report.ok, (c.severity ?? 'error') !== 'error' && !report.issues.some((i) => i.severity === 'error'));
      if (c.lines) assert.deepEqual(issue.rows?.map((r) => r.line), c.lines);
    });
  }

  it('lists at most maxExampleRows rows but counts them all', () => {
    const cfg = config({ maxExampleRows: 2, ranges: { x: { max: 0 } } });
    const issue = validateData(input({}, cfg)).report.issues.find((i) => i.check === 'out-of-range');
    assert.equal(issue?.rows?.length, 2);
    assert.equal(issue?.count, 9);
  });

  describe('the row-id column (schema.rowId)', () => {
    const withId = (rowId = 'id'): TrainerConfig => {
      const c = config();
      return { ...c, schema: { ...c.schema, rowId } };
    };
    const idRows = (n: number): Row[] => rows(n).map((r, i) => ({ ...r, values: { ...r.values, id: `r${i}` } }));
    const cases: { name: string; objects: ObjectSummary[]; rows: Row[]; check?: IssueCheck; severity?: 'error' | 'warning'; count?: number; ok: boolean }[] = [
      { name: 'present everywhere: no issue', objects: [obj({ columns: ['x', 'c', 'y', 't', 'id'] })], rows: idRows(10), ok: true },
      { name: 'absent from an object: an error naming the column and the object', objects: [obj()], rows: rows(10), check: 'missing-column', severity: 'error', ok: false },
      {
        name: 'a row without a value: a warning, counted', objects: [obj({ columns: ['x', 'c', 'y', 't', 'id'] })],
        rows: [...idRows(8), good(8, { id: '' }), good(9, { id: null })], check: 'missing-row-id', severity: 'warning', count: 2, ok: true,
      },
      {
        name: 'fed-back rows without a value are not counted (requests may lack the column)', objects: [obj({ columns: ['x', 'c', 'y', 't', 'id'] })],
        rows: [...idRows(10), { ...good(10), fedBack: true }], ok: true,
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const { report } = validateData(input({ objects: c.objects, rows: c.rows }, withId()));
        assert.equal(report.ok, c.ok, JSON.stringify(report.issues));
        const issues = report.issues.filter((i) => i.column === 'id');
        if (c.check === undefined) return assert.deepEqual(issues, []);
        const issue = issues.find((i) => i.check === c.check);
        assert.equal(issue?.severity, c.severity);
        if (c.check === 'missing-column') {
          assert.match(issue?.message ?? '', /row-id column "id" \(schema\.rowId\) is absent from 1 object\(s\)/);
          assert.deepEqual(issue?.objects, ['d/1.csv']);
          assert.equal(issues.filter((i) => i.check === 'missing-row-id').length, 0, 'the rows of an object without the column are not counted again');
        }
        if (c.count !== undefined) assert.equal(issue?.count, c.count);
      });
    }
  });

  describe('feature drift against the champion\'s profile (validation.maxSchemaDriftPsi)', () => {
    const numbers = (n: number, scale: number): Row[] => Array.from({ length: n }, (_, i) => good(i, { x: String((i % 50) * scale), c: i % 3 ? 'a' : 'b' }));
    const profile = (rows: readonly Row[]): ReferenceProfile => ({
      version: referenceProfileVersion, rows: rows.length, epsilon: defaultEpsilon,
      features: profileRows(rows.map((r) => r.values), [{ name: 'x', type: 'numeric' }, { name: 'c', type: 'categorical' }]),
    });
    const champion = { version: 'v3', profile: profile(numbers(1000, 1)) };

    it('rejects data whose feature PSI exceeds it, naming the feature, its PSI and the champion', () => {
      const { report } = validateData(input({ rows: numbers(1000, 10), reference: champion }, config({ maxSchemaDriftPsi: 1 })));
      assert.equal(report.ok, false);
      const issue = report.issues.find((i) => i.check === 'feature-drift');
      assert.equal(issue?.column, 'x');
      assert.match(issue?.message ?? '', /"x" PSI \d+\.\d+ against the profile of v3 exceeds validation\.maxSchemaDriftPsi 1/);
      assert.ok(!report.issues.some((i) => i.check === 'feature-drift' && i.column === 'c'), 'c did not move');
      assert.ok((report.featureDrift?.psi['x'] ?? 0) > 1);
      assert.equal(report.featureDrift?.against, 'v3');
    });

    it('passes data like the champion\'s, and records the PSIs', () => {
      const { report } = validateData(input({ rows: numbers(1000, 1), reference: champion }, config({ maxSchemaDriftPsi: 1 })));
      assert.equal(report.ok, true, JSON.stringify(report.issues));
      assert.ok((report.featureDrift?.psi['x'] ?? 1) < 0.1);
    });

    it('does not check without the setting or without a champion profile', () => {
      assert.equal(validateData(input({ rows: numbers(1000, 10), reference: champion })).report.ok, true);
      assert.equal(validateData(input({ rows: numbers(1000, 10) }, config({ maxSchemaDriftPsi: 1 }))).report.ok, true);
    });
  });
});
