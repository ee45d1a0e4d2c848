// Training-loop checkpoints on the CPU backend: a run interrupted after epoch 2 and resumed ends with exactly
// the weights of an uninterrupted run (weights, optimizer state and shuffling all restored).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../ml/backend.js';
import { buildMlp, compileMlp } from '../ml/mlp.js';
import { MemoryStore } from '../storage/memory-store.js';
import { ObjectStoreCheckpoints, type Checkpoint, type CheckpointStore } from './checkpoints.js';
import { trainModel, type TrainInput } from './train.js';

const hp = { epochs: 4, batchSize: 8, learningRate: 0.05, patience: 0, validationFraction: 0 };
const spec = { type: 'mlp' as const, hiddenUnits: [8], activation: 'tanh' as const, dropout: 0, l2: 0 };

class Interrupted extends Error {}

/** Saves like the real store, then fails once `failAfter` epochs are saved, as a killed pod would. */
class Failing implements CheckpointStore {
  constructor(private readonly inner: CheckpointStore, private readonly failAfter: number) {}
  latest(): Promise<Checkpoint | undefined> {
    return this.inner.latest();
  }
  async save(cp: Checkpoint): Promise<void> {
    await this.inner.save(cp);
    if (cp.state.epochsDone >= this.failAfter) throw new Interrupted('killed');
  }
}

function data(): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const xs = Array.from({ length: 64 }, (_, i) => [Math.sin(i), Math.cos(i * 0.7)]);
  const ys = xs.map(([a = 0, b = 0]) => (a + b > 0 ? [1, 0] : [0, 1]));
  return { x: tf.tensor2d(xs), y: tf.tensor2d(ys) };
}

async function run(checkpoints: CheckpointStore, fingerprint = 'f', over: Partial<TrainInput> = {}): Promise<{ weights: number[][]; result: Awaited<ReturnType<typeof trainModel>> }> {
  const model = buildMlp({ inputWidth: 2, task: 'classification', classes: 2 }, spec, 5);
  compileMlp(model, 'classification', hp.learningRate);
  const { x, y } = data();
  const input: TrainInput = { model, x, y, valX: undefined, valY: undefined, hyperparameters: hp, seed: 9, fingerprint, checkpoints, ...over };
  const result = await trainModel(input);
  const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
  return { weights, result };
}

describe('training checkpoints', () => {
  before(async () => {
    await selectBackend('cpu');
  });

  it('resumes after an interruption and ends where an uninterrupted run ends', async () => {
    const p = { namespace: 'n', name: 'p' };
    const straight = await run(new ObjectStoreCheckpoints(new MemoryStore(), 'b', p, 'a'));
    assert.equal(straight.result.startEpoch, 0);
    assert.equal(straight.result.epochsDone, 4);

    const store = new MemoryStore();
    const cps = new ObjectStoreCheckpoints(store, 'b', p, 'r');
    await assert.rejects(run(new Failing(cps, 2)), Interrupted);
    assert.deepEqual((await store.list('b', '')).map((o) => o.key.split('/').pop()), ['epoch-000002.bin', 'epoch-000002.json', 'latest.json'], 'older checkpoints are pruned');
    const resumed = await run(cps);
    assert.equal(resumed.result.startEpoch, 2);
    assert.equal(resumed.result.epochsDone, 4);
    assert.deepEqual(resumed.result.history.map((h) => h.epoch), [1, 2, 3, 4]);
    assert.deepEqual(resumed.weights, straight.weights);
  });

  it('keeps a staged training (the refit) apart from the run\'s own checkpoints', async () => {
    const p = { namespace: 'n', name: 'p' };
    const store = new MemoryStore();
    await run(new ObjectStoreCheckpoints(store, 'b', p, 'r'));
    const refit = new ObjectStoreCheckpoints(store, 'b', p, 'r', 'refit');
    assert.equal(await refit.latest(), undefined, 'the gated training\'s checkpoint is not the refit\'s');
    await run(refit, 'refit fingerprint');
    const keys = (await store.list('b', '')).map((o) => o.key.replace('pipelines/n/p/runs/r/checkpoints/', '')).sort();
    assert.deepEqual(keys, ['epoch-000004.bin', 'epoch-000004.json', 'latest.json', 'refit/epoch-000004.bin', 'refit/epoch-000004.json', 'refit/latest.json']);
    assert.equal((await refit.latest())?.state.fingerprint, 'refit fingerprint');
  });

  it('keeps the last epoch\'s weights when asked to (a refit of a fixed number of epochs)', async () => {
    const p = { namespace: 'n', name: 'p' };
    const best = await run(new ObjectStoreCheckpoints(new MemoryStore(), 'b', p, 'a'), 'f', { hyperparameters: { ...hp, epochs: 6 } });
    const last = await run(new ObjectStoreCheckpoints(new MemoryStore(), 'b', p, 'a'), 'f', { hyperparameters: { ...hp, epochs: 6 }, restoreBest: false });
    assert.equal(last.result.epochsDone, 6);
    if (best.result.bestEpoch === 6) assert.deepEqual(last.weights, best.weights);
    else assert.notDeepEqual(last.weights, best.weights);
  });

  it('ignores a checkpoint made from other inputs', async () => {
    const p = { namespace: 'n', name: 'p' };
    const cps = new ObjectStoreCheckpoints(new MemoryStore(), 'b', p, 'r');
    await assert.rejects(run(new Failing(cps, 2)), Interrupted);
    const other = await run(cps, 'another fingerprint');
    assert.equal(other.result.startEpoch, 0);
  });
});
