// What the model server logs (one JSON object per line, in batches under the deployment's predictions/ and
// feedback/ prefixes, see artifact-layout.ts) and the pure join the trainer uses to turn logged predictions
// plus late labels into training rows. Version 1.
import type { RawRow, RawValue } from './preprocessing.js';

export const inferenceLogVersion = 1;

export interface PredictionRecord {
  readonly v: typeof inferenceLogVersion;
  readonly kind: 'prediction';
  /** Returned to the caller with the prediction; the caller sends it back with the label. */
  readonly id: string;
  /** ISO-8601 time of the prediction (wall clock of the server). */
  readonly time: string;
  /**
   * The row's event time as the request carried it in the spec's timestampColumn (ISO-8601 or epoch milliseconds,
   * as sent); absent when the request had none or the model declares no timestamp column.
   */
  readonly eventTime?: string | number;
  /** The row's id as the request carried it in the spec's rowIdColumn; absent when none. */
  readonly rowId?: string;
  readonly modelVersion: string;
  /** "stable" | "canary" | "shadow": lets live metrics keep the tracks apart. */
  readonly track?: string;
  /** The raw feature values as received (before preprocessing). */
  readonly features: Readonly<Record<string, RawValue>>;
  /** Class name (classification) or value (regression). */
  readonly prediction: string | number;
  /** Class probabilities in the spec's class order (classification). */
  readonly probabilities?: readonly number[];
}

export interface FeedbackRecord {
  readonly v: typeof inferenceLogVersion;
  readonly kind: 'feedback';
  readonly id: string;
  readonly label: string | number;
  /** ISO-8601 time the label arrived. */
  readonly time: string;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads one log line; undefined for anything that is not a well-formed version-1 record. */
export function parseLogRecord(v: unknown): PredictionRecord | FeedbackRecord | undefined {
  if (!isObj(v) || v['v'] !== inferenceLogVersion || typeof v['id'] !== 'string' || typeof v['time'] !== 'string') return undefined;
  if (v['kind'] === 'prediction') {
    const p = v['prediction'];
    if (!isObj(v['features']) || typeof v['modelVersion'] !== 'string' || (typeof p !== 'string' && typeof p !== 'number')) return undefined;
    return v as unknown as PredictionRecord;
  }
  if (v['kind'] === 'feedback') {
    const l = v['label'];
    return typeof l === 'string' || typeof l === 'number' ? (v as unknown as FeedbackRecord) : undefined;
  }
  return undefined;
}

export interface JoinOptions {
  readonly labelColumn: string;
  /**
   * The schema's timestamp column, if any: it receives the row's event time (the record's eventTime, else the
   * column's value among the logged features when the timestamp is also a feature), or, when the request carried no
   * readable event time, the prediction time (counted in the stats).
   */
  readonly timestampColumn?: string | undefined;
  /** The schema's row-id column, if any: it receives the record's rowId when the request carried one. */
  readonly rowIdColumn?: string | undefined;
  /** Only predictions of this model version. */
  readonly modelVersion?: string | undefined;
}

export interface JoinStats {
  readonly predictions: number;
  readonly feedback: number;
  readonly joined: number;
  /** Labels whose prediction id was never seen (late logs, other deployments). */
  readonly unmatchedFeedback: number;
  /** Extra labels for an already-labelled id; the first label wins. */
  readonly duplicateFeedback: number;
  /** Predictions logged twice with the same id (a retried batch upload); the first is kept. */
  readonly duplicatePredictions: number;
  /** Joined rows whose timestamp column holds the event time the request carried. */
  readonly eventTimeFromRequest: number;
  /** Joined rows without a readable event time: their timestamp column holds the prediction time instead. */
  readonly eventTimeFromPredictionTime: number;
  /** Joined rows that carry the request's row id (0 when the schema declares no row-id column). */
  readonly withRowId: number;
}

/** A joined row: the values a training row gets, and the prediction it came from (for lineage). */
export interface JoinedRow {
  readonly values: RawRow;
  readonly predictionId: string;
  /** Milliseconds since the epoch of the prediction (NaN when the record's time is unreadable). */
  readonly predictionTime: number;
  /** Milliseconds since the epoch of the label's arrival (NaN when unreadable). */
  readonly labelTime: number;
  /** Whether the timestamp column holds the request's event time (false: the prediction time stood in). */
  readonly eventTimeFromRequest: boolean;
}

/** A readable time (ISO-8601 text or finite epoch milliseconds), as the trainer reads its timestamp column. */
function readableTime(v: RawValue | undefined): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  return typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Date.parse(v.trim()));
}

/** The event time a request carried: its eventTime, else the timestamp column among its features; undefined when neither reads as a time. */
export function requestEventTime(p: PredictionRecord, timestampColumn: string): string | number | undefined {
  if (p.eventTime !== undefined && readableTime(p.eventTime)) return p.eventTime;
  const f = p.features[timestampColumn];
  return typeof f === 'string' || typeof f === 'number' ? (readableTime(f) ? f : undefined) : undefined;
}

function joinedRow(p: PredictionRecord, f: FeedbackRecord, opts: JoinOptions): JoinedRow {
  const values: Record<string, RawValue> = { ...p.features, [opts.labelColumn]: f.label };
  let fromRequest = false;
  if (opts.timestampColumn !== undefined) {
    const event = requestEventTime(p, opts.timestampColumn);
    fromRequest = event !== undefined;
    values[opts.timestampColumn] = event ?? p.time;
  }
  if (opts.rowIdColumn !== undefined && typeof p.rowId === 'string' && p.rowId.trim() !== '') values[opts.rowIdColumn] = p.rowId;
  return { values, predictionId: p.id, predictionTime: Date.parse(p.time), labelTime: Date.parse(f.time), eventTimeFromRequest: fromRequest };
}

/**
 * Joins predictions and feedback on id. The first label (by time, then by input order) wins: a label sent again,
 * to another replica or later, cannot replace it (the servers refuse second labels too, per replica). Rows come out in
 * prediction-time order with the features, the label, the row's event time in the timestamp column (docs/loop-semantics.md,
 * "Event time, duplicates, holdout and refit": the prediction time only when the request carried no readable event
 * time, counted) and the request's row id in the row-id column.
 */
export function joinFeedback(
  predictions: Iterable<PredictionRecord>,
  feedback: Iterable<FeedbackRecord>,
  opts: JoinOptions,
): { rows: RawRow[]; joined: JoinedRow[]; stats: JoinStats } {
  const byId = new Map<string, PredictionRecord>();
  let nPred = 0;
  let dupPred = 0;
  for (const p of predictions) {
    if (opts.modelVersion !== undefined && p.modelVersion !== opts.modelVersion) continue;
    nPred++;
    if (byId.has(p.id)) dupPred++;
    else byId.set(p.id, p);
  }
  const labels = new Map<string, FeedbackRecord>();
  let nFb = 0;
  let unmatched = 0;
  let dupFb = 0;
  for (const f of feedback) {
    nFb++;
    if (!byId.has(f.id)) {
      unmatched++;
      continue;
    }
    const prev = labels.get(f.id);
    if (prev) dupFb++;
    if (!prev || Date.parse(f.time) < Date.parse(prev.time)) labels.set(f.id, f);
  }
  const joined = [...labels.entries()]
    .map(([id, f]) => ({ p: byId.get(id), f }))
    .filter((x): x is { p: PredictionRecord; f: FeedbackRecord } => x.p !== undefined)
    .sort((a, b) => Date.parse(a.p.time) - Date.parse(b.p.time) || (a.p.id < b.p.id ? -1 : 1))
    .map(({ p, f }) => joinedRow(p, f, opts));
  const fromRequest = joined.filter((j) => j.eventTimeFromRequest).length;
  return {
    rows: joined.map((j) => j.values),
    joined,
    stats: {
      predictions: nPred, feedback: nFb, joined: joined.length, unmatchedFeedback: unmatched, duplicateFeedback: dupFb, duplicatePredictions: dupPred,
      eventTimeFromRequest: fromRequest,
      eventTimeFromPredictionTime: opts.timestampColumn === undefined ? 0 : joined.length - fromRequest,
      withRowId: opts.rowIdColumn === undefined ? 0 : joined.filter((j) => (opts.rowIdColumn !== undefined && j.values[opts.rowIdColumn] !== undefined)).length,
    },
  };
}
