import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfidenceWindow, expectedAccuracy, topProbability } from './confidence-window.js';
import { mulberry32 as rng } from '../shared/random.js';

const close = (a: number | undefined, b: number, eps = 1e-6): void => assert.ok(a !== undefined && Math.abs(a - b) < eps, `${String(a)} ≠ ${b}`);

describe('the estimator: expected accuracy is the mean top-class probability', () => {
  const table: Array<[string, readonly (readonly number[])[], number | undefined]> = [
    ['no rows: no estimate', [], undefined],
    ['one certain row', [[0, 1, 0]], 1],
    ['one uniform row of four classes', [[0.25, 0.25, 0.25, 0.25]], 0.25],
    ['rows of different confidence average', [[0.9, 0.1], [0.6, 0.4], [0.3, 0.7]], (0.9 + 0.6 + 0.7) / 3],
    ['the top class, wherever it is', [[0.1, 0.2, 0.7], [0.8, 0.1, 0.1]], 0.75],
    ['non-finite entries ignored', [[Number.NaN, 0.6, 0.4]], 0.6],
  ];
  for (const [name, rows, want] of table) {
    it(name, () => {
      const got = expectedAccuracy(rows);
      if (want === undefined) assert.equal(got, undefined);
      else close(got, want, 1e-12);
    });
  }

  it('topProbability never exceeds 1 (float noise above it is clipped)', () => assert.equal(topProbability([1.0000001, 0]), 1));
});


/** n rows of 3-class probabilities (a softmax of random logits) and a label drawn from each row's own probabilities. */
function calibratedRows(n: number, seed: number): { probabilities: number[][]; labels: number[] } {
  const r = rng(seed);
  const probabilities: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const e = [0, 1, 2].map(() => Math.exp(3 * r()));
    const s = e.reduce((a, x) => a + x, 0);
    const p = e.map((x) => x / s);
    probabilities.push(p);
    const u = r();
    labels.push(u < (p[0] ?? 0) ? 0 : u < (p[0] ?? 0) + (p[1] ?? 0) ? 1 : 2);
  }
  return { probabilities, labels };
}

const argmax = (p: readonly number[]): number => p.indexOf(Math.max(...p));
const accuracy = (probabilities: readonly (readonly number[])[], labels: readonly number[]): number =>
  probabilities.filter((p, i) => argmax(p) === labels[i]).length / probabilities.length;

describe('the estimator against sampled truth', () => {
  const n = 20_000;
  const { probabilities, labels } = calibratedRows(n, 7);
  // Standard error of an accuracy near 0.6 over 20,000 rows: √(0.6·0.4/20000) ≈ 0.0035; 4 of them is 0.014.
  const tolerance = 4 * Math.sqrt(0.25 / n);

  it('on calibrated probabilities it matches the true accuracy within sampling error', () => {
    const est = expectedAccuracy(probabilities) ?? NaN;
    assert.ok(Math.abs(est - accuracy(probabilities, labels)) < tolerance, `estimate ${est}, truth ${accuracy(probabilities, labels)}`);
  });

  it('on overconfident probabilities (logits doubled, the same classes) it overestimates', () => {
    const sharp = probabilities.map((p) => {
      const e = p.map((x) => x * x);
      const s = e.reduce((a, x) => a + x, 0);
      return e.map((x) => x / s);
    });
    assert.ok((expectedAccuracy(sharp) ?? 0) > accuracy(sharp, labels) + tolerance);
  });

  it('under concept drift (the labels change, the inputs do not) it cannot see the drop', () => {
    const r = rng(11);
    const drifted = labels.map((y) => (r() < 0.3 ? (y + 1) % 3 : y));
    const est = expectedAccuracy(probabilities) ?? NaN;
    assert.ok(accuracy(probabilities, drifted) < accuracy(probabilities, labels) - 0.1, 'the truth drops');
    assert.ok(est - accuracy(probabilities, drifted) > 0.1, `the estimate ${est} stays where the old truth was`);
  });
});

const p = (top: number): { probabilities: number[] } => ({ probabilities: [top, 1 - top] });
const minute = 60_000;
const hour = 60 * minute;

describe('ConfidenceWindow', () => {
  it('is empty before any row: no estimate', () => assert.deepEqual(new ConfidenceWindow(hour).snapshot(0), { rows: 0, sum: 0, expectedAccuracy: undefined }));

  it('counts only predictions with probabilities (regression values are not rows of it)', () => {
    const w = new ConfidenceWindow(hour);
    w.add([{ probabilities: [0.9, 0.1] }, { value: 3.5 }, { probabilities: [] }], 0);
    assert.deepEqual(w.snapshot(1), { rows: 1, sum: 0.9, expectedAccuracy: 0.9 });
  });

  const expiry: Array<[string, number, number, number | undefined]> = [
    ['all rows inside the hour', 59 * minute, 20, 0.7],
    ['the first batch an hour old is gone', 61 * minute, 10, 0.6],
    ['both gone', 200 * minute, 0, undefined],
  ];
  for (const [name, at, rows, want] of expiry) {
    for (const maxRows of [0, 1000]) {
      it(`expires rows by time (${maxRows === 0 ? 'time slots' : 'row ring'}): ${name}`, () => {
        const w = new ConfidenceWindow(hour, maxRows);
        w.add(Array.from({ length: 10 }, () => p(0.8)), 0);
        w.add(Array.from({ length: 10 }, () => p(0.6)), 30 * minute);
        const s = w.snapshot(at);
        assert.equal(s.rows, rows);
        if (want === undefined) assert.equal(s.expectedAccuracy, undefined);
        else close(s.expectedAccuracy, want);
      });
    }
  }

  it('with a row bound holds the newest N rows, also of a request larger than the ring', () => {
    const w = new ConfidenceWindow(hour, 100);
    w.add(Array.from({ length: 500 }, () => p(0.9)), 0);
    w.add([...Array.from({ length: 50 }, () => p(0.9)), ...Array.from({ length: 100 }, () => p(0.55))], 1);
    assert.deepEqual(w.snapshot(2), { rows: 100, sum: 55, expectedAccuracy: 0.55 });
  });

  it('agrees with the naive mean over a long stream of single rows (running sums stay exact)', () => {
    const w = new ConfidenceWindow(hour, 250);
    const r = rng(3);
    const all: number[][] = [];
    for (let i = 0; i < 10_000; i++) {
      const top = 0.5 + r() / 2;
      all.push([top, 1 - top]);
      w.add([{ probabilities: [top, 1 - top] }], i);
    }
    const s = w.snapshot(10_000);
    assert.equal(s.rows, 250);
    close(s.expectedAccuracy, expectedAccuracy(all.slice(-250)) ?? NaN);
  });
});
