// Feature preprocessing shared by the trainer (fit, then transform) and the model server (transform only),
// so training and serving run the very same code on the very same spec: no training/serving skew.
//   numeric      → (x − mean) / std, missing → mean (i.e. 0 after scaling) plus a 0/1 "was missing" column
//   categorical  → one-hot over the categories seen in training, plus an "unknown" column (also for missing)
//   date         → day-of-year and day-of-week as sin/cos pairs (cyclic, so Dec 31 sits next to Jan 1),
//                  missing → zeros plus a "was missing" column
// Version 1 of the spec; the server refuses other versions.

import type { Calibration } from './calibration.js';

export const preprocessingSpecVersion = 1;

export type RawValue = string | number | boolean | null | undefined;
export type RawRow = Readonly<Record<string, RawValue>>;

export interface NumericTransform {
  readonly kind: 'numeric';
  readonly name: string;
  readonly mean: number;
  readonly std: number;
}

export interface CategoricalTransform {
  readonly kind: 'categorical';
  readonly name: string;
  /** One column each, in this order, then one "unknown" column. */
  readonly categories: readonly string[];
}

export interface DateTransform {
  readonly kind: 'date';
  readonly name: string;
}

export type FeatureTransform = NumericTransform | CategoricalTransform | DateTransform;

export type LabelSpec =
  | { readonly task: 'classification'; readonly name: string; readonly classes: readonly string[] }
  | {
    readonly task: 'regression'; readonly name: string; readonly mean: number; readonly std: number;
    /** The declared range of a label (TrainingPipeline data.schema.label.min/max); feedback outside it is refused. */
    readonly min?: number; readonly max?: number;
  };

export interface PreprocessingSpec {
  readonly version: typeof preprocessingSpecVersion;
  readonly features: readonly FeatureTransform[];
  readonly label: LabelSpec;
  /** Number of model inputs the spec produces. */
  readonly width: number;
  /** Names of the produced columns, for debugging and explanations. */
  readonly columns: readonly string[];
  /**
   * Columns a request may carry besides the features, which the server logs with the prediction but never feeds the
   * model (docs/loop-semantics.md, "Event time"): the row's event time (the pipeline's timestamp column) and the
   * row's id (its row-id column). Fed-back rows keep both: the trainer orders them by event time and matches them
   * with uploaded rows by id. Absent in specs written before they existed.
   */
  readonly timestampColumn?: string;
  readonly rowIdColumn?: string;
  /**
   * Classification: how the model's probabilities are rescaled before anyone reads them (src/shared/calibration.ts),
   * fitted by the trainer on the validation rows. Absent: the model's probabilities as they are.
   */
  readonly calibration?: Calibration;
}

export type FeatureKind = FeatureTransform['kind'];

/** A numeric reading of a raw value: empty strings, null, NaN and non-numbers are missing (undefined). */
export function toNumber(v: RawValue): number | undefined {
  if (v === null || v === undefined || typeof v === 'boolean') return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  const t = v.trim();
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** The category of a raw value as text; empty and null are missing. */
export function toCategory(v: RawValue): string | undefined {
  if (v === null || v === undefined) return undefined;
  const s = typeof v === 'string' ? v.trim() : String(v);
  return s === '' ? undefined : s;
}

/** Milliseconds since the epoch of an ISO date/time or an epoch-millisecond number; undefined if unreadable. */
export function toTime(v: RawValue): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  const t = Date.parse(v.trim());
  return Number.isNaN(t) ? undefined : t;
}

function columnsOf(t: FeatureTransform): string[] {
  switch (t.kind) {
    case 'numeric':
      return [t.name, `${t.name}:missing`];
    case 'categorical':
      return [...t.categories.map((c) => `${t.name}=${c}`), `${t.name}=<unknown>`];
    case 'date':
      return [`${t.name}:doy_sin`, `${t.name}:doy_cos`, `${t.name}:dow_sin`, `${t.name}:dow_cos`, `${t.name}:missing`];
  }
}

export interface FitInput {
  readonly features: readonly { readonly name: string; readonly type: FeatureKind }[];
  readonly label: string;
  readonly task: 'classification' | 'regression';
  /** Fixed class order; otherwise the sorted distinct labels. */
  readonly classes?: readonly string[] | undefined;
  /** The declared range of a regression label, recorded in the spec for the server's feedback check. */
  readonly labelRange?: { readonly min: number | undefined; readonly max: number | undefined } | undefined;
  /** Categories seen fewer times are folded into "unknown" (default 1: keep all). */
  readonly minCategoryCount?: number;
  /** Most categories kept per column, most frequent first (default 100). */
  readonly maxCategories?: number;
}

/** Fits the spec on training rows only (never on holdout rows, or the evaluation would leak). */
export function fitPreprocessing(rows: readonly RawRow[], input: FitInput): PreprocessingSpec {
  const minCount = input.minCategoryCount ?? 1;
  const maxCategories = input.maxCategories ?? 100;
  const features: FeatureTransform[] = input.features.map((f): FeatureTransform => {
    if (f.type === 'numeric') {
      let n = 0;
      let mean = 0;
      let m2 = 0;
      for (const row of rows) {
        const x = toNumber(row[f.name]);
        if (x === undefined) continue;
        n += 1; // Welford: stable for large values
        const d = x - mean;
        mean += d / n;
        m2 += d * (x - mean);
      }
      const std = n > 1 ? Math.sqrt(m2 / (n - 1)) : 0;
      return { kind: 'numeric', name: f.name, mean: n > 0 ? mean : 0, std: std > 1e-12 ? std : 1 };
    }
    if (f.type === 'categorical') {
      const counts = new Map<string, number>();
      for (const row of rows) {
        const c = toCategory(row[f.name]);
        if (c !== undefined) counts.set(c, (counts.get(c) ?? 0) + 1);
      }
      const categories = [...counts.entries()]
        .filter(([, n]) => n >= minCount)
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, maxCategories)
        .map(([c]) => c)
        .sort();
      return { kind: 'categorical', name: f.name, categories };
    }
    return { kind: 'date', name: f.name };
  });
  let label: LabelSpec;
  if (input.task === 'classification') {
    const classes = input.classes ?? [...new Set(rows.map((r) => toCategory(r[input.label])).filter((c): c is string => c !== undefined))].sort();
    label = { task: 'classification', name: input.label, classes };
  } else {
    const ys = rows.map((r) => toNumber(r[input.label])).filter((y): y is number => y !== undefined);
    const mean = ys.length > 0 ? ys.reduce((a, b) => a + b, 0) / ys.length : 0;
    const variance = ys.length > 1 ? ys.reduce((a, y) => a + (y - mean) ** 2, 0) / (ys.length - 1) : 0;
    label = {
      task: 'regression', name: input.label, mean, std: variance > 1e-24 ? Math.sqrt(variance) : 1,
      ...(input.labelRange?.min !== undefined ? { min: input.labelRange.min } : {}),
      ...(input.labelRange?.max !== undefined ? { max: input.labelRange.max } : {}),
    };
  }
  const columns = features.flatMap(columnsOf);
  return { version: preprocessingSpecVersion, features, label, width: columns.length, columns };
}

const dayMs = 86_400_000;

/** Writes the model inputs for one row into `out` at `offset`. Unknown categories go to the unknown column. */
export function transformInto(spec: PreprocessingSpec, row: RawRow, out: Float32Array, offset = 0): void {
  let i = offset;
  for (const t of spec.features) {
    switch (t.kind) {
      case 'numeric': {
        const x = toNumber(row[t.name]);
        out[i++] = x === undefined ? 0 : (x - t.mean) / t.std;
        out[i++] = x === undefined ? 1 : 0;
        break;
      }
      case 'categorical': {
        const c = toCategory(row[t.name]);
        const at = c === undefined ? -1 : t.categories.indexOf(c);
        for (let k = 0; k <= t.categories.length; k++) out[i + k] = 0;
        out[i + (at < 0 ? t.categories.length : at)] = 1;
        i += t.categories.length + 1;
        break;
      }
      case 'date': {
        const ms = toTime(row[t.name]);
        if (ms === undefined) {
          out.fill(0, i, i + 4);
          out[i + 4] = 1;
        } else {
          const d = new Date(ms);
          const doy = (ms - Date.UTC(d.getUTCFullYear(), 0, 1)) / dayMs / 365.25;
          const dow = d.getUTCDay() / 7;
          out[i] = Math.sin(2 * Math.PI * doy);
          out[i + 1] = Math.cos(2 * Math.PI * doy);
          out[i + 2] = Math.sin(2 * Math.PI * dow);
          out[i + 3] = Math.cos(2 * Math.PI * dow);
          out[i + 4] = 0;
        }
        i += 5;
        break;
      }
    }
  }
}

/** Model inputs for many rows, row-major, ready for a [rows, width] tensor. */
export function transformRows(spec: PreprocessingSpec, rows: readonly RawRow[]): Float32Array {
  const out = new Float32Array(rows.length * spec.width);
  rows.forEach((row, r) => transformInto(spec, row, out, r * spec.width));
  return out;
}

/** The training target of one row: class index, scaled regression value, or undefined when missing/unknown. */
export function encodeLabel(spec: PreprocessingSpec, v: RawValue): number | undefined {
  const l = spec.label;
  if (l.task === 'classification') {
    const c = toCategory(v);
    const at = c === undefined ? -1 : l.classes.indexOf(c);
    return at < 0 ? undefined : at;
  }
  const y = toNumber(v);
  return y === undefined ? undefined : (y - l.mean) / l.std;
}

/** Undoes the label scaling of a regression output. */
export function decodeRegression(spec: PreprocessingSpec, scaled: number): number {
  const l = spec.label;
  return l.task === 'regression' ? scaled * l.std + l.mean : scaled;
}

/** Reads a spec from JSON, refusing versions this code does not know. */
export function parsePreprocessingSpec(text: string): PreprocessingSpec {
  const v = JSON.parse(text) as Partial<PreprocessingSpec>;
  if (v.version !== preprocessingSpecVersion) throw new Error(`unsupported preprocessing spec version ${String(v.version)}`);
  if (!Array.isArray(v.features) || typeof v.width !== 'number' || v.label === undefined) throw new Error('preprocessing spec lacks features, width or label');
  return v as PreprocessingSpec;
}

/** True when a model trained on `a`'s inputs and outputs can be fed by `b` (same columns, same classes). */
export function sameShape(a: PreprocessingSpec, b: PreprocessingSpec): boolean {
  const la = a.label;
  const lb = b.label;
  const sameLabel = la.task === lb.task && (la.task !== 'classification' || (lb.task === 'classification' && la.classes.join('\u0000') === lb.classes.join('\u0000')));
  return sameLabel && a.columns.join('\u0000') === b.columns.join('\u0000');
}
