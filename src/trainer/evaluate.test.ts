import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fitPreprocessing } from '../shared/preprocessing.js';
import type { Evaluation } from '../shared/trainer-config.js';
import { baselinePredictions, computeMetrics, degradation, gateVerdicts, sliceMetrics, type ModelEvaluation } from './evaluate.js';
import type { Row } from './rows.js';

const row = (y: string, s: string): Row => ({ values: { y, s }, ref: { object: 'o', line: 1 }, time: undefined });
const rows = [row('a', 'x'), row('a', 'x'), row('b', 'y'), row('b', 'y')];
const spec = fitPreprocessing(rows.map((r) => r.values), { features: [], label: 'y', task: 'classification' });

const evaluation = (gates: Partial<Evaluation['gates']>): Evaluation => ({
  holdout: { kind: 'lastFraction', fraction: 0.2 }, metrics: ['accuracy', 'macroF1'], primaryMetric: 'macroF1', sliceColumn: 's', minSliceRows: 1, historicalSlice: undefined, refit: false,
  gates: { thresholds: {}, maxDegradationVsChampion: undefined, maxForgetting: undefined, maxSliceGap: undefined, minImprovementOverBaseline: undefined, ...gates },
});
const ev = (macroF1: number, hist?: number, slices: number[] = []): ModelEvaluation => ({
  rows: 10, metrics: { macroF1, accuracy: macroF1 }, slices: slices.map((v, i) => ({ value: String(i), rows: 10, metrics: { macroF1: v } })),
  ...(hist !== undefined ? { historical: { rows: 5, metrics: { macroF1: hist } } } : {}),
});

describe('evaluation', () => {
  it('computes metrics overall and per slice', () => {
    const p = { task: 'classification' as const, probabilities: [[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7]] };
    assert.deepEqual(computeMetrics(spec, rows, p, ['accuracy']), { accuracy: 0.75 });
    const slices = sliceMetrics(spec, rows, p, 's', ['accuracy']);
    assert.deepEqual(slices, [{ value: 'x', rows: 2, metrics: { accuracy: 0.5 } }, { value: 'y', rows: 2, metrics: { accuracy: 1 } }]);
  });

  it('predicts the training class shares as the baseline', () => {
    const b = baselinePredictions(spec, [row('a', 'x'), row('a', 'x'), row('a', 'x'), row('b', 'x')], 2);
    assert.deepEqual(b, { task: 'classification', probabilities: [[0.75, 0.25], [0.75, 0.25]] });
  });

  it('measures degradation in the metric\'s own direction', () => {
    assert.ok(Math.abs(degradation('accuracy', 0.8, 0.9) - 0.1) < 1e-12);
    assert.ok(Math.abs(degradation('rmse', 1.2, 1.0) - 0.2) < 1e-12);
    assert.ok(degradation('logLoss', 0.5, 0.6) < 0);
  });

  const cases: { name: string; gates: Partial<Evaluation['gates']>; cand: ModelEvaluation; champ?: ModelEvaluation; want: string[] }[] = [
    { name: 'threshold met', gates: { thresholds: { accuracy: 0.7 } }, cand: ev(0.8), want: ['threshold:pass'] },
    { name: 'threshold missed', gates: { thresholds: { accuracy: 0.9 } }, cand: ev(0.8), want: ['threshold:fail'] },
    { name: 'within δ of the champion', gates: { maxDegradationVsChampion: 0.05 }, cand: ev(0.78), champ: ev(0.8), want: ['vsChampion:pass'] },
    { name: 'worse than the champion', gates: { maxDegradationVsChampion: 0.01 }, cand: ev(0.7), champ: ev(0.8), want: ['vsChampion:fail'] },
    { name: 'no champion', gates: { maxDegradationVsChampion: 0.01 }, cand: ev(0.7), want: ['vsChampion:skipped'] },
    { name: 'forgot the past', gates: { maxForgetting: 0.05 }, cand: ev(0.9, 0.6), champ: ev(0.8, 0.8), want: ['forgetting:fail'] },
    { name: 'remembers the past', gates: { maxForgetting: 0.05 }, cand: ev(0.9, 0.78), champ: ev(0.8, 0.8), want: ['forgetting:pass'] },
    { name: 'slices too far apart', gates: { maxSliceGap: 0.1 }, cand: ev(0.8, undefined, [0.9, 0.6]), want: ['sliceGap:fail'] },
    { name: 'one slice only', gates: { maxSliceGap: 0.1 }, cand: ev(0.8, undefined, [0.9]), want: ['sliceGap:skipped'] },
  ];
  for (const c of cases) {
    it(`gate verdicts: ${c.name}`, () => {
      assert.deepEqual(gateVerdicts(evaluation(c.gates), c.cand, c.champ).map((g) => `${g.gate}:${g.status}`), c.want);
    });
  }

  // gates.minImprovementOverBaseline, in the primary metric's good direction.
  const primary = (metric: Evaluation['primaryMetric'], gates: Partial<Evaluation['gates']>): Evaluation => ({ ...evaluation(gates), primaryMetric: metric });
  const baselineCases: { name: string; ev: Evaluation; cand: ModelEvaluation['metrics']; base: ModelEvaluation['metrics'] | undefined; want: string; observed?: number; message?: RegExp }[] = [
    { name: 'not set: no verdict', ev: evaluation({}), cand: { macroF1: 0.5 }, base: { macroF1: 0.4 }, want: '' },
    { name: 'accuracy five points above the majority class passes 0.05', ev: primary('accuracy', { minImprovementOverBaseline: 0.05 }), cand: { accuracy: 0.7 }, base: { accuracy: 0.65 }, want: 'baseline:pass', observed: 0.05, message: /^accuracy 0\.7000 vs baseline 0\.6500: 0\.0500 above it, at least the required 0\.05$/ },
    { name: 'accuracy three points above fails 0.05', ev: primary('accuracy', { minImprovementOverBaseline: 0.05 }), cand: { accuracy: 0.68 }, base: { accuracy: 0.65 }, want: 'baseline:fail', observed: 0.03, message: /0\.6800 vs baseline 0\.6500: 0\.0300 above it, short of the required 0\.05/ },
    { name: 'worse than the baseline fails even a limit of 0', ev: primary('macroF1', { minImprovementOverBaseline: 0 }), cand: { macroF1: 0.3 }, base: { macroF1: 0.4 }, want: 'baseline:fail', observed: -0.1, message: /0\.1000 below it, short of/ },
    { name: 'rmse: lower is better, 1.5 below the mean predictor passes 1', ev: primary('rmse', { minImprovementOverBaseline: 1 }), cand: { rmse: 2.5 }, base: { rmse: 4 }, want: 'baseline:pass', observed: 1.5, message: /rmse 2\.5000 vs baseline 4\.0000: 1\.5000 below it/ },
    { name: 'rmse above the mean predictor fails', ev: primary('rmse', { minImprovementOverBaseline: 0 }), cand: { rmse: 4.2 }, base: { rmse: 4 }, want: 'baseline:fail' },
    { name: 'log loss: lower is better', ev: primary('logLoss', { minImprovementOverBaseline: 0.1 }), cand: { logLoss: 0.5 }, base: { logLoss: 0.69 }, want: 'baseline:pass' },
    { name: 'a NaN candidate metric fails', ev: primary('accuracy', { minImprovementOverBaseline: 0 }), cand: { accuracy: Number.NaN }, base: { accuracy: 0.5 }, want: 'baseline:fail' },
    { name: 'no baseline metric: skipped', ev: primary('r2', { minImprovementOverBaseline: 0.1 }), cand: { r2: 0.5 }, base: { r2: Number.NaN }, want: 'baseline:skipped' },
    { name: 'no baseline at all: skipped', ev: primary('accuracy', { minImprovementOverBaseline: 0.1 }), cand: { accuracy: 0.5 }, base: undefined, want: 'baseline:skipped' },
  ];
  for (const c of baselineCases) {
    it(`gate verdicts vs the baseline: ${c.name}`, () => {
      const verdicts = gateVerdicts(c.ev, { rows: 10, metrics: c.cand, slices: [] }, undefined, c.base);
      assert.deepEqual(verdicts.map((g) => `${g.gate}:${g.status}`).join(), c.want);
      const v = verdicts[0];
      if (c.observed !== undefined) assert.ok(Math.abs((v?.observed ?? Number.NaN) - c.observed) < 1e-9, String(v?.observed));
      if (c.message) assert.match(v?.message ?? '', c.message);
    });
  }
});
