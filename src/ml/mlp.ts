// The model: a multilayer perceptron for tabular data. Softmax over the classes for classification (binary
// included, so every classifier has the same output contract: one probability per class in the spec's order),
// one linear unit for regression (on the standardised label). Every random initialiser is seeded, so the same
// seed on the same backend builds the same weights.
import * as tf from '@tensorflow/tfjs';
import type { ModelFamily, ModelSpec } from '../shared/trainer-config.js';

/** What the MLP reads of the model settings. */
export type MlpSettings = Pick<ModelSpec, 'hiddenUnits' | 'activation' | 'dropout' | 'l2'> & { readonly type?: ModelFamily };

export interface MlpShape {
  readonly inputWidth: number;
  readonly task: 'classification' | 'regression';
  /** Number of classes (classification). */
  readonly classes: number;
}

export function buildMlp(shape: MlpShape, spec: MlpSettings, seed: number): tf.Sequential {
  const model = tf.sequential();
  const regularizer = spec.l2 > 0 ? tf.regularizers.l2({ l2: spec.l2 }) : undefined;
  spec.hiddenUnits.forEach((units, i) => {
    model.add(tf.layers.dense({
      units,
      activation: spec.activation,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i * 7919 }),
      biasInitializer: 'zeros',
      ...(regularizer ? { kernelRegularizer: regularizer } : {}),
      ...(i === 0 ? { inputShape: [shape.inputWidth] } : {}),
    }));
    if (spec.dropout > 0) model.add(tf.layers.dropout({ rate: spec.dropout, seed: seed + i * 104_729 }));
  });
  const outputs = shape.task === 'classification' ? shape.classes : 1;
  model.add(tf.layers.dense({
    units: outputs,
    activation: shape.task === 'classification' ? 'softmax' : 'linear',
    kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 999_983 }),
    biasInitializer: 'zeros',
    ...(spec.hiddenUnits.length === 0 ? { inputShape: [shape.inputWidth] } : {}),
  }));
  return model;
}

export function compileMlp(model: tf.LayersModel, task: 'classification' | 'regression', learningRate: number): void {
  model.compile({
    optimizer: tf.train.adam(learningRate),
    loss: task === 'classification' ? 'categoricalCrossentropy' : 'meanSquaredError',
  });
}

/** Input width and output units of a loaded model, to check it fits a preprocessing spec. */
export function modelShape(model: tf.LayersModel): { inputWidth: number; outputs: number } {
  const input = model.inputs[0]?.shape;
  const output = model.outputs[0]?.shape;
  return { inputWidth: input?.[1] ?? -1, outputs: output?.[1] ?? -1 };
}
