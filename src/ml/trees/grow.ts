// Growing one tree from histograms (as LightGBM and scikit-learn's HistGradientBoosting do): a node's histogram sums,
// per input and bin, what its rows carry; the best split of every input is one pass over its bins; and of two
// children only the smaller's histogram is built from rows, the larger's is the parent's minus it.
//
// What rows carry (a histogram cell holds `outputs` sums, a hessian and a row count):
//   gradient  boosting: the loss's gradient and hessian per row (one output); a leaf is -scale·G/(H+l2)
//   classes   a forest's classification: a 1 in the row's class (outputs = classes), hessian 1; a leaf is the
//             class frequencies G/H, and the gain below is then exactly the Gini decrease
//   values    a forest's regression: the label (one output), hessian 1; a leaf is the mean, the gain the decrease
//             of squared error
// The gain of a split is Σ_k GL_k²/(HL+l2) + GR_k²/(HR+l2) - G_k²/(H+l2) (XGBoost's, without its constant factor).
import type { BinnedInputs } from './bins.js';
import type { NodeBuilder } from './nodes.js';
import { randomBelow, type Random } from '../../shared/random.js';

export type RowTargets =
  | { readonly kind: 'gradient'; readonly gradient: Float64Array; readonly hessian: Float64Array }
  | { readonly kind: 'classes'; readonly classOf: Int32Array; readonly classes: number }
  | { readonly kind: 'values'; readonly value: Float64Array };

export interface GrowOptions {
  readonly maxDepth: number;
  readonly minRowsPerLeaf: number;
  /** A child's hessian sum must reach it (boosting: a leaf of rows the model is already sure of says nothing). */
  readonly minHessian: number;
  readonly l2: number;
  /** Leaf values are leafScale·G/(H+l2): -learning rate for boosting, 1 for a forest. */
  readonly leafScale: number;
  /** Inputs tried at each split (all of them: the width). */
  readonly featuresPerSplit: number;
  readonly random: Random;
}

interface Split {
  readonly feature: number;
  readonly bin: number;
  readonly gain: number;
}

const outputsOf = (t: RowTargets): number => (t.kind === 'classes' ? t.classes : 1);

/**
 * Grows one tree over the rows in `index` (a bootstrap sample may list a row more than once; the array is reordered)
 * into `nodes`; returns its root.
 */
export function growTree(inputs: BinnedInputs, targets: RowTargets, index: Int32Array, options: GrowOptions, nodes: NodeBuilder): number {
  const k = outputsOf(targets);
  const stride = k + 2;
  const size = inputs.totalBins * stride;
  const pool: Float64Array[] = [];
  const take = (): Float64Array => {
    const h = pool.pop();
    if (h === undefined) return new Float64Array(size);
    h.fill(0);
    return h;
  };
  const candidates = Int32Array.from({ length: inputs.width }, (_, f) => f);
  const totals = new Float64Array(stride);
  const leafValues = new Float64Array(k);
  const splittable = (rows: number, depth: number): boolean => depth < options.maxDepth && rows >= 2 * options.minRowsPerLeaf;

  const leaf = (start: number, end: number): number => {
    sumRows(targets, index, start, end, totals, k);
    const h = totals[k] ?? 0;
    for (let o = 0; o < k; o++) leafValues[o] = h > 0 ? (options.leafScale * (totals[o] ?? 0)) / (h + options.l2) : 0;
    return nodes.addLeaf(leafValues);
  };

  const grow = (start: number, end: number, depth: number, hist: Float64Array | undefined): number => {
    if (hist === undefined) return leaf(start, end);
    sumRows(targets, index, start, end, totals, k);
    const split = bestSplit(inputs, hist, totals, candidates, k, options);
    if (split === undefined) {
      pool.push(hist);
      return leaf(start, end);
    }
    const mid = partition(inputs, index, start, end, split);
    const node = nodes.addSplit(split.feature, inputs.edges[split.feature]?.[split.bin] ?? 0);
    const leftRows = mid - start;
    const rightRows = end - mid;
    const leftSplits = splittable(leftRows, depth + 1);
    const rightSplits = splittable(rightRows, depth + 1);
    let leftHist: Float64Array | undefined;
    let rightHist: Float64Array | undefined;
    if (leftSplits || rightSplits) {
      // The smaller child from its rows, the larger by subtraction, in place in the parent's histogram; deep in the
      // tree, where the larger child has fewer row × input cells than the histogram has bins, from its rows too.
      const small = take();
      if (leftRows <= rightRows) buildHistogram(inputs, targets, index, start, mid, small, stride);
      else buildHistogram(inputs, targets, index, mid, end, small, stride);
      if (Math.max(leftRows, rightRows) * inputs.width < inputs.totalBins) {
        hist.fill(0);
        if (leftRows <= rightRows) buildHistogram(inputs, targets, index, mid, end, hist, stride);
        else buildHistogram(inputs, targets, index, start, mid, hist, stride);
      } else {
        for (let i = 0; i < size; i++) hist[i] = (hist[i] ?? 0) - (small[i] ?? 0);
      }
      [leftHist, rightHist] = leftRows <= rightRows ? [small, hist] : [hist, small];
      if (!leftSplits) {
        pool.push(leftHist);
        leftHist = undefined;
      }
      if (!rightSplits) {
        pool.push(rightHist);
        rightHist = undefined;
      }
    } else {
      pool.push(hist);
    }
    const left = grow(start, mid, depth + 1, leftHist);
    const right = grow(mid, end, depth + 1, rightHist);
    nodes.setChildren(node, left, right);
    return node;
  };

  if (!splittable(index.length, 0)) return leaf(0, index.length);
  const root = take();
  buildHistogram(inputs, targets, index, 0, index.length, root, stride);
  return grow(0, index.length, 0, root);
}

/** The sums of the rows index[start..end): outputs, hessian, count. */
function sumRows(targets: RowTargets, index: Int32Array, start: number, end: number, out: Float64Array, k: number): void {
  out.fill(0);
  for (let i = start; i < end; i++) {
    const r = index[i] ?? 0;
    if (targets.kind === 'gradient') {
      out[0] = (out[0] ?? 0) + (targets.gradient[r] ?? 0);
      out[1] = (out[1] ?? 0) + (targets.hessian[r] ?? 0);
    } else if (targets.kind === 'classes') {
      const c = targets.classOf[r] ?? 0;
      out[c] = (out[c] ?? 0) + 1;
      out[k] = (out[k] ?? 0) + 1;
    } else {
      out[0] = (out[0] ?? 0) + (targets.value[r] ?? 0);
      out[1] = (out[1] ?? 0) + 1;
    }
  }
  out[k + 1] = end - start;
}

/** Adds the rows index[start..end) into `hist` (zeroed): per input, the cell of the row's bin. */
export function buildHistogram(inputs: BinnedInputs, targets: RowTargets, index: Int32Array, start: number, end: number, hist: Float64Array, stride: number): void {
  const { bins, width, offset } = inputs;
  const k = stride - 2;
  for (let i = start; i < end; i++) {
    const r = index[i] ?? 0;
    let g = 0;
    let h = 1;
    let at = 0;
    if (targets.kind === 'gradient') {
      g = targets.gradient[r] ?? 0;
      h = targets.hessian[r] ?? 0;
    } else if (targets.kind === 'classes') {
      g = 1;
      at = targets.classOf[r] ?? 0;
    } else {
      g = targets.value[r] ?? 0;
    }
    const base = r * width;
    for (let f = 0; f < width; f++) {
      const cell = ((offset[f] ?? 0) + (bins[base + f] ?? 0)) * stride;
      hist[cell + at] = (hist[cell + at] ?? 0) + g;
      hist[cell + k] = (hist[cell + k] ?? 0) + h;
      hist[cell + k + 1] = (hist[cell + k + 1] ?? 0) + 1;
    }
  }
}

/**
 * The split of highest positive gain that leaves both children big enough, among featuresPerSplit inputs drawn at
 * random; when none of them has one, more are drawn until one does or every input was tried (as scikit-learn does:
 * else a node whose drawn inputs cannot separate its rows, such as rows sharing a bin, would end as a mixed leaf).
 */
function bestSplit(inputs: BinnedInputs, hist: Float64Array, totals: Float64Array, candidates: Int32Array, k: number, options: GrowOptions): Split | undefined {
  const stride = k + 2;
  const { l2, minRowsPerLeaf, minHessian } = options;
  const h = totals[k] ?? 0;
  const n = totals[k + 1] ?? 0;
  let parent = 0;
  for (let o = 0; o < k; o++) parent += (totals[o] ?? 0) ** 2 / (h + l2);
  const left = new Float64Array(k);
  let best: Split | undefined;
  const sampled = options.featuresPerSplit < candidates.length;
  for (let c = 0; c < candidates.length; c++) {
    if (best !== undefined && c >= options.featuresPerSplit) break;
    if (sampled) {
      // One step of a Fisher–Yates shuffle: position c gets a random input among those not tried yet.
      const j = c + randomBelow(options.random, candidates.length - c);
      const t = candidates[c] ?? 0;
      candidates[c] = candidates[j] ?? 0;
      candidates[j] = t;
    }
    const f = candidates[c] ?? 0;
    const bins = inputs.binCount[f] ?? 1;
    const first = (inputs.offset[f] ?? 0) * stride;
    left.fill(0);
    let hl = 0;
    let nl = 0;
    for (let b = 0; b + 1 < bins; b++) {
      const cell = first + b * stride;
      for (let o = 0; o < k; o++) left[o] = (left[o] ?? 0) + (hist[cell + o] ?? 0);
      hl += hist[cell + k] ?? 0;
      nl += hist[cell + k + 1] ?? 0;
      if (nl < minRowsPerLeaf) continue;
      if (n - nl < minRowsPerLeaf) break;
      const hr = h - hl;
      if (hl < minHessian || hr < minHessian) continue;
      let gain = -parent;
      for (let o = 0; o < k; o++) {
        const gl = left[o] ?? 0;
        gain += (gl * gl) / (hl + l2) + ((totals[o] ?? 0) - gl) ** 2 / (hr + l2);
      }
      // Strictly better, and by more than rounding: ties keep the first, so the tree depends only on the data and seed.
      if (gain > 1e-9 * Math.max(1, Math.abs(parent)) && (best === undefined || gain > best.gain)) best = { feature: f, bin: b, gain };
    }
  }
  return best;
}

/** Reorders index[start..end) so that rows going left (bin ≤ split bin) come first; returns where the right ones start. */
function partition(inputs: BinnedInputs, index: Int32Array, start: number, end: number, split: Split): number {
  const { bins, width } = inputs;
  let i = start;
  let j = end - 1;
  while (i <= j) {
    const r = index[i] ?? 0;
    if ((bins[r * width + split.feature] ?? 0) <= split.bin) {
      i++;
    } else {
      index[i] = index[j] ?? 0;
      index[j] = r;
      j--;
    }
  }
  return i;
}
