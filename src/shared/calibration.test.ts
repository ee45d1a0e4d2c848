import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyCalibration, fitTemperature, minCalibrationRows, temperatureBounds, type Calibration } from './calibration.js';
import { mulberry32 as uniform } from './random.js';


function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const e = logits.map((z) => Math.exp(z - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

function sample(p: readonly number[], u: number): number {
  let acc = 0;
  for (let c = 0; c < p.length; c++) {
    acc += p[c] ?? 0;
    if (u < acc) return c;
  }
  return p.length - 1;
}

/**
 * `rows` rows of `k` classes whose labels follow softmax(z) while the model reports softmax(z · trueT): a model
 * overconfident by the factor trueT (> 1) or timid (< 1). The temperature that undoes it is trueT.
 */
function synthetic(rows: number, k: number, trueT: number, seed: number): { probabilities: Float32Array; labels: Int32Array } {
  const random = uniform(seed);
  const probabilities = new Float32Array(rows * k);
  const labels = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const z = Array.from({ length: k }, () => (random() - 0.5) * 4);
    labels[r] = sample(softmax(z), random());
    probabilities.set(softmax(z.map((x) => x * trueT)), r * k);
  }
  return { probabilities, labels };
}

function argmaxes(p: ArrayLike<number>, k: number): number[] {
  const out: number[] = [];
  for (let start = 0; start < p.length; start += k) {
    let best = 0;
    for (let c = 1; c < k; c++) if ((p[start + c] ?? 0) > (p[start + best] ?? 0)) best = c;
    out.push(best);
  }
  return out;
}

function fitted(p: Float32Array | readonly number[], y: Int32Array | readonly number[], k: number): Calibration {
  const c = fitTemperature(p, y, k);
  assert.ok(c !== undefined, 'a calibration was fitted');
  return c;
}

describe('fitTemperature', () => {
  const recoveries: { name: string; trueT: number; k: number; rows: number; tolerance: number }[] = [
    { name: 'an overconfident 3-class model (T = 2.5)', trueT: 2.5, k: 3, rows: 5000, tolerance: 0.25 },
    { name: 'an overconfident binary model (T = 2.5)', trueT: 2.5, k: 2, rows: 5000, tolerance: 0.3 },
    { name: 'a timid 4-class model (T = 0.5)', trueT: 0.5, k: 4, rows: 5000, tolerance: 0.06 },
  ];
  for (const c of recoveries) {
    it(`recovers the temperature of ${c.name} and lowers the log loss`, () => {
      const { probabilities, labels } = synthetic(c.rows, c.k, c.trueT, 11);
      const cal = fitted(probabilities, labels, c.k);
      assert.ok(Math.abs(cal.temperature - c.trueT) < c.tolerance, `fitted T = ${cal.temperature}, true ${c.trueT}`);
      assert.ok(cal.logLossAfter < cal.logLossBefore - 0.01, `log loss ${cal.logLossBefore} → ${cal.logLossAfter}`);
      assert.equal(cal.rows, c.rows);
      assert.equal(cal.method, 'temperature');
    });
  }

  it('reports as logLossAfter the log loss of the probabilities applyCalibration gives', () => {
    const { probabilities, labels } = synthetic(2000, 3, 2.5, 3);
    const cal = fitted(probabilities, labels, 3);
    const p = Array.from(probabilities);
    applyCalibration(cal, p, 3);
    const loss = -labels.reduce((acc, y, r) => acc + Math.log(p[r * 3 + y] ?? 0), 0) / labels.length;
    assert.ok(Math.abs(loss - cal.logLossAfter) < 1e-9, `${loss} vs ${cal.logLossAfter}`);
  });

  it('leaves a calibrated model near T = 1', () => {
    const { probabilities, labels } = synthetic(5000, 3, 1, 5);
    const cal = fitted(probabilities, labels, 3);
    assert.ok(Math.abs(cal.temperature - 1) < 0.1, `fitted T = ${cal.temperature}`);
    assert.ok(cal.logLossBefore - cal.logLossAfter < 0.002, `log loss ${cal.logLossBefore} → ${cal.logLossAfter}`);
  });

  for (const trueT of [0.5, 1, 2.5]) {
    it(`never changes the predicted class (model off by T = ${trueT})`, () => {
      const { probabilities, labels } = synthetic(3000, 4, trueT, 17);
      const cal = fitted(probabilities, labels, 4);
      const p = Array.from(probabilities);
      applyCalibration(cal, p, 4);
      assert.deepEqual(argmaxes(p, 4), argmaxes(probabilities, 4));
    });
  }

  it('handles probabilities of exactly 0 and 1, confidently wrong ones too', () => {
    // A model that says 1 for its class: right 80 times, wrong 20 times (the true class got exactly 0).
    const probabilities: number[] = [];
    const labels: number[] = [];
    for (let r = 0; r < 100; r++) {
      probabilities.push(1, 0);
      labels.push(r < 80 ? 0 : 1);
    }
    const cal = fitted(probabilities, labels, 2);
    assert.ok(Number.isFinite(cal.logLossBefore) && Number.isFinite(cal.logLossAfter));
    assert.ok(cal.temperature > 1 && cal.temperature <= temperatureBounds.max, `T = ${cal.temperature}`);
    // The calibrated certainty is close to the 80 % the model is right.
    const p = [1, 0];
    applyCalibration(cal, p, 2);
    assert.ok(Math.abs((p[0] ?? 0) - 0.8) < 0.01, `calibrated p = ${p[0]}`);
    assert.ok(cal.logLossAfter < 0.51, `log loss ${cal.logLossAfter}`);
  });

  it('sharpens to the lower bound for a model that is always right but unsure', () => {
    const probabilities: number[] = [];
    const labels: number[] = [];
    for (let r = 0; r < 40; r++) {
      probabilities.push(...(r % 2 === 0 ? [0.6, 0.4] : [0.4, 0.6]));
      labels.push(r % 2);
    }
    const cal = fitted(probabilities, labels, 2);
    assert.ok(Math.abs(cal.temperature - temperatureBounds.min) < 1e-3, `T = ${cal.temperature}`);
    assert.ok(cal.logLossAfter < 0.01);
  });

  it('keeps T = 1 when no temperature does better', () => {
    // Uniform probabilities: every T gives log 2; the fit must not report a change it did not make.
    const probabilities = new Float32Array(60).fill(0.5);
    const labels = Array.from({ length: 30 }, (_, i) => i % 2);
    const cal = fitted(probabilities, labels, 2);
    assert.equal(cal.temperature, 1);
    assert.equal(cal.logLossAfter, cal.logLossBefore);
    assert.ok(Math.abs(cal.logLossBefore - Math.log(2)) < 1e-6);
  });

  const tooLittle: { name: string; rows: number; labels: (r: number) => number }[] = [
    { name: 'fewer rows than the minimum', rows: minCalibrationRows - 1, labels: (r) => r % 2 },
    { name: 'a single class', rows: 100, labels: () => 1 },
    { name: 'no rows', rows: 0, labels: () => 0 },
  ];
  for (const c of tooLittle) {
    it(`fits nothing on ${c.name}`, () => {
      const { probabilities } = synthetic(c.rows, 2, 2, 1);
      assert.equal(fitTemperature(probabilities, Array.from({ length: c.rows }, (_, r) => c.labels(r)), 2), undefined);
    });
  }

  it(`fits on exactly ${minCalibrationRows} rows`, () => {
    const { probabilities, labels } = synthetic(minCalibrationRows, 2, 2, 1);
    assert.ok(new Set(labels).size === 2);
    assert.notEqual(fitTemperature(probabilities, labels, 2), undefined);
  });

  const invalid: { name: string; p: number[]; y: number[]; k: number; want: RegExp }[] = [
    { name: 'a length that is not rows × k', p: [0.5, 0.5, 0.5], y: [0, 1], k: 2, want: /3 probabilities for 2 rows of 2 classes/ },
    { name: 'a label outside the classes', p: [0.5, 0.5, 0.5, 0.5], y: [0, 2], k: 2, want: /label 2 of row 1/ },
    { name: 'a NaN probability', p: [0.5, Number.NaN, 0.5, 0.5], y: [0, 1], k: 2, want: /probability NaN at 1/ },
    { name: 'a negative probability', p: [0.5, -0.1, 0.5, 0.5], y: [0, 1], k: 2, want: /probability -0.1 at 1/ },
    { name: 'one class', p: [1, 1], y: [0, 0], k: 1, want: /at least 2 classes/ },
  ];
  for (const c of invalid) {
    it(`throws a RangeError on ${c.name}`, () => {
      assert.throws(() => fitTemperature(c.p, c.y, c.k), (e: unknown) => e instanceof RangeError && c.want.test(e.message));
    });
  }
});

describe('applyCalibration', () => {
  const cal = (temperature: number): Calibration => ({ method: 'temperature', temperature, rows: 100, logLossBefore: 1, logLossAfter: 1 });
  const cases: { name: string; calibration: Calibration | undefined; p: number[]; want: number[] }[] = [
    { name: 'no calibration leaves the row', calibration: undefined, p: [0.7, 0.3], want: [0.7, 0.3] },
    { name: 'T = 1 leaves the row', calibration: cal(1), p: [0.7, 0.3], want: [0.7, 0.3] },
    { name: 'T = 2 takes the square root, normalised', calibration: cal(2), p: [0.8, 0.2], want: [2 / 3, 1 / 3] },
    { name: 'T = 0.5 squares, normalised', calibration: cal(0.5), p: [2 / 3, 1 / 3], want: [0.8, 0.2] },
    { name: 'a 0 stays the smallest', calibration: cal(2), p: [1, 0, 0], want: [1 / (1 + 2 * Math.sqrt(1e-7)), Math.sqrt(1e-7) / (1 + 2 * Math.sqrt(1e-7)), Math.sqrt(1e-7) / (1 + 2 * Math.sqrt(1e-7))] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = [...c.p];
      applyCalibration(c.calibration, p, p.length);
      p.forEach((v, i) => assert.ok(Math.abs(v - (c.want[i] ?? 0)) < 1e-9, `${p.join(', ')} ≠ ${c.want.join(', ')}`));
    });
  }
});
