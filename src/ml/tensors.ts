// Rows → tensors and model outputs → plain numbers, with the shared preprocessing so the server and the
// trainer feed the model identically.
import * as tf from '@tensorflow/tfjs';
import { decodeRegression, encodeLabel, transformRows, type PreprocessingSpec, type RawRow } from '../shared/preprocessing.js';

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

export type Predictions =
  | { readonly task: 'classification'; readonly probabilities: number[][] }
  | { readonly task: 'regression'; readonly values: number[] };

/** Runs the model in batches; regression outputs are unscaled back to label units. */
export async function predictRows(model: tf.LayersModel, spec: PreprocessingSpec, rows: readonly RawRow[], batchSize = 1024): Promise<Predictions> {
  const probabilities: number[][] = [];
  const values: number[] = [];
  for (let start = 0; start < rows.length; start += batchSize) {
    const batch = rows.slice(start, start + batchSize);
    const x = featuresTensor(spec, batch);
    const y = model.predict(x) as tf.Tensor2D;
    const data = await y.data();
    const width = y.shape[1];
    x.dispose();
    y.dispose();
    for (let i = 0; i < batch.length; i++) {
      if (spec.label.task === 'classification') probabilities.push(Array.from(data.subarray(i * width, (i + 1) * width)));
      else values.push(decodeRegression(spec, data[i] ?? 0));
    }
  }
  return spec.label.task === 'classification' ? { task: 'classification', probabilities } : { task: 'regression', values };
}
