// A real, tiny served model for the server's unit tests: a TensorFlow.js dense layer on the shared preprocessing,
// with fixed weights so every row predicts `sun` (classification) or 5 (regression). No store, no training.
import * as tf from '@tensorflow/tfjs';
import { MlpModel } from '../../ml/mlp-model.js';
import type { Manifest } from '../../shared/artifact-layout.js';
import { fitPreprocessing, type RawRow } from '../../shared/preprocessing.js';
import type { ServedModel } from '../model.js';

const rows: RawRow[] = [{ x: 1, label: 'rain', y: 4 }, { x: 2, label: 'sun', y: 6 }];

export function tinyModel(task: 'classification' | 'regression', labelRange?: { min: number; max: number }): ServedModel {
  const spec = fitPreprocessing(rows, {
    features: [{ name: 'x', type: 'numeric' }], label: task === 'classification' ? 'label' : 'y', task, labelRange,
  });
  const units = task === 'classification' ? 2 : 1;
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [spec.width], units, activation: task === 'classification' ? 'softmax' : 'linear' })] });
  // Zero weights and a bias that favours the second class (`sun`) or gives the label mean (5).
  model.setWeights([tf.zeros([spec.width, units]), task === 'classification' ? tf.tensor1d([0, 1]) : tf.tensor1d([0])]);
  const manifest = { task, runId: 'run-tiny' } as unknown as Manifest;
  return { manifest, spec, profile: { version: 1, features: [] } as unknown as ServedModel['profile'], model: new MlpModel(model) };
}
