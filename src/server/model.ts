// Loading one published version and predicting with it. The manifest is read first (no manifest, no model), every
// artifact is checked against the digest the manifest records, and the model runs on the very preprocessing
// spec it was trained with (src/shared/preprocessing.ts). Any model family loads (src/ml/load-model.ts dispatches
// on model.json's format), and predictions go through src/ml/predict.ts, which applies the spec's calibration:
// the probabilities served are the ones the trainer evaluated.
import { loadTabularModel } from '../ml/load-model.js';
import { MlpModel } from '../ml/mlp-model.js';
import { modelOutputs } from '../ml/predict.js';
import { sha256 } from '../ml/store-io.js';
import type { TabularModel } from '../ml/tabular-model.js';
import { artifactKey, parseManifest, type Manifest, type ManifestEntry, type PipelineRef } from '../shared/artifact-layout.js';
import { parseReferenceProfile, type ReferenceProfile } from '../shared/drift.js';
import { decodeRegression, parsePreprocessingSpec, transformRows, type PreprocessingSpec, type RawRow } from '../shared/preprocessing.js';
import { ObjectNotFoundError, type ObjectStore } from '../storage/object-store.js';
import { shortestFloat32 } from './float32-decimal.js';

/** The model cannot be served; the message says why (it goes to the log and the readiness answer). */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export type Prediction =
  | { readonly label: string; readonly probabilities: readonly number[] }
  | { readonly value: number };

export interface ServedModel {
  readonly manifest: Manifest;
  readonly spec: PreprocessingSpec;
  readonly profile: ReferenceProfile;
  readonly model: TabularModel;
}

async function verified(store: ObjectStore, bucket: string, entry: ManifestEntry | undefined, what: string): Promise<Buffer> {
  if (!entry) throw new ModelLoadError(`manifest lists no ${what}`);
  let body: Buffer;
  try {
    body = await store.getBuffer(bucket, entry.key);
  } catch (e: unknown) {
    if (e instanceof ObjectNotFoundError) throw new ModelLoadError(`${what} ${entry.key} is listed in the manifest but missing`, { cause: e });
    throw e;
  }
  const digest = sha256(body);
  if (digest !== entry.sha256) throw new ModelLoadError(`${what} ${entry.key} does not match the manifest (sha256 ${digest}, manifest ${entry.sha256})`);
  return body;
}

/**
 * Reads and verifies a version; ModelLoadError for anything wrong with the artifacts themselves. `jsForward`: an MLP
 * predicts with the plain-JS forward pass (dense-forward.ts), which beats any tfjs backend on the server's
 * micro-batches; false keeps tfjs (the pod's backend setting forces one, e.g. for a model too wide for plain JS).
 */
export async function loadServedModel(store: ObjectStore, bucket: string, pipeline: PipelineRef, version: string, jsForward = true): Promise<ServedModel> {
  const manifestKey = artifactKey(pipeline, version, 'manifest');
  let manifestText: string;
  try {
    manifestText = (await store.getBuffer(bucket, manifestKey)).toString('utf8');
  } catch (e: unknown) {
    if (e instanceof ObjectNotFoundError) throw new ModelLoadError(`no manifest at ${bucket}/${manifestKey}: version ${version} is not published`, { cause: e });
    throw e;
  }
  let manifest: Manifest;
  try {
    manifest = parseManifest(manifestText);
  } catch (e: unknown) {
    throw new ModelLoadError(`manifest ${manifestKey} is unreadable: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const entry = (name: ManifestEntry['name']): ManifestEntry | undefined => manifest.artifacts.find((a) => a.name === name);
  const [modelJson, weights, specText, profileText] = await Promise.all([
    verified(store, bucket, entry('modelJson'), 'model topology'),
    verified(store, bucket, entry('modelWeights'), 'model weights'),
    verified(store, bucket, entry('preprocessing'), 'preprocessing spec'),
    verified(store, bucket, entry('referenceProfile'), 'reference profile'),
  ]);
  let spec: PreprocessingSpec;
  let profile: ReferenceProfile;
  let model: TabularModel;
  try {
    spec = parsePreprocessingSpec(specText.toString('utf8'));
    profile = parseReferenceProfile(profileText.toString('utf8'));
    model = await loadTabularModel({ modelJson: modelJson.toString('utf8'), weights });
    if (jsForward && model instanceof MlpModel) model = model.frozen() ?? model;
  } catch (e: unknown) {
    throw new ModelLoadError(`version ${version} cannot be loaded: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const expected = spec.label.task === 'classification' ? spec.label.classes.length : 1;
  const mismatch = model.inputWidth !== spec.width
    ? `model takes ${model.inputWidth} inputs but the preprocessing spec produces ${spec.width}`
    : model.outputs !== expected ? `model has ${model.outputs} outputs, the spec expects ${expected}` : undefined;
  if (mismatch !== undefined) {
    model.dispose();
    throw new ModelLoadError(mismatch);
  }
  return { manifest, spec, profile, model };
}

/** Runs the model on rows (preprocessed and calibrated by the shared code). Synchronous: the batcher calls it once per batch. */
export function predictBatch(m: ServedModel, rows: readonly RawRow[]): Prediction[] {
  const { spec, model } = m;
  const data = modelOutputs(model, spec, transformRows(spec, rows), rows.length);
  const label = spec.label;
  if (label.task === 'regression') return rows.map((_, i) => ({ value: decodeRegression(spec, data[i] ?? 0) }));
  const k = label.classes.length;
  return rows.map((_, i) => {
    // A plain copy (Array.from of a typed array goes through its iterator, 0.35 µs a row), each float32 as its
    // shortest decimal: what the answers and the inference log print.
    const probabilities = new Array<number>(k);
    let best = 0;
    for (let c = 0; c < k; c++) {
      const x = data[i * k + c] ?? 0;
      probabilities[c] = shortestFloat32(x);
      if (x > (data[i * k + best] ?? 0)) best = c;
    }
    return { label: label.classes[best] ?? '', probabilities };
  });
}

/** Whether a prediction is made of finite numbers (a value far outside the training data can overflow float32). */
export function isFinitePrediction(p: Prediction): boolean {
  return 'label' in p ? p.probabilities.every(Number.isFinite) : Number.isFinite(p.value);
}

/** A row of every feature missing (the preprocessing maps missing values to defined inputs). */
export function warmupRows(spec: PreprocessingSpec, n: number): RawRow[] {
  return Array.from({ length: n }, () => Object.fromEntries(spec.features.map((f) => [f.name, null])));
}
