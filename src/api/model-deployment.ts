// ModelDeployment: like an Argo Rollout that knows about models. Serves a model version with the model server and
// moves a new version from canary (or shadow, or blue-green preview) to stable, judged by live gates.
import type { apiVersion } from './common.js';
import { conditions, duration, durationPattern, nodeSelector, objectName, resources, tolerations, type ObjectMeta } from './common.js';
import { s, type Infer } from './schema.js';

export const modelDeploymentKind = 'ModelDeployment';

/**
 * Bounds of the durations that set how often the operator measures and decides (the API server refuses values
 * outside them; the controller checks them again for objects stored before the rule existed): at most one
 * measurement of a deployment's pods every 2 s, and a drift window the servers can keep in memory (60 slots).
 */
export const mdDurationBounds = {
  analysisInterval: { min: '2s' },
  analysisWindow: { min: '2s' },
  driftWindow: { min: '10s', max: '168h' },
  progressDeadline: { min: '10s' },
  connectionAge: { max: '24h' },
} as const;

/**
 * Most serving processes per server pod (spec.server.workers), each holding its own copy of the model: well above
 * the cores one pod gets, low enough that a typo cannot ask a pod for hundreds of models' memory.
 */
export const mdServerMaxWorkers = 64;

const model = s.object('The model to serve: a fixed artifact, or the champion of a TrainingPipeline.', {
  fromPipeline: objectName('A TrainingPipeline in this namespace: its champion is served, and each new champion is rolled out.'),
  version: s.string('With fromPipeline: serve this version instead of following the champion (a pin).', { minLength: 1, maxLength: 63 }),
  uri: s.string('A fixed model: s3://bucket/prefix of a published version (the folder holding manifest.json).', { minLength: 6, maxLength: 1100 })
    .rule('self.startsWith(\'s3://\')', 'must be an s3://bucket/prefix URI'),
}).rule('has(self.uri) != has(self.fromPipeline)', 'set exactly one of model.uri and model.fromPipeline')
  .rule('!has(self.version) || has(self.fromPipeline)', 'model.version pins a version of model.fromPipeline and needs it', { fieldPath: '.version' });

const kafka = s.object('Also publish every prediction and feedback label the servers log (the inference log\'s records) to Kafka as CloudEvents 1.0 in structured JSON mode, keyed by the prediction id so a prediction and its label land in one partition. Delivery is at least once (a send retried after a lost acknowledgement may repeat an event; consumers drop repeats by the event id). While the brokers are away each server buffers up to maxBufferedEvents events in memory and drops (and counts) the rest; predictions never wait for Kafka. Part of the server pods: a change rolls out as a new revision.', {
  bootstrapServers: s.array('Brokers to bootstrap from, as host:port.', s.string('A broker, host:port.', { pattern: '^[A-Za-z0-9.-]+:[0-9]{1,5}$', maxLength: 256 }), { minItems: 1, maxItems: 16 }),
  predictionsTopic: s.string('Topic of the prediction events (type dev.perennial.prediction.v1).', { pattern: '^[A-Za-z0-9._-]{1,249}$' }),
  feedbackTopic: s.string('Topic of the feedback events (type dev.perennial.feedback.v1).', { pattern: '^[A-Za-z0-9._-]{1,249}$' }),
  tls: s.boolean('Connect to the brokers with TLS.').default(false),
  saslMechanism: s.enum('SASL mechanism used with the Secret\'s username and password.', ['plain', 'scram-sha-256', 'scram-sha-512'] as const).default('scram-sha-512'),
  secretName: objectName('A Secret in this namespace with `username` and `password` for SASL. Unset: no authentication.'),
  maxBufferedEvents: s.integer('Events each server holds in memory while the brokers are away; beyond it new events are dropped and counted (perennial_server_kafka_events_total{outcome="dropped"}).', { minimum: 1, maximum: 10_000_000 }).default(100_000),
}, ['bootstrapServers', 'predictionsTopic', 'feedbackTopic']);

/** A connection age: 0s (never) or between 1s and 24h. */
function connectionAge(description: string) {
  return duration(description, mdDurationBounds.connectionAge)
    .rule(`!self.matches('${durationPattern}') || duration(self) == duration('0s') || duration(self) >= duration('1s')`, 'must be 0s (never) or at least 1s');
}

const server = s.object('The model-server pods.', {
  image: s.string('The server image (perennial-server).', { minLength: 1, maxLength: 512 }),
  replicas: s.integer('Pods serving the stable version; the canary takes a share of them as its weight grows.', { minimum: 1, maximum: 1000 }).default(2),
  workers: s.integer('Serving processes per pod, each with its own copy of the model, sharing the pod\'s inference ports (HTTP and gRPC). Set it to the pod\'s CPU limit in whole cores to use every core: one process keeps about one core busy. Memory grows by about one model per worker, so raise resources.limits.memory with it. 1: a single process. Part of the server pods: a change rolls out as a new revision.', { minimum: 1, maximum: mdServerMaxWorkers }).default(1),
  port: s.integer('Container port of the HTTP API.', { minimum: 1, maximum: 65535 }).default(8080),
  grpcPort: s.integer('Container and Service port of the Open Inference Protocol v2 over gRPC (inference.GRPCInferenceService, as tritonclient and the kserve SDK call it, plus grpc.health.v1), plaintext HTTP/2; the Services name it `grpc` with appProtocol kubernetes.io/h2c, and with trafficRouting GatewayAPI a GRPCRoute of the deployment\'s name splits it with the HTTPRoute\'s weights. Must differ from server.port and server.feedback.port. 0: no gRPC listener.', { minimum: 0, maximum: 65535 }).default(9000),
  maxConnectionAge: connectionAge('How long a client\'s kept-alive HTTP connection to a server pod lives (each connection\'s age drawn between half and all of it): past it the next answer says `Connection: close`, the client reconnects, and the Service places it again, so new pods and a canary get their share of long-lived clients within seconds. 0s: never.').default('5s'),
  grpcMaxConnectionAge: connectionAge('The same for gRPC (HTTP/2) connections: past it the server sends GOAWAY (calls in flight get 10 s to finish) and the client reconnects through the Service. A gRPC client keeps one connection for as long as its channel lives, so without it a client stays on the pod it first reached, whatever the canary\'s weight (trafficRouting Replicas). 0s: never.').default('30s'),
  resources,
  nodeSelector,
  tolerations,
  maxBatchSize: s.integer('Most requests batched into one model call.', { minimum: 1, maximum: 4096 }).default(32),
  maxBatchDelayMs: s.integer('Longest a request waits for a batch to fill.', { minimum: 0, maximum: 1000 }).default(2),
  logPredictions: s.boolean('Log inputs and predictions, and feedback labels, to the object store under deployments/<namespace>/<name>/ (what data.feedbackFrom retrains on, and what shadow agreement pairs). false: neither is logged; labels are still taken and scored live (live accuracy, log loss, RMSE, the gates), but without logged predictions they cannot be joined into training data. Applied in place, like replicas: no new revision, no pod restarted; the servers read it from the `<name>-server` ConfigMap within about a minute (pods of revisions created before this operator version keep logging until the next rollout).').default(true),
  feedback: s.object('Where the servers take feedback labels: their own port behind the `<name>-feedback` Service, which no HTTPRoute exposes, for clients holding the feedback token. Only ids the servers signed are labelled, with labels the model can take.', {
    port: s.integer('Container and Service port of the feedback API (POST /v1/feedback); must differ from server.port.', { minimum: 1, maximum: 65535 }).default(8081),
    secretName: objectName('A Secret in this namespace with `token` (the bearer token label senders present; several separated by commas during a rotation) and `signingKey` (at least 16 bytes; signs prediction ids). Unset: the operator creates `<name>-feedback` with random values once; read the token from it.'),
  }).default({ port: 8081 }),
  driftWindow: duration('How much recent traffic each server compares with the model\'s reference profile for live drift (PSI per feature), between 10s and 168h (7 days). Shorter reacts sooner when traffic changes (what a drift trigger waits on), longer is steadier.', mdDurationBounds.driftWindow).default('1h'),
  autoscaling: s.object('Scale the server pods with a HorizontalPodAutoscaler that the operator owns: it targets this ModelDeployment\'s scale subresource and sets server.replicas (the total, which the canary weight splits between the stable version and the candidate), measured over all server pods of the deployment. Leave server.replicas out of what a GitOps tool applies, or it fights the autoscaler. CPU needs the resource metrics API (metrics-server) and server.resources.requests.cpu; requests per second needs a custom metrics adapter (e.g. prometheus-adapter) serving the pods metric perennial_server_requests_per_second from the servers\' perennial_server_requests_total.', {
    minReplicas: s.integer('Fewest pods.', { minimum: 1, maximum: 1000 }).default(1),
    maxReplicas: s.integer('Most pods.', { minimum: 1, maximum: 1000 }),
    targetCPUUtilization: s.integer('Average CPU use across the pods, as a percent of their CPU request, the autoscaler keeps them near.', { minimum: 1, maximum: 1000 }),
    targetRequestsPerSecond: s.number('Predict requests per second per pod the autoscaler keeps them near (pods metric perennial_server_requests_per_second).', { minimum: 0.001 }),
  }, ['maxReplicas'])
    .rule('self.minReplicas <= self.maxReplicas', 'server.autoscaling.minReplicas must be at most maxReplicas', { fieldPath: '.minReplicas' })
    .rule('has(self.targetCPUUtilization) || has(self.targetRequestsPerSecond)', 'server.autoscaling needs a target: targetCPUUtilization, targetRequestsPerSecond or both'),
  driftWindowRows: s.integer('At most this many rows in each server\'s drift window: the newest N rows within driftWindow (older ones drop out even inside driftWindow). Unset: every row of driftWindow. With batch traffic set driftWindow long (up to 168h) and driftWindowRows to the rows of a batch or two, so the drift figures describe the latest batches, not the hour after each. Drift needs about ten rows per bin to say much.', { minimum: 10, maximum: 1_000_000 }),
  kafka,
}, ['image']).rule('self.feedback.port != self.port', 'server.feedback.port must differ from server.port', { fieldPath: '.feedback.port' })
  .rule('self.grpcPort == 0 || (self.grpcPort != self.port && self.grpcPort != self.feedback.port)', 'server.grpcPort must differ from server.port and server.feedback.port', { fieldPath: '.grpcPort' });

const step = s.object('One canary step: exactly one of setWeight, pause or analysis.', {
  setWeight: s.integer('Percent (0-100) of traffic the candidate gets from this step on.', { minimum: 0, maximum: 100 }),
  pause: s.object('Wait: for a duration, or until promoted when no duration is given.', {
    duration: duration('How long to wait.'),
  }),
  analysis: s.object('Judge the candidate by the analysis gates before going on.', {
    duration: duration('How long the measurement window lasts, at least 2s; default analysis.interval.', mdDurationBounds.analysisWindow),
  }),
}).rule('(has(self.setWeight) ? 1 : 0) + (has(self.pause) ? 1 : 0) + (has(self.analysis) ? 1 : 0) == 1',
  'each step sets exactly one of setWeight, pause or analysis');

const defaultSteps = [{ setWeight: 20 }, { analysis: {} }, { setWeight: 50 }, { analysis: {} }];

const canary = s.object('Canary: the candidate takes a growing share of traffic, step by step.', {
  steps: s.array('The steps, in order. After the last one the candidate is promoted.', step, { minItems: 1, maxItems: 32 })
    .rule('self.filter(x, has(x.setWeight)).map(x, x.setWeight).isSorted()', 'setWeight values must increase from step to step')
    .rule('self.filter(x, has(x.setWeight)).all(x, self.filter(y, has(y.setWeight) && y.setWeight == x.setWeight).size() == 1)',
      'setWeight values must increase from step to step (no repeats)'),
}, ['steps']);

const blueGreen = s.object('Blue-green: the candidate runs at full size behind a preview Service; promotion switches all traffic at once.', {
  autoPromoteAfter: duration('Promote on its own this long after the preview is ready (as Argo Rollouts\' autoPromotionSeconds); unset: wait for a promote. Requests sent to the `<name>-preview` Service meanwhile are judged by the analysis gates at the end: a failed gate aborts, too few to judge measures again (pausing after analysis.inconclusiveLimit windows); a preview nobody sent a request to is promoted, its readiness being the check.'),
  previewReplicas: s.integer('Pods of the preview; default server.replicas.', { minimum: 1, maximum: 1000 }),
});

const shadow = s.object('Shadow first (needs trafficRouting GatewayAPI, which mirrors requests): before any real traffic, the candidate gets a mirrored share; its answers are judged, never returned.', {
  percent: s.integer('Percent of requests mirrored to the candidate.', { minimum: 1, maximum: 100 }).default(100),
  duration: duration('How long the shadow phase lasts at least (its measurement window), at least 2s.', mdDurationBounds.analysisWindow).default('5m'),
  minAgreement: s.number('Smallest agreement (0-1) of candidate and stable per mirrored request: of the mirrored requests the candidate\'s pods paired with the stable version\'s answer to the same request (read back from the inference log, so needs server.logPredictions), the share where both give the same class (regression: values within 1% of each other). The candidate\'s accuracy, log loss and RMSE gates in this phase are judged on the labels of the mirrored requests.', { minimum: 0, maximum: 1 }).default(0.9),
});

const gatewayAPI = s.object('Traffic split by a Gateway API HTTPRoute that the operator owns.', {
  parentRefs: s.array('The Gateways the route attaches to.', s.object('A Gateway reference.', {
    name: s.string('Gateway name.', { minLength: 1, maxLength: 253 }),
    namespace: s.string('Gateway namespace; default this one.', { maxLength: 63 }),
    sectionName: s.string('Listener name on the Gateway.', { maxLength: 253 }),
  }, ['name']), { minItems: 1, maxItems: 32 }),
  hostnames: s.array('Hostnames the route matches.', s.string('A hostname.', { maxLength: 253 }), { maxItems: 16 }),
  pathPrefix: s.string('Path prefix the route matches.', { maxLength: 1024 }).default('/'),
}, ['parentRefs']);

const trafficRouting = s.object('How traffic is split between stable and candidate.', {
  type: s.enum('Replicas: by ready replicas behind one Service (no mesh needed; the candidate gets ceil(replicas x weight / 100) pods, at least one, and the stable version keeps at least one below 100%); GatewayAPI: exact weights on an HTTPRoute.', ['Replicas', 'GatewayAPI'] as const).default('Replicas'),
  gatewayAPI,
}).rule('(self.type == \'GatewayAPI\') == has(self.gatewayAPI)', 'set trafficRouting.gatewayAPI exactly when type is GatewayAPI');

const gates = s.object('Live gates; a failed gate aborts the rollout and rolls back. Unset gates are not checked.', {
  maxErrorRate: s.number('Largest share (0-1) of the candidate\'s served predict requests that failed through a fault of the server: answers 5xx other than 503, over predict requests that were neither refused as malformed (4xx, the client\'s doing) nor shed (503: queue full, not ready, shutting down). Client errors and shed requests never count here, either way; the analysis record shows them apart (clientErrors, shed).', { minimum: 0, maximum: 1 }).default(0.01),
  maxLatencyP99Ms: s.number('Largest p99 latency of the candidate\'s served predict requests (4xx and 503 answers are not timed), in milliseconds.', { minimum: 0 }),
  minAccuracy: s.number('Smallest live accuracy (from feedback labels) of the candidate.', { minimum: 0, maximum: 1 }),
  maxAccuracyDrop: s.number('Largest amount the candidate\'s live accuracy may trail the stable version\'s.', { minimum: 0, maximum: 1 }),
  maxLogLoss: s.number('Largest live log loss (classification: the mean of -ln of the probability the candidate gave the true class, over labelled requests).', { minimum: 0 }),
  maxRmse: s.number('Largest live RMSE of the candidate (regression: from feedback labels).', { minimum: 0 }),
  maxRmseIncrease: s.number('Largest amount the candidate\'s live RMSE may exceed the stable version\'s over the same window (regression).', { minimum: 0 }),
  maxDriftPsi: s.number('Largest PSI of any feature on the candidate\'s traffic versus its reference profile (the most recent data of the run that trained it).', { minimum: 0 }),
});

const analysis = s.object('How candidates are measured and judged.', {
  interval: duration('Time between measurements, and the default length of an analysis step; at least 2s.', mdDurationBounds.analysisInterval).default('30s'),
  minSamples: s.integer('Served predict requests (neither 4xx nor 503; for accuracy gates, labelled requests; for drift, rows in the drift window) needed before any verdict; fewer is inconclusive.', { minimum: 1 }).default(100),
  maxWindow: duration('How long a step\'s measurement window may grow while it is short of minSamples. A window (a shadow phase, an analysis step, an auto-promoting preview) starts at the step\'s start (or its last inconclusive verdict) and lasts at least the step\'s duration; then, as long as a gate lacks samples, it keeps growing and is measured again every interval, not counted against inconclusiveLimit, so a batch of predictions and the labels that come later are judged together. Past maxWindow with too few samples the analysis is Inconclusive and counted, and a new window starts. Unset: 10 x interval (5m at the default 30s), and never shorter than the step\'s own duration. At least interval, every analysis step\'s duration, shadow.duration and blueGreen.autoPromoteAfter.', mdDurationBounds.analysisWindow),
  inconclusiveLimit: s.integer('Inconclusive analyses in a row after which the rollout pauses for a person (a window still growing below maxWindow is not counted).', { minimum: 1 }).default(10),
  gates: gates.default({ maxErrorRate: 0.01 }),
  provider: s.object('Where live metrics come from.', {
    type: s.enum('Pods: scrape the server pods\' /metrics directly (no Prometheus needed); Prometheus: PromQL against a Prometheus server the operator is configured with.', ['Pods', 'Prometheus'] as const).default('Pods'),
    prometheusURL: s.string('With type Prometheus: the server\'s base URL, one of those the operator was installed with; default the operator\'s own.', { maxLength: 1024 }),
  }),
}).rule(`!has(self.maxWindow) || !self.maxWindow.matches('${durationPattern}') || !self.interval.matches('${durationPattern}') || duration(self.maxWindow) >= duration(self.interval)`,
  'analysis.maxWindow must be at least analysis.interval (a window is measured once per interval)', { fieldPath: '.maxWindow' });

/** CEL: the duration at `field` (a path under the rollout) is at most analysis.maxWindow, when both are set and valid. */
const withinMaxWindow = (has: string, field: string): string => `!has(self.analysis) || !has(self.analysis.maxWindow) || !self.analysis.maxWindow.matches('${durationPattern}') || `
  + `${has} || !${field}.matches('${durationPattern}') || duration(${field}) <= duration(self.analysis.maxWindow)`;

const liveMetricsSettings = s.object('How status.liveMetrics gathers labels (what a TrainingPipeline performance trigger reads). Traffic, latency and drift figures are of the last analysis interval; the quality figures (accuracy, logLoss, rmse, labelledSamples) are of a label window that grows from the end of the previous one until it holds minSamples labels or lasts maxWindow, and stay in status until the next such window closes, so a batch\'s labels stay visible after the batch (for up to maxWindow).', {
  minSamples: s.integer('Labels a label window gathers before its figures replace the previous ones. Keep a performance trigger\'s minSamples at most this.', { minimum: 1 }).default(100),
  maxWindow: duration('Longest a label window grows: past it the window closes with whatever labels it holds (none: the quality figures are dropped) and a new one starts. At least rollout.analysis.interval. A performance trigger\'s `for` longer than this cannot be held by one batch.', mdDurationBounds.analysisWindow).default('1h'),
});

const rollout = s.object('How a new version replaces the serving one.', {
  strategy: s.enum('Canary (steps of weight, pause and analysis) or BlueGreen (preview, then switch).', ['Canary', 'BlueGreen'] as const).default('Canary'),
  canary: canary.default({ steps: defaultSteps }),
  blueGreen,
  shadow,
  trafficRouting: trafficRouting.default({ type: 'Replicas' }),
  analysis: analysis.default({ interval: '30s', minSamples: 100, inconclusiveLimit: 10, gates: { maxErrorRate: 0.01 } }),
  rollbackWindow: duration('How long the previous version stays ready after a promotion, for an instant rollback.').default('1h'),
  progressDeadline: duration('How long a new revision\'s server pods may take to become ready (its Deployment\'s progressDeadlineSeconds), at least 10s. Past it a candidate is aborted (the stable version untouched) and a stable version that never became ready is Degraded, naming what holds its pods (an image that cannot be pulled, a crashing container, a failing readiness probe).', mdDurationBounds.progressDeadline).default('10m'),
  paused: s.boolean('Hold the rollout where it is.').default(false),
  abort: s.boolean('While true, any candidate is aborted and all traffic stays on the stable version (GitOps form of the abort annotation).').default(false),
  promote: s.string('A new value promotes the candidate past its current step, or all the way when the value starts with "full" (GitOps form of the promote annotation).', { maxLength: 256 }),
  retry: s.string('A new value retries the aborted candidate (GitOps form of the retry annotation).', { maxLength: 256 }),
}).rule(`!has(self.canary) || self.canary.steps.all(x, ${withinMaxWindow('!has(x.analysis) || !has(x.analysis.duration)', 'x.analysis.duration')})`,
  'analysis.maxWindow must be at least the duration of every analysis step (a window lasts at least its step)', { fieldPath: '.analysis.maxWindow' })
  .rule(withinMaxWindow('!has(self.shadow)', 'self.shadow.duration'),
    'analysis.maxWindow must be at least shadow.duration (a window lasts at least its step)', { fieldPath: '.analysis.maxWindow' })
  .rule(withinMaxWindow('!has(self.blueGreen) || !has(self.blueGreen.autoPromoteAfter)', 'self.blueGreen.autoPromoteAfter'),
    'analysis.maxWindow must be at least blueGreen.autoPromoteAfter (a window lasts at least its step)', { fieldPath: '.analysis.maxWindow' });

export const modelDeploymentSpecSchema = s.object('Which model to serve and how to roll out new versions.', {
  model,
  server,
  liveMetrics: liveMetricsSettings,
  rollout: rollout.default({
    strategy: 'Canary',
    canary: { steps: defaultSteps },
    trafficRouting: { type: 'Replicas' },
    analysis: { interval: '30s', minSamples: 100, inconclusiveLimit: 10, gates: { maxErrorRate: 0.01 } },
    rollbackWindow: '1h',
    progressDeadline: '10m',
    paused: false,
    abort: false,
  }),
}, ['model', 'server']).rule(`!has(self.liveMetrics) || !self.liveMetrics.maxWindow.matches('${durationPattern}') || !has(self.rollout) || !self.rollout.analysis.interval.matches('${durationPattern}') || duration(self.liveMetrics.maxWindow) >= duration(self.rollout.analysis.interval)`,
  'liveMetrics.maxWindow must be at least rollout.analysis.interval (live metrics are measured once per interval)', { fieldPath: '.liveMetrics.maxWindow' });

export const deploymentPhases = ['Pending', 'Progressing', 'Paused', 'Healthy', 'Degraded'] as const;
export const verdicts = ['Passed', 'Failed', 'Inconclusive'] as const;

const analysisRecord = s.object('One analysis of the candidate.', {
  time: s.string('When it was judged.', { format: 'date-time' }),
  version: s.string('The candidate version.', { maxLength: 63 }),
  step: s.integer('The canary step index (or -1 for shadow, -2 for blue-green preview).'),
  verdict: s.enum('Passed, Failed or Inconclusive (too little data).', verdicts),
  measurements: s.map('The measured values: samples (served predict requests), errorRate (server faults over samples), clientErrors (4xx answers) and shed (503 answers) in the window, latencyP99Ms, labelledSamples, accuracy, logLoss, rmse, maxDriftPsi, stableAccuracy, stableLogLoss, stableRmse, compared (shadow: mirrored requests paired with the stable answer) and agreement.', s.number('A value.')),
  message: s.string('Which gate decided, with the values and bounds.', { maxLength: 2048 }),
}, ['time', 'version', 'verdict']);

const liveMetrics = s.object('What the serving pods measured recently (read by TrainingPipeline triggers).', {
  time: s.string('When these values were first measured (an unchanged measurement is not written again).', { format: 'date-time' }),
  version: s.string('The version measured (the stable one): every figure is of this version\'s own predictions.', { maxLength: 63 }),
  windowSeconds: s.number('The window of requestRate, errorRate and latencyP99Ms: the last analysis interval, in seconds.', { minimum: 0 }),
  requestRate: s.number('Requests per second.'),
  errorRate: s.number('Share of served predict requests that failed through a fault of the server (5xx other than 503; 4xx and 503 are not counted).'),
  latencyP99Ms: s.number('p99 latency in milliseconds.'),
  accuracy: s.number('Live accuracy from feedback labels (classification).'),
  logLoss: s.number('Live log loss from feedback labels (classification).'),
  rmse: s.number('Live RMSE from feedback labels (regression).'),
  labelledSamples: s.integer('Labels behind accuracy, logLoss or rmse: every label for this version\'s predictions that arrived in [labelledSince, labelledUntil], whichever pod took it.', { minimum: 0 }),
  labelledSince: s.string('Start of the label window behind accuracy, logLoss, rmse and labelledSamples (spec.liveMetrics: it grew until it held liveMetrics.minSamples labels or lasted liveMetrics.maxWindow).', { format: 'date-time' }),
  labelledUntil: s.string('End of that label window; the next one is gathering labels since then, and replaces these figures when it closes.', { format: 'date-time' }),
  drift: s.map('PSI per feature against the version\'s reference profile (the most recent data of the run that trained it).', s.number('PSI.')),
  maxDriftPsi: s.number('The largest PSI of any feature.'),
  driftSamples: s.integer('Requests behind the drift figures.', { minimum: 0 }),
  driftEvidence: s.map('The servers\' sequential drift detector, per feature: its evidence of a shift since the version\'s pods loaded it, in nats (the peak of a CUSUM on the rows\' bins against the reference shares; the largest over pods). A TrainingPipeline drift trigger (detector Sequential) fires once a feature reaches ln(features / falseAlarmRate).', s.number('Nats.')),
  maxDriftEvidence: s.number('The largest evidence of any feature.'),
  driftDetectedTime: s.string('When a server first detected a shift at the default false-alarm rate (1e-8 per row); absent before.', { format: 'date-time' }),
  estimatedAccuracy: s.number('Classification: the accuracy the model expects of itself on its recent traffic, without labels: the mean top-class probability over the servers\' confidence windows (the drift window\'s rows). Sound only on calibrated probabilities (trainer.model.calibration Temperature) and traffic like the training data: it follows a shift in the mix of familiar inputs, but not concept drift (the same inputs now mean another label) nor inputs outside the training data, where a model can be confidently wrong (docs/loop-semantics.md). A performance trigger can watch it (metric: estimatedAccuracy) while labels are late or absent.'),
  estimatedSamples: s.integer('Predictions behind estimatedAccuracy (rows in the servers\' confidence windows).', { minimum: 0 }),
});

export const modelDeploymentStatusSchema = s.object('The observed state of the deployment.', {
  observedGeneration: s.integer('The metadata.generation this status describes.', { minimum: 0 }),
  phase: s.enum('Summary of the rollout.', deploymentPhases),
  conditions,
  stableVersion: s.string('The version serving most traffic.', { maxLength: 63 }),
  stableURI: s.string('Artifact URI of the stable version.', { maxLength: 1100 }),
  canaryVersion: s.string('The candidate being rolled out, if any.', { maxLength: 63 }),
  canaryURI: s.string('Artifact URI of the candidate.', { maxLength: 1100 }),
  stableRevision: s.string('The server Deployment of the stable version (<deployment>-<hash of version and server template>).', { maxLength: 253 }),
  canaryRevision: s.string('The server Deployment of the candidate.', { maxLength: 253 }),
  previousVersion: s.string('The version before the current stable one, kept for rollbackWindow.', { maxLength: 63 }),
  previousRevision: s.string('The server Deployment of previousVersion; setting model.version back to previousVersion within rollbackWindow switches to it at once.', { maxLength: 253 }),
  promotedTime: s.string('When the stable version was promoted (the rollback window runs from here).', { format: 'date-time' }),
  abortedRevision: s.string('The server Deployment of abortedVersion.', { maxLength: 253 }),
  stableReadyReplicas: s.integer('Ready pods of the stable version.', { minimum: 0 }),
  canaryReadyReplicas: s.integer('Ready pods of the candidate.', { minimum: 0 }),
  abortedVersion: s.string('A candidate that failed its gates; it is not retried until a retry or a newer version.', { maxLength: 63 }),
  abortedMessage: s.string('Why abortedVersion was aborted (the failed gate, the progress deadline with what held its pods, or the request).', { maxLength: 2048 }),
  currentStep: s.integer('Index of the rollout step in progress: a shadow phase is step 0 before the canary steps (or before the blue-green preview).', { minimum: 0 }),
  routeHash: s.string('Hash of the HTTPRoute last written (GatewayAPI routing): the route is written again only when it changes.', { maxLength: 64 }),
  autoscalerHash: s.string('Hash of the HorizontalPodAutoscaler last written (server.autoscaling): written again only when it changes.', { maxLength: 64 }),
  settingsHash: s.string('Hash of the server settings last written to the `<name>-server` ConfigMap (logPredictions and the candidate\'s track, read live by the servers): written again only when they change.', { maxLength: 64 }),
  stepStartTime: s.string('When the current step began.', { format: 'date-time' }),
  canaryWeight: s.integer('Percent of traffic to the candidate (actual, after rounding to replicas).', { minimum: 0, maximum: 100 }),
  stableWeight: s.integer('Percent of traffic to the stable version.', { minimum: 0, maximum: 100 }),
  inconclusiveCount: s.integer('Inconclusive analyses in a row.', { minimum: 0 }),
  analysis: s.array('The latest analyses, newest first.', analysisRecord, { maxItems: 20 }),
  liveMetrics,
  lastPromote: s.string('The perennial.dev/promote annotation value last acted on.', { maxLength: 256 }),
  lastAbort: s.string('The perennial.dev/abort annotation value last acted on.', { maxLength: 256 }),
  lastRetry: s.string('The perennial.dev/retry annotation value last acted on.', { maxLength: 256 }),
  lastSpecPromote: s.string('The spec.rollout.promote value last acted on.', { maxLength: 256 }),
  lastSpecRetry: s.string('The spec.rollout.retry value last acted on.', { maxLength: 256 }),
  replicas: s.integer('Server pods wanted across the revisions serving traffic (stable and candidate): the scale subresource\'s count.', { minimum: 0 }),
  selector: s.string('The label selector of every server pod of this deployment (the scale subresource\'s, which a HorizontalPodAutoscaler measures).', { maxLength: 1024 }),
  feedbackSecret: s.string('The feedback Secret the operator created (it is created once, never read or overwritten).', { maxLength: 253 }),
  message: s.string('A sentence on the current state.', { maxLength: 4096 }),
});

export type ModelDeploymentSpec = Infer<typeof modelDeploymentSpecSchema>;
export type ModelDeploymentStatus = Infer<typeof modelDeploymentStatusSchema>;
export type AnalysisRecord = Infer<typeof analysisRecord>;
export type LiveMetrics = Infer<typeof liveMetrics>;
export type DeploymentPhase = (typeof deploymentPhases)[number];
export type Verdict = (typeof verdicts)[number];

export interface ModelDeployment {
  apiVersion: typeof apiVersion;
  kind: typeof modelDeploymentKind;
  metadata: ObjectMeta;
  spec: ModelDeploymentSpec;
  status?: ModelDeploymentStatus;
}
