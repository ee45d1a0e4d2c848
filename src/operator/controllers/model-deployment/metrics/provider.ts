// Where live measurements of a revision come from, behind one small interface (after Flagger's
// pkg/metrics/providers/provider.go): `pods` scrapes the server pods' /metrics directly, `prometheus` asks a
// Prometheus server. A provider answers counts over a window, never ratios, so the gates can tell "no traffic"
// (too few samples: Inconclusive) from "zero errors". Absent is not zero: a provider that has nothing to say
// throws NoValuesError, which the analysis reads as Inconclusive.

export interface Measurement {
  /** Predict requests answered in the window, whatever the answer. */
  readonly requests: number;
  /** Of those, faults of the server: 5xx other than 503 (requestClass `fault`). The only ones maxErrorRate counts. */
  readonly errors: number;
  /** Of those, refused as the client's mistake (4xx): counted and shown, never a fault, never a sample. */
  readonly clientErrors: number;
  /** Of those, shed (503: queue full, not ready, shutting down): counted and shown apart, never a sample. */
  readonly shed: number;
  /** p99 latency of the served predict requests in the window; undefined without any. */
  readonly latencyP99Ms: number | undefined;
  /**
   * Feedback labels in the window for this version's predictions, from every pod of the deployment (a label is
   * counted by whichever pod takes it, under the version in its signed id): classification (correct + incorrect).
   */
  readonly labelled: number;
  readonly correct: number;
  /** Of the classification labels, those whose id carried probabilities, and their Σ −ln p(true class). */
  readonly logLossLabels: number;
  readonly logLossSum: number;
  /** Regression labels in the window and their Σ (prediction − label)². */
  readonly scored: number;
  readonly squaredError: number;
  /**
   * The servers' sequential drift detector (perennial_server_drift_evidence): evidence of a shift per feature since
   * the pods loaded the version, in nats (the largest over pods), and the earliest detection at the servers' default
   * rate. Absent when the servers export none (a server from before the detector).
   */
  readonly driftEvidence?: Readonly<Record<string, number>>;
  readonly driftDetectedAtMs?: number;
  /** PSI per feature of the servers' sliding drift window (the largest over pods). */
  readonly drift: Readonly<Record<string, number>>;
  /** Rows in the drift window (summed over pods). */
  readonly driftRows: number;
  /**
   * The servers' confidence windows now (label-free estimated accuracy, src/server/confidence-window.ts): their
   * classification rows and the sum of those rows' top-class probabilities, summed over the revision's ready pods.
   */
  readonly confidenceRows: number;
  readonly confidenceSum: number;
  /**
   * Shadow phase: mirrored requests the candidate's pods paired with the serving version's answer to the same
   * request (per row), and how many of them agreed (classification: the same class; regression: within the
   * servers' tolerance).
   */
  readonly compared: number;
  readonly agreed: number;
}

export interface MetricQuery {
  readonly namespace: string;
  /** The md's name and the revision hash: the `pods` provider finds the pods by these labels. */
  readonly deployment: string;
  readonly revisionHash: string;
  /** The model version: every series carries it as `model_version`. */
  readonly version: string;
  readonly port: number;
  readonly windowStartMs: number;
  readonly nowMs: number;
  /**
   * The label series (feedback outcomes, log loss, squared error) over [labelsFromMs, nowMs] instead of the
   * window (status.liveMetrics: labels are gathered over a window of their own, live-window.ts).
   */
  readonly labelsFromMs?: number;
}

export interface MetricProvider {
  /**
   * Counts for the revision over [windowStartMs, nowMs]. May be called at any time (each call may record a
   * baseline for later windows). Throws NoValuesError when there is nothing to measure yet.
   */
  measure(q: MetricQuery): Promise<Measurement>;
}

/** The sentinel of "no values": no pods, no series, no baseline yet. Read as Inconclusive, never as zero. */
export class NoValuesError extends Error {
  override readonly name = 'NoValuesError';
}

/** The provider could not be asked (unreachable, bad answer). Also Inconclusive, but logged as a problem. */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
}

/** Requests the server took on (neither a client error nor shed): the samples of the error-rate and latency gates. */
export function servedRequests(m: Measurement): number {
  return Math.max(0, m.requests - m.clientErrors - m.shed);
}

/** Live accuracy, or undefined without labels. */
export function accuracyOf(m: Measurement): number | undefined {
  return m.labelled > 0 ? m.correct / m.labelled : undefined;
}

/** Live log loss (classification), or undefined without labels whose id carried probabilities. */
export function logLossOf(m: Measurement): number | undefined {
  return m.logLossLabels > 0 ? m.logLossSum / m.logLossLabels : undefined;
}

/** Live RMSE (regression), or undefined without scored labels. */
export function rmseOf(m: Measurement): number | undefined {
  return m.scored > 0 ? Math.sqrt(m.squaredError / m.scored) : undefined;
}

/** The accuracy the model expects of itself on its recent rows (mean top-class probability), or undefined without rows. */
export function estimatedAccuracyOf(m: Measurement): number | undefined {
  return m.confidenceRows > 0 ? m.confidenceSum / m.confidenceRows : undefined;
}

/** Labels behind the quality figures, whatever the task. */
export function labelsOf(m: Measurement): number {
  return m.labelled + m.scored;
}

export const emptyMeasurement: Measurement = {
  requests: 0, errors: 0, clientErrors: 0, shed: 0, latencyP99Ms: undefined, labelled: 0, correct: 0, logLossLabels: 0, logLossSum: 0,
  scored: 0, squaredError: 0, drift: {}, driftRows: 0, confidenceRows: 0, confidenceSum: 0, compared: 0, agreed: 0,
};
