// OIP input tensors → the model's rows, for both transports. Two forms are taken:
//   - one tensor per feature, named like the feature, shape [n] or [n, 1], all with the same n (plus, when the model
//     declares them, tensors named like its event-time and row-id columns, logged and never fed to the model);
//   - a single [n, k] tensor (any name that is not a feature's), k the model's features in the order its metadata
//     publishes (parameter `features`). A numeric datatype needs every feature to take numbers (numeric features;
//     dates as epoch milliseconds); a model with a categorical feature takes BYTES [n, k], numeric features then
//     written as decimal text.
// Every problem is a BadRequestError naming the tensor, the element and what was expected. Pure.
import type { RawRow, RawValue } from '../../shared/preprocessing.js';
import { BadRequestError, checkValue, shown, type FeatureSignature, type ParsedRows } from '../requests.js';
import { rowMetaOf, type RowExtras, type RowMeta } from '../row-extras.js';
import type { OipTensor } from './types.js';

export interface ModelInputs {
  readonly features: readonly FeatureSignature[];
  readonly extras: RowExtras | undefined;
}

export interface InputLimits {
  readonly maxInstances: number;
  /** Most UTF-8 bytes of a string value; 0: no cap. */
  readonly maxStringBytes: number;
}

export const integerTypes: ReadonlySet<string> = new Set(['INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64']);
export const numericTypes: ReadonlySet<string> = new Set([...integerTypes, 'FP16', 'FP32', 'FP64']);

/** The name the metadata suggests for the [n, k] form (any name that is not a feature's is taken). */
export const matrixInputName = 'input';

/** Why a feature's tensor cannot have this datatype, or undefined. */
export function datatypeProblem(kind: FeatureSignature['kind'], datatype: string): string | undefined {
  if (kind === 'numeric') return numericTypes.has(datatype) ? undefined : 'for a numeric feature, expected a numeric datatype (FP32, FP64, INT32, ...)';
  if (kind === 'categorical') return datatype === 'BYTES' ? undefined : 'for a categorical feature, expected BYTES';
  return datatype === 'BYTES' || integerTypes.has(datatype) || datatype === 'FP64' ? undefined : 'for a date feature, expected BYTES (ISO text) or INT64 (epoch milliseconds)';
}

/** How an error names input (or output) i: `inputs[2] (wind)`; a name past 64 characters quoted and cut short. */
export function tensorAt(i: number, name: string, list: 'inputs' | 'outputs' = 'inputs'): string {
  return `${list}[${i}] (${name.length <= 64 ? name : shown(name)})`;
}

/**
 * Checks a shape's dimensions and returns the element count; `at` names the tensor. A dimension that is not a
 * non-negative integer is a 400; a shape past 2^53 elements a 413, like any request with too many rows.
 */
export function elementsOf(shape: readonly number[], at: string): number {
  let count = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new BadRequestError(`${at}: shape [${shape.join(', ')}] has a dimension that is not a non-negative integer`);
    count *= d;
  }
  if (count > Number.MAX_SAFE_INTEGER || shape.some((d) => d > Number.MAX_SAFE_INTEGER)) throw new BadRequestError(`${at}: shape [${shape.join(', ')}] is too large`, 413);
  return count;
}

function checkCount(n: number, limits: InputLimits, at: string): void {
  if (n === 0) throw new BadRequestError(`${at}: no rows (the first dimension is 0)`);
  if (n > limits.maxInstances) throw new BadRequestError(`${at}: ${n} rows, at most ${limits.maxInstances} per request`, 413);
}

/** The tensor's data checked against its shape: as many elements as the shape says. */
function checkedData(t: OipTensor, at: string): readonly (number | string | boolean | null)[] {
  const count = elementsOf(t.shape, at);
  if (t.data.length !== count) throw new BadRequestError(`${at}: shape [${t.shape.join(', ')}] says ${count} elements, data has ${t.data.length}`);
  return t.data;
}

/** A BYTES element for a numeric feature (the [n, k] BYTES form): decimal text; "" is a missing value. */
function numberFromText(v: string, at: () => string): number | null {
  if (v.trim() === '') return null;
  const x = Number(v);
  if (!Number.isFinite(x)) throw new BadRequestError(`${at()}: ${shown(v, 40)} is not a number`);
  return x;
}

/**
 * One value for feature f from an element of a tensor of this datatype, checked against the feature's kind. `at`
 * names the element for an error: built only when there is one (every element of every request passes here).
 */
function valueOf(f: FeatureSignature, datatype: string, v: number | string | boolean | null, at: () => string, limits: InputLimits): RawValue {
  const value = f.kind === 'numeric' && datatype === 'BYTES' && typeof v === 'string' ? numberFromText(v, at) : v;
  const problem = checkValue(f.kind, value, limits.maxStringBytes);
  if (problem !== undefined) throw new BadRequestError(`${at()}: ${problem}`);
  return value;
}

function knownNames(m: ModelInputs): string[] {
  const extras = m.extras === undefined ? [] : [m.extras.timestampColumn, m.extras.rowIdColumn].filter((x) => x !== undefined);
  return [...m.features.map((f) => f.name), ...extras];
}

/** Whether the request is the [n, k] form: a single rank-2 tensor whose name is not a feature's or an extra's. */
function isMatrix(inputs: readonly OipTensor[], m: ModelInputs): boolean {
  const [t] = inputs;
  return inputs.length === 1 && t !== undefined && t.shape.length === 2 && !knownNames(m).includes(t.name);
}

/** The [n, k] form → rows. */
function matrixRows(t: OipTensor, m: ModelInputs, limits: InputLimits): ParsedRows {
  const at = tensorAt(0, t.name);
  const k = m.features.length;
  const order = m.features.map((f) => f.name).join(', ');
  const [n = 0, cols = 0] = t.shape;
  elementsOf(t.shape, at);
  if (cols !== k) throw new BadRequestError(`${at}: a single [n, k] tensor needs k = ${k} columns (${order}), got shape [${t.shape.join(', ')}]`);
  checkCount(n, limits, at);
  if (t.datatype !== 'BYTES') {
    if (!numericTypes.has(t.datatype)) throw new BadRequestError(`${at}: datatype ${shown(t.datatype, 16)}: a [n, k] tensor is BYTES or numeric`);
    const categorical = m.features.find((f) => f.kind === 'categorical');
    if (categorical !== undefined) throw new BadRequestError(`${at}: datatype ${t.datatype}: feature ${shown(categorical.name)} is categorical, so the [n, k] tensor must be BYTES (or send one tensor per feature)`);
  }
  const data = checkedData(t, at);
  const rows: RawRow[] = [];
  for (let r = 0; r < n; r++) {
    const row: Record<string, RawValue> = {};
    m.features.forEach((f, c) => {
      row[f.name] = valueOf(f, t.datatype, data[r * k + c] ?? null, () => `${at}.data[${r}, ${c}] (${f.name})`, limits);
    });
    rows.push(row);
  }
  const times = m.extras?.timestampColumn === undefined ? undefined : rows.map((row) => row[m.extras?.timestampColumn ?? '']);
  return { rows, meta: m.extras === undefined ? undefined : metaOf(m.extras, n, times, undefined) };
}

/** Checks one per-feature tensor's head and returns its n. */
function columnRows(t: OipTensor, at: string, f: FeatureSignature | undefined): number {
  if (t.shape.length < 1 || t.shape.length > 2 || (t.shape.length === 2 && t.shape[1] !== 1)) {
    throw new BadRequestError(`${at}: shape must be [n] or [n, 1] (one tensor per feature), got [${t.shape.join(', ')}]`);
  }
  const problem = f ? datatypeProblem(f.kind, t.datatype) : (t.datatype === 'BYTES' || numericTypes.has(t.datatype) ? undefined : 'for this column, expected BYTES or a numeric type');
  if (problem !== undefined) throw new BadRequestError(`${at}: datatype ${shown(t.datatype, 16)} ${problem}`);
  elementsOf(t.shape, at);
  return t.shape[0] ?? 0;
}

/** One tensor per feature → rows. */
function columnsRows(inputs: readonly OipTensor[], m: ModelInputs, limits: InputLimits): ParsedRows {
  const byName = new Map<string, readonly RawValue[]>();
  let n: number | undefined;
  inputs.forEach((t, i) => {
    const at = tensorAt(i, t.name);
    const f = m.features.find((x) => x.name === t.name);
    if (!f && !knownNames(m).includes(t.name)) {
      throw new BadRequestError(`inputs[${i}]: unknown input ${shown(t.name)} (inputs: one tensor per feature, ${knownNames(m).join(', ')}; or a single [n, ${m.features.length}] tensor)`);
    }
    if (byName.has(t.name)) throw new BadRequestError(`${at}: given twice`);
    const rows = columnRows(t, at, f);
    if (n === undefined) {
      checkCount(rows, limits, at);
      n = rows;
    } else if (rows !== n) throw new BadRequestError(`${at}: ${rows} rows, but other inputs have ${n}`);
    const data = checkedData(t, at);
    // Extra columns are checked per row by rowMetaOf; a feature's values here.
    byName.set(t.name, f ? data.map((v, r) => valueOf(f, t.datatype, v, () => `${at}.data[${r}]`, limits)) : data);
  });
  for (const f of m.features) if (!byName.has(f.name)) throw new BadRequestError(`missing input ${shown(f.name)} (one tensor per feature: ${m.features.map((x) => x.name).join(', ')}; or a single [n, ${m.features.length}] tensor)`);
  const count = n ?? 0;
  const rows: RawRow[] = [];
  for (let r = 0; r < count; r++) {
    const row: Record<string, RawValue> = {};
    for (const f of m.features) row[f.name] = byName.get(f.name)?.[r] ?? null;
    rows.push(row);
  }
  const e = m.extras;
  if (e === undefined) return { rows, meta: undefined };
  const col = (name: string | undefined): readonly unknown[] | undefined => (name === undefined ? undefined : byName.get(name));
  return { rows, meta: metaOf(e, count, col(e.timestampColumn), col(e.rowIdColumn)) };
}

/** Each row's meta from the extras' values (or from the feature's, when the timestamp column is a feature). */
function metaOf(extras: RowExtras, count: number, times: readonly unknown[] | undefined, ids: readonly unknown[] | undefined): RowMeta[] {
  const meta: RowMeta[] = [];
  for (let r = 0; r < count; r++) {
    const m = rowMetaOf(extras, times?.[r], ids?.[r]);
    if ('problem' in m) throw new BadRequestError(`row ${r}: ${m.problem}`);
    meta.push(m.meta);
  }
  return meta;
}

/** The request's input tensors → rows (and each row's meta when the model declares extras). */
export function rowsOfInputs(inputs: readonly OipTensor[], m: ModelInputs, limits: InputLimits): ParsedRows {
  if (inputs.length === 0) throw new BadRequestError(`no inputs: send one tensor per feature (${m.features.map((f) => f.name).join(', ')}) or a single [n, ${m.features.length}] tensor`);
  return isMatrix(inputs, m) ? matrixRows(inputs[0] as OipTensor, m, limits) : columnsRows(inputs, m, limits);
}
