// What the primary and the serving workers of one pod say to each other (PERENNIAL_SERVER_WORKERS > 1; node:cluster
// IPC with the 'advanced' serialization, so typed arrays cross as they are), and the small decisions about them.
//   worker → primary   model     the loaded model's reference profile and label: the pod's drift window and the
//                                feedback checks are made from it (once, by the first worker that loads)
//                      ready     this worker's own readiness changed (model loaded, leaving)
//                      rows      answered rows since the last message: drift bins, confidences, rows for the shadow book
//                      ask       a request a worker answers with the pod's figures: /metrics or the OIP statistics
//                      told      a worker's answer to the primary's `tell` (its metrics JSON, its statistics)
//                      connections  its open REST or gRPC connections changed (connection-balance.ts)
//   primary → worker   pod-ready whether every worker is ready (the readiness endpoints report it)
//                      share     the other workers' open connections per listener (as they last reported) and how
//                                many workers split the pod's: a worker over its share sheds (connection-balance.ts)
//                      tell      give me your own metrics / statistics
//                      answer    the pod's figures for a worker's `ask` (or why there are none)
import type { ReferenceProfile } from '../shared/drift.js';
import type { ConfidenceWindow } from './confidence-window.js';
import type { DriftWindow } from './drift-window.js';
import type { LabelSpec, RawRow } from '../shared/preprocessing.js';
import type { Prediction } from './model.js';
import type { OipModelStatistics } from './oip/types.js';

/** The env var a worker learns its slot from (0 … workers-1; a restarted worker keeps its slot, and so its spill folder). */
export const workerSlotEnv = 'PERENNIAL_SERVER_WORKER_SLOT';

export type PodFigure = 'metrics' | 'statistics';

/** Rows a worker answered, in the order it answered them; each entry one time. */
export interface AnsweredRows {
  /** Per entry: when, how many drift rows (binned), how many confidences. */
  readonly atMs: number[];
  readonly driftRows: number[];
  readonly confidences: number[];
  /** Every entry's rows binned with the profile (binRows), concatenated. */
  readonly bins: Uint32Array;
  /** Every entry's confidences (millionths), concatenated. */
  readonly confidenceValues: number[];
  /** On the shadow track: the rows and predictions the shadow book pairs with the serving pods' log. */
  readonly held: readonly { readonly rows: readonly RawRow[]; readonly predictions: readonly Prediction[]; readonly atMs: number }[];
}

export type WorkerMessage =
  | { readonly t: 'model'; readonly profile: ReferenceProfile; readonly label: LabelSpec }
  | { readonly t: 'ready'; readonly ready: boolean; readonly reason: string }
  | ({ readonly t: 'rows' } & AnsweredRows)
  | { readonly t: 'ask'; readonly id: number; readonly what: PodFigure }
  | { readonly t: 'told'; readonly id: number; readonly value: unknown }
  | { readonly t: 'connections'; readonly open: OpenConnections };

export type PrimaryMessage =
  | { readonly t: 'pod-ready'; readonly reason: string | undefined }
  | { readonly t: 'tell'; readonly id: number; readonly what: PodFigure }
  | ({ readonly t: 'share' } & PodShare)
  | { readonly t: 'answer'; readonly id: number; readonly value?: PodMetrics | OipModelStatistics; readonly error?: string };

/** The listeners whose connections are spread over the workers apart: REST's HTTP/1.1 and gRPC's HTTP/2. */
export type ConnectionKind = 'http' | 'grpc';

/** A worker's open connections, per listener. */
export type OpenConnections = Readonly<Record<ConnectionKind, number>>;

/** What the primary tells a worker of the pod's connections. */
export interface PodShare {
  /** The other live workers' open connections, as they last reported them. */
  readonly others: OpenConnections;
  /** Live workers splitting the pod's connections, this one included. */
  readonly workers: number;
}

/** What a worker needs to know of one listener's connections in the pod, besides its own live count (connection-balance.ts). */
export interface PodConnections {
  /** The other live workers' open connections of this listener, as they last reported them. */
  readonly others: number;
  /** Live workers splitting the pod's connections, this one included. */
  readonly workers: number;
}

/** The pod's /metrics: every process's series, summed (prom-client's cluster aggregation). */
export interface PodMetrics {
  readonly text: string;
  readonly contentType: string;
}

/** One worker as the primary sees it. */
export interface WorkerState {
  readonly slot: number;
  readonly ready: boolean;
  readonly reason: string;
}

/**
 * Whether the pod is ready: every slot has a worker and every worker is ready. undefined when ready, else the reason
 * the readiness endpoints give (the first worker's that is not).
 */
export function podUnreadyReason(workers: readonly WorkerState[], slots: number): string | undefined {
  for (let slot = 0; slot < slots; slot++) {
    const w = workers.find((x) => x.slot === slot);
    if (w === undefined) return `worker ${slot} of ${slots} is starting`;
    if (!w.ready) return `worker ${slot} of ${slots}: ${w.reason}`;
  }
  return undefined;
}

/**
 * One worker's share of a bound the pod contract gives per pod (the connection cap, the spill volume's bytes):
 * `of` split over `parts`, rounded up for a cap (no worker gets 0 of a nonzero bound); 0 (no bound) stays 0.
 */
export function shareOf(of: number, parts: number): number {
  if (of === 0 || parts <= 1) return of;
  return Math.max(1, Math.ceil(of / parts));
}

/** Whether an IPC message is one of a worker's (the primary also sees cluster's own internal messages). */
export function isWorkerMessage(m: unknown): m is WorkerMessage {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string' && ['model', 'ready', 'rows', 'ask', 'told', 'connections'].includes((m as { t: string }).t);
}

export function isPrimaryMessage(m: unknown): m is PrimaryMessage {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string' && ['pod-ready', 'tell', 'answer', 'share'].includes((m as { t: string }).t);
}

/**
 * A worker's answered rows into the pod's windows, entry by entry in the order it answered them (the primary's side
 * of PrimaryLink's messages). Without a drift window yet (no model reported) the drift rows are skipped.
 */
export function deliverAnsweredRows(rows: AnsweredRows, to: {
  readonly drift: Pick<DriftWindow, 'addBinned' | 'width'> | undefined;
  readonly confidence: Pick<ConfidenceWindow, 'addConfidences'>;
  readonly shadowScoring?: { hold(rows: readonly RawRow[], predictions: readonly Prediction[], atMs: number): void } | undefined;
}): void {
  const width = to.drift?.width ?? 0;
  let bin = 0;
  let confidence = 0;
  for (let i = 0; i < rows.atMs.length; i++) {
    const atMs = rows.atMs[i] as number;
    const n = rows.driftRows[i] as number;
    const c = rows.confidences[i] as number;
    if (to.drift !== undefined && n > 0) to.drift.addBinned(n, rows.bins.subarray(bin, bin + n * width), atMs);
    bin += n * width;
    if (c > 0) to.confidence.addConfidences(rows.confidenceValues.slice(confidence, confidence + c), atMs);
    confidence += c;
  }
  for (const h of rows.held) to.shadowScoring?.hold(h.rows, h.predictions, h.atMs);
}
