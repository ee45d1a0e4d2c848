// The trainer on the native TensorFlow backend (@tensorflow/tfjs-node, built from PyPI's tensorflow-cpu wheel by
// scripts/native-tfjs.sh, which make integration runs first): the real trainer process, forced onto it as a pod with
// PERENNIAL_TF_BACKEND=tensorflow would be, against the real MinIO. Lineage, metrics.json and the log say
// 'tensorflow', and the published model reloads through the server's loader in plain tfjs (WASM) and predicts the
// classes the trainer scored on its holdout; loaded on the native backend in this process it predicts the same.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sharedCluster, uniqueName } from '../../localcluster/test-cluster.js';
import type { ClusterInfo } from '../../localcluster/cluster.js';
import { selectBackend } from '../../src/ml/backend.js';
import { loadServedModel, predictBatch, type Prediction } from '../../src/server/model.js';
import { artifactKey } from '../../src/shared/artifact-layout.js';
import { exitCodes, podEnv } from '../../src/shared/pod-contract.js';
import type { MinioStore } from '../../src/storage/minio-store.js';
import { putText, readJsonObject, runTrainer, storeFor, trainerEnv, weatherLines } from './trainer-harness.js';
import { weatherDataPrefix, weatherInstances, weatherPipeline, weatherTrainerConfig } from '../support/served-model.js';

interface Metrics {
  candidate: { metrics: Record<string, number>; slices: { value: string; rows: number }[] };
  training: { backend: string };
}

function labelsOf(predictions: readonly Prediction[]): string[] {
  return predictions.map((p) => ('label' in p ? p.label : String(p.value)));
}

describe('trainer on the native TensorFlow backend', () => {
  let info: ClusterInfo;
  let store: MinioStore;
  const bucket = uniqueName('trainer-native');

  before(async () => {
    info = await sharedCluster();
    store = storeFor(info);
    await store.ensureBucket(bucket);
    const { header, rows } = weatherLines();
    await putText(store, bucket, `${weatherDataPrefix}all.csv`, [header, ...rows].join('\n') + '\n');
  });

  after(async () => {
    for (const o of await store.list(bucket, '')) await store.delete(bucket, o.key);
  });

  it('trains on tensorflow, records it, and the model predicts the same classes in plain tfjs', async () => {
    const env = { ...trainerEnv(info, bucket, weatherTrainerConfig('v1')), [podEnv.tfBackend]: 'tensorflow' };
    const r = await runTrainer(env);
    assert.equal(r.code, exitCodes.success, r.stdout + r.stderr);
    const logs = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const selected = logs.find((l) => l['message'] === 'tensorflow backend selected');
    assert.equal(selected?.['backend'], 'tensorflow', r.stdout);
    assert.deepEqual(selected?.['attempts'], [{ backend: 'tensorflow', ok: true }]);
    const lineage = await readJsonObject<{ backend: string }>(store, bucket, artifactKey(weatherPipeline, 'v1', 'lineage'));
    assert.equal(lineage.backend, 'tensorflow');
    const metrics = await readJsonObject<Metrics>(store, bucket, artifactKey(weatherPipeline, 'v1', 'metrics'));
    assert.equal(metrics.training.backend, 'tensorflow');

    // The trainer's holdout: Seattle in 2015 (weatherTrainerConfig), 365 days.
    const { instances, labels } = weatherInstances('Seattle');
    const holdout = instances.map((row, i) => ({ row, label: labels[i] ?? '' })).filter((h) => String(h.row['date']) >= '2015-01-01');
    assert.equal(holdout.length, metrics.candidate.slices[0]?.rows);

    // The server's plain tfjs: WASM, through the server's own loader.
    await selectBackend('wasm');
    const onWasm = await loadServedModel(store, bucket, weatherPipeline, 'v1');
    const wasmPredictions = predictBatch(onWasm, holdout.map((h) => h.row));
    onWasm.model.dispose();
    const wasmLabels = labelsOf(wasmPredictions);
    const correct = wasmLabels.filter((l, i) => l === holdout[i]?.label).length;
    assert.equal(correct / holdout.length, metrics.candidate.metrics['accuracy'], 'the reloaded model scores on the holdout what the trainer scored');

    // The native backend in this process: the same classes, probabilities within float32 rounding.
    await selectBackend('tensorflow');
    const onNative = await loadServedModel(store, bucket, weatherPipeline, 'v1');
    const nativePredictions = predictBatch(onNative, holdout.map((h) => h.row));
    onNative.model.dispose();
    assert.deepEqual(labelsOf(nativePredictions), wasmLabels);
    let worst = 0;
    nativePredictions.forEach((p, i) => {
      const w = wasmPredictions[i];
      if ('label' in p && w !== undefined && 'label' in w) p.probabilities.forEach((q, c) => (worst = Math.max(worst, Math.abs(q - (w.probabilities[c] ?? 0)))));
    });
    console.log(`# native vs WASM on the 2015 holdout: ${holdout.length} rows, same classes, largest probability difference ${worst.toExponential(2)}; accuracy ${metrics.candidate.metrics['accuracy']?.toFixed(4)}`);
    assert.ok(worst < 1e-5, `probabilities differ by ${worst}`);
  });
});
