import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainingPipelineSpec } from '../../../api/training-pipeline.js';
import type { EvaluationReport } from '../../../shared/evaluation-report.js';
import { pipeline, report } from './fixtures.js';
import { judgeCandidate } from './gates.js';

function judge(edit: (s: TrainingPipelineSpec) => void, r: EvaluationReport, champion: string | undefined): [boolean, string | undefined] {
  const tp = pipeline();
  edit(tp.spec);
  const j = judgeCandidate(tp.spec, r, champion);
  return [j.blessed, j.failed?.name];
}

const withSlices = (acc: number, s: Array<[string, number, number]>): EvaluationReport => {
  const r = report({ accuracy: acc });
  return { ...r, candidate: { ...r.candidate, slices: s.map(([value, rows, a]) => ({ value, rows, metrics: { accuracy: a } })) } };
};
const withHistory = (cand: number, champ: number): EvaluationReport => {
  const r = report({ accuracy: 0.8 }, { version: 'v1', metrics: { accuracy: 0.8 } });
  return { ...r, candidate: { ...r.candidate, historical: { rows: 50, metrics: { accuracy: cand } } }, champion: r.champion && { ...r.champion, historical: { rows: 50, metrics: { accuracy: champ } } } };
};

const baselineBy = (margin: number) => (s: TrainingPipelineSpec): void => { s.evaluation.minImprovementOverBaseline = margin; };
const regression = (rmse: number, baselineRmse: number): EvaluationReport =>
  ({ ...report({ rmse }), task: 'regression', primaryMetric: 'rmse', baseline: { kind: 'training-mean', metrics: { rmse: baselineRmse } } });

describe('judgeCandidate', () => {
  const none = (): void => undefined;
  const table: Array<[string, (s: TrainingPipelineSpec) => void, EvaluationReport, string | undefined, [boolean, string | undefined]]> = [
    ['the first candidate with no gates is blessed', none, report({ accuracy: 0.5 }), undefined, [true, undefined]],
    ['a threshold minimum not met rejects', (s) => { s.evaluation.thresholds = [{ metric: 'accuracy', min: 0.7 }]; }, report({ accuracy: 0.69 }), undefined, [false, 'threshold:accuracy']],
    ['a threshold maximum exceeded rejects (losses)', (s) => { s.evaluation.thresholds = [{ metric: 'logLoss', max: 0.5 }]; }, report({ accuracy: 0.9, logLoss: 0.6 }), undefined, [false, 'threshold:logLoss']],
    ['a metric that was not measured fails its threshold', (s) => { s.evaluation.thresholds = [{ metric: 'rocAuc', min: 0.5 }]; }, report({ accuracy: 0.9 }), undefined, [false, 'threshold:rocAuc']],
    ['worse than the champion within maxRegression passes', none, report({ accuracy: 0.795 }, { version: 'v1', metrics: { accuracy: 0.8 } }), 'v1', [true, undefined]],
    ['worse than the champion by more than maxRegression rejects', none, report({ accuracy: 0.78 }, { version: 'v1', metrics: { accuracy: 0.8 } }), 'v1', [false, 'champion']],
    ['for a loss, higher is worse', (s) => { s.data.schema.label.task = 'regression'; }, { ...report({ rmse: 2.5 }, { version: 'v1', metrics: { rmse: 2 } }), task: 'regression' }, 'v1', [false, 'champion']],
    ['compared with another champion than the current one fails', none, report({ accuracy: 0.9 }, { version: 'v1', metrics: { accuracy: 0.8 } }), 'v2', [false, 'champion']],
    ['no comparison at all while a champion exists fails', none, report({ accuracy: 0.9 }), 'v1', [false, 'champion']],
    ['forgetting within maxDrop passes', (s) => { s.evaluation.forgetting = { from: '2012-01-01', to: '2013-01-01', maxDrop: 0.05 }; }, withHistory(0.76, 0.8), 'v1', [true, undefined]],
    ['forgetting beyond maxDrop rejects', (s) => { s.evaluation.forgetting = { from: '2012-01-01', to: '2013-01-01', maxDrop: 0.05 }; }, withHistory(0.7, 0.8), 'v1', [false, 'forgetting']],
    ['a slice gap beyond maxGap rejects', (s) => { s.evaluation.slices = { column: 'city', maxGap: 0.1 }; }, withSlices(0.8, [['a', 100, 0.9], ['b', 100, 0.7]]), undefined, [false, 'slices']],
    ['beating the majority class by the margin passes', baselineBy(0.05), report({ accuracy: 0.45 }), undefined, [true, undefined]],
    ['beating it by less than the margin rejects', baselineBy(0.05), report({ accuracy: 0.44 }), undefined, [false, 'baseline']],
    ['no better than the majority class rejects even with a margin of 0', baselineBy(0), report({ accuracy: 0.39 }), undefined, [false, 'baseline']],
    ['equal to the baseline passes a margin of 0', baselineBy(0), report({ accuracy: 0.4 }), undefined, [true, undefined]],
    ['for a loss the baseline is beaten downwards (rmse below the mean predictor\'s)', (s) => { baselineBy(0.5)(s); s.data.schema.label.task = 'regression'; },
      regression(2.4, 3), undefined, [true, undefined]],
    ['and an rmse too close to the mean predictor\'s rejects', (s) => { baselineBy(0.5)(s); s.data.schema.label.task = 'regression'; },
      regression(2.6, 3), undefined, [false, 'baseline']],
    ['a report without the baseline\'s primary metric fails the gate', baselineBy(0.05), report({ accuracy: 0.9 }, undefined, { baseline: { kind: 'majority-class', metrics: {} } }), undefined, [false, 'baseline']],
    ['without minImprovementOverBaseline there is no baseline gate', none, report({ accuracy: 0.1 }), undefined, [true, undefined]],
    ['small slices are not gated', (s) => { s.evaluation.slices = { column: 'city', maxGap: 0.1 }; }, withSlices(0.8, [['a', 100, 0.9], ['b', 5, 0.1]]), undefined, [true, undefined]],
  ];
  for (const [name, edit, r, champion, want] of table) it(name, () => assert.deepEqual(judge(edit, r, champion), want));

  it('names every gate with its numbers', () => {
    const tp = pipeline((t) => { t.spec.evaluation.thresholds = [{ metric: 'accuracy', min: 0.7 }]; });
    const j = judgeCandidate(tp.spec, report({ accuracy: 0.75 }, { version: 'v1', metrics: { accuracy: 0.8 } }), 'v1');
    assert.deepEqual(j.gates.map((g) => [g.name, g.passed]), [['threshold:accuracy', true], ['champion', false]]);
    assert.match(j.failed?.message ?? '', /0\.7500 vs champion v1 0\.8000: worse by 0\.0500, more than maxRegression 0\.01/);
  });

  it('the baseline gate says the baseline, both values and the margin', () => {
    const tp = pipeline((t) => { t.spec.evaluation.minImprovementOverBaseline = 0.1; });
    const j = judgeCandidate(tp.spec, report({ accuracy: 0.45 }), undefined);
    assert.deepEqual(j.gates.map((g) => [g.name, g.passed]), [['champion', true], ['baseline', false]]);
    assert.equal(j.failed?.message, 'accuracy 0.4500 vs majority-class baseline 0.4000: better by 0.0500, less than minImprovementOverBaseline 0.1');
    const worse = judgeCandidate(tp.spec, report({ accuracy: 0.3 }), undefined);
    assert.equal(worse.failed?.message, 'accuracy 0.3000 vs majority-class baseline 0.4000: worse by 0.1000, less than minImprovementOverBaseline 0.1');
  });
});
