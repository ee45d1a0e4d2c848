import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRegression, encodeLabel, fitPreprocessing, parsePreprocessingSpec, toNumber, transformRows, type RawRow } from './preprocessing.js';

const rows: RawRow[] = [
  { x: '1', c: 'a', d: '2020-01-01', y: 'yes' },
  { x: 3, c: 'b', d: '2020-07-02', y: 'no' },
  { x: '', c: 'a', d: '', y: 'yes' },
  { x: '5', c: null, d: '2020-12-31', y: 'no' },
];
const spec = fitPreprocessing(rows, {
  features: [{ name: 'x', type: 'numeric' }, { name: 'c', type: 'categorical' }, { name: 'd', type: 'date' }],
  label: 'y', task: 'classification',
});

describe('preprocessing', () => {
  const numbers: { v: string | number | null | boolean; want: number | undefined }[] = [
    { v: '1.5', want: 1.5 }, { v: ' 2 ', want: 2 }, { v: '', want: undefined }, { v: 'NaN', want: undefined },
    { v: 'abc', want: undefined }, { v: null, want: undefined }, { v: Infinity, want: undefined }, { v: true, want: undefined },
  ];
  for (const c of numbers) it(`reads ${JSON.stringify(c.v)} as ${String(c.want)}`, () => assert.equal(toNumber(c.v), c.want));

  it('fits mean/std on present values, the category vocabulary and sorted classes', () => {
    const x = spec.features[0];
    assert.equal(x?.kind, 'numeric');
    if (x?.kind === 'numeric') {
      assert.equal(x.mean, 3);
      assert.equal(x.std, 2);
    }
    const c = spec.features[1];
    assert.deepEqual(c?.kind === 'categorical' ? c.categories : [], ['a', 'b']);
    assert.deepEqual(spec.label.task === 'classification' ? spec.label.classes : [], ['no', 'yes']);
    assert.equal(spec.width, 2 + 3 + 5);
    assert.equal(spec.columns.length, spec.width);
  });

  it('standardises, imputes with a missing indicator, one-hots with an unknown bucket', () => {
    const out = transformRows(spec, [{ x: '5', c: 'b', d: '2021-01-01' }, { x: null, c: 'zzz', d: 'not a date' }]);
    const [a, b] = [Array.from(out.slice(0, 10)), Array.from(out.slice(10))];
    assert.deepEqual(a.slice(0, 5), [1, 0, 0, 1, 0]);
    assert.ok(Math.abs((a[5] ?? 9) - 0) < 0.02 && Math.abs((a[6] ?? 0) - 1) < 0.001, 'Jan 1 sits at the start of the year cycle');
    assert.equal(a[9], 0);
    assert.deepEqual(b, [0, 1, 0, 0, 1, 0, 0, 0, 0, 1]);
  });

  it('encodes labels and rejects unknown ones', () => {
    assert.equal(encodeLabel(spec, 'yes'), 1);
    assert.equal(encodeLabel(spec, 'maybe'), undefined);
    assert.equal(encodeLabel(spec, null), undefined);
  });

  it('scales regression labels and decodes them back', () => {
    const r = fitPreprocessing([{ y: 10 }, { y: 20 }, { y: 30 }], { features: [], label: 'y', task: 'regression' });
    const scaled = encodeLabel(r, 30) ?? 0;
    assert.equal(scaled, 1);
    assert.equal(decodeRegression(r, scaled), 30);
  });

  it('gives a constant column std 1 instead of dividing by zero', () => {
    const s = fitPreprocessing([{ x: 4 }, { x: 4 }], { features: [{ name: 'x', type: 'numeric' }], label: 'y', task: 'regression' });
    assert.deepEqual(Array.from(transformRows(s, [{ x: 4 }])), [0, 0]);
  });

  it('round-trips through JSON, which is what the server reads', () => {
    const back = parsePreprocessingSpec(JSON.stringify(spec));
    assert.deepEqual(transformRows(back, rows), transformRows(spec, rows));
    assert.throws(() => parsePreprocessingSpec(JSON.stringify({ ...spec, version: 2 })), /version/);
  });
});
