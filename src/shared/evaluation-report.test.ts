import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidEvaluationReportError, parseEvaluationReport } from './evaluation-report.js';

const report = {
  version: 1, task: 'classification', primaryMetric: 'accuracy', holdout: { kind: 'lastFraction', rows: 40 },
  candidate: { rows: 40, metrics: { accuracy: 0.8, rocAuc: null, f2: 0.5 }, slices: [{ value: 'a', rows: 20, metrics: { accuracy: 0.7 } }] },
  baseline: { kind: 'majority-class', metrics: { accuracy: 0.5 } },
  gates: [
    { gate: 'threshold', status: 'pass', metric: 'accuracy', observed: 0.8, limit: 0.7, message: 'ok' },
    { gate: 'custom', status: 'fail', metric: 'f2', message: 'not ours' },
  ],
  gatesPassed: true,
  training: { backend: 'cpu' },
};

describe('evaluation report', () => {
  it('reads metric values under the known metric names only, finite ones only', () => {
    const r = parseEvaluationReport(JSON.stringify(report));
    assert.deepEqual(r.candidate.metrics, { accuracy: 0.8 });
    assert.deepEqual(r.candidate.slices, [{ value: 'a', rows: 20, metrics: { accuracy: 0.7 } }]);
    assert.equal(r.primaryMetric, 'accuracy');
  });

  it('keeps a gate verdict whatever its metric, naming the metric only when it is one', () => {
    const r = parseEvaluationReport(JSON.stringify(report));
    assert.deepEqual(r.gates.map((g) => [g.gate, g.status, g.metric]), [['threshold', 'pass', 'accuracy'], ['custom', 'fail', undefined]]);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['no primary metric', { primaryMetric: undefined }, /primaryMetric is missing/],
    ['an unknown primary metric', { primaryMetric: 'f2' }, /primaryMetric "f2" is not a metric name/],
    ['another version', { version: 2 }, /unsupported version 2/],
    ['another task', { task: 'ranking' }, /task must be classification or regression/],
  ];
  for (const [name, patch, message] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(() => parseEvaluationReport(JSON.stringify({ ...report, ...patch })), (e: unknown) => e instanceof InvalidEvaluationReportError && message.test(e.message));
    });
  }
});
