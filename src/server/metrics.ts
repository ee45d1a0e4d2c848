// The server's /metrics on a private prom-client registry, named and labelled by the contract in
// src/shared/server-metrics.ts. Every series carries model_version (a default label), so one scrape of a
// canary pod and one of a stable pod never mix. PSI and drift-window gauges are computed at scrape time.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { batchSizeBuckets, latencyBuckets, serverMetricLabels as L, serverMetricNames as N } from '../shared/server-metrics.js';
import type { DriftSnapshot } from './drift-window.js';

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<string>;
  readonly errors: Counter<string>;
  readonly latency: Histogram<string>;
  readonly predictions: Counter<string>;
  readonly predictionValue: Histogram<string>;
  readonly feedback: Counter<string>;
  readonly squaredError: Counter<string>;
  readonly batchSize: Histogram<string>;
  readonly shadowRequests: Counter<string>;
  readonly shadowLatency: Histogram<string>;
  readonly logRecords: Counter<string>;
  readonly modelReady: Gauge<string>;
  /** Since start; the gauges derive from these at scrape time. */
  private readonly live = { correct: 0, incorrect: 0, scored: 0, squaredSum: 0 };

  constructor(modelVersion: string, drift: () => DriftSnapshot | undefined, logPending: () => Readonly<Record<string, number>>, task: () => 'classification' | 'regression' | undefined) {
    this.registry.setDefaultLabels({ [L.modelVersion]: modelVersion });
    const r = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'perennial_server_' });
    this.requests = new Counter({ name: N.requests, help: 'Answered requests by route and status code.', labelNames: [L.route, L.code], registers: r });
    this.errors = new Counter({ name: N.errors, help: 'Requests answered with a 4xx or 5xx.', labelNames: [L.route, L.code], registers: r });
    this.latency = new Histogram({ name: N.latency, help: 'Request latency in seconds.', labelNames: [L.route], buckets: [...latencyBuckets], registers: r });
    this.predictions = new Counter({ name: N.predictions, help: 'Predicted classes.', labelNames: [L.class], registers: r });
    this.predictionValue = new Histogram({ name: N.predictionValue, help: 'Predicted values (regression).', buckets: [-100, -10, -1, 0, 1, 10, 100, 1000], registers: r });
    this.feedback = new Counter({ name: N.feedback, help: 'Feedback labels by outcome.', labelNames: [L.outcome], registers: r });
    this.squaredError = new Counter({ name: N.feedbackSquaredError, help: 'Sum of squared errors of scored regression feedback.', registers: r });
    this.batchSize = new Histogram({ name: N.batchSize, help: 'Rows per model call.', buckets: [...batchSizeBuckets], registers: r });
    this.shadowRequests = new Counter({ name: N.shadowRequests, help: 'Requests mirrored to the shadow by outcome.', labelNames: [L.outcome], registers: r });
    this.shadowLatency = new Histogram({ name: N.shadowLatency, help: 'Shadow answer latency in seconds.', buckets: [...latencyBuckets], registers: r });
    this.logRecords = new Counter({ name: N.logRecords, help: 'Inference-log records by stream and outcome.', labelNames: [L.stream, L.outcome], registers: r });
    this.modelReady = new Gauge({ name: N.modelReady, help: '1 once the model is loaded and warmed up.', registers: r });
    const live = this.live;
    new Gauge({
      name: N.liveAccuracy, help: 'Accuracy of labelled predictions since start (classification).', registers: r,
      collect() {
        if (task() === 'classification' && live.correct + live.incorrect > 0) this.set(live.correct / (live.correct + live.incorrect));
      },
    });
    new Gauge({
      name: N.liveRmse, help: 'RMSE of labelled predictions since start (regression).', registers: r,
      collect() {
        if (task() === 'regression' && live.scored > 0) this.set(Math.sqrt(live.squaredSum / live.scored));
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
      name: N.logPending, help: 'Inference-log records not yet in the object store.', labelNames: [L.stream], registers: r,
      collect() {
        for (const [stream, n] of Object.entries(logPending())) this.set({ [L.stream]: stream }, n);
      },
    });
  }

  /** Counts a request once its response has finished. */
  observeRequest(route: string, code: number, seconds: number): void {
    const labels = { [L.route]: route, [L.code]: String(code) };
    this.requests.inc(labels);
    if (code >= 400) this.errors.inc(labels);
    this.latency.observe({ [L.route]: route }, seconds);
  }

  /** A label for a prediction: classification compares classes, regression adds the squared error. */
  scoreFeedback(prediction: string | number, label: string | number): void {
    if (typeof prediction === 'number') {
      const y = typeof label === 'number' ? label : Number(label);
      if (!Number.isFinite(y)) {
        this.feedback.inc({ [L.outcome]: 'invalid' });
        return;
      }
      const e2 = (prediction - y) ** 2;
      this.live.scored += 1;
      this.live.squaredSum += e2;
      this.squaredError.inc(e2);
      this.feedback.inc({ [L.outcome]: 'scored' });
      return;
    }
    const ok = String(label) === prediction;
    if (ok) this.live.correct += 1;
    else this.live.incorrect += 1;
    this.feedback.inc({ [L.outcome]: ok ? 'correct' : 'incorrect' });
  }
}
