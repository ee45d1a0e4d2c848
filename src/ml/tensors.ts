// Rows → tensors for training the MLP, with the shared preprocessing (predict.ts feeds every family the same inputs).
import * as tf from '@tensorflow/tfjs';
import { encodeLabel, transformRows, type PreprocessingSpec, type RawRow } from '../shared/preprocessing.js';

/** Inputs as a [rows, width] tensor. */
export function featuresTensor(spec: PreprocessingSpec, rows: readonly RawRow[]): tf.Tensor2D {
  return tf.tensor2d(transformRows(spec, rows), [rows.length, spec.width]);
}

/** Targets: one-hot [rows, classes] for classification, [rows, 1] scaled values for regression. */
export function labelsTensor(spec: PreprocessingSpec, rows: readonly RawRow[]): tf.Tensor2D {
  const l = spec.label;
  if (l.task === 'classification') {
    const k = l.classes.length;
    const out = new Float32Array(rows.length * k);
    rows.forEach((r, i) => {
      const c = encodeLabel(spec, r[l.name]);
      if (c === undefined) throw new Error(`row ${i} has no usable label`);
      out[i * k + c] = 1;
    });
    return tf.tensor2d(out, [rows.length, k]);
  }
  const out = new Float32Array(rows.length);
  rows.forEach((r, i) => {
    const y = encodeLabel(spec, r[l.name]);
    if (y === undefined) throw new Error(`row ${i} has no usable label`);
    out[i] = y;
  });
  return tf.tensor2d(out, [rows.length, 1]);
}
