// src/ml on the backends available here: the fallback order skips the native packages (not installed in
// development) and lands on WASM; a model saved through the store IOHandler loads back with the same outputs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { MemoryStore } from '../storage/memory-store.js';
import { backendOrder, selectBackend } from './backend.js';
import { buildMlp, compileMlp, modelShape } from './mlp.js';
import { decodeTensors, encodeTensors, loadModelFromStore, StoreModelHandler } from './store-io.js';

describe('src/ml', () => {
  it('falls back in the documented order and reports why', async () => {
    const choice = await selectBackend();
    assert.deepEqual(choice.attempts.map((a) => a.backend), backendOrder.slice(0, choice.attempts.length));
    assert.ok(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'].includes(choice.backend));
    assert.equal(tf.getBackend(), choice.backend === 'tensorflow-gpu' ? 'tensorflow' : choice.backend);
    for (const a of choice.attempts.slice(0, -1)) assert.ok(!a.ok && (a.reason ?? '') !== '');
  });

  it('builds the same weights from the same seed', async () => {
    await selectBackend('cpu');
    const spec = { type: 'mlp' as const, hiddenUnits: [4, 3], activation: 'relu' as const, dropout: 0.1, l2: 0.001 };
    const a = buildMlp({ inputWidth: 5, task: 'classification', classes: 3 }, spec, 11);
    const b = buildMlp({ inputWidth: 5, task: 'classification', classes: 3 }, spec, 11);
    assert.deepEqual(a.getWeights().map((w) => Array.from(w.dataSync())), b.getWeights().map((w) => Array.from(w.dataSync())));
    assert.deepEqual(modelShape(a), { inputWidth: 5, outputs: 3 });
    const r = buildMlp({ inputWidth: 2, task: 'regression', classes: 1 }, { ...spec, hiddenUnits: [] }, 1);
    assert.deepEqual(modelShape(r), { inputWidth: 2, outputs: 1 });
  });

  it('saves a model to the store and loads it back with identical predictions', async () => {
    await selectBackend('cpu');
    const store = new MemoryStore();
    const model = buildMlp({ inputWidth: 3, task: 'classification', classes: 2 }, { type: 'mlp', hiddenUnits: [5], activation: 'tanh', dropout: 0, l2: 0 }, 3);
    compileMlp(model, 'classification', 0.01);
    const handler = new StoreModelHandler(store, 'b', 'm/');
    await model.save(handler);
    assert.deepEqual(handler.written.map((w) => w.key), ['m/weights.bin', 'm/model.json']);
    const loaded = await loadModelFromStore(store, 'b', 'm/');
    const x = tf.tensor2d([[0.1, -2, 3], [1, 1, 1]]);
    assert.deepEqual(Array.from((loaded.predict(x) as tf.Tensor).dataSync()), Array.from((model.predict(x) as tf.Tensor).dataSync()));
  });

  it('packs and unpacks tensors losslessly', async () => {
    const ts = [tf.tensor2d([[1.5, -2], [3, 4]]), tf.tensor1d([7, 8, 9], 'int32'), tf.scalar(0.25)];
    const { specs, data } = await encodeTensors(ts);
    const back = decodeTensors(specs, data);
    assert.deepEqual(back.map((t) => [t.shape, t.dtype, Array.from(t.dataSync())]), ts.map((t) => [t.shape, t.dtype, Array.from(t.dataSync())]));
  });
});
