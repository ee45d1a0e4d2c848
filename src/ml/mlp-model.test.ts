// The server's plain-JS forward pass (dense-forward.ts via MlpModel.frozen) against tfjs itself, on both backends
// the server can run here (WASM and the pure-JS cpu backend): every activation buildMlp offers, classification and
// regression, with dropout, after a save and load as the server loads a version; outputs equal within 1e-6.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from './backend.js';
import { buildMlp, type MlpSettings } from './mlp.js';
import { MlpModel } from './mlp-model.js';
import { mulberry32 } from '../shared/random.js';

function inputs(rows: number, width: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  const x = new Float32Array(rows * width);
  // Standardised features and one-hot columns, as transformRows makes them: values around ±3 and exact zeros.
  for (let i = 0; i < x.length; i++) x[i] = i % 5 === 4 ? 0 : (next() - 0.5) * 6;
  return x;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return d;
}

const cases: { name: string; task: 'classification' | 'regression'; spec: MlpSettings }[] = [
  { name: 'relu 16-8 classifier (the served default)', task: 'classification', spec: { hiddenUnits: [16, 8], activation: 'relu', dropout: 0, l2: 0 } },
  { name: 'tanh with dropout', task: 'classification', spec: { hiddenUnits: [12], activation: 'tanh', dropout: 0.3, l2: 0.001 } },
  { name: 'sigmoid', task: 'classification', spec: { hiddenUnits: [10, 6], activation: 'sigmoid', dropout: 0, l2: 0 } },
  { name: 'elu regression', task: 'regression', spec: { hiddenUnits: [9, 4], activation: 'elu', dropout: 0, l2: 0 } },
  { name: 'selu regression', task: 'regression', spec: { hiddenUnits: [7], activation: 'selu', dropout: 0.1, l2: 0 } },
  { name: 'no hidden layer (softmax regression)', task: 'classification', spec: { hiddenUnits: [], activation: 'relu', dropout: 0, l2: 0 } },
];

describe('the served MLP forward pass in plain JS', () => {
  for (const backend of ['wasm', 'cpu'] as BackendName[]) {
    for (const c of cases) {
      it(`matches tfjs (${backend}) within 1e-6: ${c.name}`, async () => {
        await selectBackend(backend);
        const width = 11;
        const layers = buildMlp({ inputWidth: width, task: c.task, classes: 4 }, c.spec, 23);
        // Weights away from their initialisation, so no activation sits in its flat part only.
        layers.setWeights(layers.getWeights().map((w, i) => tf.tidy(() => w.add(tf.randomNormal(w.shape, 0, 0.4, 'float32', 100 + i)))));
        const loaded = await MlpModel.fromSaved(await new MlpModel(layers).toSaved());
        const frozen = loaded.frozen();
        assert.ok(frozen !== undefined);
        assert.equal(frozen.inputWidth, width);
        assert.equal(frozen.outputs, c.task === 'classification' ? 4 : 1);
        for (const rows of [1, 3, 64]) {
          const x = inputs(rows, width, rows);
          const d = maxDiff(frozen.predict(x, rows), loaded.predict(x, rows));
          assert.ok(d <= 1e-6, `${rows} rows: largest difference ${d}`);
        }
        loaded.dispose();
      });
    }
  }

  it('declines a model with a layer it cannot run (tfjs predicts it)', async () => {
    await selectBackend('cpu');
    const layers = tf.sequential();
    layers.add(tf.layers.dense({ units: 3, inputShape: [4], activation: 'relu' }));
    layers.add(tf.layers.batchNormalization());
    layers.add(tf.layers.dense({ units: 2, activation: 'softmax' }));
    assert.equal(new MlpModel(layers).frozen(), undefined);
    const odd = tf.sequential();
    odd.add(tf.layers.dense({ units: 2, inputShape: [4], activation: 'softplus' }));
    assert.equal(new MlpModel(odd).frozen(), undefined);
  });

  it('answers NaN where tfjs does (an input that overflowed float32 is no prediction)', async () => {
    await selectBackend('cpu');
    // The hidden unit sums Infinity and -Infinity (NaN); the output weights are 0, so only NaN passing through the
    // ReLU reaches the output.
    const layers = buildMlp({ inputWidth: 2, task: 'classification', classes: 2 }, { hiddenUnits: [1], activation: 'relu', dropout: 0, l2: 0 }, 5);
    layers.setWeights([tf.tensor2d([[1], [1]]), tf.tensor1d([0]), tf.zeros([1, 2]), tf.zeros([2])]);
    const model = new MlpModel(layers);
    const x = Float32Array.from([Infinity, -Infinity]);
    const want = model.predict(x, 1);
    assert.ok(Array.from(want).every(Number.isNaN));
    assert.ok(Array.from(model.frozen()?.predict(x, 1) ?? []).every(Number.isNaN));
  });

  it('is a snapshot: training the tfjs layers afterwards does not change it', async () => {
    await selectBackend('cpu');
    const layers = buildMlp({ inputWidth: 3, task: 'regression', classes: 1 }, { hiddenUnits: [4], activation: 'relu', dropout: 0, l2: 0 }, 5);
    const model = new MlpModel(layers);
    const frozen = model.frozen();
    assert.ok(frozen !== undefined);
    const x = inputs(2, 3, 9);
    const before = frozen.predict(x, 2);
    layers.setWeights(layers.getWeights().map((w) => tf.tidy(() => w.add(1))));
    assert.deepEqual(Array.from(frozen.predict(x, 2)), Array.from(before));
    assert.ok(maxDiff(model.predict(x, 2), before) > 1e-3);
  });
});
