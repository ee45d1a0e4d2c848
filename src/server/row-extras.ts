// The columns a request may carry besides the features (docs/loop-semantics.md, "What the server logs"): the row's
// event time (the spec's timestampColumn) and its id (rowIdColumn). The server never feeds them to the model (unless
// the timestamp column is also a feature, which it then is anyway); it logs them in the row's prediction record as
// `eventTime` and `rowId`, so that fed-back rows keep their event time and can be matched with uploaded copies.
// Pure: requests.ts reads the values out of either API's body and calls these per row.
import { toTime, type PreprocessingSpec } from '../shared/preprocessing.js';

/** The extra columns a model declares; undefined from extrasOf when it declares none (the common, cheap case). */
export interface RowExtras {
  readonly timestampColumn: string | undefined;
  readonly rowIdColumn: string | undefined;
}

/** What a prediction record gains from one row: each field only when the request carried it. */
export interface RowMeta {
  eventTime?: string | number;
  rowId?: string;
}

/** Most UTF-8 bytes of an event time or a row id as a request sends it (a key, not a payload). */
export const maxExtraBytes = 256;
/** Epoch milliseconds a JavaScript Date can hold (±100,000,000 days): the trainer makes Dates of event times. */
const maxDateMs = 8.64e15;

export function extrasOf(spec: Pick<PreprocessingSpec, 'timestampColumn' | 'rowIdColumn'>): RowExtras | undefined {
  const timestampColumn = spec.timestampColumn === '' ? undefined : spec.timestampColumn;
  const rowIdColumn = spec.rowIdColumn === '' ? undefined : spec.rowIdColumn;
  return timestampColumn === undefined && rowIdColumn === undefined ? undefined : { timestampColumn, rowIdColumn };
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function tooLong(v: string): string | undefined {
  if (v.length > maxExtraBytes) return `a string longer than ${maxExtraBytes} bytes`;
  const bytes = Buffer.byteLength(v);
  return bytes > maxExtraBytes ? `a string of ${bytes} bytes, longer than ${maxExtraBytes}` : undefined;
}

/** Missing: absent, null or an empty string (an empty CSV cell); such a row is logged without the field. */
function missing(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

/**
 * Why a present event time cannot be read (the trainer's toTime: ISO-8601 or epoch milliseconds a Date can hold),
 * or undefined when it can or is missing.
 */
export function eventTimeProblem(v: unknown): string | undefined {
  if (missing(v)) return undefined;
  if (typeof v === 'string') {
    const long = tooLong(v);
    if (long !== undefined) return `${long}, not an event time`;
    return toTime(v) === undefined ? `${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)} is not an event time (ISO-8601 or epoch milliseconds)` : undefined;
  }
  if (typeof v === 'number') return Number.isFinite(v) && Math.abs(v) <= maxDateMs ? undefined : `${String(v)} is not an event time (epoch milliseconds out of range)`;
  return `expected an event time (ISO-8601 string or epoch milliseconds), got ${kindOf(v)}`;
}

/** Why a present row id is not one (a string of at most maxExtraBytes, or a finite number), or undefined. */
export function rowIdProblem(v: unknown): string | undefined {
  if (missing(v)) return undefined;
  if (typeof v === 'string') return tooLong(v);
  if (typeof v === 'number') return Number.isFinite(v) ? undefined : `${String(v)} is not a row id`;
  return `expected a row id (a string or a number), got ${kindOf(v)}`;
}

/**
 * One row's meta from its two raw values (undefined: the request had no such column). Throws nothing: returns the
 * problem naming the column, for the caller to put in its 400 with the row's place.
 */
export function rowMetaOf(extras: RowExtras, time: unknown, id: unknown): { meta: RowMeta } | { problem: string } {
  const meta: RowMeta = {};
  if (extras.timestampColumn !== undefined) {
    const p = eventTimeProblem(time);
    if (p !== undefined) return { problem: `${extras.timestampColumn}: ${p}` };
    if (!missing(time)) meta.eventTime = time as string | number;
  }
  if (extras.rowIdColumn !== undefined) {
    const p = rowIdProblem(id);
    if (p !== undefined) return { problem: `${extras.rowIdColumn}: ${p}` };
    // Numbers are logged as strings: an id is matched by its text (2 and "2" are one row).
    if (!missing(id)) meta.rowId = typeof id === 'number' ? String(id) : (id as string);
  }
  return { meta };
}

/** A row sent on with its meta put back under the request's column names (the shadow mirror's instances). */
export function withMeta<R extends Readonly<Record<string, unknown>>>(row: R, extras: RowExtras, meta: RowMeta | undefined): R {
  if (meta === undefined) return row;
  const out: Record<string, unknown> = { ...row };
  if (extras.timestampColumn !== undefined && meta.eventTime !== undefined) out[extras.timestampColumn] = meta.eventTime;
  if (extras.rowIdColumn !== undefined && meta.rowId !== undefined) out[extras.rowIdColumn] = meta.rowId;
  return out as R;
}
