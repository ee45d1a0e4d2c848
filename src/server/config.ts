// The only reader of the environment in the server: turns the pod contract's variables into a typed value,
// reporting every problem at once.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { isBackendName, type BackendName } from '../ml/backend.js';
import { isKeySegment, type DeploymentRef, type PipelineRef } from '../shared/artifact-layout.js';
import { EnvReader } from '../shared/env-reader.js';
import { podEnv, serverConnectionAgeDefaultsMs } from '../shared/pod-contract.js';
import { serverTracks, type ServerTrack } from '../shared/server-settings.js';
import type { MinioStoreOptions } from '../storage/minio-store.js';
import { storeFromEnv } from '../storage/store-env.js';
import type { EdgeLimits } from './http-io.js';
import type { KafkaSaslMechanism, KafkaSinkConfig } from './kafka-sink.js';

export class ServerConfigError extends Error {
  override readonly name = 'ServerConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid server configuration: ${problems.join('; ')}`);
  }
}

export interface ServerConfig {
  readonly store: MinioStoreOptions;
  readonly bucket: string;
  readonly modelBucket: string;
  readonly pipeline: PipelineRef;
  readonly version: string;
  readonly modelName: string;
  readonly deployment: DeploymentRef;
  /** The track and logPredictions from the environment: what holds until (and unless) the settings file says otherwise. */
  readonly track: ServerTrack;
  readonly logPredictions: boolean;
  /** This pod's revision hash and the operator's settings file (live-settings.ts). */
  readonly revision: string | undefined;
  readonly settingsFile: string | undefined;
  readonly podName: string;
  readonly host: string;
  readonly port: number;
  /** Serving processes (cluster-primary.ts); 1: this process serves everything. */
  readonly workers: number;
  /** V8's old-generation growing factor as 1 + percent / 100 in each serving process (heap-policy.ts); 0: V8's own. */
  readonly heapGrowingPercent: number;
  /** The OIP v2 gRPC listener's port; undefined: none. */
  readonly grpcPort: number | undefined;
  /** The gRPC listener's own bounds (its connection cap is edge.maxConnections). */
  readonly grpc: { readonly maxConcurrentStreams: number; readonly maxConnectionAgeMs: number; readonly maxConnectionIdleMs: number };
  readonly batch: { readonly maxSize: number; readonly maxWaitMs: number; readonly maxQueueRows: number };
  readonly maxInstances: number;
  readonly maxBodyBytes: number;
  /** Both listeners' bounds: header and body timeouts, connections. */
  readonly edge: EdgeLimits;
  readonly maxStringBytes: number;
  readonly driftWindowSeconds: number;
  /** The newest rows the drift window keeps at most; 0: no row bound. */
  readonly driftWindowRows: number;
  readonly feedback: {
    /** The feedback listener's port; undefined when no token is configured (feedback off). */
    readonly port: number | undefined;
    readonly tokens: readonly string[];
    readonly ttlSeconds: number;
    readonly maxIds: number;
  };
  /** Signs prediction ids; `generated` when the pod contract gave none (a random key for this process). */
  readonly signingKey: { readonly key: Buffer; readonly generated: boolean };
  readonly log: {
    readonly spillDir: string;
    readonly batchRecords: number;
    readonly flushMs: number;
    readonly maxMemoryRecords: number;
    readonly batchBytes: number;
    /** Per stream. */
    readonly maxMemoryBytes: number;
    /** Both streams together. */
    readonly maxSpillBytes: number;
  };
  readonly shadow: { readonly url: string; readonly sample: number; readonly timeoutMs: number } | undefined;
  /** On the shadow track: reading the inference log back to score mirrored rows (shadow-scoring.ts). */
  readonly shadowScoring: { readonly pollMs: number; readonly tolerance: number };
  /** The Kafka sink (kafka-sink.ts); undefined when no brokers are configured. */
  readonly kafka: KafkaSinkConfig | undefined;
  readonly drainTimeoutMs: number;
  /** Of drainTimeoutMs: how long it keeps serving, unready, after SIGTERM before refusing new requests. */
  readonly shutdownDelayMs: number;
  readonly forcedBackend: BackendName | undefined;
  readonly codeVersion: string;
  readonly logLevel: string;
}

/** `<namespace>/<name>@<version>` → parts, or undefined when malformed. */
export function parseModelRef(text: string): { pipeline: PipelineRef; version: string } | undefined {
  const m = /^([^/@]+)\/([^/@]+)@([^/@]+)$/.exec(text.trim());
  if (!m) return undefined;
  const [, namespace = '', name = '', version = ''] = m;
  if (![namespace, name, version].every(isKeySegment)) return undefined;
  return { pipeline: { namespace, name }, version };
}

/** Largest row bound of the drift window (its ring holds 2 bytes per row and feature). */
export const maxDriftWindowRows = 1_000_000;

export function readServerConfig(env: NodeJS.ProcessEnv): ServerConfig {
  const r = new EnvReader(env);
  const { store, bucket } = storeFromEnv(r);
  const { model, deployment } = readServing(r);
  const backend = r.text(podEnv.tfBackend);
  if (backend !== undefined && !isBackendName(backend)) r.problems.push(`${podEnv.tfBackend} must be one of tensorflow-gpu, tensorflow, wasm, cpu`);
  const config: ServerConfig = {
    store,
    bucket,
    modelBucket: r.text(podEnv.serverModelBucket) ?? bucket,
    pipeline: model?.pipeline ?? { namespace: '', name: '' },
    version: model?.version ?? '',
    modelName: r.text(podEnv.serverModelName) ?? model?.pipeline.name ?? '',
    deployment,
    track: r.oneOf(podEnv.serverTrack, serverTracks, 'stable'),
    logPredictions: r.flagDefaultOn(podEnv.serverLogPredictions),
    revision: r.text(podEnv.serverRevision),
    settingsFile: r.text(podEnv.serverSettingsFile),
    podName: r.text(podEnv.serverPodName) ?? hostname(),
    host: r.text(podEnv.serverHost) ?? '0.0.0.0',
    port: r.int(podEnv.serverPort, 8080, 0, 65535),
    workers: r.int(podEnv.serverWorkers, 1, 1, 64),
    heapGrowingPercent: r.int(podEnv.serverHeapGrowingPercent, 300, 0, 1000),
    grpcPort: r.int(podEnv.serverGrpcPort, 0, 0, 65535) || undefined,
    grpc: {
      maxConcurrentStreams: r.int(podEnv.serverGrpcMaxConcurrentStreams, 100, 0, 100_000),
      maxConnectionAgeMs: r.int(podEnv.serverGrpcMaxConnectionAgeMs, serverConnectionAgeDefaultsMs.grpc, 0, 86_400_000),
      maxConnectionIdleMs: r.int(podEnv.serverGrpcMaxConnectionIdleMs, 300_000, 0, 86_400_000),
    },
    ...readLimits(r),
    ...readFeedback(r),
    log: readLog(r),
    shadow: readShadow(r),
    kafka: readKafka(r),
    shadowScoring: { pollMs: r.int(podEnv.serverShadowPollMs, 5000, 100, 600_000), tolerance: r.number(podEnv.serverShadowTolerance, 0.01, 0, 1) },
    drainTimeoutMs: r.int(podEnv.serverDrainTimeoutMs, 25_000, 0, 600_000),
    shutdownDelayMs: r.int(podEnv.serverShutdownDelayMs, 5000, 0, 600_000),
    forcedBackend: backend !== undefined && isBackendName(backend) ? backend : undefined,
    codeVersion: r.text(podEnv.codeVersion) ?? 'dev',
    logLevel: r.text(podEnv.logLevel) ?? 'info',
  };
  // One port, one listener: gRPC cannot share the HTTP or the feedback port.
  for (const [name, port] of [[podEnv.serverPort, config.port], [podEnv.serverFeedbackPort, config.feedback.port]] as const) {
    if (config.grpcPort !== undefined && config.grpcPort === port) r.problems.push(`${podEnv.serverGrpcPort} (${config.grpcPort}) must differ from ${name} (${port})`);
  }
  if (r.problems.length > 0) throw new ServerConfigError(r.problems);
  return config;
}

/** Which model this pod serves and for which deployment. */
function readServing(r: EnvReader): { model: ReturnType<typeof parseModelRef>; deployment: DeploymentRef } {
  const modelText = r.need(podEnv.serverModel);
  const model = modelText === '' ? undefined : parseModelRef(modelText);
  if (modelText !== '' && model === undefined) r.problems.push(`${podEnv.serverModel} must look like <namespace>/<pipeline>@<version>, got ${JSON.stringify(modelText)}`);
  const depText = r.need(podEnv.serverDeployment);
  const dep = /^([^/]+)\/([^/]+)$/.exec(depText);
  if (depText !== '' && (!dep || !isKeySegment(dep[1] ?? '') || !isKeySegment(dep[2] ?? ''))) {
    r.problems.push(`${podEnv.serverDeployment} must look like <namespace>/<deployment>, got ${JSON.stringify(depText)}`);
  }
  return { model, deployment: { namespace: dep?.[1] ?? '', name: dep?.[2] ?? '' } };
}

/** What bounds a request: batching, sizes, the listeners' timeouts and connections, the drift window. */
function readLimits(r: EnvReader): Pick<ServerConfig, 'batch' | 'maxInstances' | 'maxBodyBytes' | 'edge' | 'maxStringBytes' | 'driftWindowSeconds' | 'driftWindowRows'> {
  return {
    batch: {
      maxSize: r.int(podEnv.serverBatchMaxSize, 64, 1, 4096),
      maxWaitMs: r.number(podEnv.serverBatchMaxWaitMs, 0, 0, 1000),
      maxQueueRows: r.int(podEnv.serverQueueMaxRows, 4096, 1, 1_000_000),
    },
    maxInstances: r.int(podEnv.serverMaxInstances, 1000, 1, 100_000),
    maxBodyBytes: r.int(podEnv.serverMaxBodyBytes, 1 << 20, 1024, 1 << 30),
    edge: {
      headersTimeoutMs: r.int(podEnv.serverHeadersTimeoutMs, 10_000, 0, 600_000),
      bodyTimeoutMs: r.int(podEnv.serverBodyTimeoutMs, 10_000, 0, 600_000),
      maxConnections: r.int(podEnv.serverMaxConnections, 1024, 0, 1_000_000),
      maxRequestsPerConnection: r.int(podEnv.serverMaxRequestsPerConnection, 1000, 0, 1_000_000),
      maxConnectionAgeMs: r.int(podEnv.serverMaxConnectionAgeMs, serverConnectionAgeDefaultsMs.http, 0, 86_400_000),
    },
    maxStringBytes: r.int(podEnv.serverMaxStringBytes, 256, 0, 1 << 20),
    driftWindowSeconds: r.int(podEnv.serverDriftWindowSeconds, 3600, 10, 7 * 86400),
    driftWindowRows: r.int(podEnv.serverDriftWindowRows, 0, 0, maxDriftWindowRows),
  };
}

/** The feedback listener and the prediction-id key. Tokens and the key are secrets: problems never quote them. */
function readFeedback(r: EnvReader): Pick<ServerConfig, 'feedback' | 'signingKey'> {
  const tokens = (r.raw(podEnv.serverFeedbackToken) ?? '').split(/[,\n]/).map((t) => t.trim()).filter((t) => t !== '');
  if (tokens.some((t) => t.length < 16 || /\s/.test(t))) r.problems.push(`${podEnv.serverFeedbackToken}: every token must be at least 16 characters without spaces`);
  const keyText = r.text(podEnv.serverSigningKey);
  if (keyText !== undefined && Buffer.byteLength(keyText) < 16) r.problems.push(`${podEnv.serverSigningKey} must be at least 16 bytes`);
  return {
    feedback: {
      port: tokens.length === 0 ? undefined : r.int(podEnv.serverFeedbackPort, 8081, 0, 65535),
      tokens,
      ttlSeconds: r.int(podEnv.serverFeedbackTtlSeconds, 86400, 1, 365 * 86400),
      maxIds: r.int(podEnv.serverFeedbackMaxIds, 200_000, 1, 10_000_000),
    },
    signingKey: keyText === undefined ? { key: randomBytes(32), generated: true } : { key: Buffer.from(keyText), generated: false },
  };
}

/** The inference log's batches, memory and spill bounds. */
function readLog(r: EnvReader): ServerConfig['log'] {
  const log = {
    spillDir: r.text(podEnv.serverLogSpillDir) ?? '/tmp/perennial-spill',
    // 1,000 records of a few hundred bytes: a few hundred kB a batch. Batches of a MiB (10,000 records) measured a third
    // of the store requests and no more throughput, but p99 at half the peak 12-14 ms against 7.5-9 with a store on
    // the same cores: each larger put is a longer burst of the store's work (decision 0012, round seven).
    batchRecords: r.int(podEnv.serverLogBatchRecords, 1000, 1, 100_000),
    flushMs: r.int(podEnv.serverLogFlushMs, 5000, 10, 600_000),
    maxMemoryRecords: r.int(podEnv.serverLogMaxMemoryRecords, 20_000, 1, 10_000_000),
    batchBytes: r.int(podEnv.serverLogBatchBytes, 1 << 20, 1024, 256 << 20),
    maxMemoryBytes: r.int(podEnv.serverLogMaxMemoryBytes, 32 << 20, 2048, 2 ** 34),
    maxSpillBytes: r.int(podEnv.serverLogMaxSpillBytes, 256 << 20, 0, 2 ** 40),
  };
  // A sealed batch must fit in memory beside the open one, or the memory bound could not hold.
  if (log.maxMemoryBytes < 2 * log.batchBytes) {
    r.problems.push(`${podEnv.serverLogMaxMemoryBytes} (${log.maxMemoryBytes}) must be at least twice ${podEnv.serverLogBatchBytes} (${log.batchBytes})`);
  }
  if (log.maxMemoryRecords < 2 * log.batchRecords) {
    r.problems.push(`${podEnv.serverLogMaxMemoryRecords} (${log.maxMemoryRecords}) must be at least twice ${podEnv.serverLogBatchRecords} (${log.batchRecords})`);
  }
  return log;
}

/** Where a shadow pod mirrors its requests, if it does. */
function readShadow(r: EnvReader): ServerConfig['shadow'] {
  const url = r.text(podEnv.serverShadowUrl);
  if (url === undefined) return undefined;
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') r.problems.push(`${podEnv.serverShadowUrl} must be an http(s) URL`);
  } catch {
    r.problems.push(`${podEnv.serverShadowUrl} is not a URL: ${JSON.stringify(url)}`);
  }
  return {
    url,
    sample: r.number(podEnv.serverShadowSample, 1, 0, 1),
    timeoutMs: r.int(podEnv.serverShadowTimeoutMs, 2000, 1, 60_000),
  };
}

const saslMechanisms: readonly KafkaSaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];

/** The Kafka sink, when brokers are configured: both topics are then required. The password is never quoted. */
function readKafka(r: EnvReader): ServerConfig['kafka'] {
  const brokersText = r.text(podEnv.serverKafkaBrokers);
  if (brokersText === undefined) return undefined;
  const brokers = brokersText.split(',').map((b) => b.trim()).filter((b) => b !== '');
  for (const b of brokers) if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(b)) r.problems.push(`${podEnv.serverKafkaBrokers}: ${JSON.stringify(b)} is not host:port`);
  const username = r.text(podEnv.serverKafkaUsername);
  const password = r.raw(podEnv.serverKafkaPassword);
  if (username !== undefined && password === undefined) r.problems.push(`${podEnv.serverKafkaPassword} must be set with ${podEnv.serverKafkaUsername}`);
  const mechanism = r.oneOf(podEnv.serverKafkaSaslMechanism, saslMechanisms, 'scram-sha-512');
  return {
    brokers,
    predictionsTopic: r.need(podEnv.serverKafkaPredictionsTopic),
    feedbackTopic: r.need(podEnv.serverKafkaFeedbackTopic),
    tls: (r.text(podEnv.serverKafkaTls) ?? 'false').toLowerCase() === 'true',
    sasl: username === undefined || password === undefined ? undefined : { mechanism, username, password },
    maxBufferedEvents: r.int(podEnv.serverKafkaMaxBufferedEvents, 100_000, 1, 10_000_000),
  };
}
