import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FeatureProfile } from './drift.js';
import { FeatureCusum, SequentialDetector, defaultFalseAlarmRate, detectionThreshold, indifferenceNats, referenceShares, rowEvidence } from './drift-sequential.js';

const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

describe('detectionThreshold', () => {
  const cases: Array<{ name: string; features: number; rate: number; want: number }> = [
    { name: 'one feature at 1e-8 per row is ln 1e8', features: 1, rate: 1e-8, want: Math.log(1e8) },
    { name: 'four features pay ln 4 more (Bonferroni)', features: 4, rate: 1e-8, want: Math.log(4e8) },
    { name: 'a laxer rate lowers it', features: 4, rate: 1e-4, want: Math.log(4e4) },
  ];
  for (const c of cases) it(c.name, () => close(detectionThreshold(c.features, c.rate), c.want, c.name));

  it('refuses a rate outside (0, 1) and no features', () => {
    for (const rate of [0, 1, -1, NaN]) assert.throws(() => detectionThreshold(4, rate), RangeError);
    assert.throws(() => detectionThreshold(0, defaultFalseAlarmRate), RangeError);
  });
});

describe('referenceShares', () => {
  it('floors empty bins and still sums to 1', () => {
    const p = referenceShares([0.5, 0.5, 0]);
    close(p.reduce((a, b) => a + b, 0), 1, 'sum');
    assert.ok((p[2] ?? 0) > 0);
    assert.ok((p[0] ?? 0) < 0.5);
  });
  it('leaves shares above the floor in proportion', () => {
    const p = referenceShares([0.2, 0.3, 0.5]);
    close(p[0] ?? 0, 0.2, 'p0');
    close(p[2] ?? 0, 0.5, 'p2');
  });
});

describe('rowEvidence', () => {
  const p = [0.25, 0.25, 0.5];
  const cases: Array<{ name: string; w: number[]; total: number; bin: number; want: number }> = [
    { name: 'no recent rows: q̂ is the reference, only −δ', w: [0, 0, 0], total: 0, bin: 0, want: -indifferenceNats },
    { name: 'recent rows all in the bin: evidence for a shift', w: [4, 0, 0], total: 4, bin: 0, want: Math.log(((4 + 4 * 0.25) / 8) / 0.25) - indifferenceNats },
    { name: 'recent rows elsewhere: evidence against', w: [0, 0, 4], total: 4, bin: 0, want: Math.log(((0 + 4 * 0.25) / 8) / 0.25) - indifferenceNats },
    { name: 'recent rows in the reference shares: only −δ', w: [1, 1, 2], total: 4, bin: 2, want: -indifferenceNats },
  ];
  for (const c of cases) it(c.name, () => close(rowEvidence(p, c.w, c.total, c.bin), c.want, c.name));

  it('has expectation at most −δ under the reference, whatever q̂ (the e-value property)', () => {
    for (const w of [[0, 0, 0], [9, 0, 0], [0, 3, 1], [2, 2, 4]]) {
      const total = w.reduce((a, b) => a + b, 0);
      const expectedFactor = p.reduce((a, pb, b) => a + pb * Math.exp(rowEvidence(p, w, total, b)), 0);
      close(expectedFactor, Math.exp(-indifferenceNats), `w ${w.join(',')}`);
    }
  });
});

describe('FeatureCusum', () => {
  it('stays near 0 on rows in the reference shares', () => {
    const c = new FeatureCusum([0.25, 0.25, 0.25, 0.25]);
    for (let i = 0; i < 4000; i++) c.add(i % 4);
    assert.ok(c.peak < 1, `peak ${c.peak}`);
  });
  it('climbs on rows all in one bin, and keeps its peak when they stop', () => {
    const c = new FeatureCusum([0.25, 0.25, 0.25, 0.25]);
    for (let i = 0; i < 100; i++) c.add(3);
    assert.ok(c.statistic > 50, `statistic ${c.statistic}`);
    const peak = c.peak;
    for (let i = 0; i < 2000; i++) c.add(i % 4);
    assert.ok(c.statistic < peak);
    assert.equal(c.peak, peak);
  });
  it('forgets: a long quiet stretch slows a later shift no more than a short one (unlike a test since the start)', () => {
    const rise = (quietRows: number): number => {
      const c = new FeatureCusum([0.5, 0.5]);
      for (let i = 0; i < quietRows; i++) c.add(i % 2);
      let s = 0;
      for (let i = 0; i < 40; i++) s = c.add(0);
      return s;
    };
    const short = rise(400);
    const long = rise(100_000);
    assert.ok(short > 5, `rise ${short}`);
    assert.ok(Math.abs(short - long) < 0.01, `${short} vs ${long}`);
  });
});

describe('FeatureCusum against a plain implementation', () => {
  it('gives the statistic of shrinking every weight each row, also past many rescalings (60,000 rows)', () => {
    const p = [0.1, 0.2, 0.3, 0.4];
    const c = new FeatureCusum(p);
    const w = [0, 0, 0, 0];
    let total = 0;
    let s = 0;
    let seed = 3;
    const rand = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const decay = 2 ** (-1 / 32);
    for (let i = 0; i < 60_000; i++) {
      // Reference-like rows, with a shifted stretch now and then so S moves.
      const x = rand();
      const bin = i % 5000 < 300 ? 3 : x < 0.1 ? 0 : x < 0.3 ? 1 : x < 0.6 ? 2 : 3;
      s = Math.max(s, 0) + rowEvidence(referenceShares(p), w, total, bin);
      for (let b = 0; b < 4; b++) w[b] = (w[b] ?? 0) * decay;
      w[bin] = (w[bin] ?? 0) + 1;
      total = total * decay + 1;
      const got = c.add(bin);
      if (Math.abs(got - s) > 1e-6) assert.fail(`row ${i}: ${got} vs ${s}`);
    }
  });
});

describe('SequentialDetector', () => {
  const feature = (name: string, shares: number[]): FeatureProfile => ({
    name, binning: { kind: 'numeric', edges: shares.slice(2).map((_, i) => i) }, shares, count: 1000, missing: 0,
  });
  const features = [feature('a', [0.5, 0.5, 0]), feature('b', [0.25, 0.25, 0.25, 0.25, 0])];

  it('judges at ln(F/α) and reports no detection on reference-like rows', () => {
    const d = new SequentialDetector(features);
    close(d.threshold, Math.log(2 / defaultFalseAlarmRate), 'threshold');
    for (let i = 0; i < 5000; i++) d.add([i % 2, i % 4], i);
    const s = d.state();
    assert.equal(s.rows, 5000);
    assert.equal(s.detectedAtMs, undefined);
    assert.deepEqual([...s.evidence.keys()], ['a', 'b']);
  });
  it('detects a shift of one feature within tens of rows, at the time of the row that crossed', () => {
    const d = new SequentialDetector(features);
    for (let i = 0; i < 1000; i++) d.add([i % 2, i % 4], i);
    let at = -1;
    for (let i = 1000; i < 1200 && at < 0; i++) {
      d.add([i % 2, 3], i);
      if (d.state().detectedAtMs !== undefined) at = i;
    }
    assert.ok(at > 1000 && at < 1060, `detected at row ${at}`);
    assert.equal(d.state().detectedAtMs, at);
    assert.ok((d.state().evidence.get('b') ?? 0) >= d.threshold);
    assert.ok((d.state().evidence.get('a') ?? 0) < d.threshold);
  });
  it('never detects without features', () => {
    const d = new SequentialDetector([]);
    d.add([], 1);
    assert.equal(d.state().detectedAtMs, undefined);
  });
});
