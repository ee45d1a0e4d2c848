// A tfjs IOHandler on the object-store port: model.save(handler) writes `<prefix>model.json` and
// `<prefix>weights.bin`; tf.loadLayersModel(handler) reads them back. This is how trainer and server move
// models, so both agree on the files the artifact layout names.
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import type { ObjectStore } from '../storage/object-store.js';

export const modelJsonName = 'model.json';
export const weightsName = 'weights.bin';

export interface WrittenObject {
  readonly key: string;
  readonly etag: string;
  readonly sha256: string;
  readonly size: number;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function toBuffer(data: tf.io.WeightData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data.map((b) => Buffer.from(b)));
  return Buffer.from(data);
}

/** Save/load handler bound to one folder of the store. `written` lists what the last save wrote. */
export class StoreModelHandler implements tf.io.IOHandler {
  readonly written: WrittenObject[] = [];

  constructor(private readonly store: ObjectStore, private readonly bucket: string, private readonly prefix: string) {}

  async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
    if (artifacts.modelTopology instanceof ArrayBuffer) throw new Error('binary model topologies are not supported');
    const weights = artifacts.weightData === undefined ? Buffer.alloc(0) : toBuffer(artifacts.weightData);
    const modelJson: tf.io.ModelJSON = {
      modelTopology: artifacts.modelTopology ?? {},
      weightsManifest: [{ paths: [weightsName], weights: artifacts.weightSpecs ?? [] }],
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
      convertedBy: artifacts.convertedBy ?? null,
      ...(artifacts.trainingConfig !== undefined ? { trainingConfig: artifacts.trainingConfig } : {}),
      ...(artifacts.userDefinedMetadata !== undefined ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
    };
    const json = JSON.stringify(modelJson);
    this.written.length = 0;
    // Weights first: a model.json must never point at weights that are not there yet.
    const w = await this.store.put(this.bucket, this.prefix + weightsName, weights, { contentType: 'application/octet-stream' });
    this.written.push({ key: this.prefix + weightsName, etag: w.etag, sha256: sha256(weights), size: weights.length });
    const j = await this.store.put(this.bucket, this.prefix + modelJsonName, json, { contentType: 'application/json' });
    this.written.push({ key: this.prefix + modelJsonName, etag: j.etag, sha256: sha256(json), size: Buffer.byteLength(json) });
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON({ ...artifacts, weightData: Uint8Array.from(weights).buffer }) };
  }

  async load(): Promise<tf.io.ModelArtifacts> {
    const json = JSON.parse((await this.store.getBuffer(this.bucket, this.prefix + modelJsonName)).toString('utf8')) as tf.io.ModelJSON;
    const specs: tf.io.WeightsManifestEntry[] = [];
    const buffers: Buffer[] = [];
    for (const group of json.weightsManifest) {
      specs.push(...group.weights);
      for (const path of group.paths) buffers.push(await this.store.getBuffer(this.bucket, this.prefix + path));
    }
    const all = Buffer.concat(buffers);
    return {
      modelTopology: json.modelTopology,
      weightSpecs: specs,
      weightData: Uint8Array.from(all).buffer,
      ...(json.format !== undefined ? { format: json.format } : {}),
      ...(json.generatedBy !== undefined ? { generatedBy: json.generatedBy } : {}),
      ...(json.trainingConfig !== undefined ? { trainingConfig: json.trainingConfig } : {}),
    };
  }
}

export async function loadModelFromStore(store: ObjectStore, bucket: string, prefix: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(new StoreModelHandler(store, bucket, prefix));
}

/** Packs tensors into one buffer plus a manifest (used for checkpoints of weights and optimizer state). */
export async function encodeTensors(tensors: readonly tf.Tensor[]): Promise<{ specs: { shape: number[]; dtype: string }[]; data: Buffer }> {
  const parts: Buffer[] = [];
  const specs: { shape: number[]; dtype: string }[] = [];
  for (const t of tensors) {
    if (t.dtype !== 'float32' && t.dtype !== 'int32') throw new Error(`cannot checkpoint a ${t.dtype} tensor`);
    const values = await t.data();
    parts.push(Buffer.from(values.buffer, values.byteOffset, values.byteLength));
    specs.push({ shape: t.shape, dtype: t.dtype });
  }
  return { specs, data: Buffer.concat(parts) };
}

export function decodeTensors(specs: readonly { shape: number[]; dtype: string }[], data: Buffer): tf.Tensor[] {
  let offset = 0;
  return specs.map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const bytes = data.subarray(offset, offset + n * 4);
    offset += n * 4;
    const copy = new Uint8Array(bytes).buffer;
    return s.dtype === 'int32' ? tf.tensor(new Int32Array(copy), s.shape, 'int32') : tf.tensor(new Float32Array(copy), s.shape, 'float32');
  });
}
