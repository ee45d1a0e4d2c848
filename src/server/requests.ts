// Request bodies → feature rows, with a 4xx naming the offending field for anything the model cannot take: the v1
// API's instances and feedback here, and the value checks every API shares (OIP's tensors become rows in
// oip/inputs.ts with these). Pure: the HTTP layer parses JSON and calls these. Rows keep only the model's features,
// exactly as received (preprocessing happens later, with the shared code).
import type { FeatureKind, PreprocessingSpec, RawRow, RawValue } from '../shared/preprocessing.js';
import { rowMetaOf, type RowExtras, type RowMeta } from './row-extras.js';

export class BadRequestError extends Error {
  override readonly name = 'BadRequestError';
  constructor(message: string, readonly status = 400) {
    super(message);
  }
}

export interface FeatureSignature {
  readonly name: string;
  readonly kind: FeatureKind;
}

export function signatureOf(spec: PreprocessingSpec): FeatureSignature[] {
  return spec.features.map((f) => ({ name: f.name, kind: f.kind }));
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** The largest finite float32: the model computes in float32, a larger number would reach it as Infinity. */
export const float32Max = 3.4028234663852886e38;
/** Epoch milliseconds a JavaScript Date can hold (±100,000,000 days). */
const maxDateMs = 8.64e15;

/** A value quoted for an error message, cut short: a 1 MB name must not come back in a 400. */
export function shown(v: string, max = 64): string {
  return v.length > max ? `${JSON.stringify(v.slice(0, max))}…` : JSON.stringify(v);
}

/** Why a string is too long for the cap (0: no cap), or undefined. UTF-8 bytes are at least UTF-16 units. */
export function stringTooLong(v: string, maxBytes: number): string | undefined {
  if (maxBytes <= 0) return undefined;
  if (v.length > maxBytes) return `a string longer than ${maxBytes} bytes`;
  const bytes = Buffer.byteLength(v);
  return bytes > maxBytes ? `a string of ${bytes} bytes, longer than ${maxBytes}` : undefined;
}

/**
 * Checks one value against its feature's kind; returns an error text or undefined. null means "missing". Numbers
 * must be finite float32, dates must parse (or be epoch milliseconds a Date can hold), and every string at most
 * `maxStringBytes` bytes of UTF-8 (0: no cap).
 */
export function checkValue(kind: FeatureKind, v: unknown, maxStringBytes = 0): string | undefined {
  if (v === null) return undefined;
  if (typeof v === 'string') {
    const long = stringTooLong(v, maxStringBytes);
    if (long !== undefined) return long;
  }
  switch (kind) {
    case 'numeric':
      if (typeof v !== 'number') return `expected a number or null, got ${typeName(v)}`;
      return Number.isFinite(v) && Math.abs(v) <= float32Max ? undefined : `${String(v)} is not a finite float32 number`;
    case 'categorical':
      if (typeof v === 'number') return Number.isFinite(v) ? undefined : `${String(v)} is not a finite number`;
      return typeof v === 'string' || typeof v === 'boolean' ? undefined : `expected a string or null, got ${typeName(v)}`;
    case 'date':
      if (typeof v === 'number') return Number.isFinite(v) && Math.abs(v) <= maxDateMs ? undefined : `${String(v)} is not a date (epoch milliseconds out of range)`;
      if (typeof v !== 'string') return `expected an ISO date string or epoch milliseconds, got ${typeName(v)}`;
      return Number.isNaN(Date.parse(v)) ? `${shown(v, 40)} is not a date` : undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkCount(n: number, maxInstances: number, what: string): void {
  if (n === 0) throw new BadRequestError(`${what} is empty`);
  if (n > maxInstances) throw new BadRequestError(`${what}: ${n} instances, at most ${maxInstances} per request`, 413);
}

/** Rows for the model, and with them what each row's prediction record gains (only when the model declares extras). */
export interface ParsedRows {
  readonly rows: RawRow[];
  /** Per row, when the model declares a timestamp or row-id column (row-extras.ts); undefined otherwise. */
  readonly meta: RowMeta[] | undefined;
}

/** The value of an instance's own property, or undefined (`"toString" in {}` is true). */
function own(inst: Record<string, unknown>, name: string | undefined): unknown {
  return name !== undefined && Object.hasOwn(inst, name) ? inst[name] : undefined;
}

/** `{"instances": [{feature: value, ...}, ...]}` (the V1 / TF-Serving row format) → rows (and their extras' meta). */
export function parseV1Predict(body: unknown, features: readonly FeatureSignature[], maxInstances: number, maxStringBytes = 0, extras?: RowExtras): ParsedRows {
  if (!isObject(body)) throw new BadRequestError('body must be a JSON object with "instances"');
  const instances = body['instances'];
  if (instances === undefined) throw new BadRequestError('missing field "instances"');
  if (!Array.isArray(instances)) throw new BadRequestError(`"instances" must be an array, got ${typeName(instances)}`);
  checkCount(instances.length, maxInstances, '"instances"');
  const meta: RowMeta[] | undefined = extras === undefined ? undefined : [];
  const rows = instances.map((inst: unknown, i): RawRow => {
    if (!isObject(inst)) throw new BadRequestError(`instances[${i}] must be an object of features, got ${typeName(inst)}`);
    const row: Record<string, RawValue> = {};
    for (const f of features) {
      // Own properties only: `"toString" in {}` is true.
      if (!Object.hasOwn(inst, f.name)) throw new BadRequestError(`instances[${i}]: missing feature "${f.name}"`);
      const v = inst[f.name];
      const problem = checkValue(f.kind, v, maxStringBytes);
      if (problem !== undefined) throw new BadRequestError(`instances[${i}].${f.name}: ${problem}`);
      row[f.name] = v as RawValue;
    }
    if (extras !== undefined && meta !== undefined) {
      const m = rowMetaOf(extras, own(inst, extras.timestampColumn), own(inst, extras.rowIdColumn));
      if ('problem' in m) throw new BadRequestError(`instances[${i}].${m.problem}`);
      meta.push(m.meta);
    }
    return row;
  });
  return { rows, meta };
}

/** One label of a feedback item: a class name or a number, with its place in the request. */
export interface FeedbackItem {
  readonly index: number;
  readonly id: string;
  readonly label: string | number;
}

/** `{"id", "label"}` or `{"feedback": [{"id", "label"}, ...]}` → items; malformed items are reported by index. */
export function parseFeedback(body: unknown, maxItems: number): { items: FeedbackItem[]; invalid: { index: number; reason: string }[] } {
  if (!isObject(body)) throw new BadRequestError('body must be a JSON object: {"id", "label"} or {"feedback": [...]}');
  const list: unknown[] = 'feedback' in body ? (Array.isArray(body['feedback']) ? body['feedback'] : []) : [body];
  if ('feedback' in body && !Array.isArray(body['feedback'])) throw new BadRequestError(`"feedback" must be an array, got ${typeName(body['feedback'])}`);
  checkCount(list.length, maxItems, '"feedback"');
  const items: FeedbackItem[] = [];
  const invalid: { index: number; reason: string }[] = [];
  list.forEach((x, index) => {
    if (!isObject(x)) return invalid.push({ index, reason: 'not an object' });
    const id = x['id'];
    const label = x['label'];
    if (typeof id !== 'string' || id === '') return invalid.push({ index, reason: 'missing field "id"' });
    if (typeof label !== 'string' && !(typeof label === 'number' && Number.isFinite(label))) return invalid.push({ index, reason: '"label" must be a string or a number' });
    return items.push({ index, id, label });
  });
  return { items, invalid };
}
