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
    assert.equal(c.evaluation.primaryMetric, 'macroF1');
    assert.deepEqual(c.evaluation.metrics, ['accuracy', 'macroF1', 'rocAuc', 'logLoss']);
    assert.equal(c.validation.maxLineBytes, 1024 * 1024);
    assert.deepEqual(c.model.hiddenUnits, [32, 16]);
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
