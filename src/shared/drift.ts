// Reference profiles and the Population Stability Index (PSI), the drift measure of Evidently and NannyML.
// At training time the trainer freezes, per feature, the bin edges at reference quantiles (numeric) or the
// category vocabulary (categorical) plus a "missing" bin, and the reference share of each bin. The server bins
// live values with the same edges (never recomputed from live data) and compares shares with psi().
//   PSI = Σ (c_i − r_i) · ln(c_i / r_i)   — symmetric, ≥ 0; < 0.1 stable, 0.1–0.25 moderate, > 0.25 major.
// Empty bins get a small epsilon per side (Evidently's rule), without renormalising.
import { toCategory, toNumber, toTime, type RawRow, type RawValue } from './preprocessing.js';

export const referenceProfileVersion = 1;

export interface NumericBins {
  readonly kind: 'numeric';
  /** Interior edges, strictly increasing; bin i holds edges[i-1] < x ≤ edges[i], outer bins open to ±∞. */
  readonly edges: readonly number[];
  /** "time": values are dates/times, binned as epoch milliseconds (date features). */
  readonly valueType?: 'time';
}

export interface CategoricalBins {
  readonly kind: 'categorical';
  /** One bin per category, then one for "other". */
  readonly categories: readonly string[];
}

export type Binning = NumericBins | CategoricalBins;

export interface FeatureProfile {
  readonly name: string;
  readonly binning: Binning;
  /** Shares of the reference rows per bin, the last entry being the "missing" bin; they sum to 1. */
  readonly shares: readonly number[];
  readonly count: number;
  readonly missing: number;
  /** Summary statistics of numeric features, for reports. */
  readonly stats?: { readonly min: number; readonly max: number; readonly mean: number; readonly std: number };
}

export interface ReferenceProfile {
  readonly version: typeof referenceProfileVersion;
  readonly rows: number;
  readonly features: readonly FeatureProfile[];
  /** Distribution of the model's output on the reference (predicted class, or the regression value). */
  readonly prediction?: FeatureProfile;
  readonly epsilon: number;
}

/** Bins of a binning, including the trailing "missing" bin. */
export function binCount(b: Binning): number {
  return b.kind === 'numeric' ? b.edges.length + 2 : b.categories.length + 2;
}

/** Interior edges at reference quantiles (duplicates removed for ties), `bins` bins at most. */
export function quantileEdges(values: readonly number[], bins = 10): number[] {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  const edges: number[] = [];
  for (let q = 1; q < bins; q++) {
    const pos = (q / bins) * (sorted.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    const a = sorted[lo] ?? 0;
    const b = sorted[hi] ?? a;
    const e = a + (b - a) * (pos - lo);
    if (edges.length === 0 || e > (edges[edges.length - 1] ?? -Infinity)) edges.push(e);
  }
  // An edge equal to the maximum would leave the top bin empty; ties collapse instead.
  const max = sorted[sorted.length - 1] ?? 0;
  return edges.filter((e) => e < max);
}

/** The bin of one value: binary search on the edges; the last bin is "missing". */
export function binIndex(b: Binning, v: RawValue): number {
  if (b.kind === 'numeric') {
    const x = b.valueType === 'time' ? toTime(v) : toNumber(v);
    if (x === undefined) return b.edges.length + 1;
    let lo = 0;
    let hi = b.edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (x <= (b.edges[mid] ?? Infinity)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
  const c = toCategory(v);
  if (c === undefined) return b.categories.length + 1;
  const at = b.categories.indexOf(c);
  return at < 0 ? b.categories.length : at;
}

/** Counts values into bins. */
export function histogram(b: Binning, values: Iterable<RawValue>): number[] {
  const counts = new Array<number>(binCount(b)).fill(0);
  for (const v of values) {
    const i = binIndex(b, v);
    counts[i] = (counts[i] ?? 0) + 1;
  }
  return counts;
}

export function sharesOf(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total === 0 ? 0 : c / total));
}

/** Profiles one column of reference values. Numeric: quantile edges; categorical: top `maxCategories`. */
export function profileFeature(
  name: string,
  kind: 'numeric' | 'categorical' | 'date',
  values: readonly RawValue[],
  opts: { bins?: number; maxCategories?: number } = {},
): FeatureProfile {
  let binning: Binning;
  let stats: FeatureProfile['stats'];
  if (kind === 'categorical') {
    const counts = new Map<string, number>();
    for (const v of values) {
      const c = toCategory(v);
      if (c !== undefined) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    const categories = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, opts.maxCategories ?? 50).map(([c]) => c).sort();
    binning = { kind: 'categorical', categories };
  } else {
    const nums = values.map((v) => (kind === 'date' ? toTime(v) : toNumber(v))).filter((x): x is number => x !== undefined);
    binning = { kind: 'numeric', edges: quantileEdges(nums, opts.bins ?? 10), ...(kind === 'date' ? { valueType: 'time' as const } : {}) };
    if (nums.length > 0) {
      const mean = nums.reduce((a, b) => a + b, 0) / nums.length;
      const std = Math.sqrt(nums.reduce((a, x) => a + (x - mean) ** 2, 0) / nums.length);
      // A loop, not Math.min(...nums): spreading a million values overflows the call stack.
      let min = Infinity;
      let max = -Infinity;
      for (const x of nums) {
        if (x < min) min = x;
        if (x > max) max = x;
      }
      stats = { min, max, mean, std };
    }
  }
  const counts = histogram(binning, values);
  const missing = counts[counts.length - 1] ?? 0;
  return { name, binning, shares: sharesOf(counts), count: values.length, missing, ...(stats ? { stats } : {}) };
}

export function profileRows(
  rows: readonly RawRow[],
  features: readonly { readonly name: string; readonly type: 'numeric' | 'categorical' | 'date' }[],
): FeatureProfile[] {
  return features.map((f) => profileFeature(f.name, f.type, rows.map((r) => r[f.name])));
}

export const defaultEpsilon = 1e-4;

/** Evidently's zero replacement: epsilon, or a millionth of the smallest non-zero share when that is smaller. */
function fillZeros(shares: readonly number[], epsilon: number): number[] {
  const nonZero = shares.filter((s) => s > 0);
  const smallest = nonZero.length > 0 ? Math.min(...nonZero) : epsilon;
  const fill = smallest <= epsilon ? smallest / 1e6 : epsilon;
  return shares.map((s) => (s > 0 ? s : fill));
}

/** PSI between reference and current shares over the same bins. */
export function psi(reference: readonly number[], current: readonly number[], epsilon = defaultEpsilon): number {
  if (reference.length !== current.length) throw new Error(`psi: ${reference.length} reference bins vs ${current.length} current bins`);
  const r = fillZeros(reference, epsilon);
  const c = fillZeros(current, epsilon);
  let sum = 0;
  for (let i = 0; i < r.length; i++) {
    const ri = r[i] ?? epsilon;
    const ci = c[i] ?? epsilon;
    sum += (ci - ri) * Math.log(ci / ri);
  }
  return sum;
}

/** PSI of live counts (binned with the profile's binning) against the profile's reference shares. */
export function psiFromCounts(profile: FeatureProfile, counts: readonly number[], epsilon = defaultEpsilon): number {
  return psi(profile.shares, sharesOf(counts), epsilon);
}

/** Without drift, E[PSI] ≈ (B−1)(1/N_ref + 1/N_cur): the floor below which a PSI says nothing. */
export function expectedNoDriftPsi(bins: number, nRef: number, nCur: number): number {
  return (bins - 1) * (1 / nRef + 1 / nCur);
}

export function parseReferenceProfile(text: string): ReferenceProfile {
  const v = JSON.parse(text) as Partial<ReferenceProfile>;
  if (v.version !== referenceProfileVersion) throw new Error(`unsupported reference profile version ${String(v.version)}`);
  if (!Array.isArray(v.features)) throw new Error('reference profile lacks features');
  return v as ReferenceProfile;
}
