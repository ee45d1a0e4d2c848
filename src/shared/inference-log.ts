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
  /** Column to hold the prediction time (the schema's timestamp column), if any. */
  readonly timestampColumn?: string | undefined;
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
}

/**
 * Joins predictions and feedback on id. The first label (by time, then by input order) wins: a label sent again,
 * to another replica or later, cannot replace it (the servers refuse second labels too, per replica). Rows come out in prediction-time order with the features, the label, and the
 * prediction time in the timestamp column.
 */
export function joinFeedback(
  predictions: Iterable<PredictionRecord>,
  feedback: Iterable<FeedbackRecord>,
  opts: JoinOptions,
): { rows: RawRow[]; stats: JoinStats } {
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
    .sort((a, b) => Date.parse(a.p.time) - Date.parse(b.p.time) || (a.p.id < b.p.id ? -1 : 1));
  const rows = joined.map(({ p, f }): RawRow => ({
    ...p.features,
    [opts.labelColumn]: f.label,
    ...(opts.timestampColumn !== undefined ? { [opts.timestampColumn]: p.time } : {}),
  }));
  return {
    rows,
    stats: { predictions: nPred, feedback: nFb, joined: rows.length, unmatchedFeedback: unmatched, duplicateFeedback: dupFb, duplicatePredictions: dupPred },
  };
}
