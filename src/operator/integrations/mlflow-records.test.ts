import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainingRun } from '../../api/training-pipeline.js';
import type { EvaluationReport } from '../../shared/evaluation-report.js';
import { flatten, metricKey, mlflowRunRecord, registeredModelName } from './mlflow-records.js';

const ref = { namespace: 'ml', name: 'weather' };
const run = (over: Partial<TrainingRun>): TrainingRun => ({
  name: 'weather-1', version: 'v1', trigger: 'Initial', startTime: '2026-01-01T00:00:00Z', completionTime: '2026-01-01T00:01:00Z', outcome: 'Blessed', ...over,
});
const report = {
  version: 1, task: 'classification', primaryMetric: 'accuracy', holdout: { kind: 'time', rows: 300 },
  candidate: { rows: 300, metrics: { accuracy: 0.8, logLoss: 0.5 }, slices: [{ value: 'Seattle', rows: 300, metrics: { accuracy: 0.8 } }] },
  champion: { version: 'v0', rows: 300, metrics: { accuracy: 0.7 }, slices: [] },
  baseline: { kind: 'majority', metrics: { accuracy: 0.4 } },
  gates: [], gatesPassed: true,
  training: { family: 'mlp', history: [{ epoch: 0, loss: 1.2, valLoss: 1.3 }, { epoch: 1, loss: 0.9 }] },
} as unknown as EvaluationReport;
const lineage = { family: 'mlp', model: { hiddenUnits: [16, 8] }, hyperparameters: { epochs: 2, learningRate: 0.01 }, seed: 7, rows: { train: 900 }, datasetDigest: 'abc', codeVersion: 'img:1' };

describe('mlflowRunRecord', () => {
  it('a blessed run: parameters from the lineage, metrics per epoch and final, a link to the version, FINISHED', () => {
    const r = mlflowRunRecord(ref, 'models', run({}), { report, lineage, validation: { ok: true, issues: [] } });
    assert.equal(r.status, 'FINISHED');
    assert.equal(r.source, 's3://models/pipelines/ml/weather/versions/v1/');
    assert.deepEqual(r.createTags[0], { key: 'perennial.run', value: 'ml/weather/weather-1' });
    const params = Object.fromEntries(r.params.map((p) => [p.key, p.value]));
    assert.deepEqual(params, { 'family': 'mlp', 'model.hiddenUnits': '[16,8]', 'hyperparameters.epochs': '2', 'hyperparameters.learningRate': '0.01', 'seed': '7', 'rows.train': '900' });
    const metrics = r.metrics.map((m) => `${m.key}@${m.step}=${m.value}`);
    assert.deepEqual(metrics, ['loss@0=1.2', 'val_loss@0=1.3', 'loss@1=0.9', 'holdout.accuracy@0=0.8', 'holdout.logLoss@0=0.5', 'champion.accuracy@0=0.7', 'baseline.accuracy@0=0.4', 'holdout.rows@0=300', 'slice.Seattle.accuracy@0=0.8']);
    const tags = Object.fromEntries(r.tags.map((t) => [t.key, t.value]));
    assert.equal(tags['perennial.outcome'], 'Blessed');
    assert.equal(tags['perennial.artifacts'], r.source);
    assert.equal(tags['perennial.datasetDigest'], 'abc');
    assert.equal(tags['perennial.validation.ok'], 'true');
  });

  const cases: Array<{ outcome: TrainingRun['outcome']; status: string; source: boolean }> = [
    { outcome: 'Rejected', status: 'FINISHED', source: true },
    { outcome: 'Failed', status: 'FAILED', source: false },
    { outcome: 'InvalidData', status: 'FAILED', source: false },
  ];
  for (const c of cases) {
    it(`a ${c.outcome} run ends ${c.status}`, () => {
      const r = mlflowRunRecord(ref, 'models', run({ outcome: c.outcome, message: 'why' }), { report: undefined, lineage: undefined, validation: undefined });
      assert.equal(r.status, c.status);
      assert.equal(r.source !== undefined, c.source);
      assert.deepEqual(r.params, []);
      assert.ok(r.tags.some((t) => t.key === 'perennial.message' && t.value === 'why'));
    });
  }
});

describe('names and keys', () => {
  it('the registered model is <namespace>-<name>', () => assert.equal(registeredModelName(ref), 'ml-weather'));
  it('metric keys keep only what MLflow takes', () => assert.equal(metricKey('slice.São Paulo+1.accuracy'), 'slice.S_o Paulo_1.accuracy'));
  it('flatten leaves out undefined and null', () => assert.deepEqual(flatten('a', { b: null, c: undefined, d: { e: 'x' } }), [{ key: 'a.d.e', value: 'x' }]));
});
