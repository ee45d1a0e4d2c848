// The tfjs MLP behind the TabularModel interface (src/ml/tabular-model.ts). Its saved form is tfjs's own
// "layers-model" model.json plus one weights.bin, byte for byte what versions published before the other families
// existed hold, so every old MLP version still loads.
import * as tf from '@tensorflow/tfjs';
import { denseForward, isDenseActivation, type DenseLayer } from './dense-forward.js';
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

  /**
   * The current weights as a plain-JS forward pass (dense-forward.ts): what the server predicts with, as its
   * micro-batches are dominated by tfjs's per-op overhead. Undefined when a layer is not one it can run (anything
   * but Dense and Dropout). A snapshot: training the layers afterwards does not change it.
   */
  frozen(): TabularModel | undefined {
    const dense = denseLayersOf(this.layers);
    return dense === undefined ? undefined : new FrozenMlp(this, dense);
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

/** The model's Dense layers with their weights read out; undefined when another kind of layer would matter. */
export function denseLayersOf(layers: tf.LayersModel): DenseLayer[] | undefined {
  const out: DenseLayer[] = [];
  for (const layer of layers.layers) {
    const kind = layer.getClassName();
    // Dropout is the identity when predicting.
    if (kind === 'Dropout') continue;
    const config = layer.getConfig();
    const activation = config['activation'];
    if (kind !== 'Dense' || !isDenseActivation(activation)) return undefined;
    const [kernel, bias] = layer.getWeights();
    const shape = kernel?.shape;
    if (kernel === undefined || shape?.length !== 2) return undefined;
    const [inputs = 0, units = 0] = shape;
    out.push({
      inputs, units, activation,
      kernel: Float32Array.from(kernel.dataSync()),
      bias: bias === undefined ? undefined : Float32Array.from(bias.dataSync()),
    });
  }
  return out.length > 0 ? out : undefined;
}

/** An MLP predicting in plain JS from a snapshot of its weights; saving goes to the tfjs model it came from. */
class FrozenMlp implements TabularModel {
  readonly family = 'mlp' as const;
  readonly inputWidth: number;
  readonly outputs: number;

  constructor(private readonly source: MlpModel, private readonly dense: readonly DenseLayer[]) {
    this.inputWidth = source.inputWidth;
    this.outputs = source.outputs;
  }

  predict(x: Float32Array, rows: number): Float32Array {
    return denseForward(this.dense, x, rows);
  }

  dispose(): void {
    this.source.dispose();
  }

  toSaved(): Promise<SavedModel> {
    return this.source.toSaved();
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
