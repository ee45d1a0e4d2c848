// The tfjs MLP behind the TabularModel interface (src/ml/tabular-model.ts). Its saved form is tfjs's own
// "layers-model" model.json plus one weights.bin, byte for byte what versions published before the other families
// existed hold, so every old MLP version still loads.
import * as tf from '@tensorflow/tfjs';
import { modelShape } from './mlp.js';
import { weightsName } from './store-io.js';
import type { SavedModel, TabularModel } from './tabular-model.js';

export const mlpFormat = 'layers-model';

export class MlpModel implements TabularModel {
  readonly family = 'mlp' as const;
  readonly inputWidth: number;
  readonly outputs: number;

  /** `layers` is the live tfjs model: training (src/trainer/train.ts) updates it in place. */
  constructor(readonly layers: tf.LayersModel) {
    const shape = modelShape(layers);
    this.inputWidth = shape.inputWidth;
    this.outputs = shape.outputs;
  }

  predict(x: Float32Array, rows: number): Float32Array {
    const out = tf.tidy(() => (this.layers.predict(tf.tensor2d(x, [rows, this.inputWidth])) as tf.Tensor2D).dataSync());
    return out instanceof Float32Array ? out : Float32Array.from(out);
  }

  dispose(): void {
    this.layers.dispose();
  }

  async toSaved(): Promise<SavedModel> {
    let saved: SavedModel | undefined;
    await this.layers.save(tf.io.withSaveHandler((a) => {
      saved = savedOf(a);
      return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } });
    }));
    if (saved === undefined) throw new Error('tfjs saved no artifacts');
    return saved;
  }

  /** Reads a "layers-model" model.json and its weights; throws an Error saying what is wrong. */
  static async fromSaved(saved: SavedModel): Promise<MlpModel> {
    const json = JSON.parse(saved.modelJson) as Partial<tf.io.ModelJSON>;
    if (json.modelTopology === undefined || !Array.isArray(json.weightsManifest)) throw new Error('model.json has no modelTopology or weightsManifest');
    const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
    const expected = weightSpecs.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
    if (expected !== saved.weights.length) throw new Error(`weights.bin holds ${saved.weights.length} bytes, model.json describes ${expected}`);
    const layers = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: json.modelTopology, weightSpecs, weightData: Uint8Array.from(saved.weights).buffer,
    }));
    return new MlpModel(layers);
  }
}

function toBuffer(data: tf.io.WeightData | undefined): Buffer {
  if (data === undefined) return Buffer.alloc(0);
  if (Array.isArray(data)) return Buffer.concat(data.map((b) => Buffer.from(b)));
  return Buffer.from(data);
}

/** The model.json tfjs itself would write, pointing at the one weights file. */
function savedOf(a: tf.io.ModelArtifacts): SavedModel {
  if (a.modelTopology instanceof ArrayBuffer) throw new Error('binary model topologies are not supported');
  const modelJson: tf.io.ModelJSON = {
    modelTopology: a.modelTopology ?? {},
    weightsManifest: [{ paths: [weightsName], weights: a.weightSpecs ?? [] }],
    format: a.format ?? mlpFormat,
    generatedBy: a.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: a.convertedBy ?? null,
    ...(a.trainingConfig !== undefined ? { trainingConfig: a.trainingConfig } : {}),
    ...(a.userDefinedMetadata !== undefined ? { userDefinedMetadata: a.userDefinedMetadata } : {}),
  };
  return { modelJson: JSON.stringify(modelJson), weights: toBuffer(a.weightData) };
}
