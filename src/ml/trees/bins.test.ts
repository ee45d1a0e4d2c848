import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { binInputs, binOf, edgeBetween, edgesOf } from './bins.js';
import { mulberry32 } from '../../shared/random.js';

const sorted = (xs: number[]): Float64Array => Float64Array.from(xs.map(Math.fround)).sort();

describe('edgesOf', () => {
  const cases: readonly { name: string; values: number[]; maxBins: number; edges: number[] }[] = [
    { name: 'a constant input has no edge (one bin)', values: [3, 3, 3], maxBins: 255, edges: [] },
    { name: 'a one-hot input has one edge between 0 and 1', values: [0, 1, 0, 0, 1], maxBins: 255, edges: [0.5] },
    { name: 'few distinct values: an edge between each two', values: [1, 2, 2, 4], maxBins: 255, edges: [1.5, 3] },
    { name: 'more distinct values than bins: quantile edges', values: [1, 2, 3, 4, 5, 6, 7, 8], maxBins: 4, edges: [2.5, 4.5, 6.5] },
    { name: 'equal values share a bin even at a quantile', values: [1, 1, 1, 1, 1, 1, 2, 3], maxBins: 2, edges: [1.5] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual([...edgesOf(sorted(c.values), c.maxBins)], c.edges));

  it('never gives more bins than maxBins', () => {
    const random = mulberry32(3);
    const values = Array.from({ length: 5000 }, () => random() * 100);
    for (const maxBins of [2, 10, 255]) assert.ok(edgesOf(sorted(values), maxBins).length <= maxBins - 1);
  });
});

describe('edgeBetween', () => {
  it('is the midpoint when float32 has it, else the lower value', () => {
    assert.equal(edgeBetween(1, 2), 1.5);
    const a = Math.fround(1);
    const b = Math.fround(1 + 2 ** -23); // the next float32 after 1: no float32 between them
    const e = edgeBetween(a, b);
    assert.ok(e >= a && e < b);
  });
});

describe('binInputs', () => {
  it('bin ≤ b exactly when x ≤ edges[b], on every row and input', () => {
    const random = mulberry32(7);
    const rows = 400;
    const width = 3;
    const x = new Float32Array(rows * width);
    for (let r = 0; r < rows; r++) {
      x[r * width] = random() * 10; // continuous
      x[r * width + 1] = Math.floor(random() * 4); // a few integers
      x[r * width + 2] = 5; // constant
    }
    const b = binInputs(x, rows, width, 16, mulberry32(1));
    assert.deepEqual([...b.binCount].slice(1), [4, 1]);
    assert.ok((b.binCount[0] ?? 0) <= 16);
    assert.deepEqual([...b.offset], [0, b.binCount[0], (b.binCount[0] ?? 0) + 4]);
    for (let r = 0; r < rows; r++) {
      for (let f = 0; f < width; f++) {
        const edges = b.edges[f] ?? new Float32Array(0);
        const v = x[r * width + f] ?? 0;
        const bin = b.bins[r * width + f] ?? 0;
        assert.equal(bin, binOf(edges, v));
        for (let e = 0; e < edges.length; e++) assert.equal(bin <= e, v <= (edges[e] ?? 0));
      }
    }
  });
});
