// A fitted tree ensemble behind the TabularModel interface, and its saved form. Prediction walks flat typed arrays
// (nodes.ts), synchronously: the server calls it once per micro-batch.
//   gradient-boosting  raw score per output = baseScore + the leaf values of that output's trees (one tree a round
//                      for regression and two classes, one per class and round beyond); then softmax (3+ classes),
//                      the logistic (2 classes: [1-p, p]) or the value itself (regression, standardised scale)
//   random-forest      the mean of the trees' leaves: class frequencies (rows sum to 1) or the mean label
// Saved: model/model.json (format "perennial-trees", what the arrays are and how long) and model/weights.bin (the
// arrays one after another, little-endian, in the order of weightArrays). fromSaved checks everything it reads, so a
// corrupt or truncated file is an InvalidTreeModelError with the reason, never a wrong prediction or a crash later.
import type { SavedModel, TabularModel } from '../tabular-model.js';
import { leafAt } from './nodes.js';
import { readSaved } from './saved.js';
import { treesFormat, treesFormatVersion, type TreeEnsembleParts } from './format.js';
import type { TreeFamily } from './settings.js';

export class TreeEnsemble implements TabularModel {
  readonly family: TreeFamily;
  readonly inputWidth: number;
  readonly outputs: number;

  constructor(readonly parts: TreeEnsembleParts) {
    this.family = parts.family;
    this.inputWidth = parts.inputWidth;
    this.outputs = parts.outputs;
  }

  get trees(): number {
    return this.parts.roots.length;
  }

  predict(x: Float32Array, rows: number): Float32Array {
    if (x.length < rows * this.inputWidth) throw new RangeError(`predict: ${x.length} inputs for ${rows} rows of ${this.inputWidth}`);
    return this.family === 'gradient-boosting' ? this.predictBoosting(x, rows) : this.predictForest(x, rows);
  }

  dispose(): void {
    // Typed arrays on the JS heap: nothing to free.
  }

  toSaved(): SavedModel {
    const p = this.parts;
    const arrays = weightArrays(p);
    const modelJson = JSON.stringify({
      format: treesFormat, formatVersion: treesFormatVersion, family: p.family, task: p.task, outputs: p.outputs,
      inputWidth: p.inputWidth, trees: p.roots.length, nodes: p.nodes.feature.length, leafWidth: p.nodes.leafWidth,
      settings: p.settings, baseScore: p.baseScore, weights: arrays.map(([name, a]) => ({ name, length: a.length })),
    });
    const weights = Buffer.alloc(arrays.reduce((s, [, a]) => s + a.length * 4, 0));
    let at = 0;
    for (const [, a] of arrays) {
      for (let i = 0; i < a.length; i++, at += 4) {
        if (a instanceof Float32Array) weights.writeFloatLE(a[i] ?? 0, at);
        else weights.writeInt32LE(a[i] ?? 0, at);
      }
    }
    return { modelJson, weights };
  }

  static fromSaved(saved: SavedModel): TreeEnsemble {
    return new TreeEnsemble(readSaved(saved));
  }

  private predictBoosting(x: Float32Array, rows: number): Float32Array {
    const { roots, treeOutput, nodes, baseScore, task } = this.parts;
    const raw = baseScore.length;
    const scores = new Float64Array(raw);
    const out = new Float32Array(rows * this.outputs);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < raw; o++) scores[o] = baseScore[o] ?? 0;
      for (let t = 0; t < roots.length; t++) {
        const leaf = leafAt(nodes, roots[t] ?? 0, x, r * this.inputWidth);
        const o = treeOutput[t] ?? 0;
        scores[o] = (scores[o] ?? 0) + (nodes.values[leaf] ?? 0);
      }
      if (task === 'regression') out[r] = scores[0] ?? 0;
      else if (raw === 1) {
        const p = sigmoid(scores[0] ?? 0);
        out[r * 2] = 1 - p;
        out[r * 2 + 1] = p;
      } else softmaxInto(scores, out, r * raw);
    }
    return out;
  }

  private predictForest(x: Float32Array, rows: number): Float32Array {
    const { roots, nodes } = this.parts;
    const w = nodes.leafWidth;
    const sums = new Float64Array(w);
    const out = new Float32Array(rows * w);
    const scale = 1 / Math.max(1, roots.length);
    for (let r = 0; r < rows; r++) {
      sums.fill(0);
      for (let t = 0; t < roots.length; t++) {
        const at = leafAt(nodes, roots[t] ?? 0, x, r * this.inputWidth) * w;
        for (let o = 0; o < w; o++) sums[o] = (sums[o] ?? 0) + (nodes.values[at + o] ?? 0);
      }
      for (let o = 0; o < w; o++) out[r * w + o] = (sums[o] ?? 0) * scale;
    }
    return out;
  }
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Softmax of `scores` into out[at .. at + scores.length). */
export function softmaxInto(scores: Float64Array, out: Float32Array | Float64Array, at: number): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let o = 0; o < scores.length; o++) max = Math.max(max, scores[o] ?? 0);
  let sum = 0;
  for (let o = 0; o < scores.length; o++) sum += Math.exp((scores[o] ?? 0) - max);
  for (let o = 0; o < scores.length; o++) out[at + o] = Math.exp((scores[o] ?? 0) - max) / sum;
}

type WeightArray = readonly [string, Int32Array | Float32Array];

/** weights.bin's arrays, in order. */
function weightArrays(p: TreeEnsembleParts): WeightArray[] {
  const n = p.nodes;
  return [['roots', p.roots], ['treeOutput', p.treeOutput], ['feature', n.feature], ['threshold', n.threshold], ['left', n.left], ['right', n.right], ['values', n.values]];
}
