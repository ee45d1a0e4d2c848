// The MLP's forward pass in plain JavaScript, for serving. The server predicts micro-batches of a few rows, where a
// TensorFlow.js call costs its per-op overhead (a tensor, a kernel dispatch and a copy per layer, tens of
// microseconds each) while the arithmetic of a small tabular MLP is a few thousand multiply-adds. Here the same
// weights run as loops over Float32Arrays: sums in float64, each layer's outputs rounded to float32 as tfjs stores
// them, so the outputs match tfjs's to about 1e-7 (mlp-model.test.ts compares them). Training stays on tfjs.

/** The activations a Dense layer of buildMlp (mlp.ts) can have, as tfjs names them. */
export const denseActivations = ['linear', 'relu', 'tanh', 'sigmoid', 'elu', 'selu', 'softmax'] as const;
export type DenseActivation = (typeof denseActivations)[number];

export function isDenseActivation(name: unknown): name is DenseActivation {
  return typeof name === 'string' && (denseActivations as readonly string[]).includes(name);
}

/** One Dense layer: `kernel` is `inputs × units` row-major (tfjs's layout), `bias` has `units` entries. */
export interface DenseLayer {
  readonly inputs: number;
  readonly units: number;
  readonly kernel: Float32Array;
  readonly bias: Float32Array | undefined;
  readonly activation: DenseActivation;
}

// SELU's constants as tfjs uses them.
const seluAlpha = 1.6732632423543772;
const seluScale = 1.0507009873554805;

function activate(a: DenseActivation, v: number): number {
  switch (a) {
    case 'relu':
      // NaN stays NaN, as in tfjs: a value that overflowed must not turn into a prediction.
      return v < 0 ? 0 : v;
    case 'tanh':
      return Math.tanh(v);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-v));
    case 'elu':
      return v > 0 ? v : Math.expm1(v);
    case 'selu':
      return seluScale * (v > 0 ? v : seluAlpha * Math.expm1(v));
    default:
      return v;
  }
}

/** Softmax of `out[from, from + n)` in place, as tfjs computes it: exp(x − logsumexp(x)). */
function softmaxInPlace(out: Float32Array, from: number, n: number): void {
  let max = -Infinity;
  for (let j = 0; j < n; j++) max = Math.max(max, out[from + j] ?? 0);
  let sum = 0;
  for (let j = 0; j < n; j++) sum += Math.exp((out[from + j] ?? 0) - max);
  const lse = max + Math.log(sum);
  for (let j = 0; j < n; j++) out[from + j] = Math.exp((out[from + j] ?? 0) - lse);
}

/** One layer over `rows` rows of `x` (`rows × layer.inputs`): `rows × layer.units`. */
function denseLayer(layer: DenseLayer, x: Float32Array, rows: number): Float32Array {
  const { inputs, units, kernel, bias, activation } = layer;
  const out = new Float32Array(rows * units);
  const acc = new Float64Array(units);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < units; j++) acc[j] = bias === undefined ? 0 : (bias[j] ?? 0);
    const xi = r * inputs;
    for (let i = 0; i < inputs; i++) {
      const v = x[xi + i] ?? 0;
      if (v === 0) continue;
      const k = i * units;
      for (let j = 0; j < units; j++) acc[j] = (acc[j] ?? 0) + v * (kernel[k + j] ?? 0);
    }
    const o = r * units;
    if (activation === 'softmax') {
      for (let j = 0; j < units; j++) out[o + j] = acc[j] ?? 0;
      softmaxInPlace(out, o, units);
    } else {
      for (let j = 0; j < units; j++) out[o + j] = activate(activation, acc[j] ?? 0);
    }
  }
  return out;
}

/** The stack's outputs for `rows` rows of `x` (`rows × first layer's inputs`, row-major). */
export function denseForward(layers: readonly DenseLayer[], x: Float32Array, rows: number): Float32Array {
  let h = x;
  for (const layer of layers) h = denseLayer(layer, h, rows);
  return h;
}
