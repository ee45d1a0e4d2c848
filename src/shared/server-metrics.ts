// The model server's /metrics contract: metric names, label keys, histogram buckets, and the pure arithmetic a
// reader (the ModelDeployment controller's canary analysis, or a PromQL query) uses to turn a scrape into error
// rate, p99 latency, live accuracy / RMSE and PSI. Version 1. Every series carries `model_version`, so the stable
// and the canary track stay apart even when one Prometheus scrapes both, and `namespace` and `model_deployment`, so
// deployments (and tenants) that reuse version names (v1, v2, ...) stay apart too. Where Prometheus attaches its
// own `namespace` target label (a PodMonitor, kubernetes_sd relabelling) that one wins over the pod's (the pod's is
// kept as exported_namespace), so a query by namespace cannot be fed by another namespace's pods.
// Counters are cumulative since the process started: a reader judging a window takes the difference of two
// scrapes of the same pod (diffSamples), or PromQL's rate()/increase().

export const serverMetricsVersion = 1;

export const serverMetricLabels = {
  modelVersion: 'model_version',
  namespace: 'namespace',
  deployment: 'model_deployment',
  route: 'route',
  code: 'code',
  feature: 'feature',
  class: 'class',
  outcome: 'outcome',
  stream: 'stream',
} as const;

export const serverMetricNames = {
  /** Counter {model_version, route, code}: every answered request. */
  requests: 'perennial_server_requests_total',
  /** Counter {model_version, route, code}: requests answered with a 4xx or 5xx (code ≥ 400). */
  errors: 'perennial_server_request_errors_total',
  /**
   * Histogram {model_version, route}: time from the request's arrival to the end of the response, of served
   * requests only (requestClass `ok` or `fault`): a flood of fast refusals must not pull the p99 down.
   */
  latency: 'perennial_server_request_duration_seconds',
  /** Counter {model_version, class}: predicted classes (classification). */
  predictions: 'perennial_server_predictions_total',
  /** Histogram {model_version}: predicted values (regression). */
  predictionValue: 'perennial_server_prediction_value',
  /** Gauge {model_version, feature}: PSI of the sliding window against the reference profile. */
  featurePsi: 'perennial_server_feature_psi',
  /** Gauge {model_version}: rows in the drift window (PSI below ~10 rows per bin says little). */
  driftWindowRows: 'perennial_server_drift_window_rows',
  /**
   * Gauge {model_version, feature}: the sequential drift detector's evidence of a shift since the model was loaded,
   * in nats: the peak of its CUSUM statistic (src/shared/drift-sequential.ts), so a reader that scrapes now and then
   * misses no crossing. A shift is detected at ln(features / false alarms per row): a reader may judge at its own rate.
   */
  driftEvidence: 'perennial_server_drift_evidence',
  /** Gauge {model_version}: 1 once the detector's evidence reached the threshold of the default false-alarm rate, else 0. */
  driftDetected: 'perennial_server_drift_detected',
  /** Gauge {model_version}: when it did (seconds since the epoch); absent before. */
  driftDetectedTime: 'perennial_server_drift_detected_time_seconds',
  /** Gauge {model_version}: rows the detector has taken since the model was loaded. */
  driftDetectorRows: 'perennial_server_drift_detector_rows',
  /**
   * Gauge {model_version}: the accuracy the model expects of itself on the rows of its confidence window (the drift
   * window's bounds): their mean top-class probability (classification; absent while the window is empty). Label-free,
   * sound only on calibrated probabilities, blind to concept drift (src/server/confidence-window.ts).
   */
  estimatedAccuracy: 'perennial_server_estimated_accuracy',
  /**
   * Gauges {model_version}: the classification rows behind estimated_accuracy, and the sum of their top-class
   * probabilities. Several pods of a version combine as Σ sum / Σ rows (estimatedAccuracy below; PromQL
   * `sum(..._sum) / sum(..._rows)`), where averaging their estimates would weigh a quiet pod like a busy one.
   */
  confidenceWindowRows: 'perennial_server_confidence_window_rows',
  confidenceWindowSum: 'perennial_server_confidence_window_sum',
  /**
   * Counter {model_version, outcome}: feedback labels under the version that made the prediction (read from its
   * signed id, so any replica counts labels for any version); outcome correct|incorrect (classification), scored
   * (regression), duplicate (a second label for an id), rejected (a malformed item, a forged or expired id, a label the
   * model cannot take), unauthorized (a request without the feedback token; counted per request).
   */
  feedback: 'perennial_server_feedback_total',
  /** Gauge {model_version}: correct / (correct + incorrect) of the labels scored by this pod since start (classification). */
  liveAccuracy: 'perennial_server_live_accuracy',
  /** Counter {model_version}: Σ (prediction − label)² over scored feedback (regression). */
  feedbackSquaredError: 'perennial_server_feedback_squared_error_sum',
  /**
   * Counter {model_version}: Σ −ln p(true class) over classification labels whose prediction id carries the class
   * probabilities (src/shared/prediction-id.ts), and how many such labels: live log loss = sum / count.
   */
  feedbackLogLossSum: 'perennial_server_feedback_log_loss_sum',
  feedbackLogLossCount: 'perennial_server_feedback_log_loss_count',
  /** Gauge {model_version}: log loss of the labels scored by this pod since start (classification). */
  liveLogLoss: 'perennial_server_live_log_loss',
  /** Gauge {model_version}: √(Σ squared error / scored) of the labels scored by this pod since start (regression). */
  liveRmse: 'perennial_server_live_rmse',
  /** Histogram {model_version}: rows per model call (the micro-batcher at work). */
  batchSize: 'perennial_server_batch_size',
  /** Counter {model_version, outcome}: mirrored requests; outcome agree|disagree|error|dropped. */
  shadowRequests: 'perennial_server_shadow_requests_total',
  /**
   * Counter {model_version, outcome}: on a shadow-track pod, each mirrored row it answered that was paired with the
   * answer the serving version gave the same request (read back from the inference log: shadow-scoring.ts),
   * outcome agree|disagree (classification: the same class; regression: within the tolerance). Per request, so
   * agreement = agree / (agree + disagree).
   */
  shadowComparisons: 'perennial_server_shadow_comparisons_total',
  /** Histogram {model_version}: latency of the shadow target's answers. */
  shadowLatency: 'perennial_server_shadow_duration_seconds',
  /**
   * Counter {model_version, stream, outcome}: inference-log records; stream predictions|feedback, outcome
   * stored|spilled|dropped (dropped: the memory and spill-folder byte limits were both reached).
   */
  logRecords: 'perennial_server_inference_log_records_total',
  /** Gauge {model_version, stream}: records not yet in the object store (memory plus local spill). */
  logPending: 'perennial_server_inference_log_pending_records',
  /**
   * Counter {model_version, stream, outcome}: CloudEvents for the Kafka sink (spec.server.kafka); outcome sent
   * (the broker acknowledged it) or dropped (the local buffer was full, or the server stopped before the broker came back).
   */
  kafkaEvents: 'perennial_server_kafka_events_total',
  /** Gauge {model_version}: events waiting in the Kafka sink's local buffer (grows while the broker is away). */
  kafkaBuffered: 'perennial_server_kafka_buffered_events',
  /** Counter {model_version}: exits of the Kafka sink's sender thread (a bug or a failed start); each is followed by a restart. */
  kafkaSenderExits: 'perennial_server_kafka_sender_exits_total',
  /** Gauge {model_version}: 1 once the model is loaded and warmed up. */
  modelReady: 'perennial_server_model_ready',
} as const;

/** Route label values. The predict routes are the ones a canary is judged on. */
export const serverRoutes = {
  v2Infer: 'v2_infer',
  v1Predict: 'v1_predict',
  feedback: 'feedback',
  metadata: 'metadata',
  health: 'health',
  metrics: 'metrics',
  other: 'other',
} as const;
export type ServerRoute = (typeof serverRoutes)[keyof typeof serverRoutes];
export const predictRoutes: readonly ServerRoute[] = [serverRoutes.v2Infer, serverRoutes.v1Predict];

/**
 * What an answer's status code says about the server, for canary gates a client cannot game:
 *   ok      2xx/3xx
 *   client  4xx: the request was malformed or refused (the caller's doing, counted but never a server fault)
 *   shed    503: refused for load or while not ready / shutting down (counted apart)
 *   fault   every other 5xx: the server failed a request it took on (what maxErrorRate judges)
 */
export type RequestClass = 'ok' | 'client' | 'shed' | 'fault';
export function requestClass(code: number): RequestClass {
  if (code === 503) return 'shed';
  if (code >= 500) return 'fault';
  if (code >= 400) return 'client';
  return 'ok';
}

/** Latency buckets in seconds: fine below 50 ms where a healthy server lives, coarse above. */
export const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
export const batchSizeBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] as const;

/** PromQL label matchers on `code` for each request class (matchers on one label combine as AND). */
export const codeMatchers: Readonly<Record<RequestClass, string>> = {
  ok: `${serverMetricLabels.code}!~"[45].."`,
  client: `${serverMetricLabels.code}=~"4.."`,
  shed: `${serverMetricLabels.code}="503"`,
  fault: `${serverMetricLabels.code}=~"5..",${serverMetricLabels.code}!="503"`,
};

/** Which series belong to one version of one ModelDeployment: PromQL label matchers. */
export interface SeriesOf {
  readonly namespace: string;
  readonly deployment: string;
  readonly version: string;
}

export function seriesMatchers(of: SeriesOf): string {
  const quote = (x: string): string => JSON.stringify(x);
  return `${serverMetricLabels.namespace}=${quote(of.namespace)},${serverMetricLabels.deployment}=${quote(of.deployment)},${serverMetricLabels.modelVersion}=${quote(of.version)}`;
}

/** PromQL for the same quantities (one version of one deployment, over a range such as 5m). */
export function promql(of: SeriesOf, range = '5m'): { errorRate: string; p99: string; accuracy: string; psi: string } {
  const v = seriesMatchers(of);
  const routes = `${serverMetricLabels.route}=~"${predictRoutes.join('|')}"`;
  const served = `${serverMetricLabels.code}!~"4..",${serverMetricLabels.code}!="503"`;
  return {
    errorRate: `sum(rate(${serverMetricNames.requests}{${v},${routes},${codeMatchers.fault}}[${range}])) / sum(rate(${serverMetricNames.requests}{${v},${routes},${served}}[${range}]))`,
    p99: `histogram_quantile(0.99, sum by (le) (rate(${serverMetricNames.latency}_bucket{${v},${routes}}[${range}])))`,
    accuracy: `sum(increase(${serverMetricNames.feedback}{${v},outcome="correct"}[${range}])) / sum(increase(${serverMetricNames.feedback}{${v},outcome=~"correct|incorrect"}[${range}]))`,
    psi: `max by (feature) (${serverMetricNames.featurePsi}{${v}})`,
  };
}

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const sampleLine = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$/;
const labelPair = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/g;

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/** Parses the Prometheus text exposition format (comments skipped). Unparseable lines are ignored. */
export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = sampleLine.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const p of (m[3] ?? '').matchAll(labelPair)) {
      labels[p[1] ?? ''] = (p[2] ?? '').replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    out.push({ name: m[1] ?? '', labels, value: parseValue(m[4] ?? 'NaN') });
  }
  return out;
}

/**
 * One string per series (name and sorted labels): a compact form of a scrape is a map from these to values. One
 * fresh string: a concatenation would keep slices of the whole scrape text alive in a kept key.
 */
export function seriesKey(s: Sample): string {
  return JSON.stringify([s.name, Object.entries(s.labels).sort()]);
}

/**
 * after − before for every series of `after` (a series absent before counts from 0; a reset counts from 0).
 * `before` may be a scrape or its compact form (seriesKey → value).
 */
export function diffSamples(before: readonly Sample[] | ReadonlyMap<string, number>, after: readonly Sample[]): Sample[] {
  const prev: ReadonlyMap<string, number> = 'get' in before ? before : new Map(before.map((s) => [seriesKey(s), s.value]));
  return after.map((s) => {
    const p = prev.get(seriesKey(s)) ?? 0;
    return { ...s, value: s.value >= p ? s.value - p : s.value };
  });
}

function matches(s: Sample, name: string, version: string, where: (l: Readonly<Record<string, string>>) => boolean = () => true): boolean {
  return s.name === name && s.labels[serverMetricLabels.modelVersion] === version && where(s.labels);
}

function sum(samples: readonly Sample[], name: string, version: string, where?: (l: Readonly<Record<string, string>>) => boolean): number {
  return samples.filter((s) => matches(s, name, version, where)).reduce((a, s) => a + s.value, 0);
}

const isPredictRoute = (l: Readonly<Record<string, string>>): boolean => (predictRoutes as readonly string[]).includes(l[serverMetricLabels.route] ?? '');

/** Predict requests of one version by request class (the window's counts when `samples` is a diff). */
export function requestCounts(samples: readonly Sample[], version: string): Record<RequestClass, number> {
  const out: Record<RequestClass, number> = { ok: 0, client: 0, shed: 0, fault: 0 };
  for (const s of samples) {
    if (!matches(s, serverMetricNames.requests, version, isPredictRoute)) continue;
    out[requestClass(Number(s.labels[serverMetricLabels.code]))] += s.value;
  }
  return out;
}

/**
 * Faults of the server (5xx other than 503) over the predict requests it served (neither refused as a client
 * error nor shed); undefined without such requests. 4xx and 503 cannot move it either way.
 */
export function errorRate(samples: readonly Sample[], version: string): number | undefined {
  const c = requestCounts(samples, version);
  const served = c.ok + c.fault;
  return served === 0 ? undefined : c.fault / served;
}

/**
 * A latency quantile of the predict routes from the histogram buckets, interpolated linearly inside the bucket
 * as PromQL's histogram_quantile does; undefined without observations. Above the last finite bucket it answers
 * that bucket's bound.
 */
export function latencyQuantile(samples: readonly Sample[], version: string, q: number): number | undefined {
  const byLe = new Map<number, number>();
  for (const s of samples) {
    if (!matches(s, `${serverMetricNames.latency}_bucket`, version, isPredictRoute)) continue;
    const le = parseValue(s.labels['le'] ?? 'NaN');
    if (Number.isNaN(le)) continue;
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  const buckets = [...byLe.entries()].sort((a, b) => a[0] - b[0]);
  const total = buckets[buckets.length - 1]?.[1] ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      return count === prevCount ? le : prevLe + ((le - prevLe) * (rank - prevCount)) / (count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

/** correct / (correct + incorrect), or undefined below `minLabels` labelled predictions. */
export function liveAccuracy(samples: readonly Sample[], version: string, minLabels = 1): number | undefined {
  const outcome = (o: string) => (l: Readonly<Record<string, string>>): boolean => l[serverMetricLabels.outcome] === o;
  const correct = sum(samples, serverMetricNames.feedback, version, outcome('correct'));
  const incorrect = sum(samples, serverMetricNames.feedback, version, outcome('incorrect'));
  return correct + incorrect >= Math.max(1, minLabels) ? correct / (correct + incorrect) : undefined;
}

/** Σ −ln p(true class) / labels with probabilities, or undefined below `minLabels` of them (classification). */
export function liveLogLoss(samples: readonly Sample[], version: string, minLabels = 1): number | undefined {
  const n = sum(samples, serverMetricNames.feedbackLogLossCount, version);
  return n >= Math.max(1, minLabels) ? sum(samples, serverMetricNames.feedbackLogLossSum, version) / n : undefined;
}

/** √(Σ squared error / scored labels), or undefined below `minLabels` scored labels (regression). */
export function liveRmse(samples: readonly Sample[], version: string, minLabels = 1): number | undefined {
  const scored = sum(samples, serverMetricNames.feedback, version, (l) => l[serverMetricLabels.outcome] === 'scored');
  if (scored < Math.max(1, minLabels)) return undefined;
  return Math.sqrt(sum(samples, serverMetricNames.feedbackSquaredError, version) / scored);
}

/**
 * The estimated accuracy of the version's pods together (every pod's window rows as one: Σ sum / Σ rows), and the
 * rows behind it; accuracy undefined without rows.
 */
export function estimatedAccuracy(samples: readonly Sample[], version: string): { rows: number; accuracy: number | undefined } {
  const rows = sum(samples, serverMetricNames.confidenceWindowRows, version);
  return { rows, accuracy: rows > 0 ? sum(samples, serverMetricNames.confidenceWindowSum, version) / rows : undefined };
}

/**
 * The sequential detector's evidence per feature (nats; the maximum over pods: each pod's detector bounds its false
 * alarms per row it takes, so the largest of them bounds them per row the deployment takes).
 */
export function driftEvidence(samples: readonly Sample[], version: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    if (!matches(s, serverMetricNames.driftEvidence, version) || !Number.isFinite(s.value)) continue;
    const f = s.labels[serverMetricLabels.feature] ?? '';
    out.set(f, Math.max(out.get(f) ?? -Infinity, s.value));
  }
  return out;
}

/** PSI per feature (the maximum over pods when several are in the scrape: PSIs cannot be summed). */
export function featurePsi(samples: readonly Sample[], version: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    if (!matches(s, serverMetricNames.featurePsi, version)) continue;
    const f = s.labels[serverMetricLabels.feature] ?? '';
    out.set(f, Math.max(out.get(f) ?? -Infinity, s.value));
  }
  return out;
}
