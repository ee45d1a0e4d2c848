// Model families through the whole run in memory (MemoryStore, CPU backend): each family trains, calibrates,
// evaluates and publishes a version the one loader reads back; a tree run after an MLP champion evaluates the
// champion and records why a warm start did not apply; a search records every trial and trains its winner; the
// refit of a tree model keeps the gated model's round count and temperature. The pure decisions have table tests.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import winston from 'winston';
import { loadTabularModel } from '../ml/load-model.js';
import { predictRows } from '../ml/predict.js';
import { readSavedModel } from '../ml/store-io.js';
import { artifactKey, versionPrefix } from '../shared/artifact-layout.js';
import { parseEvaluationReport } from '../shared/evaluation-report.js';
import { parsePreprocessingSpec } from '../shared/preprocessing.js';
import { parseTrainerConfig, trainerConfigApiVersion, type TrainerConfig } from '../shared/trainer-config.js';
import { MemoryStore } from '../storage/memory-store.js';
import { calibrationSkipped } from './calibrate.js';
import { validationLoss } from './fit-family.js';
import { InvalidDataError, runTraining, warmStartRefusal } from './run.js';

const log = winston.createLogger({ level: 'error', transports: [new winston.transports.Console({ silent: true })] });
const bucket = 'b';
const pipeline = { namespace: 'ns', name: 'cls' };
const deps = (store: MemoryStore) => ({ store, bucket, log, forcedBackend: 'cpu' as const, codeVersion: 'test', now: () => new Date('2024-03-01T00:00:00Z') });

/** An interaction a linear model cannot learn: class "yes" when a and b have the same sign, 10% of labels flipped. */
function line(i: number): string {
  const a = Math.sin(i * 1.7) * 2;
  const b = Math.cos(i * 2.3) * 2;
  const noisy = (i * 7919) % 10 === 0;
  const yes = (a > 0) === (b > 0) ? !noisy : noisy;
  return JSON.stringify({ a, b, y: yes ? 'yes' : 'no', t: new Date(Date.UTC(2024, 0, 1) + i * 3_600_000).toISOString() });
}

async function seeded(rows = 600): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.put(bucket, 'data/a.jsonl', Array.from({ length: rows }, (_, i) => line(i)).join('\n'));
  return store;
}

function config(over: Record<string, unknown> = {}): TrainerConfig {
  return parseTrainerConfig(JSON.stringify({
    apiVersion: trainerConfigApiVersion, pipeline, runId: 'r1', version: 'v1', seed: 3,
    data: { sources: [{ prefix: 'data/', format: 'jsonl' }] },
    schema: { features: [{ name: 'a', type: 'numeric' }, { name: 'b', type: 'numeric' }], label: 'y', task: 'classification', timestamp: 't' },
    model: { type: 'gradient-boosting' },
    hyperparameters: { epochs: 30, batchSize: 32, learningRate: 0.02, patience: 5, validationFraction: 0.2 },
    evaluation: { holdout: { lastFraction: 0.2 } },
    ...over,
  }));
}

async function read<T>(store: MemoryStore, version: string, name: 'lineage' | 'metrics' | 'preprocessing'): Promise<T> {
  return JSON.parse((await store.getBuffer(bucket, artifactKey(pipeline, version, name))).toString()) as T;
}

interface Lineage {
  family: string;
  settings: Record<string, number>;
  calibration: { method: string; temperature?: number; logLossBefore?: number; logLossAfter?: number; reason?: string };
  warmStart: { requested: string; used: boolean; reason?: string };
  search?: { winner: { index: number; parameters: Record<string, unknown> }; trials: { index: number; status: string; score?: number; seconds: number; parameters: Record<string, unknown> }[]; judgedOn: { trainRows: number; validationRows: number } };
  model: { trees: Record<string, number> };
  refit: { family?: string; rounds?: number; gatedModel?: { rounds?: number }; calibration?: string };
}

describe('model families in a run (in memory)', () => {
  for (const family of ['gradient-boosting', 'random-forest', 'mlp'] as const) {
    it(`${family}: trains, calibrates on the validation rows, publishes, and the loader reads it back with the same predictions`, async () => {
      const store = await seeded();
      await runTraining(config({ model: { type: family, hiddenUnits: [16, 8] } }), deps(store));
      const lineage = await read<Lineage>(store, 'v1', 'lineage');
      assert.equal(lineage.family, family);
      const metrics = parseEvaluationReport((await store.getBuffer(bucket, artifactKey(pipeline, 'v1', 'metrics'))).toString());
      assert.equal(metrics.training['family'], family);
      assert.deepEqual(metrics.training['settings'], lineage.settings);
      if (family !== 'mlp') {
        // Defaults resolved for the run's row count are recorded as used.
        assert.equal(typeof lineage.settings['minRowsPerLeaf'], 'number');
        assert.equal(typeof metrics.training['bestRound'], 'number');
        // The interaction is learnable by trees: well above the majority class.
        assert.ok((metrics.candidate.metrics.accuracy ?? 0) > (metrics.baseline.metrics.accuracy ?? 1) + 0.15, JSON.stringify(metrics.candidate.metrics));
      }
      assert.equal(lineage.calibration.method, 'temperature');
      assert.ok((lineage.calibration.logLossAfter ?? 9) <= (lineage.calibration.logLossBefore ?? 0));
      const spec = parsePreprocessingSpec((await store.getBuffer(bucket, artifactKey(pipeline, 'v1', 'preprocessing'))).toString());
      assert.equal(spec.calibration?.temperature, lineage.calibration.temperature);
      assert.ok(Number.isFinite(metrics.candidate.metrics.logLoss));
      const model = await loadTabularModel(await readSavedModel(store, bucket, versionPrefix(pipeline, 'v1') + 'model/'));
      assert.equal(model.family, family);
      const rows = Array.from({ length: 20 }, (_, i) => JSON.parse(line(1000 + i)) as Record<string, number>);
      const p = predictRows(model, spec, rows);
      assert.ok(p.task === 'classification' && p.probabilities.every((q) => Math.abs(q.reduce((x, y) => x + y, 0) - 1) < 1e-5));
      model.dispose();
    });
  }

  it('evaluates an MLP champion under a tree run and records why the warm start did not apply', async () => {
    const store = await seeded();
    await runTraining(config({ model: { type: 'mlp', hiddenUnits: [8] }, hyperparameters: { epochs: 3 } }), deps(store));
    await runTraining(config({ runId: 'r2', version: 'v2', championVersion: 'v1', warmStart: 'champion' }), deps(store));
    const lineage = await read<Lineage>(store, 'v2', 'lineage');
    assert.deepEqual(lineage.warmStart, { requested: 'champion', used: false, championVersion: 'v1', reason: 'model type gradient-boosting trains from scratch (a warm start continues an MLP\'s training)' });
    const metrics = parseEvaluationReport((await store.getBuffer(bucket, artifactKey(pipeline, 'v2', 'metrics'))).toString());
    assert.equal(metrics.champion?.version, 'v1');
    assert.ok(Number.isFinite(metrics.champion?.metrics.accuracy));
    assert.equal(metrics.training['warmStart'], false);
  });

  it('warm-starts an MLP from an MLP champion and refuses one from a tree champion, saying why', async () => {
    const store = await seeded();
    const mlp = { model: { type: 'mlp', hiddenUnits: [8] }, hyperparameters: { epochs: 3 } };
    await runTraining(config({ ...mlp }), deps(store));
    await runTraining(config({ ...mlp, runId: 'r2', version: 'v2', championVersion: 'v1', warmStart: 'champion', evaluation: { holdout: { lastFraction: 0.2 }, refit: true } }), deps(store));
    assert.deepEqual((await read<Lineage>(store, 'v2', 'lineage')).warmStart, { requested: 'champion', used: true, championVersion: 'v1' });
    await runTraining(config({ runId: 'r3', version: 'v3' }), deps(store));
    await runTraining(config({ ...mlp, runId: 'r4', version: 'v4', championVersion: 'v3', warmStart: 'champion' }), deps(store));
    assert.equal((await read<Lineage>(store, 'v4', 'lineage')).warmStart.reason, 'the champion is a gradient-boosting model, not an MLP');
  });

  it('searches: every trial in lineage, judged on the validation rows, the winner trained as the candidate', async () => {
    const store = await seeded();
    const search = { trials: 4, parameters: [{ name: 'maxDepth', min: 1, max: 6 }, { name: 'learningRate', min: 0.02, max: 0.3, scale: 'log' }] };
    await runTraining(config({ search }), deps(store));
    const lineage = await read<Lineage>(store, 'v1', 'lineage');
    const s = lineage.search;
    assert.ok(s);
    assert.deepEqual(s.trials.map((t) => [t.index, t.status]), [[0, 'done'], [1, 'done'], [2, 'done'], [3, 'done']]);
    assert.deepEqual(s.trials[0]?.parameters, {});
    const best = Math.min(...s.trials.map((t) => t.score ?? Infinity));
    assert.equal(s.trials[s.winner.index]?.score, best);
    assert.deepEqual(s.judgedOn, { trainRows: 384, validationRows: 96 });
    // The winner's settings are the run's.
    for (const [name, value] of Object.entries(s.winner.parameters)) assert.equal(lineage.settings[name], value, name);
  });

  it('refuses a search without validation rows at the config check', () => {
    assert.throws(() => config({ search: { trials: 2, parameters: [{ name: 'maxDepth', min: 2, max: 4 }] }, hyperparameters: { validationFraction: 0 } }), /\$\.search: needs validation rows/);
  });

  it('fails the data check when a search is left no validation rows', async () => {
    const store = await seeded(130);
    const err = await runTraining(config({
      search: { trials: 2, parameters: [{ name: 'maxDepth', min: 2, max: 4 }] }, hyperparameters: { validationFraction: 0.005 }, validation: { minRows: 100 },
    }), deps(store)).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof InvalidDataError, String(err));
    assert.match(err.message, /a search needs validation rows/);
  });

  it('refits a tree model on every row for the gated model\'s best round count, keeping its temperature', async () => {
    const store = await seeded();
    await runTraining(config({ evaluation: { holdout: { lastFraction: 0.2 }, refit: true } }), deps(store));
    const lineage = await read<Lineage>(store, 'v1', 'lineage');
    const metrics = parseEvaluationReport((await store.getBuffer(bucket, artifactKey(pipeline, 'v1', 'metrics'))).toString());
    assert.equal(lineage.refit.family, 'gradient-boosting');
    assert.equal(lineage.refit.gatedModel?.rounds, metrics.training['bestRound']);
    assert.equal(lineage.refit.rounds, Math.max(1, Number(metrics.training['bestRound'])));
    assert.equal(lineage.refit.calibration, 'the gated model\'s (fitted on its validation rows)');
    const spec = parsePreprocessingSpec((await store.getBuffer(bucket, artifactKey(pipeline, 'v1', 'preprocessing'))).toString());
    assert.equal(spec.calibration?.temperature, lineage.calibration.temperature);
    const model = await loadTabularModel(await readSavedModel(store, bucket, versionPrefix(pipeline, 'v1') + 'model/'));
    assert.equal(model.family, 'gradient-boosting');
  });
});

describe('warmStartRefusal', () => {
  const mlp = { warmStart: 'champion' as const, search: undefined, model: config({ model: { type: 'mlp' } }).model };
  const cases: [string, Parameters<typeof warmStartRefusal>[0], Parameters<typeof warmStartRefusal>[1], string | undefined][] = [
    ['an MLP onto a fitting MLP champion: used', mlp, { family: 'mlp', specFits: true }, undefined],
    ['not requested', { ...mlp, warmStart: 'scratch' }, { family: 'mlp', specFits: true }, 'not requested'],
    ['a tree family', { ...mlp, model: config().model }, { family: 'mlp', specFits: true }, 'model type gradient-boosting trains from scratch (a warm start continues an MLP\'s training)'],
    ['a search', { ...mlp, search: { trials: 2, maxSeconds: undefined, parameters: [] } }, { family: 'mlp', specFits: true }, 'a search trains its trials from scratch, so the winner is trained from scratch too'],
    ['no champion', mlp, undefined, 'no champion could be loaded'],
    ['a tree champion', mlp, { family: 'random-forest', specFits: true }, 'the champion is a random-forest model, not an MLP'],
    ['another spec', mlp, { family: 'mlp', specFits: false }, 'the champion\'s features, label or classes differ from this run\'s'],
  ];
  for (const [name, cfg, champion, want] of cases) it(name, () => assert.equal(warmStartRefusal(cfg, champion), want));
});

describe('calibrationSkipped', () => {
  const cases: [string, Parameters<typeof calibrationSkipped>, string | undefined][] = [
    ['classification with validation rows: fitted', ['classification', 'temperature', 50], undefined],
    ['regression', ['regression', 'temperature', 50], 'regression: nothing to calibrate'],
    ['turned off', ['classification', 'none', 50], 'model.calibration is none'],
    ['no validation rows', ['classification', 'temperature', 0], 'no validation rows to fit it on (hyperparameters.validationFraction is 0, or too few rows)'],
  ];
  for (const [name, args, want] of cases) it(name, () => assert.equal(calibrationSkipped(...args), want));
});

describe('validationLoss', () => {
  const cases: [string, number[], number[], 'classification' | 'regression', number, number][] = [
    ['log loss of the true class', [0.25, 0.75, 0.5, 0.5], [1, 0], 'classification', 2, -(Math.log(0.75) + Math.log(0.5)) / 2],
    ['a ruled-out class costs -log(minProbability), not infinity', [1, 0], [1], 'classification', 2, -Math.log(1e-7)],
    ['mean squared error (regression)', [0.5, -1], [1, 1], 'regression', 1, (0.25 + 4) / 2],
    ['no rows: NaN', [], [], 'regression', 1, Number.NaN],
  ];
  for (const [name, out, y, task, k, want] of cases) {
    it(name, () => {
      const got = validationLoss(Float32Array.from(out), Float32Array.from(y), task, k);
      if (Number.isNaN(want)) assert.ok(Number.isNaN(got));
      else assert.ok(Math.abs(got - want) < 1e-6, `${got} vs ${want}`);
    });
  }
});
