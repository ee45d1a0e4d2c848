// Models and tensors on the object-store port: a saved model of any family is `<prefix>model.json` and
// `<prefix>weights.bin` (the artifact layout's names); the trainer writes and reads them here, so trainer, servers
// and benches agree on the files. Checkpoints pack tensors with encodeTensors.
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import type { ObjectStore } from '../storage/object-store.js';
import type { SavedModel } from './tabular-model.js';

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

/** Reads a saved model (model.json and weights.bin) from one folder of the store. */
export async function readSavedModel(store: ObjectStore, bucket: string, prefix: string): Promise<SavedModel> {
  const [json, weights] = await Promise.all([store.getBuffer(bucket, prefix + modelJsonName), store.getBuffer(bucket, prefix + weightsName)]);
  return { modelJson: json.toString('utf8'), weights };
}

/** Writes a saved model into one folder of the store, weights first: a model.json never points at weights not there yet. */
export async function writeSavedModel(store: ObjectStore, bucket: string, prefix: string, saved: SavedModel): Promise<WrittenObject[]> {
  const w = await store.put(bucket, prefix + weightsName, saved.weights, { contentType: 'application/octet-stream' });
  const j = await store.put(bucket, prefix + modelJsonName, saved.modelJson, { contentType: 'application/json' });
  return [
    { key: prefix + weightsName, etag: w.etag, sha256: sha256(saved.weights), size: saved.weights.length },
    { key: prefix + modelJsonName, etag: j.etag, sha256: sha256(saved.modelJson), size: Buffer.byteLength(saved.modelJson) },
  ];
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
