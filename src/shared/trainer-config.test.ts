import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  InvalidConfigError, parseSearchValue, parseTrainerConfig, searchParameterProblems, trainerConfigApiVersion,
  type ModelFamily, type SearchParameter, type SearchParameterName,
} from './trainer-config.js';

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

describe('search validation', () => {
  const values: { name: SearchParameterName; text: string; want: number | readonly number[] | undefined }[] = [
    { name: 'learningRate', text: '0.01', want: 0.01 },
    { name: 'learningRate', text: '1', want: 1 },
    { name: 'learningRate', text: '0', want: undefined },
    { name: 'learningRate', text: '1.5', want: undefined },
    { name: 'learningRate', text: '', want: undefined },
    { name: 'learningRate', text: 'fast', want: undefined },
    { name: 'batchSize', text: '64', want: 64 },
    { name: 'batchSize', text: '64.5', want: undefined },
    { name: 'batchSize', text: '0', want: undefined },
    { name: 'hiddenUnits', text: '64,32', want: [64, 32] },
    { name: 'hiddenUnits', text: ' 8 , 4 ', want: [8, 4] },
    { name: 'hiddenUnits', text: '', want: [] },
    { name: 'hiddenUnits', text: '64,,32', want: undefined },
    { name: 'hiddenUnits', text: '0', want: undefined },
    { name: 'hiddenUnits', text: '4097', want: undefined },
    { name: 'hiddenUnits', text: '1,1,1,1,1,1,1,1,1', want: undefined },
    { name: 'hiddenUnits', text: '16.5', want: undefined },
    { name: 'dropout', text: '0', want: 0 },
    { name: 'dropout', text: '0.95', want: undefined },
    { name: 'l2', text: '1e3', want: 1000 },
    { name: 'l2', text: 'Infinity', want: undefined },
    { name: 'l2', text: '-0.1', want: undefined },
    { name: 'treeCount', text: '5000', want: 5000 },
    { name: 'treeCount', text: '5001', want: undefined },
    { name: 'maxDepth', text: '33', want: undefined },
    { name: 'minRowsPerLeaf', text: '1', want: 1 },
    { name: 'rowSubsample', text: '1', want: 1 },
    { name: 'rowSubsample', text: '0', want: undefined },
    { name: 'featureSubsample', text: '0.5', want: 0.5 },
  ];
  for (const c of values) {
    it(`reads ${c.name} "${c.text}" as ${JSON.stringify(c.want) ?? 'invalid'}`, () => {
      assert.deepEqual(parseSearchValue(c.name, c.text), c.want);
    });
  }

  const p = (name: SearchParameterName, r: { min?: number; max?: number; scale?: 'linear' | 'log'; values?: readonly string[] }): SearchParameter => (
    { name, min: r.min, max: r.max, scale: r.scale ?? 'linear', values: r.values });
  const parameters: { name: string; family: ModelFamily; p: SearchParameter; want: RegExp | undefined }[] = [
    { name: 'a log learning rate for an MLP', family: 'mlp', p: p('learningRate', { min: 1e-4, max: 0.1, scale: 'log' }), want: undefined },
    { name: 'hidden unit values', family: 'mlp', p: p('hiddenUnits', { values: ['64,32', '128', ''] }), want: undefined },
    { name: 'a tree count for a forest', family: 'random-forest', p: p('treeCount', { min: 50, max: 500 }), want: undefined },
    { name: 'integer bounds that round into range', family: 'gradient-boosting', p: p('minRowsPerLeaf', { min: 1.4, max: 4.6 }), want: undefined },
    { name: 'a learning rate for a forest', family: 'random-forest', p: p('learningRate', { min: 0.01, max: 0.1 }),
      want: /name: learningRate does not apply to model type random-forest \(it applies to mlp, gradient-boosting\)/ },
    { name: 'a tree count for an MLP', family: 'mlp', p: p('treeCount', { min: 10, max: 100 }), want: /treeCount does not apply to model type mlp/ },
    { name: 'a batch size for gradient boosting', family: 'gradient-boosting', p: p('batchSize', { values: ['32'] }), want: /batchSize does not apply to model type gradient-boosting/ },
    { name: 'both values and a range', family: 'mlp', p: p('dropout', { min: 0, max: 0.5, values: ['0.1'] }), want: /give either min and max, or values/ },
    { name: 'values and a min', family: 'mlp', p: p('dropout', { min: 0, values: ['0.1'] }), want: /give either min and max, or values/ },
    { name: 'neither values nor a range', family: 'mlp', p: p('dropout', {}), want: /give either min and max, or values/ },
    { name: 'a min without a max', family: 'mlp', p: p('dropout', { min: 0.1 }), want: /a range needs both min and max/ },
    { name: 'hidden units as a range', family: 'mlp', p: p('hiddenUnits', { min: 8, max: 64 }), want: /hiddenUnits takes values \(e\.g\. "64,32"\), not a range/ },
    { name: 'min above max', family: 'mlp', p: p('dropout', { min: 0.5, max: 0.1 }), want: /min is greater than max/ },
    { name: 'a log scale from 0', family: 'mlp', p: p('l2', { min: 0, max: 1, scale: 'log' }), want: /a log scale needs min > 0/ },
    { name: 'an unreadable value', family: 'mlp', p: p('batchSize', { values: ['64', 'big'] }), want: /values\[1\]: "big" is not a valid batchSize/ },
    { name: 'a dropout range past 0.9', family: 'mlp', p: p('dropout', { min: 0, max: 0.95 }), want: /the range 0\.\.0\.95 is outside what dropout accepts/ },
    { name: 'a learning rate range from 0', family: 'mlp', p: p('learningRate', { min: 0, max: 0.1 }), want: /outside what learningRate accepts/ },
    // A fractional bound is rounded only for integer parameters: a learning rate of 1.4 is no learning rate.
    { name: 'a learning rate range past 1', family: 'gradient-boosting', p: p('learningRate', { min: 0.1, max: 1.4 }), want: /the range 0\.1\.\.1\.4 is outside what learningRate accepts/ },
    { name: 'a row subsample range past 1', family: 'random-forest', p: p('rowSubsample', { min: 0.5, max: 1.3 }), want: /outside what rowSubsample accepts/ },
    { name: 'a depth range from 0', family: 'random-forest', p: p('maxDepth', { min: 0.4, max: 4 }), want: /outside what maxDepth accepts/ },
    { name: 'a tree count range past 5000', family: 'gradient-boosting', p: p('treeCount', { min: 10, max: 6000 }), want: /outside what treeCount accepts/ },
  ];
  for (const c of parameters) {
    it(c.want === undefined ? `takes ${c.name}` : `refuses ${c.name}`, () => {
      const got = searchParameterProblems(c.family, c.p, '$.search.parameters[0]');
      if (c.want === undefined) assert.deepEqual(got, []);
      else assert.ok(got.length === 1 && got[0]?.startsWith('$.search.parameters[0]') && c.want.test(got[0]), got.join('\n'));
    });
  }

  it('checks each parameter against the config\'s model type, and refuses a parameter listed twice', () => {
    const got = problems({
      ...minimal,
      model: { type: 'random-forest' },
      search: { trials: 5, parameters: [
        { name: 'maxDepth', min: 2, max: 8 }, { name: 'dropout', values: ['0.1'] }, { name: 'maxDepth', values: ['3'] },
      ] },
    });
    assert.ok(got.some((m) => m.startsWith('$.search.parameters[1].name: dropout does not apply to model type random-forest')), got.join('\n'));
    assert.ok(got.includes('$.search.parameters: maxDepth listed twice'), got.join('\n'));
    assert.equal(got.length, 2, got.join('\n'));
  });

  it('reads a valid search with its defaults', () => {
    const c = parseTrainerConfig(JSON.stringify({ ...minimal, search: { trials: 8, maxSeconds: 600, parameters: [{ name: 'learningRate', min: 1e-4, max: 1e-2, scale: 'log' }, { name: 'dropout', min: 0, max: 0.3 }] } }));
    assert.equal(c.search?.trials, 8);
    assert.deepEqual(c.search?.parameters.map((x) => x.scale), ['log', 'linear']);
  });

  const shapes: { name: string; search: unknown; want: RegExp }[] = [
    { name: 'no trials', search: { trials: 0, parameters: [{ name: 'dropout', values: ['0'] }] }, want: /\$\.search\.trials: must be ≥ 1/ },
    { name: 'no parameters', search: { trials: 3, parameters: [] }, want: /\$\.search\.parameters: needs at least 1/ },
    { name: 'a time budget of 0', search: { trials: 3, maxSeconds: 0, parameters: [{ name: 'dropout', values: ['0'] }] }, want: /\$\.search\.maxSeconds: must be > 0/ },
    { name: 'an unknown parameter', search: { trials: 3, parameters: [{ name: 'momentum', values: ['0.9'] }] }, want: /\$\.search\.parameters\[0\]\.name: must be one of/ },
  ];
  for (const c of shapes) {
    it(`refuses a search with ${c.name}`, () => {
      const got = problems({ ...minimal, search: c.search });
      assert.ok(got.some((m) => c.want.test(m)), got.join('\n'));
    });
  }
});
