// Entry point of the model server's container.
//   start: config → listen: inference port (live, not ready) and feedback port → backend → load + verify the
//          version → warm up → ready
//          (a missing or broken model keeps the server unready, the reason logged, and loading is retried)
//   SIGTERM/SIGINT: not ready, stop accepting, drain in-flight requests, flush the inference logs, exit 0
//   an error nothing handled: log it, spill the inference logs, exit 70 (fatal.ts)
// Both listeners carry the edge bounds of the pod contract (http-io.ts: header and body timeouts, a connection cap,
// JSON answers to requests the HTTP parser refuses, counted in the metrics). With a gRPC port, a third listener answers
// OIP v2 over gRPC (oip/grpc-server.ts) through the same OipService as REST, its messages bounded by the body limit.
// With PERENNIAL_SERVER_WORKERS > 1 this process is the pod's primary (runPrimary: the feedback listener, the pod's
// windows, readiness and figures; cluster-primary.ts) and forks that many workers, each a server as above without
// the feedback listener, sharing the inference and gRPC ports (runServer with a PrimaryLink; cluster-worker.ts).
import cluster from 'node:cluster';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import winston, { type Logger } from 'winston';
import { selectBackend } from '../ml/backend.js';
import { feedbackPrefix, predictionsPrefix } from '../shared/artifact-layout.js';
import { backoffDelayMs, type Backoff } from '../shared/backoff.js';
import { checkLabel } from '../shared/label-check.js';
import type { LabelSpec } from '../shared/preprocessing.js';
import { podEnv } from '../shared/pod-contract.js';
import { serverRoutes } from '../shared/server-metrics.js';
import { MinioStore } from '../storage/minio-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import { ServerApp } from './app.js';
import { isPrimaryMessage, shareOf, workerSlotEnv } from './cluster-messages.js';
import { ServerPrimary } from './cluster-primary.js';
import { PrimaryLink } from './cluster-worker.js';
import { balanceHttp, WorkerConnections } from './connection-balance.js';
import { readServerConfig, ServerConfigError, type ServerConfig } from './config.js';
import { ConfidenceWindow } from './confidence-window.js';
import { DriftWindow } from './drift-window.js';
import { fatalHandler } from './fatal.js';
import { FeedbackApi } from './feedback-api.js';
import { applyHeapPolicy } from './heap-policy.js';
import { KafkaSink, kafkaSinkMetrics } from './kafka-sink.js';
import { cloudEventSource } from '../shared/cloudevents.js';
import { guardListener, listenerOptions } from './http-io.js';
import { LabelledIds } from './labelled-ids.js';
import { LiveSettings } from './live-settings.js';
import { ByteBudget, LogWriter } from './log-writer.js';
import { ServerMetrics } from './metrics.js';
import { loadServedModel, ModelLoadError, predictBatch, warmupRows, type ServedModel } from './model.js';
import { OipGrpcServer } from './oip/grpc-server.js';
import { ShadowMirror } from './shadow.js';
import { defaultShadowBookOptions, ShadowBook } from './shadow-book.js';
import { ShadowScoring } from './shadow-scoring.js';

/** Retries of a model that cannot be loaded (not published yet, the store away): waits below 2 s, 4 s, ... 30 s. */
const modelLoadBackoff: Backoff = { baseMs: 2000, capMs: 30_000 };
/** How often the settings file is read again (the kubelet itself updates it within about a minute). */
const settingsPollMs = 5000;

async function main(): Promise<void> {
  const logger = winston.createLogger({
    level: 'info',
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    defaultMeta: { program: 'server' },
    transports: [new winston.transports.Console()],
  });
  let config: ServerConfig;
  try {
    config = readServerConfig(process.env);
  } catch (e: unknown) {
    logger.error('invalid configuration', { problems: e instanceof ServerConfigError ? e.problems : [String(e)] });
    process.exitCode = 78;
    return;
  }
  logger.level = config.logLevel;
  // Before the server allocates anything to speak of, in the primary and in each worker (all of them run main()).
  applyHeapPolicy(config.heapGrowingPercent);
  const slot = cluster.isWorker ? Number(process.env[workerSlotEnv] ?? 0) : undefined;
  const log = logger.child({
    model: `${config.pipeline.namespace}/${config.pipeline.name}@${config.version}`, deployment: `${config.deployment.namespace}/${config.deployment.name}`, revision: config.revision,
    ...(config.workers > 1 ? { process: slot === undefined ? 'primary' : `worker ${slot}` } : {}),
  });
  if (config.workers > 1 && cluster.isPrimary) return runPrimary(config, logger, log);
  return runServer(config, logger, log, slot);
}

/**
 * The server: the inference port, gRPC and, with one process, the feedback listener. `slot`: this process is that
 * worker of a pod whose primary keeps the pod's windows, readiness and figures (cluster-primary.ts).
 */
async function runServer(config: ServerConfig, logger: Logger, log: Logger, slot: number | undefined): Promise<void> {
  // logPredictions and the track, as the operator says them now (live-settings.ts): they change without a restart.
  const live = new LiveSettings({
    file: config.settingsFile, revision: config.revision, fallback: { track: config.track, logPredictions: config.logPredictions },
    onChange: (settings, before) => log.info('settings changed', { ...settings, before }),
  });
  live.start(settingsPollMs);
  const startTrack = live.current().track;
  const store = new MinioStore(config.store);
  const now = (): Date => new Date();
  // A worker's rows go to the primary's windows; a single server keeps them. The estimate's rows are the drift
  // window's: the same duration and row bound (confidence-window.ts).
  const link = slot === undefined ? undefined : primaryLink(() => metrics, () => app, () => live.current().track === 'shadow');
  const confidence = link === undefined ? new ConfidenceWindow(config.driftWindowSeconds * 1000, config.driftWindowRows) : undefined;
  let drift: DriftWindow | undefined;
  const metrics: ServerMetrics = new ServerMetrics({ namespace: config.deployment.namespace, deployment: config.deployment.name, version: config.version }, () => drift?.snapshot(Date.now()), () => ({
    predictions: predictionLog?.pending ?? 0, ...(feedbackLog === undefined ? {} : { feedback: feedbackLog.pending }),
  }), () => app.task, () => confidence?.snapshot(Date.now()));
  // spec.server.logPredictions false: neither stream is written (labels are still scored live by the feedback API).
  // A worker writes predictions only, under a file stem and spill folder of its own; the primary takes the feedback.
  const { predictions: predictionLog, feedback: feedbackLog } = inferenceLogs(config, store, metrics, log, now, () => live.current().logPredictions, slot);
  if (predictionLog === undefined) throw new Error('no prediction log');
  const fatal = fatalHandler({
    log: (message, meta) => log.error(message, meta),
    flush: (deadlineMs) => {
      link?.close();
      predictionLog.spillAll();
      feedbackLog?.spillAll();
      return Promise.all([predictionLog.close(deadlineMs), feedbackLog?.close(deadlineMs)]);
    },
    exit: (code) => process.exit(code),
    deadlineMs: 3000,
  });
  const events = kafkaSink(config, metrics, log, () => live.current().logPredictions);
  process.on('uncaughtException', (e) => fatal('uncaughtException', e));
  process.on('unhandledRejection', (e) => fatal('unhandledRejection', e));
  // A shadow-track server never mirrors (the loop guard's second half; shadow.ts).
  if (config.shadow !== undefined && startTrack === 'shadow') log.warn(`${podEnv.serverShadowUrl} is ignored on the shadow track: a shadow never mirrors`);
  const shadow = config.shadow === undefined || startTrack === 'shadow' ? undefined : new ShadowMirror(config.shadow, {
    outcome: (o, n = 1) => metrics.shadowRequests.inc({ outcome: o }, n),
    latency: (s) => metrics.shadowLatency.observe(s),
  });
  // A pod on the shadow track scores itself from the inference log the serving pods write (shadow-scoring.ts); the
  // track is live, so a candidate leaving its shadow phase stops holding answers and goes idle.
  const shadowScoring = link === undefined ? startShadowScoring(config, store, metrics, () => app.label, () => live.current().track === 'shadow', log, now) : undefined;
  // The metric callbacks above read `app` only at scrape time, after it exists.
  const app: ServerApp = new ServerApp({
    modelName: config.modelName, version: config.version, get track(): string { return live.current().track; }, codeVersion: config.codeVersion,
    maxInstances: config.maxInstances, maxBodyBytes: config.maxBodyBytes, bodyTimeoutMs: config.edge.bodyTimeoutMs, maxStringBytes: config.maxStringBytes,
    batch: config.batch, metrics,
    predictionLog, events, deployment: `${config.deployment.namespace}/${config.deployment.name}`, signingKey: config.signingKey.key,
    shadow, shadowScoring: shadowScoring ?? link?.shadowScoring, confidence: confidence ?? link?.confidenceWindow, log, now,
    peersReady: link === undefined ? undefined : () => link.peersReady(),
    pod: link === undefined ? undefined : { metrics: () => link.podMetrics(), statistics: () => link.podStatistics() },
  });
  if (config.signingKey.generated) log.warn('no signing key configured: prediction ids are signed with a random key only this process can verify');
  const feedbackApi = config.feedback.port === undefined || feedbackLog === undefined ? undefined : new FeedbackApi({
    deployment: `${config.deployment.namespace}/${config.deployment.name}`, signingKey: config.signingKey.key, tokens: config.feedback.tokens,
    maxItems: config.maxInstances, maxBodyBytes: config.maxBodyBytes, bodyTimeoutMs: config.edge.bodyTimeoutMs, maxLabelAgeMs: config.feedback.ttlSeconds * 1000,
    label: () => app.label, labelled: new LabelledIds(config.feedback.ttlSeconds * 1000, config.feedback.maxIds),
    feedbackLog, events, metrics, log, now,
  });
  const shares = workerConnections(link);
  const { server, edge } = inferenceServer(config, app, metrics, shares);
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const address = server.address();
  const feedbackServer = feedbackApi && createServer(listenerOptions(config.edge), (req, res) => feedbackApi.handle(req, res));
  if (feedbackServer) guardListener(feedbackServer, config.edge, (status) => metrics.observeRequest(serverRoutes.feedback, status, 0));
  if (feedbackServer) await new Promise<void>((resolve) => feedbackServer.listen(config.feedback.port, config.host, resolve));
  const feedbackAddress = feedbackServer?.address();
  const grpcServer = await startGrpc({ ...config, edge }, app, metrics, log, () => live.current().track, shares);
  log.info('server listening', {
    port: typeof address === 'object' && address ? address.port : config.port,
    feedbackPort: typeof feedbackAddress === 'object' && feedbackAddress ? feedbackAddress.port : null,
    grpcPort: grpcServer?.port ?? null,
    codeVersion: config.codeVersion,
  });
  if (!feedbackServer && slot === undefined) log.warn('no feedback token configured: the feedback listener is off');

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info('server stopping', { signal, pendingLogRecords: predictionLog.pending + (feedbackLog?.pending ?? 0) });
    const deadline = Date.now() + config.drainTimeoutMs;
    // Keep serving (unready, Connection: close) while the endpoint is being taken out of rotation; idle keep-alive
    // connections stay open too, as a client may be sending on one right now.
    app.leave();
    link?.readiness(false, 'shutting down');
    feedbackApi?.leave();
    await sleep(Math.min(config.shutdownDelayMs, config.drainTimeoutMs));
    server.close();
    server.closeIdleConnections();
    feedbackApi?.drain();
    feedbackServer?.close();
    feedbackServer?.closeIdleConnections();
    await Promise.all([Promise.race([app.drain(), sleep(Math.max(0, deadline - Date.now()))]), grpcServer?.drain(Math.max(0, deadline - Date.now()))]);
    await app.batcher.idle();
    await Promise.race([shadow?.settle() ?? Promise.resolve(), sleep(Math.max(0, Math.min(2000, deadline - Date.now())))]);
    await Promise.race([shadowScoring?.stop() ?? Promise.resolve(), sleep(Math.max(0, Math.min(2000, deadline - Date.now())))]);
    link?.close();
    const flushBudget = Math.max(1000, deadline - Date.now());
    const [p, f] = await Promise.all([predictionLog.close(flushBudget), feedbackLog?.close(flushBudget), events?.close(flushBudget)]);
    log.info('server stopped', { logsStored: p.stored && (f?.stored ?? true), pendingPredictions: p.pending, pendingFeedback: f?.pending ?? 0 });
    server.closeAllConnections();
    feedbackServer?.closeAllConnections();
    grpcServer?.close();
    await exitAfterLogs(logger);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  await loadModel(config, store, log, () => stopping, {
    loaded: (model) => {
      if (link === undefined) {
        drift = DriftWindow.fromProfile(model.profile, config.driftWindowSeconds * 1000, config.driftWindowRows);
        app.setModel(model, drift);
        return;
      }
      link.modelLoaded(model.profile, model.spec.label);
      app.setModel(model, link.driftWindow(model.profile.features));
      link.readiness(true, '');
    },
    failed: (reason) => {
      app.setNotReady(reason);
      link?.readiness(false, reason);
    },
  });
}

/** Loads and warms up the served model, retrying while it cannot be loaded (the server stays unready meanwhile). */
async function loadModel(
  config: ServerConfig, store: ObjectStore, log: Logger, stopping: () => boolean,
  to: { loaded(model: ServedModel): void; failed(reason: string): void },
): Promise<void> {
  // Serving runs micro-batches of a few rows, where per-op overhead dominates and WASM beats the native build
  // (backend.ts): WASM first, the native backends as fallbacks. A wide model can force one (the pod's backend setting).
  const choice = await selectBackend(config.forcedBackend, { multiplyAddsPerBatch: 0 });
  log.info('tensorflow backend selected', { backend: choice.backend, attempts: choice.attempts });
  for (let attempt = 1; !stopping(); attempt++) {
    try {
      const model = await loadServedModel(store, config.modelBucket, config.pipeline, config.version, config.forcedBackend === undefined);
      // Warm-up: the first calls compile kernels and allocate; do them before any request pays for it.
      const rows = warmupRows(model.spec, config.batch.maxSize);
      for (const n of [1, config.batch.maxSize]) predictBatch(model, rows.slice(0, n));
      to.loaded(model);
      log.info('model ready', { task: model.manifest.task, runId: model.manifest.runId, width: model.spec.width });
      return;
    } catch (e: unknown) {
      const reason = e instanceof Error ? e.message : String(e);
      to.failed(reason);
      log.error('model not loaded; server stays unready', { reason, attempt, broken: e instanceof ModelLoadError });
      await sleep(backoffDelayMs(modelLoadBackoff, attempt - 1));
    }
  }
}

/**
 * The OIP v2 gRPC listener, when the pod contract gives it a port: REST's service, REST's metrics, the body limit.
 * On SIGTERM it drains beside HTTP: GOAWAY to every client at once, calls in flight answered until the deadline.
 */
async function startGrpc(config: ServerConfig, app: ServerApp, metrics: ServerMetrics, log: Logger, track: () => string, shares: WorkerConnections | undefined): Promise<OipGrpcServer | undefined> {
  if (config.grpcPort === undefined) return undefined;
  return OipGrpcServer.start({
    service: app.oip, host: config.host, port: config.grpcPort, maxMessageBytes: config.maxBodyBytes, track, share: shares?.grpc,
    limits: { maxConnections: config.edge.maxConnections, ...config.grpc },
    observe: (route, code, seconds) => metrics.observeRequest(route, code, seconds),
    onInternalError: (method, e) => log.error('gRPC call failed', { method, error: e instanceof Error ? e.stack : String(e) }),
  });
}

/**
 * The inference-log streams this process writes, one spill budget for them (the spill volume); records are taken while
 * `enabled`. One process writes both; with workers (`slot`), each worker its predictions under a file stem and spill
 * folder of its own (a worker forked again into its slot replays its folder), and the primary (`'primary'`) the
 * feedback; each takes an equal share of the volume's bytes.
 */
function inferenceLogs(
  config: ServerConfig, store: ObjectStore, metrics: ServerMetrics, log: Logger, now: () => Date, enabled: () => boolean, slot: number | 'primary' | undefined,
): { predictions?: LogWriter; feedback?: LogWriter } {
  const worker = typeof slot === 'number' ? `-w${slot}` : '';
  const fileStem = `${config.podName.replace(/[^A-Za-z0-9._-]/g, '_')}${worker}-${Date.now().toString(36)}`;
  const spillBudget = new ByteBudget(config.workers > 1 ? shareOf(config.log.maxSpillBytes, config.workers + 1) : config.log.maxSpillBytes);
  const spillRoot = typeof slot === 'number' ? join(config.log.spillDir, `w${slot}`) : config.log.spillDir;
  const writer = (stream: 'predictions' | 'feedback', prefix: string): LogWriter => new LogWriter({
    store, bucket: config.bucket, prefix, spillDir: join(spillRoot, stream), fileStem,
    batchRecords: config.log.batchRecords, flushMs: config.log.flushMs, maxMemoryRecords: config.log.maxMemoryRecords,
    batchBytes: config.log.batchBytes, maxMemoryBytes: config.log.maxMemoryBytes, spillBudget, now,
    onStored: (n) => metrics.logRecords.inc({ stream, outcome: 'stored' }, n),
    onSpilled: (n) => metrics.logRecords.inc({ stream, outcome: 'spilled' }, n),
    onDropped: (n) => metrics.logRecords.inc({ stream, outcome: 'dropped' }, n),
    onError: (message, e) => log.warn(message, { stream, error: e instanceof Error ? e.message : e }),
    enabled,
  });
  return {
    ...(slot === 'primary' ? {} : { predictions: writer('predictions', predictionsPrefix(config.deployment)) }),
    ...(typeof slot === 'number' ? {} : { feedback: writer('feedback', feedbackPrefix(config.deployment)) }),
  };
}

/** The Kafka sink when spec.server.kafka is set: the same records as the inference log, as CloudEvents. */
function kafkaSink(config: ServerConfig, metrics: ServerMetrics, log: Logger, enabled: () => boolean): KafkaSink | undefined {
  const kafka = config.kafka;
  if (kafka === undefined) return undefined;
  const sink: KafkaSink = new KafkaSink({
    config: kafka, source: cloudEventSource(config.deployment), enabled,
    clientId: `perennial-${config.deployment.namespace}-${config.deployment.name}`,
    onSent: (stream, n) => counters.events.inc({ stream, outcome: 'sent' }, n),
    onDropped: (stream, n) => counters.events.inc({ stream, outcome: 'dropped' }, n),
    onError: (message, e) => log.warn(message, { brokers: kafka.brokers, error: e instanceof Error ? e.message : String(e) }),
    onRecovered: (message) => log.info(message, { brokers: kafka.brokers }),
    onSenderExit: (message, e) => {
      counters.senderExits.inc();
      log.error(message, { error: e instanceof Error ? e.stack : String(e) });
    },
  });
  const counters = kafkaSinkMetrics(metrics.registry, () => sink.buffered);
  log.info('kafka sink on', { brokers: kafka.brokers, predictionsTopic: kafka.predictionsTopic, feedbackTopic: kafka.feedbackTopic });
  return sink;
}

function startShadowScoring(
  config: ServerConfig, store: ObjectStore, metrics: ServerMetrics, label: () => LabelSpec | undefined, active: () => boolean, log: Logger, now: () => Date,
): ShadowScoring {
  const scoring = new ShadowScoring({
    store, bucket: config.bucket, predictionsPrefix: predictionsPrefix(config.deployment), feedbackPrefix: feedbackPrefix(config.deployment),
    version: config.version, pollMs: config.shadowScoring.pollMs, holdMs: defaultShadowBookOptions.holdMs, label, active, log, now,
    record: (e, spec) => {
      if (e.kind === 'compared') return metrics.shadowComparisons.inc({ outcome: e.agree ? 'agree' : 'disagree' });
      const checked = checkLabel(spec, e.label);
      if (checked.ok) metrics.scoreFeedback(config.version, e.scored, checked.value, spec.task === 'classification' ? spec.classes : []);
    },
  }, new ShadowBook({ ...defaultShadowBookOptions, version: config.version, tolerance: config.shadowScoring.tolerance }));
  scoring.start();
  return scoring;
}

/**
 * The pod's primary: forks the serving workers and keeps what is one per pod (cluster-primary.ts): the feedback
 * listener and log, the drift and confidence windows, shadow scoring, readiness, and /metrics and statistics summed.
 */
async function runPrimary(config: ServerConfig, logger: Logger, log: Logger): Promise<void> {
  const live = new LiveSettings({
    file: config.settingsFile, revision: config.revision, fallback: { track: config.track, logPredictions: config.logPredictions },
    onChange: (settings, before) => log.info('settings changed', { ...settings, before }),
  });
  live.start(settingsPollMs);
  const store = new MinioStore(config.store);
  const now = (): Date => new Date();
  const confidence = new ConfidenceWindow(config.driftWindowSeconds * 1000, config.driftWindowRows);
  // Made from the first model a worker reports: every worker serves the same version.
  let model: { drift: DriftWindow; label: LabelSpec } | undefined;
  const metrics: ServerMetrics = new ServerMetrics({ namespace: config.deployment.namespace, deployment: config.deployment.name, version: config.version }, () => model?.drift.snapshot(Date.now()), () => ({
    feedback: feedbackLog?.pending ?? 0,
  }), () => model?.label.task, () => confidence.snapshot(Date.now()));
  const { feedback: feedbackLog } = inferenceLogs(config, store, metrics, log, now, () => live.current().logPredictions, 'primary');
  if (feedbackLog === undefined) throw new Error('no feedback log');
  const events = kafkaSink(config, metrics, log, () => live.current().logPredictions);
  const shadowScoring = startShadowScoring(config, store, metrics, () => model?.label, () => live.current().track === 'shadow', log, now);
  // One key for the pod: a key generated here goes to every worker, so an id any of them signed verifies here.
  const generatedKey = config.signingKey.generated ? config.signingKey.key.toString('hex') : undefined;
  const signingKey = generatedKey === undefined ? config.signingKey.key : Buffer.from(generatedKey);
  if (generatedKey !== undefined) log.warn('no signing key configured: prediction ids are signed with a random key only this pod can verify');
  const primary = new ServerPrimary({
    workers: config.workers, env: generatedKey === undefined ? {} : { [podEnv.serverSigningKey]: generatedKey }, metrics: metrics.registry,
    onModel: (profile, label) => {
      const drift = DriftWindow.fromProfile(profile, config.driftWindowSeconds * 1000, config.driftWindowRows);
      model = { drift, label };
      return drift;
    },
    confidence, shadowScoring,
    onPodReady: (reason) => {
      metrics.modelReady.set(reason === undefined ? 1 : 0);
      log.info(reason === undefined ? 'every worker ready' : 'pod not ready', { reason });
    },
    log: (level, message, meta) => log.log(level, message, meta),
  });
  const fatal = fatalHandler({
    log: (message, meta) => log.error(message, meta),
    flush: (deadlineMs) => {
      feedbackLog.spillAll();
      return Promise.all([feedbackLog.close(deadlineMs), primary.stop(deadlineMs)]);
    },
    exit: (code) => process.exit(code),
    deadlineMs: 3000,
  });
  process.on('uncaughtException', (e) => fatal('uncaughtException', e));
  process.on('unhandledRejection', (e) => fatal('unhandledRejection', e));
  const feedbackApi = config.feedback.port === undefined ? undefined : new FeedbackApi({
    deployment: `${config.deployment.namespace}/${config.deployment.name}`, signingKey, tokens: config.feedback.tokens,
    maxItems: config.maxInstances, maxBodyBytes: config.maxBodyBytes, bodyTimeoutMs: config.edge.bodyTimeoutMs, maxLabelAgeMs: config.feedback.ttlSeconds * 1000,
    label: () => model?.label, labelled: new LabelledIds(config.feedback.ttlSeconds * 1000, config.feedback.maxIds),
    feedbackLog, events, metrics, log, now,
  });
  const feedbackServer = feedbackApi && createServer(listenerOptions(config.edge), (req, res) => feedbackApi.handle(req, res));
  if (feedbackServer) guardListener(feedbackServer, config.edge, (status) => metrics.observeRequest(serverRoutes.feedback, status, 0));
  if (feedbackServer) await new Promise<void>((resolve) => feedbackServer.listen(config.feedback.port, config.host, resolve));
  const feedbackAddress = feedbackServer?.address();
  primary.start();
  log.info('server primary started', {
    workers: config.workers, port: config.port, grpcPort: config.grpcPort ?? null, codeVersion: config.codeVersion,
    feedbackPort: typeof feedbackAddress === 'object' && feedbackAddress ? feedbackAddress.port : null,
  });
  if (!feedbackServer) log.warn('no feedback token configured: the feedback listener is off');

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info('server primary stopping', { signal, pendingFeedbackRecords: feedbackLog.pending });
    const deadline = Date.now() + config.drainTimeoutMs;
    // Every worker leaves, drains and flushes on its own; the feedback listener does the same here meanwhile.
    const workersDone = primary.stop(config.drainTimeoutMs + 5000);
    feedbackApi?.leave();
    await sleep(Math.min(config.shutdownDelayMs, config.drainTimeoutMs));
    feedbackServer?.close();
    feedbackServer?.closeIdleConnections();
    feedbackApi?.drain();
    await workersDone;
    await Promise.race([shadowScoring.stop(), sleep(Math.max(0, Math.min(2000, deadline - Date.now())))]);
    const flushBudget = Math.max(1000, deadline - Date.now());
    const [f] = await Promise.all([feedbackLog.close(flushBudget), events?.close(flushBudget)]);
    log.info('server primary stopped', { logsStored: f.stored, pendingFeedback: f.pending });
    feedbackServer?.closeAllConnections();
    await exitAfterLogs(logger);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** Ends the logger (its last lines written, 500 ms at most) and exits 0. */
async function exitAfterLogs(logger: Logger): Promise<void> {
  await new Promise<void>((resolve) => {
    logger.on('finish', () => resolve());
    logger.end();
    setTimeout(resolve, 500).unref();
  });
  process.exit(0);
}

/**
 * The inference listener with its edge bounds. In a worker the pod contract's connection cap is the pod's, so each
 * worker takes its share (the gRPC listener too), and its connections are counted in the worker's share of the
 * pod's (connection-balance.ts).
 */
function inferenceServer(config: ServerConfig, app: ServerApp, metrics: ServerMetrics, shares: WorkerConnections | undefined): { server: Server; edge: ServerConfig['edge'] } {
  const edge = { ...config.edge, maxConnections: shareOf(config.edge.maxConnections, config.workers) };
  const server = createServer(listenerOptions(edge), (req, res) => app.handle(req, res));
  guardListener(server, edge, (status) => metrics.observeRequest(serverRoutes.other, status, 0));
  if (shares !== undefined) balanceHttp(server, shares.http);
  return { server, edge };
}

/**
 * A worker's REST and gRPC connections, reported to the primary and shed down to the pod's share (its report timer is
 * unref'd: it ends with the worker's process); none in a single server.
 */
function workerConnections(link: PrimaryLink | undefined): WorkerConnections | undefined {
  if (link === undefined) return undefined;
  return new WorkerConnections({ pod: (kind) => link.podConnections(kind), report: (open) => link.connections(open) });
}

/** A worker's link to its primary, listening for the primary's messages. */
function primaryLink(metrics: () => ServerMetrics, app: () => ServerApp, shadowTrack: () => boolean): PrimaryLink {
  const link = new PrimaryLink({
    send: (m) => {
      if (process.connected) process.send?.(m);
    },
    own: { metrics: () => metrics().registry.getMetricsAsJSON(), statistics: () => app().localStatistics() },
    shadowTrack,
  });
  process.on('message', (m: unknown) => {
    if (isPrimaryMessage(m)) link.receive(m);
  });
  return link;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(70);
});
