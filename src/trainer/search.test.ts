import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  integerSearchParameters, readTrainerConfig, trainerConfigApiVersion,
  type SearchParameter, type SearchParameterName, type SearchSpec, type TrainerConfig,
} from '../shared/trainer-config.js';
import {
  applyTrial, InvalidSearchError, pickWinner, planTrials, runSearch, SearchFailedError, valueAt,
  type Trial, type TrialOutcome, type TrialRecord,
} from './search.js';

interface ParamInput { name: SearchParameterName; min?: number; max?: number; scale?: 'linear' | 'log'; values?: readonly string[] }
const param = (p: ParamInput): SearchParameter => ({ name: p.name, min: p.min, max: p.max, scale: p.scale ?? 'linear', values: p.values });
const spec = (trials: number, parameters: SearchParameter[], maxSeconds?: number): SearchSpec => ({ trials, parameters, maxSeconds });

describe('planTrials', () => {
  const space = spec(40, [
    param({ name: 'learningRate', min: 1e-4, max: 1e-1, scale: 'log' }),
    param({ name: 'batchSize', min: 16, max: 256, scale: 'log' }),
    param({ name: 'dropout', min: 0, max: 0.5 }),
    param({ name: 'hiddenUnits', values: ['64,32', '128', ''] }),
  ]);

  it('starts with the spec\'s own settings and numbers the trials in order', () => {
    const trials = planTrials(space, 7);
    assert.equal(trials.length, 40);
    assert.deepEqual(trials[0], { index: 0, parameters: {} });
    assert.deepEqual(trials.map((t) => t.index), trials.map((_, i) => i));
    for (const t of trials.slice(1)) assert.deepEqual(Object.keys(t.parameters).sort(), ['batchSize', 'dropout', 'hiddenUnits', 'learningRate']);
  });

  it('is a function of the search and the seed', () => {
    assert.deepEqual(planTrials(space, 7), planTrials(space, 7));
    assert.notDeepEqual(planTrials(space, 7), planTrials(space, 8));
  });

  it('spreads a log-scale range across its decades', () => {
    const rates = planTrials(spec(200, [param({ name: 'learningRate', min: 1e-4, max: 1e-1, scale: 'log' })]), 1)
      .slice(1).map((t) => t.parameters.learningRate as number);
    const perDecade = [1e-4, 1e-3, 1e-2].map((lo) => rates.filter((r) => r >= lo && r < lo * 10).length);
    // 199 draws over 3 decades: about 66 each; a linear draw would put ~90% in the top decade.
    for (const n of perDecade) assert.ok(n > 45 && n < 90, `draws per decade ${perDecade.join(', ')}`);
    assert.ok(rates.every((r) => r >= 1e-4 && r <= 1e-1));
  });

  it('spreads a linear range evenly', () => {
    const drops = planTrials(spec(200, [param({ name: 'dropout', min: 0, max: 0.5 })]), 1).slice(1).map((t) => t.parameters.dropout as number);
    const low = drops.filter((d) => d < 0.25).length;
    assert.ok(low > 75 && low < 125, `${low} of 199 below the middle`);
  });

  const integerCases: { name: string; p: SearchParameter; lo: number; hi: number }[] = [
    { name: 'a linear integer range', p: param({ name: 'maxDepth', min: 2, max: 6 }), lo: 2, hi: 6 },
    { name: 'a log integer range', p: param({ name: 'treeCount', min: 10, max: 1000, scale: 'log' }), lo: 10, hi: 1000 },
    { name: 'a range with fractional bounds (rounded)', p: param({ name: 'minRowsPerLeaf', min: 1.4, max: 4.6 }), lo: 1, hi: 5 },
    { name: 'batch sizes on a log scale', p: param({ name: 'batchSize', min: 8, max: 512, scale: 'log' }), lo: 8, hi: 512 },
  ];
  for (const c of integerCases) {
    it(`draws integers within the bounds from ${c.name}`, () => {
      assert.ok(integerSearchParameters.includes(c.p.name));
      const values = planTrials(spec(60, [c.p]), 3).slice(1).map((t) => t.parameters[c.p.name] as number);
      assert.ok(values.length > 0);
      for (const v of values) assert.ok(Number.isInteger(v) && v >= c.lo && v <= c.hi, `${v} outside ${c.lo}..${c.hi}`);
    });
  }

  it('reaches both ends of an integer range', () => {
    const values = new Set(planTrials(spec(30, [param({ name: 'maxDepth', min: 2, max: 4 })]), 5).slice(1).map((t) => t.parameters.maxDepth));
    assert.deepEqual([...values].sort(), [2, 3, 4]);
  });

  it('only yields listed values, parsed', () => {
    const trials = planTrials(spec(20, [param({ name: 'hiddenUnits', values: ['64,32', '16', ''] }), param({ name: 'dropout', values: ['0', '0.2'] })]), 9);
    for (const t of trials.slice(1)) {
      assert.ok([[64, 32], [16], []].some((u) => JSON.stringify(u) === JSON.stringify(t.parameters.hiddenUnits)));
      assert.ok([0, 0.2].includes(t.parameters.dropout as number));
    }
  });

  it('never repeats a draw, and stops short when the space is smaller than the trials', () => {
    // 3 × 2 = 6 distinct points: trial 0 plus the 6 draws, though 20 were asked for.
    const trials = planTrials(spec(20, [param({ name: 'hiddenUnits', values: ['64,32', '16', ''] }), param({ name: 'dropout', values: ['0', '0.2'] })]), 9);
    assert.equal(trials.length, 7);
    const keys = trials.slice(1).map((t) => JSON.stringify(t.parameters));
    assert.equal(new Set(keys).size, keys.length);
  });

  it('plans just the spec\'s own settings for one trial', () => {
    assert.deepEqual(planTrials(spec(1, [param({ name: 'dropout', min: 0, max: 0.5 })]), 1), [{ index: 0, parameters: {} }]);
  });
});

describe('valueAt', () => {
  const cases: { name: string; p: SearchParameter; u: number; want: number | readonly number[] }[] = [
    { name: 'linear bottom', p: param({ name: 'dropout', min: 0.1, max: 0.5 }), u: 0, want: 0.1 },
    { name: 'linear middle', p: param({ name: 'dropout', min: 0.1, max: 0.5 }), u: 0.5, want: 0.3 },
    { name: 'log middle is the geometric mean', p: param({ name: 'learningRate', min: 1e-4, max: 1e-2, scale: 'log' }), u: 0.5, want: 1e-3 },
    { name: 'integer: u just below 1 gives the top', p: param({ name: 'maxDepth', min: 2, max: 6 }), u: 0.999, want: 6 },
    { name: 'integer: the first fifth gives the bottom', p: param({ name: 'maxDepth', min: 2, max: 6 }), u: 0.19, want: 2 },
    { name: 'integer log 1..99: the middle draw is 10 (the geometric middle of 1..100)', p: param({ name: 'treeCount', min: 1, max: 99, scale: 'log' }), u: 0.5, want: 10 },
    { name: 'values: the list split evenly', p: param({ name: 'hiddenUnits', values: ['8', '16,8'] }), u: 0.5, want: [16, 8] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = valueAt(c.p, c.u);
      if (typeof got === 'number' && typeof c.want === 'number') assert.ok(Math.abs(got - c.want) < 1e-12, `${got} ≠ ${c.want}`);
      else assert.deepEqual(got, c.want);
    });
  }

  it('refuses a value the validation should have refused', () => {
    assert.throws(() => valueAt(param({ name: 'dropout', values: ['lots'] }), 0), InvalidSearchError);
  });
});

const baseDocument = {
  apiVersion: trainerConfigApiVersion,
  pipeline: { name: 'weather' },
  runId: 'r1',
  version: 'v1',
  data: { sources: [{ prefix: 'data/', format: 'csv' }] },
  schema: { features: [{ name: 'x', type: 'numeric' }], label: 'y', task: 'classification' },
};
const configOf = (model: Record<string, unknown>): TrainerConfig => readTrainerConfig({ ...baseDocument, model });

describe('applyTrial', () => {
  const mlp = configOf({ type: 'mlp' });
  const boosting = configOf({ type: 'gradient-boosting', trees: { maxBins: 64 } });
  const forest = configOf({ type: 'random-forest' });
  const trial = (parameters: Trial['parameters']): Trial => ({ index: 1, parameters });

  const cases: { name: string; config: TrainerConfig; parameters: Trial['parameters']; read: (c: TrainerConfig) => unknown; want: unknown }[] = [
    { name: 'mlp learningRate → hyperparameters', config: mlp, parameters: { learningRate: 0.01 }, read: (c) => c.hyperparameters.learningRate, want: 0.01 },
    { name: 'mlp batchSize → hyperparameters', config: mlp, parameters: { batchSize: 128 }, read: (c) => c.hyperparameters.batchSize, want: 128 },
    { name: 'mlp hiddenUnits → model', config: mlp, parameters: { hiddenUnits: [16, 8] }, read: (c) => c.model.hiddenUnits, want: [16, 8] },
    { name: 'mlp no hidden layer', config: mlp, parameters: { hiddenUnits: [] }, read: (c) => c.model.hiddenUnits, want: [] },
    { name: 'mlp dropout → model', config: mlp, parameters: { dropout: 0.3 }, read: (c) => c.model.dropout, want: 0.3 },
    { name: 'mlp l2 → model.l2', config: mlp, parameters: { l2: 1e-3 }, read: (c) => [c.model.l2, c.model.trees.l2], want: [1e-3, undefined] },
    { name: 'boosting learningRate → trees', config: boosting, parameters: { learningRate: 0.05 }, read: (c) => [c.model.trees.learningRate, c.hyperparameters.learningRate], want: [0.05, 0.001] },
    { name: 'boosting l2 → trees.l2', config: boosting, parameters: { l2: 2 }, read: (c) => [c.model.trees.l2, c.model.l2], want: [2, 0] },
    { name: 'boosting treeCount → trees.count', config: boosting, parameters: { treeCount: 300 }, read: (c) => c.model.trees.count, want: 300 },
    {
      name: 'forest tree settings, the others kept', config: forest,
      parameters: { maxDepth: 8, minRowsPerLeaf: 5, rowSubsample: 0.7, featureSubsample: 0.5 },
      read: (c) => c.model.trees, want: { maxDepth: 8, minRowsPerLeaf: 5, rowSubsample: 0.7, featureSubsample: 0.5 },
    },
    { name: 'boosting keeps the spec\'s other tree settings', config: boosting, parameters: { maxDepth: 3 }, read: (c) => c.model.trees, want: { maxBins: 64, maxDepth: 3 } },
    { name: 'trial 0 is the config unchanged', config: boosting, parameters: {}, read: (c) => c, want: boosting },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const before = JSON.stringify(c.config);
      const got = applyTrial(c.config, trial(c.parameters));
      assert.deepEqual(JSON.parse(JSON.stringify(c.read(got)) ?? 'null'), JSON.parse(JSON.stringify(c.want) ?? 'null'));
      assert.equal(JSON.stringify(c.config), before, 'the spec\'s config is not changed');
    });
  }

  const refused: { name: string; config: TrainerConfig; parameters: Trial['parameters'] }[] = [
    { name: 'a learning rate on a random forest', config: forest, parameters: { learningRate: 0.1 } },
    { name: 'a tree count on an MLP', config: mlp, parameters: { treeCount: 10 } },
    { name: 'a batch size on gradient boosting', config: boosting, parameters: { batchSize: 32 } },
    { name: 'hidden units as a number', config: mlp, parameters: { hiddenUnits: 32 } },
    { name: 'a dropout as a list', config: mlp, parameters: { dropout: [0.1] } },
  ];
  for (const c of refused) {
    it(`refuses ${c.name}`, () => {
      assert.throws(() => applyTrial(c.config, trial(c.parameters)), InvalidSearchError);
    });
  }
});

/** A clock the fake trainer advances: each trial takes `seconds[index]`. */
function fakeTraining(outcomes: Record<number, number | Error>, seconds: Record<number, number> = {}) {
  let t = 1_000_000;
  const started: number[] = [];
  const now = () => t;
  const train = (trial: Trial): Promise<TrialOutcome> => {
    started.push(trial.index);
    t += (seconds[trial.index] ?? 1) * 1000;
    const o = outcomes[trial.index] ?? 1;
    return o instanceof Error ? Promise.reject(o) : Promise.resolve({ score: o, detail: { epochs: trial.index } });
  };
  return { now, train, started };
}

describe('runSearch', () => {
  const five = spec(5, [param({ name: 'dropout', min: 0, max: 0.5 })]);

  it('runs every trial and picks the lowest validation loss', async () => {
    const f = fakeTraining({ 0: 0.5, 1: 0.4, 2: 0.3, 3: 0.45, 4: 0.6 });
    const r = await runSearch(five, 1, f.train, f.now);
    assert.deepEqual(f.started, [0, 1, 2, 3, 4]);
    assert.equal(r.winner.index, 2);
    assert.equal(r.winner.score, 0.3);
    assert.equal(r.stoppedBy, 'trials');
    assert.equal(r.seconds, 5);
    assert.deepEqual(r.trials.map((t) => [t.status, t.seconds]), Array(5).fill(['done', 1]));
    assert.deepEqual(r.trials[2]?.detail, { epochs: 2 });
    assert.deepEqual(r.trials.map((t) => t.parameters), planTrials(five, 1).map((t) => t.parameters));
  });

  it('stops starting trials once the time budget is spent, finishing the one under way', async () => {
    // Trials take 4 s each; the budget of 10 s is spent during trial 2 (8..12 s), which finishes.
    const f = fakeTraining({ 0: 0.5, 1: 0.4, 2: 0.3 }, { 0: 4, 1: 4, 2: 4 });
    const r = await runSearch({ ...five, maxSeconds: 10 }, 1, f.train, f.now);
    assert.deepEqual(f.started, [0, 1, 2]);
    assert.deepEqual(r.trials.map((t) => t.status), ['done', 'done', 'done', 'skipped', 'skipped']);
    assert.match(r.trials[3]?.reason ?? '', /time budget of 10s was spent \(12s\)/);
    assert.equal(r.stoppedBy, 'time');
    assert.equal(r.winner.index, 2);
    assert.equal(r.seconds, 12);
  });

  it('always trains the spec\'s own settings, even when the first trial takes the whole budget', async () => {
    const f = fakeTraining({ 0: 0.5 }, { 0: 60 });
    const r = await runSearch({ ...five, maxSeconds: 1 }, 1, f.train, f.now);
    assert.deepEqual(f.started, [0]);
    assert.equal(r.winner.index, 0);
    assert.equal(r.trials.filter((t) => t.status === 'skipped').length, 4);
  });

  it('records a trial that throws and goes on with the next', async () => {
    const f = fakeTraining({ 0: 0.5, 1: new Error('out of memory'), 2: 0.2 });
    const r = await runSearch(five, 1, f.train, f.now);
    assert.deepEqual(f.started, [0, 1, 2, 3, 4]);
    assert.deepEqual({ status: r.trials[1]?.status, reason: r.trials[1]?.reason, score: r.trials[1]?.score }, { status: 'failed', reason: 'out of memory', score: undefined });
    assert.equal(r.winner.index, 2);
  });

  it('counts a diverged loss (NaN, Infinity) as a failure, never as the winner', async () => {
    const f = fakeTraining({ 0: 0.5, 1: Number.NaN, 2: Number.NEGATIVE_INFINITY, 3: 0.7, 4: 0.9 });
    const r = await runSearch(five, 1, f.train, f.now);
    assert.deepEqual(r.trials.map((t) => t.status), ['done', 'failed', 'failed', 'done', 'done']);
    assert.match(r.trials[1]?.reason ?? '', /validation loss is NaN/);
    assert.equal(r.winner.index, 0);
  });

  it('throws naming the first failure when every trial fails, with the records', async () => {
    const f = fakeTraining({ 0: new Error('no validation rows'), 1: new Error('b'), 2: new Error('c'), 3: new Error('d'), 4: new Error('e') });
    await assert.rejects(runSearch(five, 1, f.train, f.now), (e: unknown) => {
      assert.ok(e instanceof SearchFailedError);
      assert.match(e.message, /trial 0: no validation rows/);
      assert.equal(e.trials.length, 5);
      return true;
    });
  });

  it('throws when the only trials that ran failed and the rest were skipped', async () => {
    const f = fakeTraining({ 0: new Error('boom') }, { 0: 30 });
    await assert.rejects(runSearch({ ...five, maxSeconds: 10 }, 1, f.train, f.now), /trial 0: boom/);
  });
});

describe('pickWinner', () => {
  const rec = (index: number, status: TrialRecord['status'], score?: number): TrialRecord => ({ index, parameters: {}, status, seconds: 1, ...(score === undefined ? {} : { score }) });
  const cases: { name: string; records: TrialRecord[]; want: number | undefined }[] = [
    { name: 'the lowest score', records: [rec(0, 'done', 3), rec(1, 'done', 1), rec(2, 'done', 2)], want: 1 },
    { name: 'a tie goes to the lowest index', records: [rec(0, 'done', 2), rec(1, 'done', 1), rec(2, 'done', 1)], want: 1 },
    { name: 'a tie with the spec\'s own settings keeps them', records: [rec(0, 'done', 1), rec(1, 'done', 1)], want: 0 },
    { name: 'failed and skipped trials never win', records: [rec(0, 'failed'), rec(1, 'done', 5), rec(2, 'skipped')], want: 1 },
    { name: 'negative scores are scores', records: [rec(0, 'done', 0), rec(1, 'done', -1)], want: 1 },
    { name: 'nothing done: no winner', records: [rec(0, 'failed'), rec(1, 'skipped')], want: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(pickWinner(c.records)?.index, c.want));
  }
});
