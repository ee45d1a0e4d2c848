import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidConfigError, parseTrainerConfig, trainerConfigApiVersion } from './trainer-config.js';

const minimal = {
  apiVersion: trainerConfigApiVersion,
  pipeline: { name: 'weather' },
  runId: 'r1',
  version: 'v1',
  data: { sources: [{ prefix: 'data/', format: 'csv' }] },
  schema: { features: [{ name: 'x', type: 'numeric' }, { name: 'c', type: 'categorical' }], label: 'y', task: 'classification', timestamp: 't' },
};

function problems(doc: unknown): string[] {
  try {
    parseTrainerConfig(JSON.stringify(doc));
  } catch (e: unknown) {
    if (e instanceof InvalidConfigError) return [...e.problems];
    throw e;
  }
  return [];
}

describe('trainer config', () => {
  it('applies defaults to a minimal document', () => {
    const c = parseTrainerConfig(JSON.stringify(minimal));
    assert.equal(c.pipeline.namespace, 'default');
    assert.equal(c.seed, 42);
    assert.equal(c.warmStart, 'scratch');
    assert.deepEqual(c.evaluation.holdout, { kind: 'lastFraction', fraction: 0.2 });
    // The TrainingPipeline's defaults (src/api/trainer-defaults.test.ts compares them field by field).
    assert.equal(c.evaluation.primaryMetric, 'accuracy');
    assert.deepEqual(c.evaluation.metrics, ['accuracy', 'macroF1', 'rocAuc', 'logLoss']);
    assert.equal(c.validation.maxLineBytes, 1024 * 1024);
    assert.deepEqual(c.model.hiddenUnits, [64, 32]);
    assert.equal(c.hyperparameters.batchSize, 64);
    assert.deepEqual([c.validation.minRows, c.validation.maxMissingRate], [100, 0.1]);
    assert.equal(c.data.sources[0]?.bucket, undefined);
  });

  const bad: { name: string; patch: Record<string, unknown>; want: RegExp }[] = [
    { name: 'wrong apiVersion', patch: { apiVersion: 'v0' }, want: /\$\.apiVersion/ },
    { name: 'unknown field', patch: { extra: 1 }, want: /\$\.extra: unknown field/ },
    { name: 'no sources', patch: { data: { sources: [] } }, want: /\$\.data\.sources: needs at least 1/ },
    { name: 'bad format', patch: { data: { sources: [{ prefix: 'p', format: 'xml' }] } }, want: /format: must be one of csv, jsonl/ },
    { name: 'label is a feature', patch: { schema: { ...minimal.schema, label: 'x' } }, want: /label cannot also be a feature/ },
    { name: 'unknown feature type', patch: { schema: { ...minimal.schema, features: [{ name: 'x', type: 'text' }] } }, want: /type: must be one of/ },
    { name: 'negative epochs', patch: { hyperparameters: { epochs: -1 } }, want: /epochs: must be ≥ 1/ },
    { name: 'fractional batch size', patch: { hyperparameters: { batchSize: 2.5 } }, want: /batchSize: must be an integer/ },
    { name: 'metric of the other task', patch: { evaluation: { metrics: ['rmse'] } }, want: /metrics\[0\]: must be one of accuracy/ },
    { name: 'holdout from without a date', patch: { evaluation: { holdout: { from: 'yesterday' } } }, want: /ISO-8601/ },
    { name: 'both holdout kinds', patch: { evaluation: { holdout: { from: '2020-01-01', lastFraction: 0.2 } } }, want: /either lastFraction or from/ },
    { name: 'slice column not categorical', patch: { evaluation: { sliceColumn: 'x' } }, want: /sliceColumn: must name a categorical feature/ },
    { name: 'range of an unknown column', patch: { validation: { ranges: { nope: { min: 0 } } } }, want: /nope is not a feature/ },
    { name: 'run id with a slash', patch: { runId: 'a/b' }, want: /\$\.runId: only letters/ },
    { name: 'threshold on a regression metric', patch: { evaluation: { gates: { thresholds: { rmse: 1 } } } }, want: /not a classification metric/ },
    { name: 'threshold on an unknown metric', patch: { evaluation: { gates: { thresholds: { f2: 1 } } } }, want: /thresholds\.f2: unknown field/ },
    { name: 'primary metric of the other task', patch: { evaluation: { primaryMetric: 'r2' } }, want: /primaryMetric: must be one of accuracy, macroF1, rocAuc, logLoss/ },
    { name: 'a learning rate of 0', patch: { hyperparameters: { learningRate: 0 } }, want: /learningRate: must be > 0/ },
    { name: 'a champion version with a slash', patch: { championVersion: 'v1/x' }, want: /\$\.championVersion: only letters/ },
    { name: 'a repeated class', patch: { schema: { ...minimal.schema, classes: ['a', 'b', 'a'] } }, want: /\$\.schema\.classes: duplicate class/ },
    { name: 'classes for regression', patch: { schema: { ...minimal.schema, task: 'regression', classes: ['a', 'b'] } }, want: /classes: only for classification/ },
    { name: 'a label range with min above max', patch: { schema: { ...minimal.schema, task: 'regression', labelRange: { min: 2, max: 1 } } }, want: /labelRange: min is greater than max/ },
    { name: 'a duplicate feature', patch: { schema: { ...minimal.schema, features: [{ name: 'x', type: 'numeric' }, { name: 'x', type: 'numeric' }] } }, want: /duplicate feature\(s\) x/ },
    { name: 'allowed categories of a numeric feature', patch: { validation: { allowedCategories: { x: ['a'] } } }, want: /allowedCategories\.x: not a categorical feature/ },
    { name: 'a missing required field', patch: { version: undefined }, want: /\$\.version: must be a non-empty string/ },
    { name: 'a validation block that is not an object', patch: { validation: [] }, want: /\$\.validation: must be an object/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => {
      const got = problems({ ...minimal, ...c.patch });
      assert.ok(got.some((p) => c.want.test(p)), got.join('\n'));
    });
  }

  it('lists every problem at once', () => {
    assert.ok(problems({ ...minimal, runId: '', version: 3, seed: 'x' }).length >= 3);
  });

  it('reads an empty holdout as the default fraction, and a holdout start as a start', () => {
    assert.deepEqual(parseTrainerConfig(JSON.stringify({ ...minimal, evaluation: { holdout: {} } })).evaluation.holdout, { kind: 'lastFraction', fraction: 0.2 });
    assert.deepEqual(parseTrainerConfig(JSON.stringify({ ...minimal, evaluation: { holdout: { from: '2020-01-01' } } })).evaluation.holdout, { kind: 'from', from: '2020-01-01' });
  });

  it('keeps the metrics and primary metric it is given, and defaults them by task', () => {
    const c = parseTrainerConfig(JSON.stringify({ ...minimal, evaluation: { metrics: ['macroF1'], primaryMetric: 'macroF1' } }));
    assert.deepEqual([c.evaluation.metrics, c.evaluation.primaryMetric], [['macroF1'], 'macroF1']);
    const r = parseTrainerConfig(JSON.stringify({ ...minimal, schema: { ...minimal.schema, task: 'regression' } }));
    assert.deepEqual([r.evaluation.metrics, r.evaluation.primaryMetric], [['rmse', 'mae', 'r2'], 'rmse']);
  });

  it('rejects text that is not JSON', () => {
    assert.throws(() => parseTrainerConfig('{'), InvalidConfigError);
  });

  it('needs a timestamp for time-based windows and holdouts', () => {
    const schema = { ...minimal.schema, timestamp: undefined };
    const got = problems({ ...minimal, schema, data: { ...minimal.data, window: { lastDays: 30 } }, evaluation: { holdout: { from: '2020-01-01' } } });
    assert.ok(got.some((p) => p.includes('lastDays: needs')));
    assert.ok(got.some((p) => p.includes('holdout.from: needs')));
  });
});
