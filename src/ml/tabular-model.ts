// The one interface every model family meets (docs/model-families.md): the trainer evaluates, calibrates and
// publishes through it, and the server predicts through it, so a family is added in src/ml alone. Inputs are the
// preprocessing spec's output (transformRows): `rows × inputWidth` numbers, row-major.
import type { ModelFamily } from '../shared/trainer-config.js';

export interface TabularModel {
  readonly family: ModelFamily;
  readonly inputWidth: number;
  /** The number of classes (classification), or 1 (regression). */
  readonly outputs: number;
  /**
   * Raw outputs, `rows × outputs` row-major: each class's probability before calibration (rows sum to 1), or the
   * regression value on the standardised label scale. Synchronous: the server's batcher calls it once per batch.
   */
  predict(x: Float32Array, rows: number): Float32Array;
  /** Frees what the model holds outside the JS heap (tensors); a no-op for the trees. */
  dispose(): void;
  /** The files to publish (src/ml/load-model.ts reads them back); the MLP's tfjs save is asynchronous. */
  toSaved(): SavedModel | Promise<SavedModel>;
}

/**
 * A saved model: the artifact layout's model/model.json and model/weights.bin. model.json says which family reads
 * it: tfjs's "layers-model" format (the MLP), or "perennial-trees" (src/ml/trees).
 */
export interface SavedModel {
  readonly modelJson: string;
  readonly weights: Buffer;
}
