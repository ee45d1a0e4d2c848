// Quantile bins per input, computed once per fit: a split is "input f ≤ edge b", so only the edges between bins are
// split candidates, and each row's inputs become bin indices in a Uint8Array that the histograms are built from.
// Edges are float32 numbers that lie between two values seen in the data, and bin(x) = how many edges are below x,
// so "bin ≤ b" and "x ≤ edges[b]" agree on every training row: the tree predicts new rows from the raw inputs with
// exactly the splits it was grown with.
import { randomBelow, type Random } from '../../shared/random.js';

export interface BinnedInputs {
  readonly rows: number;
  readonly width: number;
  /** rows × width bin indices, row-major. */
  readonly bins: Uint8Array;
  /** Per input, the sorted upper edges: bin b holds the x with edges[b-1] < x ≤ edges[b]. */
  readonly edges: readonly Float32Array[];
  /** Per input, its bins (edges + 1; 1 for a constant input, 2 for a one-hot one). */
  readonly binCount: Int32Array;
  /** Per input, where its bins start in a histogram (the running sum of binCount). */
  readonly offset: Int32Array;
  readonly totalBins: number;
}

/** Rows the edges are computed from: beyond it a random sample is as good and sorting stays cheap (scikit-learn: 200,000). */
export const binSampleRows = 200_000;

/** The float32 edge between two float32 values a < b: their midpoint when it rounds below b, else a itself. */
export function edgeBetween(a: number, b: number): number {
  const mid = Math.fround((a + b) / 2);
  return mid < b && mid >= a ? mid : a;
}

/**
 * The edges of one input from its sorted values: between every two distinct values when there are at most maxBins
 * of them (a one-hot or small-integer input keeps every split), else at the quantiles, each moved up to the next
 * distinct value so that equal values always share a bin.
 */
export function edgesOf(sorted: Float64Array, maxBins: number): Float32Array {
  const distinct: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i] ?? 0;
    if (distinct.length === 0 || v !== distinct[distinct.length - 1]) distinct.push(v);
  }
  const edges: number[] = [];
  if (distinct.length <= maxBins) {
    for (let j = 0; j + 1 < distinct.length; j++) edges.push(edgeBetween(distinct[j] ?? 0, distinct[j + 1] ?? 0));
    return Float32Array.from(edges);
  }
  for (let q = 1; q < maxBins; q++) {
    // The edge right after the (q/maxBins)-th share of the values: bins of equal size when values are distinct.
    const v = sorted[Math.max(0, Math.ceil((q * sorted.length) / maxBins) - 1)] ?? 0;
    const j = upperIndex(distinct, v);
    if (j >= distinct.length) continue;
    const edge = edgeBetween(distinct[j - 1] ?? 0, distinct[j] ?? 0);
    if (edges.length === 0 || edge > (edges[edges.length - 1] ?? 0)) edges.push(edge);
  }
  return Float32Array.from(edges);
}

/** The first index of `sorted` whose value is greater than v. */
function upperIndex(sorted: readonly number[], v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? 0) <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** bin(x): how many edges are below x. */
export function binOf(edges: Float32Array, x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((edges[mid] ?? 0) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The edges of every input (from at most binSampleRows rows, drawn with `random`) and every row's bins. */
export function binInputs(x: Float32Array, rows: number, width: number, maxBins: number, random: Random): BinnedInputs {
  const sample = sampleRows(rows, random);
  const column = new Float64Array(sample.length);
  const edges: Float32Array[] = [];
  for (let f = 0; f < width; f++) {
    for (let i = 0; i < sample.length; i++) column[i] = x[(sample[i] ?? 0) * width + f] ?? 0;
    column.sort();
    edges.push(edgesOf(column, maxBins));
  }
  const binCount = Int32Array.from(edges, (e) => e.length + 1);
  const offset = new Int32Array(width);
  let totalBins = 0;
  for (let f = 0; f < width; f++) {
    offset[f] = totalBins;
    totalBins += binCount[f] ?? 1;
  }
  const bins = new Uint8Array(rows * width);
  for (let f = 0; f < width; f++) {
    const e = edges[f] ?? new Float32Array(0);
    for (let r = 0; r < rows; r++) bins[r * width + f] = binOf(e, x[r * width + f] ?? 0);
  }
  return { rows, width, bins, edges, binCount, offset, totalBins };
}

function sampleRows(rows: number, random: Random): Int32Array {
  if (rows <= binSampleRows) return Int32Array.from({ length: rows }, (_, i) => i);
  // A partial Fisher–Yates: binSampleRows distinct rows.
  const all = Int32Array.from({ length: rows }, (_, i) => i);
  for (let i = 0; i < binSampleRows; i++) {
    const j = i + randomBelow(random, rows - i);
    const t = all[i] ?? 0;
    all[i] = all[j] ?? 0;
    all[j] = t;
  }
  return all.slice(0, binSampleRows);
}
