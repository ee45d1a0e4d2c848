// The training loop: one model.fit call per epoch on a seeded permutation (so batches depend only on seed and
// epoch), validation loss for early stopping, and a checkpoint after every epoch. Resuming restores weights,
// optimizer state, early-stopping state and history, then carries on at the next epoch.
import * as tf from '@tensorflow/tfjs';
import { decodeTensors, encodeTensors } from '../ml/store-io.js';
import type { Hyperparameters } from '../shared/trainer-config.js';
import type { CheckpointState, CheckpointStore, EpochRecord, TensorManifest } from './checkpoints.js';
import { deriveSeed, mulberry32, permutation } from '../shared/random.js';

export interface TrainInput {
  readonly model: tf.LayersModel;
  readonly x: tf.Tensor2D;
  readonly y: tf.Tensor2D;
  readonly valX: tf.Tensor2D | undefined;
  readonly valY: tf.Tensor2D | undefined;
  readonly hyperparameters: Hyperparameters;
  readonly seed: number;
  readonly fingerprint: string;
  readonly checkpoints: CheckpointStore;
  readonly onEpoch?: (r: EpochRecord & { resumed: boolean }) => void;
  /**
   * Early stopping's rule: end with the weights of the best epoch (default). A refit (run.ts) trains a fixed number of
   * epochs with nothing to validate on and keeps the last epoch's weights instead.
   */
  readonly restoreBest?: boolean;
}

export interface TrainResult {
  readonly history: readonly EpochRecord[];
  /** Epochs already done when this process started (> 0 means it resumed from a checkpoint). */
  readonly startEpoch: number;
  readonly epochsDone: number;
  readonly bestEpoch: number;
  readonly stoppedEarly: boolean;
  /** Rows × epochs trained by this process, for throughput. */
  readonly rowsTrained: number;
  readonly trainSeconds: number;
}

async function pack(named: readonly { name: string; tensor: tf.Tensor }[]): Promise<{ manifest: TensorManifest; data: Buffer }> {
  const { specs, data } = await encodeTensors(named.map((n) => n.tensor));
  return { manifest: { names: named.map((n) => n.name), specs, bytes: data.length }, data };
}

function unpack(m: TensorManifest, data: Buffer): { name: string; tensor: tf.Tensor }[] {
  const tensors = decodeTensors(m.specs, data);
  return tensors.map((tensor, i) => ({ name: m.names[i] ?? `t${i}`, tensor }));
}

function lossOf(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor): number {
  return tf.tidy(() => {
    const r = model.evaluate(x, y, { batchSize: 4096 });
    const t = Array.isArray(r) ? r[0] : r;
    return t ? t.dataSync()[0] ?? Number.NaN : Number.NaN;
  });
}

export async function trainModel(input: TrainInput): Promise<TrainResult> {
  const { model, x, y, hyperparameters: hp } = input;
  const n = x.shape[0];
  const optimizer = model.optimizer;
  let history: EpochRecord[] = [];
  let epochsDone = 0;
  let bestLoss = Number.POSITIVE_INFINITY;
  let bestEpoch = 0;
  let stopped = false;
  let best: tf.Tensor[] = model.getWeights().map((w) => w.clone());

  const cp = await input.checkpoints.latest();
  if (cp && cp.state.fingerprint === input.fingerprint) {
    const s = cp.state;
    let offset = 0;
    const slice = (m: TensorManifest): Buffer => cp.data.subarray(offset, (offset += m.bytes));
    const weights = unpack(s.weights, slice(s.weights));
    const opt = unpack(s.optimizer, slice(s.optimizer));
    const bestW = unpack(s.best, slice(s.best));
    model.setWeights(weights.map((w) => w.tensor));
    if (opt.length > 0) await optimizer.setWeights(opt);
    best.forEach((t) => t.dispose());
    best = bestW.map((w) => w.tensor);
    weights.forEach((w) => w.tensor.dispose());
    history = [...s.history];
    epochsDone = s.epochsDone;
    bestLoss = s.bestLoss;
    bestEpoch = s.bestEpoch;
    stopped = s.stopped;
  }
  const startEpoch = epochsDone;
  const started = process.hrtime.bigint();
  let rowsTrained = 0;

  while (!stopped && epochsDone < hp.epochs) {
    const epoch = epochsDone;
    const order = tf.tensor1d(permutation(n, mulberry32(deriveSeed(input.seed, epoch))), 'int32');
    const xs = tf.gather(x, order);
    const ys = tf.gather(y, order);
    order.dispose();
    const h = await model.fit(xs, ys, { epochs: 1, batchSize: hp.batchSize, shuffle: false, verbose: 0 });
    xs.dispose();
    ys.dispose();
    rowsTrained += n;
    const loss = Number(h.history['loss']?.[0] ?? Number.NaN);
    const valLoss = input.valX && input.valY ? lossOf(model, input.valX, input.valY) : undefined;
    const monitored = valLoss ?? loss;
    epochsDone = epoch + 1;
    if (monitored < bestLoss) {
      bestLoss = monitored;
      bestEpoch = epochsDone;
      best.forEach((t) => t.dispose());
      best = model.getWeights().map((w) => w.clone());
    } else if (hp.patience > 0 && epochsDone - bestEpoch >= hp.patience) {
      stopped = true;
    }
    const record: EpochRecord = { epoch: epochsDone, loss, valLoss };
    history.push(record);
    const weights = await pack(model.getWeights().map((t, i) => ({ name: `w${i}`, tensor: t })));
    const opt = await pack(await optimizer.getWeights());
    const bestPacked = await pack(best.map((t, i) => ({ name: `b${i}`, tensor: t })));
    const state: CheckpointState = {
      version: 1, fingerprint: input.fingerprint, epochsDone, bestLoss, bestEpoch, stopped, history,
      weights: weights.manifest, optimizer: opt.manifest, best: bestPacked.manifest, savedAt: new Date().toISOString(),
    };
    await input.checkpoints.save({ state, data: Buffer.concat([weights.data, opt.data, bestPacked.data]) });
    input.onEpoch?.({ ...record, resumed: startEpoch > 0 });
  }
  // Early stopping restores the weights of the best epoch (also after a resume).
  if (input.restoreBest !== false) model.setWeights(best);
  best.forEach((t) => t.dispose());
  const trainSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { history, startEpoch, epochsDone, bestEpoch, stoppedEarly: stopped, rowsTrained, trainSeconds };
}
