// src/ml on the backends available here: the fallback order skips the native packages (not installed in
// development) and lands on WASM; tensors pack and unpack losslessly for checkpoints.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { backendOrder, selectBackend } from './backend.js';
import { buildMlp, modelShape } from './mlp.js';
import { decodeTensors, encodeTensors } from './store-io.js';

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

  it('packs and unpacks tensors losslessly', async () => {
    const ts = [tf.tensor2d([[1.5, -2], [3, 4]]), tf.tensor1d([7, 8, 9], 'int32'), tf.scalar(0.25)];
    const { specs, data } = await encodeTensors(ts);
    const back = decodeTensors(specs, data);
    assert.deepEqual(back.map((t) => [t.shape, t.dtype, Array.from(t.dataSync())]), ts.map((t) => [t.shape, t.dtype, Array.from(t.dataSync())]));
  });
});
