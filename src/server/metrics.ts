// The server's /metrics on a private prom-client registry, named and labelled by the contract in
// src/shared/server-metrics.ts. Every series carries model_version (a default label), so one scrape of a
// canary pod and one of a stable pod never mix. PSI and drift-window gauges are computed at scrape time.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { batchSizeBuckets, latencyBuckets, requestClass, serverMetricLabels as L, serverMetricNames as N, type SeriesOf } from '../shared/server-metrics.js';
import type { ConfidenceSnapshot } from './confidence-window.js';
import type { DriftSnapshot } from './drift-window.js';
import { CounterTally, LabelledHistogram } from './request-tally.js';

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<string>;
  readonly errors: Counter<string>;
  readonly latency: LabelledHistogram;
  readonly predictions: Counter<string>;
  readonly predictionValue: Histogram<string>;
  readonly feedback: Counter<string>;
  readonly squaredError: Counter<string>;
  readonly logLossSum: Counter<string>;
  readonly logLossCount: Counter<string>;
  readonly shadowComparisons: Counter<string>;
  readonly batchSize: Histogram<string>;
  readonly shadowRequests: Counter<string>;
  readonly shadowLatency: Histogram<string>;
  readonly logRecords: Counter<string>;
  readonly modelReady: Gauge<string>;
  /** Counted per request in plain numbers (request-tally.ts), moved into the counters at each scrape. */
  private readonly requestTally = new CounterTally();
  private readonly errorTally = new CounterTally();
  private readonly predictionTally = new CounterTally();
  /** Since start, per version of the labelled predictions; the gauges derive from these at scrape time. */
  private readonly live = new Map<string, { correct: number; incorrect: number; scored: number; squaredSum: number; logLossSum: number; logLossCount: number }>();

  private readonly modelVersion: string;

  /**
   * `of`: the version served here and the ModelDeployment it belongs to, on every series. `confidence`: the
   * confidence window (estimated accuracy), read at scrape time.
   */
  constructor(
    of: SeriesOf, drift: () => DriftSnapshot | undefined, logPending: () => Readonly<Record<string, number>>, task: () => 'classification' | 'regression' | undefined,
    confidence: () => ConfidenceSnapshot | undefined = () => undefined,
  ) {
    this.modelVersion = of.version;
    this.registry.setDefaultLabels({ [L.modelVersion]: of.version, [L.namespace]: of.namespace, [L.deployment]: of.deployment });
    const r = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'perennial_server_' });
    const { requestTally, errorTally, predictionTally } = this;
    this.requests = new Counter({
      name: N.requests, help: 'Answered requests by route and status code.', labelNames: [L.route, L.code], registers: r,
      collect() {
        requestTally.flush(this);
      },
    });
    this.errors = new Counter({
      name: N.errors, help: 'Requests answered with a 4xx or 5xx.', labelNames: [L.route, L.code], registers: r,
      collect() {
        errorTally.flush(this);
      },
    });
    this.latency = new LabelledHistogram(N.latency, 'Latency of served requests (no 4xx, no 503) in seconds.', L.route, latencyBuckets, this.registry);
    this.predictions = new Counter({
      name: N.predictions, help: 'Predicted classes.', labelNames: [L.class], registers: r,
      collect() {
        predictionTally.flush(this);
      },
    });
    this.predictionValue = new Histogram({ name: N.predictionValue, help: 'Predicted values (regression).', buckets: [-100, -10, -1, 0, 1, 10, 100, 1000], registers: r });
    // Labels are counted under the version that made the prediction (from its signed id), which need not be this
    // pod's: labels sent through the feedback Service land on any replica of any revision.
    this.feedback = new Counter({ name: N.feedback, help: 'Feedback labels by outcome and by the version that made the prediction.', labelNames: [L.outcome, L.modelVersion], registers: r });
    this.squaredError = new Counter({ name: N.feedbackSquaredError, help: 'Sum of squared errors of scored regression feedback.', labelNames: [L.modelVersion], registers: r });
    this.logLossSum = new Counter({ name: N.feedbackLogLossSum, help: 'Sum of -ln(probability given to the true class) over labels whose prediction id carries probabilities (classification).', labelNames: [L.modelVersion], registers: r });
    this.logLossCount = new Counter({ name: N.feedbackLogLossCount, help: 'Labels scored for log loss (their prediction id carries probabilities).', labelNames: [L.modelVersion], registers: r });
    this.shadowComparisons = new Counter({ name: N.shadowComparisons, help: 'On a shadow pod: mirrored rows compared with the answer the stable version gave the same request, by outcome (agree|disagree).', labelNames: [L.outcome], registers: r });
    this.batchSize = new Histogram({ name: N.batchSize, help: 'Rows per model call.', buckets: [...batchSizeBuckets], registers: r });
    this.shadowRequests = new Counter({ name: N.shadowRequests, help: 'Requests mirrored to the shadow by outcome.', labelNames: [L.outcome], registers: r });
    this.shadowLatency = new Histogram({ name: N.shadowLatency, help: 'Shadow answer latency in seconds.', buckets: [...latencyBuckets], registers: r });
    this.logRecords = new Counter({ name: N.logRecords, help: 'Inference-log records by stream and outcome (stored, spilled, dropped).', labelNames: [L.stream, L.outcome], registers: r });
    // With several serving processes the pod's figure is the least of theirs (cluster-primary.ts sums the rest).
    this.modelReady = new Gauge({ name: N.modelReady, help: '1 once the model is loaded and warmed up.', registers: r, aggregator: 'min' });
    const live = this.live;
    new Gauge({
      name: N.liveAccuracy, help: 'Accuracy of the labelled predictions scored here since start, per version (classification).', labelNames: [L.modelVersion], registers: r,
      collect() {
        if (task() !== 'classification') return;
        for (const [v, x] of live) if (x.correct + x.incorrect > 0) this.set({ [L.modelVersion]: v }, x.correct / (x.correct + x.incorrect));
      },
    });
    new Gauge({
      name: N.liveLogLoss, help: 'Log loss of the labelled predictions scored here since start, per version (classification, ids with probabilities).', labelNames: [L.modelVersion], registers: r,
      collect() {
        if (task() !== 'classification') return;
        for (const [v, x] of live) if (x.logLossCount > 0) this.set({ [L.modelVersion]: v }, x.logLossSum / x.logLossCount);
      },
    });
    new Gauge({
      name: N.liveRmse, help: 'RMSE of the labelled predictions scored here since start, per version (regression).', labelNames: [L.modelVersion], registers: r,
      collect() {
        if (task() !== 'regression') return;
        for (const [v, x] of live) if (x.scored > 0) this.set({ [L.modelVersion]: v }, Math.sqrt(x.squaredSum / x.scored));
      },
    });
    new Gauge({
      name: N.featurePsi, help: 'PSI of the sliding window against the reference profile, per feature.', labelNames: [L.feature], registers: r,
      collect() {
        this.reset();
        for (const [feature, value] of drift()?.psi ?? []) this.set({ [L.feature]: feature }, value);
      },
    });
    new Gauge({
      name: N.driftWindowRows, help: 'Rows in the drift window.', registers: r,
      collect() {
        this.set(drift()?.rows ?? 0);
      },
    });
    new Gauge({
      name: N.driftEvidence, help: 'Sequential drift detector: evidence of a shift since the model was loaded (peak CUSUM statistic, nats), per feature.', labelNames: [L.feature], registers: r,
      collect() {
        this.reset();
        for (const [feature, value] of drift()?.sequential.evidence ?? []) this.set({ [L.feature]: feature }, value);
      },
    });
    new Gauge({
      name: N.driftDetected, help: 'Sequential drift detector: 1 once the evidence reached the threshold of the default false-alarm rate.', registers: r,
      collect() {
        this.set(drift()?.sequential.detectedAtMs === undefined ? 0 : 1);
      },
    });
    new Gauge({
      // model_version as a label of its own, so the series is absent (reset), not 0, before a detection.
      name: N.driftDetectedTime, help: 'Sequential drift detector: when it detected a shift (seconds since the epoch).', labelNames: [L.modelVersion], registers: r,
      collect() {
        this.reset();
        const at = drift()?.sequential.detectedAtMs;
        if (at !== undefined) this.set({ [L.modelVersion]: of.version }, at / 1000);
      },
    });
    new Gauge({
      name: N.driftDetectorRows, help: 'Sequential drift detector: rows taken since the model was loaded.', registers: r,
      collect() {
        this.set(drift()?.sequential.rows ?? 0);
      },
    });
    // Label-free early warning (confidence-window.ts): with model_version as a label of their own, so they are absent
    // (reset), not 0, for a regression model or an empty window.
    const confident = (set: (x: ConfidenceSnapshot) => number) => function (this: Gauge<string>): void {
      this.reset();
      const x = task() === 'classification' ? confidence() : undefined;
      if (x !== undefined && x.rows > 0) this.set({ [L.modelVersion]: of.version }, set(x));
    };
    new Gauge({
      name: N.estimatedAccuracy, help: 'Accuracy expected from the model\'s own top-class probabilities over the confidence window (classification; label-free, sound only on calibrated probabilities, blind to concept drift).',
      labelNames: [L.modelVersion], registers: r, collect: confident((x) => x.expectedAccuracy ?? 0),
    });
    new Gauge({ name: N.confidenceWindowRows, help: 'Classification rows in the confidence window.', labelNames: [L.modelVersion], registers: r, collect: confident((x) => x.rows) });
    new Gauge({ name: N.confidenceWindowSum, help: 'Sum of the top-class probabilities of the confidence window\'s rows.', labelNames: [L.modelVersion], registers: r, collect: confident((x) => x.sum) });
    new Gauge({
      name: N.logPending, help: 'Inference-log records not yet in the object store.', labelNames: [L.stream], registers: r,
      collect() {
        for (const [stream, n] of Object.entries(logPending())) this.set({ [L.stream]: stream }, n);
      },
    });
  }

  /**
   * Counts a request once its response has finished. Latency only of served requests (requestClass ok or fault):
   * fast refusals (4xx, 503) would pull the p99 a canary is judged on down.
   */
  observeRequest(route: string, code: number, seconds: number): void {
    const key = `${route} ${code}`;
    const labels = (): Record<string, string> => ({ [L.route]: route, [L.code]: String(code) });
    this.requestTally.add(key, labels);
    if (code >= 400) this.errorTally.add(key, labels);
    const cls = requestClass(code);
    if (cls === 'ok' || cls === 'fault') this.latency.observe(route, seconds);
  }

  /** Counts one predicted class (classification). */
  countPrediction(label: string): void {
    this.predictionTally.add(label, () => ({ [L.class]: label }));
  }

  /** Counts a feedback outcome that scores nothing (duplicate, rejected, unauthorized), under `version` or this pod's. */
  feedbackOutcome(outcome: 'duplicate' | 'rejected' | 'unauthorized', n = 1, version = this.modelVersion): void {
    if (n > 0) this.feedback.inc({ [L.outcome]: outcome, [L.modelVersion]: version }, n);
  }

  /**
   * Scores a checked label against the prediction of `version` it was given for: classification compares classes
   * (and adds the log loss when the probabilities are known, in the order of `classes`), regression adds the
   * squared error.
   */
  scoreFeedback(version: string, scored: ScoredPrediction, label: string | number, classes: readonly string[] = []): void {
    const { prediction, probabilities } = scored;
    let x = this.live.get(version);
    if (!x) {
      x = { correct: 0, incorrect: 0, scored: 0, squaredSum: 0, logLossSum: 0, logLossCount: 0 };
      this.live.set(version, x);
    }
    const v = { [L.modelVersion]: version };
    if (typeof prediction === 'number') {
      const e2 = (prediction - Number(label)) ** 2;
      x.scored += 1;
      x.squaredSum += e2;
      this.squaredError.inc(v, e2);
      this.feedback.inc({ ...v, [L.outcome]: 'scored' });
      return;
    }
    const ok = String(label) === prediction;
    if (ok) x.correct += 1;
    else x.incorrect += 1;
    this.feedback.inc({ ...v, [L.outcome]: ok ? 'correct' : 'incorrect' });
    const loss = labelLogLoss(probabilities, classes, String(label));
    if (loss !== undefined) {
      x.logLossSum += loss;
      x.logLossCount += 1;
      this.logLossSum.inc(v, loss);
      this.logLossCount.inc(v);
    }
  }
}

/** What a label is scored against: the prediction and, for classification, the class probabilities if known. */
export interface ScoredPrediction {
  readonly prediction: string | number;
  readonly probabilities?: readonly number[] | undefined;
}

/** Probabilities are clipped here before the log: an id carries millionths, so 0 means "below one in a million". */
export const logLossFloor = 1e-6;

/** −ln p(true class), or undefined when the probabilities do not cover the classes (or the label is not one). */
export function labelLogLoss(probabilities: readonly number[] | undefined, classes: readonly string[], label: string): number | undefined {
  if (probabilities === undefined || probabilities.length !== classes.length) return undefined;
  const i = classes.indexOf(label);
  if (i < 0) return undefined;
  return 0 - Math.log(Math.max(logLossFloor, probabilities[i] ?? 0)); // 0 − x: a certain right answer is 0, not −0
}
