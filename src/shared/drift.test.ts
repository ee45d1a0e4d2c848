import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { binCount, binIndex, expectedNoDriftPsi, histogram, profileFeature, psi, quantileEdges, sharesOf } from './drift.js';

describe('drift', () => {
  it('puts edges at reference quantiles and drops ties', () => {
    assert.deepEqual(quantileEdges([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 2), [5.5]);
    assert.deepEqual(quantileEdges([1, 1, 1, 1, 2], 4), [1]);
    assert.deepEqual(quantileEdges([3, 3, 3], 10), []);
    assert.deepEqual(quantileEdges([], 10), []);
  });

  const bins: { name: string; value: string | number | null; want: number }[] = [
    { name: 'below the first edge', value: -100, want: 0 },
    { name: 'on an edge (right-closed)', value: 1, want: 0 },
    { name: 'between edges', value: 1.5, want: 1 },
    { name: 'above the last edge', value: 100, want: 3 },
    { name: 'numeric text', value: '2.5', want: 2 },
    { name: 'missing', value: null, want: 4 },
    { name: 'unreadable is missing', value: 'abc', want: 4 },
  ];
  for (const c of bins) {
    it(`bins a numeric value: ${c.name}`, () => assert.equal(binIndex({ kind: 'numeric', edges: [1, 2, 3] }, c.value), c.want));
  }

  it('bins categories with other and missing buckets', () => {
    const b = { kind: 'categorical' as const, categories: ['a', 'b'] };
    assert.deepEqual(histogram(b, ['a', 'b', 'b', 'zzz', null, '']), [1, 2, 1, 2]);
  });

  const psiCases: { name: string; r: number[]; c: number[]; want: number }[] = [
    { name: 'identical', r: [0.25, 0.25, 0.5], c: [0.25, 0.25, 0.5], want: 0 },
    // (0.5−0.25)ln(2) + (0.5−0.75)ln(2/3)
    { name: 'shifted', r: [0.25, 0.75], c: [0.5, 0.5], want: 0.25 * Math.log(2) - 0.25 * Math.log(2 / 3) },
    // empty current bin → 1e-4 (Evidently): (1e-4−0.5)ln(1e-4/0.5) + (1−0.5)ln(2)
    { name: 'empty bin gets epsilon', r: [0.5, 0.5], c: [0, 1], want: (1e-4 - 0.5) * Math.log(1e-4 / 0.5) + 0.5 * Math.log(2) },
  ];
  for (const c of psiCases) {
    it(`PSI: ${c.name}`, () => assert.ok(Math.abs(psi(c.r, c.c) - c.want) < 1e-12, `${psi(c.r, c.c)} vs ${c.want}`));
  }

  it('PSI is symmetric and refuses mismatched bins', () => {
    const a = [0.1, 0.6, 0.3];
    const b = [0.3, 0.3, 0.4];
    assert.ok(Math.abs(psi(a, b) - psi(b, a)) < 1e-12);
    assert.throws(() => psi([0.5, 0.5], [1]));
  });

  it('profiles a numeric feature into roughly equal reference shares plus a missing bin', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i as number | null).concat([null, null]);
    const p = profileFeature('x', 'numeric', values);
    assert.equal(p.shares.length, 11);
    assert.equal(p.missing, 2);
    for (const s of p.shares.slice(0, 10)) assert.ok(Math.abs(s - 0.1) < 0.01, String(s));
    assert.ok(Math.abs(sharesOf([1, 1]).reduce((x, y) => x + y, 0) - 1) < 1e-12);
    // A sample from the same distribution drifts little; a shifted one a lot.
    const same = sharesOf(histogram(p.binning, Array.from({ length: 500 }, (_, i) => i * 2)));
    const shifted = sharesOf(histogram(p.binning, Array.from({ length: 500 }, (_, i) => 600 + i)));
    assert.ok(psi(p.shares, same) < 0.1);
    assert.ok(psi(p.shares, shifted) > 0.25);
  });

  it('bins date features by time, the same way at training and at serving', () => {
    const p = profileFeature('d', 'date', ['2024-01-01', '2024-02-01', '2024-03-01', '2024-04-01', null]);
    assert.equal(p.binning.kind === 'numeric' ? p.binning.valueType : undefined, 'time');
    assert.equal(p.missing, 1);
    assert.equal(binIndex(p.binning, '2023-06-01'), 0);
    assert.equal(binIndex(p.binning, '2025-01-01'), binCount(p.binning) - 2);
  });

  it('estimates the no-drift PSI floor', () => {
    assert.ok(Math.abs(expectedNoDriftPsi(10, 200, 200) - 0.09) < 1e-12);
  });
});
