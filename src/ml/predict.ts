// Predicting with any model family on raw rows: the shared preprocessing, the model's raw outputs, then the spec's
// calibration. The one place calibration is applied, so the trainer's evaluation (metrics.json), the benches and
// the servers read the very same probabilities.
import { applyCalibration } from '../shared/calibration.js';
import { decodeRegression, transformRows, type PreprocessingSpec, type RawRow } from '../shared/preprocessing.js';
import type { TabularModel } from './tabular-model.js';

export type Predictions =
  | { readonly task: 'classification'; readonly probabilities: number[][] }
  | { readonly task: 'regression'; readonly values: number[] };

/**
 * Outputs for `rows` rows of model inputs (transformRows' layout): calibrated class probabilities, or the regression
 * value on the standardised scale. `rows × model.outputs`, row-major.
 */
export function modelOutputs(model: TabularModel, spec: PreprocessingSpec, x: Float32Array, rows: number): Float32Array {
  const out = model.predict(x, rows);
  if (spec.label.task === 'classification') applyCalibration(spec.calibration, out, model.outputs);
  return out;
}

/** Predictions for raw rows, in chunks (a holdout of a million rows is never one input matrix); regression in label units. */
export function predictRows(model: TabularModel, spec: PreprocessingSpec, rows: readonly RawRow[], chunk = 4096): Predictions {
  const probabilities: number[][] = [];
  const values: number[] = [];
  const k = model.outputs;
  for (let start = 0; start < rows.length; start += chunk) {
    const batch = rows.slice(start, start + chunk);
    const out = modelOutputs(model, spec, transformRows(spec, batch), batch.length);
    for (let i = 0; i < batch.length; i++) {
      if (spec.label.task === 'classification') probabilities.push(Array.from(out.subarray(i * k, (i + 1) * k)));
      else values.push(decodeRegression(spec, out[i] ?? 0));
    }
  }
  return spec.label.task === 'classification' ? { task: 'classification', probabilities } : { task: 'regression', values };
}
