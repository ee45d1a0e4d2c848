// What the OIP v2 conformance tests of both transports share (server-oip-rest, server-oip-grpc): the two models the
// real trainer makes for them from the weather data (one with numeric, date and categorical features; one of the
// numeric features only, for the [n, k] FP32 form), the rows the clients send, what the model answers in process,
// and the comparison within 1e-6.
import assert from 'node:assert/strict';
import type { ClusterInfo } from '../../localcluster/cluster.js';
import { selectBackend } from '../../src/ml/backend.js';
import { loadServedModel, predictBatch, type Prediction } from '../../src/server/model.js';
import type { RawRow } from '../../src/shared/preprocessing.js';
import type { MinioStore } from '../../src/storage/minio-store.js';
import { quickTraining, trainWeatherModel, weatherInstances, weatherPipeline } from './served-model.js';

export const oipFeatures = [
  { name: 'precipitation', kind: 'numeric' }, { name: 'temp_max', kind: 'numeric' }, { name: 'temp_min', kind: 'numeric' },
  { name: 'wind', kind: 'numeric' }, { name: 'date', kind: 'date' }, { name: 'location', kind: 'categorical' },
] as const;
export const numericOipFeatures = oipFeatures.slice(0, 4);

/** A model of the four numeric weather features only (the [n, k] FP32 form needs every feature to take numbers). */
const numericOnly = {
  ...quickTraining,
  schema: { features: numericOipFeatures.map((f) => ({ name: f.name, type: 'numeric' })), label: 'weather', task: 'classification', timestamp: 'date' },
  validation: { minRows: 500, schemaDrift: 'warning' },
  evaluation: { holdout: { from: '2015-01-01' }, gates: { thresholds: { accuracy: 0 } } },
};

/** What a client script reports of one call: the outputs it asked for, as the client decoded them. */
export interface OipAnswers {
  id?: string | null;
  label?: string[];
  probabilities?: number[][] | string[];
  probabilities_shape?: number[];
  probabilities_datatype?: string;
  prediction_id?: string[];
}

/** The rows the clients send: 40 Seattle days of 2015 (the holdout year). */
export function conformanceRows(): RawRow[] {
  return weatherInstances('Seattle').instances.filter((r) => String(r['date']).startsWith('2015')).slice(0, 40);
}

/** Trains both models (version v1 of the weather pipeline), each in its own bucket. */
export async function trainConformanceModels(info: ClusterInfo, store: MinioStore, bucket: string, numericBucket: string): Promise<void> {
  await trainWeatherModel(info, store, bucket, 'v1', quickTraining);
  await trainWeatherModel(info, store, numericBucket, 'v1', numericOnly);
}

export interface InProcess {
  readonly expected: Prediction[];
  readonly classes: readonly string[];
  /** The numeric model's rows: the same values rounded to float32, as the clients send them in FP32. */
  readonly numericRows: RawRow[];
  readonly expectedNumeric: Prediction[];
}

/** What both models answer in process (the backend the servers run first). */
export async function inProcessAnswers(store: MinioStore, bucket: string, numericBucket: string, rows: readonly RawRow[]): Promise<InProcess> {
  await selectBackend('wasm');
  const served = await loadServedModel(store, bucket, weatherPipeline, 'v1');
  const numericRows = rows.map((r) => Object.fromEntries(numericOipFeatures.map((f) => [f.name, Math.fround(Number(r[f.name]))])));
  return {
    expected: predictBatch(served, rows),
    classes: served.spec.label.task === 'classification' ? served.spec.label.classes : [],
    numericRows,
    expectedNumeric: predictBatch(await loadServedModel(store, numericBucket, weatherPipeline, 'v1'), numericRows),
  };
}

/** Labels and probabilities as the in-process model gives them, within 1e-6. */
export function assertMatches(what: string, got: OipAnswers, expected: readonly Prediction[]): void {
  assert.deepEqual(got.label, expected.map((p) => ('label' in p ? p.label : '')), `${what}: labels`);
  const probs = got.probabilities as number[][];
  assert.equal(probs.length, expected.length, `${what}: rows`);
  expected.forEach((p, i) => {
    const want = 'label' in p ? p.probabilities : [];
    assert.equal(probs[i]?.length, want.length, `${what}: row ${i} classes`);
    want.forEach((q, k) => assert.ok(Math.abs((probs[i]?.[k] ?? NaN) - q) <= 1e-6, `${what}: row ${i} class ${k}: ${probs[i]?.[k]} vs ${q}`));
  });
}

/**
 * The `classification` extension's answer for 2 classes a row ("score:index:label", best first, ties by index) as
 * the in-process probabilities give it, within 1e-6.
 */
export function assertTopClasses(classification: readonly string[], expected: readonly Prediction[], classes: readonly string[]): void {
  expected.forEach((p, i) => {
    const probs = 'label' in p ? p.probabilities : [];
    const top = probs.map((q, k) => ({ q, k })).sort((a, b) => b.q - a.q || a.k - b.k).slice(0, 2);
    top.forEach(({ q, k }, j) => {
      const [score = '', index = '', label = ''] = (classification[i * 2 + j] ?? '').split(':');
      assert.ok(Math.abs(Number(score) - q) <= 1e-6, `top-${j + 1} score of row ${i}`);
      assert.equal(Number(index), k);
      assert.equal(label, classes[k]);
    });
  });
}

/** Empties the test's buckets. */
export async function emptyBuckets(store: MinioStore, buckets: readonly string[]): Promise<void> {
  for (const b of buckets) for (const o of await store.list(b, '')) await store.delete(b, o.key);
}
