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
});
