// One loader for every family: model.json's format picks the reader; an MLP saved before the families existed
// still loads and predicts what it did; every family round-trips through the store's two files; predictions carry
// the spec's calibration.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { selectBackend } from './backend.js';
import { loadTabularModel, savedFormat, UnknownModelFormatError } from './load-model.js';
import { buildMlp } from './mlp.js';
import { MlpModel } from './mlp-model.js';
import { modelOutputs, predictRows } from './predict.js';
import { readSavedModel, writeSavedModel } from './store-io.js';
import { fitTrees, resolveTreeSettings, type TreeEnsemble } from './trees/index.js';
import { MemoryStore } from '../storage/memory-store.js';
import { fitPreprocessing, transformRows, type PreprocessingSpec } from '../shared/preprocessing.js';

interface OldMlp { modelJson: string; weightsBase64: string; x: number[][]; outputs: number[] }
const old = JSON.parse(readFileSync(new URL('./testdata/mlp-before-families.json', import.meta.url), 'utf8')) as OldMlp;

function close(a: ArrayLike<number>, b: ArrayLike<number>, tolerance = 1e-6): boolean {
  return a.length === b.length && Array.from(a).every((v, i) => Math.abs(v - (b[i] ?? Number.NaN)) <= tolerance);
}

/** A small gradient-boosting classifier on x: class 1 when x > 0. */
function smallTrees(): TreeEnsemble {
  const rows = 200;
  const x = Float32Array.from({ length: rows }, (_, i) => (i - 100) / 50);
  const y = Float32Array.from(x, (v) => (v > 0 ? 1 : 0));
  return fitTrees({
    family: 'gradient-boosting', task: 'classification', outputs: 2, x, rows, width: 1, y, seed: 3,
    settings: { ...resolveTreeSettings('gradient-boosting', {}, rows), count: 20 },
  }).model;
}

describe('loadTabularModel', () => {
  it('loads an MLP saved before model families existed, with the same outputs', async () => {
    await selectBackend('cpu');
    const saved = { modelJson: old.modelJson, weights: Buffer.from(old.weightsBase64, 'base64') };
    assert.equal(savedFormat(saved), 'layers-model');
    const model = await loadTabularModel(saved);
    assert.ok(model instanceof MlpModel);
    assert.deepEqual([model.family, model.inputWidth, model.outputs], ['mlp', 3, 3]);
    assert.ok(close(model.predict(Float32Array.from(old.x.flat()), old.x.length), old.outputs));
    // Saved again, the files are what the old trainer wrote: the artifact layout is unchanged.
    const again = await model.toSaved();
    assert.deepEqual(JSON.parse(again.modelJson), JSON.parse(old.modelJson));
    assert.ok(again.weights.equals(saved.weights));
    model.dispose();
  });

  it('dispatches on the format: tfjs layers for the MLP, the trees reader for perennial-trees', async () => {
    await selectBackend('cpu');
    const store = new MemoryStore();
    const mlp = new MlpModel(buildMlp({ inputWidth: 1, task: 'classification', classes: 2 }, { hiddenUnits: [3], activation: 'relu', dropout: 0, l2: 0 }, 1));
    const trees = smallTrees();
    const x = Float32Array.from([-1.5, -0.2, 0.3, 1.7]);
    for (const [name, model] of [['mlp', mlp], ['trees', trees]] as const) {
      const written = await writeSavedModel(store, 'b', `${name}/`, await model.toSaved());
      assert.deepEqual(written.map((w) => w.key), [`${name}/weights.bin`, `${name}/model.json`]);
      const loaded = await loadTabularModel(await readSavedModel(store, 'b', `${name}/`));
      assert.equal(loaded.family, model.family);
      assert.equal(loaded.constructor, model.constructor);
      assert.ok(close(loaded.predict(x, 4), model.predict(x, 4)), name);
    }
    assert.equal(savedFormat(trees.toSaved()), 'perennial-trees');
  });

  for (const [name, modelJson, message] of [
    ['not JSON', '{torn', /not a JSON object with a "format" field/],
    ['no format', '{"modelTopology": {}}', /not a JSON object with a "format" field/],
    ['an unknown format', '{"format": "onnx"}', /format "onnx"; readable formats: layers-model, perennial-trees/],
  ] as const) {
    it(`refuses ${name} with the reason`, async () => {
      await assert.rejects(loadTabularModel({ modelJson, weights: Buffer.alloc(0) }), (e: unknown) => e instanceof UnknownModelFormatError && message.test(e.message));
    });
  }

  it('refuses MLP weights of the wrong length', async () => {
    const saved = { modelJson: old.modelJson, weights: Buffer.from(old.weightsBase64, 'base64').subarray(4) };
    await assert.rejects(loadTabularModel(saved), /weights.bin holds \d+ bytes, model.json describes \d+/);
  });
});

describe('predictions carry the spec\'s calibration', () => {
  it('rescales the probabilities by the temperature and leaves regression alone', async () => {
    await selectBackend('cpu');
    const trees = smallTrees();
    const spec: PreprocessingSpec = fitPreprocessing([{ x: -1, y: 'a' }, { x: 1, y: 'b' }], { features: [{ name: 'x', type: 'numeric' }], label: 'y', task: 'classification' });
    const rows = [{ x: -0.5 }, { x: 0.7 }];
    const raw = trees.predict(transformRows(spec, rows), 2);
    const calibrated = { ...spec, calibration: { method: 'temperature' as const, temperature: 3, rows: 50, logLossBefore: 1, logLossAfter: 0.5 } };
    const soft = modelOutputs(trees, calibrated, transformRows(spec, rows), 2);
    for (let i = 0; i < 2; i++) {
      const [p0, p1] = [raw[2 * i] ?? 0, raw[2 * i + 1] ?? 0];
      const [q0, q1] = [soft[2 * i] ?? 0, soft[2 * i + 1] ?? 0];
      // p^(1/T) normalised: the same class wins, by less.
      assert.ok(Math.abs(q1 / q0 - (p1 / p0) ** (1 / 3)) < 1e-3 * (p1 / p0) ** (1 / 3));
      assert.equal(q1 > q0, p1 > p0);
      assert.ok(Math.abs(q1 - q0) < Math.abs(p1 - p0));
    }
    const p = predictRows(trees, calibrated, rows);
    assert.equal(p.task, 'classification');
    assert.ok(p.task === 'classification' && close(p.probabilities.flat(), Array.from(soft)));
  });
});
