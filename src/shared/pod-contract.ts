// The pod contract: what the operator puts in a trainer or server container's environment, and what the
// trainer's exit code means. The operator builds Jobs from these names and reads the exit code through a
// podFailurePolicy (invalid config/data → FailJob, store unavailable → Count, i.e. retried).
// Version 1. Language-neutral: a trainer written in another language honours the same names and codes.
import { existsSync, writeFileSync } from 'node:fs';

export const podContractVersion = 1;

/** Environment variable names. Credentials come from a Secret through `valueFrom.secretKeyRef`. */
export const podEnv = {
  /** The trainer config as one JSON document (see trainer-config.ts). Takes precedence over the file. */
  trainerConfig: 'PERENNIAL_TRAINER_CONFIG',
  /** Path of a mounted file holding the trainer config JSON, used when PERENNIAL_TRAINER_CONFIG is unset. */
  trainerConfigFile: 'PERENNIAL_TRAINER_CONFIG_FILE',
  /** Object store host name or IP, e.g. `minio.perennial-system.svc`. */
  storeEndpoint: 'PERENNIAL_S3_ENDPOINT',
  /** Object store port; defaults to 443 with TLS, 80 without. */
  storePort: 'PERENNIAL_S3_PORT',
  /** "true" or "false" (default "true"). */
  storeUseTls: 'PERENNIAL_S3_TLS',
  /** Default bucket for artifacts and data sources that name no bucket. */
  storeBucket: 'PERENNIAL_S3_BUCKET',
  storeRegion: 'PERENNIAL_S3_REGION',
  /** Optional PEM bundle path to trust for the store's TLS certificate. */
  storeCaFile: 'PERENNIAL_S3_CA_FILE',
  accessKeyId: 'AWS_ACCESS_KEY_ID',
  secretAccessKey: 'AWS_SECRET_ACCESS_KEY',
  /** Where to write the short outcome summary; default /dev/termination-log (only if it exists). */
  terminationMessagePath: 'PERENNIAL_TERMINATION_MESSAGE_PATH',
  /** Forces a TensorFlow.js backend (tensorflow-gpu | tensorflow | wasm | cpu) instead of the fallback order. */
  tfBackend: 'PERENNIAL_TF_BACKEND',
  /** The code/image version recorded in lineage (the operator sets the image reference). */
  codeVersion: 'PERENNIAL_CODE_VERSION',
  /** winston level: error | warn | info | debug. */
  logLevel: 'PERENNIAL_LOG_LEVEL',
  // --- the model server (src/server/config.ts reads these) ---
  /** The version to serve: `<namespace>/<pipeline>@<version>` (artifacts under pipelines/ in the bucket). */
  serverModel: 'PERENNIAL_SERVER_MODEL',
  /** Bucket holding the model when it is not the default bucket. */
  serverModelBucket: 'PERENNIAL_SERVER_MODEL_BUCKET',
  /** Name the model is served under (`/v2/models/<name>`); default the pipeline name. */
  serverModelName: 'PERENNIAL_SERVER_MODEL_NAME',
  /** `<namespace>/<deployment>`: inference logs go under deployments/<namespace>/<deployment>/. */
  serverDeployment: 'PERENNIAL_SERVER_DEPLOYMENT',
  /**
   * stable | canary | shadow: recorded in every prediction record. The operator does not set it: a pod's track
   * changes while it runs (a canary promoted), so the operator says it in the settings file (server-settings.ts),
   * which wins over this when present.
   */
  serverTrack: 'PERENNIAL_SERVER_TRACK',
  /** "false": write no inference log (neither predictions nor labels); default true. The settings file wins when present. */
  serverLogPredictions: 'PERENNIAL_SERVER_LOG_PREDICTIONS',
  /** The pod's revision (its Deployment's hash): which entry of the settings file's tracks is this pod's. */
  serverRevision: 'PERENNIAL_SERVER_REVISION',
  /** Path of the settings file the operator keeps current (server-settings.ts); read again every few seconds. */
  serverSettingsFile: 'PERENNIAL_SERVER_SETTINGS_FILE',
  /** Pod name (downward API): makes log object names unique per replica. Default: the host name. */
  serverPodName: 'PERENNIAL_SERVER_POD_NAME',
  /** HTTP port (default 8080). */
  serverPort: 'PERENNIAL_SERVER_PORT',
  /**
   * Port of the OIP v2 gRPC listener (inference.GRPCInferenceService and grpc.health.v1, plaintext HTTP/2); 0 or unset:
   * no gRPC listener. Must differ from the HTTP and feedback ports.
   */
  serverGrpcPort: 'PERENNIAL_SERVER_GRPC_PORT',
  /**
   * Age in ms at which a gRPC connection is sent GOAWAY (calls in flight get 10 s more), so clients reconnect and a
   * Service spreads them over the pods, a canary's included (default 30000; 0: never).
   */
  serverGrpcMaxConnectionAgeMs: 'PERENNIAL_SERVER_GRPC_MAX_CONNECTION_AGE_MS',
  /** Most concurrent gRPC calls on one connection (default 100; 0: grpc-js's default, no bound). */
  serverGrpcMaxConcurrentStreams: 'PERENNIAL_SERVER_GRPC_MAX_CONCURRENT_STREAMS',
  /** A gRPC connection with no call for this long, in ms, is closed (default 300000; 0: never). */
  serverGrpcMaxConnectionIdleMs: 'PERENNIAL_SERVER_GRPC_MAX_CONNECTION_IDLE_MS',
  /**
   * Serving processes in the pod (default 1: one process does everything). N > 1: a primary forks N workers that share
   * the inference and gRPC ports (node:cluster), each with its own model; the primary keeps what must be whole per pod
   * (feedback, drift and confidence windows, shadow scoring, /metrics summed over the workers). Set it to the pod's CPUs.
   */
  serverWorkers: 'PERENNIAL_SERVER_WORKERS',
  /** Address to listen on (default 0.0.0.0). */
  serverHost: 'PERENNIAL_SERVER_HOST',
  /** Most rows per model call (default 64). */
  serverBatchMaxSize: 'PERENNIAL_SERVER_BATCH_MAX_SIZE',
  /**
   * Longest a row waits for others before a model call, in ms (default 0: a call starts at once when the model is
   * idle, and rows arriving while it runs form the next batch, so batches still grow with load).
   */
  serverBatchMaxWaitMs: 'PERENNIAL_SERVER_BATCH_MAX_WAIT_MS',
  /** Rows waiting for the model before new requests get 503 (default 4096). */
  serverQueueMaxRows: 'PERENNIAL_SERVER_QUEUE_MAX_ROWS',
  /** Most instances in one request (default 1000). */
  serverMaxInstances: 'PERENNIAL_SERVER_MAX_INSTANCES',
  /** Largest request body in bytes (default 1 MiB). */
  serverMaxBodyBytes: 'PERENNIAL_SERVER_MAX_BODY_BYTES',
  /** Longest wait for a request's headers, in ms (default 10000; 0: Node's 60 s). Past it: 408, connection closed. */
  serverHeadersTimeoutMs: 'PERENNIAL_SERVER_HEADERS_TIMEOUT_MS',
  /** Longest wait for a request's whole body once its headers are in, in ms (default 10000; 0: none). Past it: 408. */
  serverBodyTimeoutMs: 'PERENNIAL_SERVER_BODY_TIMEOUT_MS',
  /** Most open connections per listener; more are closed at once (default 1024; 0: no cap). */
  serverMaxConnections: 'PERENNIAL_SERVER_MAX_CONNECTIONS',
  /**
   * Requests answered on one kept-alive HTTP connection before the answer says `Connection: close`, so a Service can
   * move the client to another pod (default 1000; 0: no cap).
   */
  serverMaxRequestsPerConnection: 'PERENNIAL_SERVER_MAX_REQUESTS_PER_CONNECTION',
  /**
   * Age in ms past which a kept-alive HTTP connection's next answer says `Connection: close` (default 5000, each
   * connection's drawn between half and all of it; 0: none): with the request cap, a client of any rate reaches a new
   * pod (a canary) within seconds.
   */
  serverMaxConnectionAgeMs: 'PERENNIAL_SERVER_MAX_CONNECTION_AGE_MS',
  /** Most UTF-8 bytes of any string value in a request (categorical and date features, the v2 id); default 256, 0: no cap. */
  serverMaxStringBytes: 'PERENNIAL_SERVER_MAX_STRING_BYTES',
  /**
   * V8's old-generation growing factor in each serving process, as 1 + percent / 100 (default 300: a factor of 4; 0:
   * V8 picks it, which under steady load was measured marking every few seconds; heap-policy.ts).
   */
  serverHeapGrowingPercent: 'PERENNIAL_SERVER_HEAP_GROWING_PERCENT',
  /** Sliding window of the drift PSI, in seconds (default 3600). */
  serverDriftWindowSeconds: 'PERENNIAL_SERVER_DRIFT_WINDOW_SECONDS',
  /**
   * Most rows in the drift window: the newest N rows that are also within the seconds above (default 0: no row bound,
   * the whole duration). Memory about 2 bytes × N × features.
   */
  serverDriftWindowRows: 'PERENNIAL_SERVER_DRIFT_WINDOW_ROWS',
  /** Port of the feedback listener (POST /v1/feedback), apart from the inference port (default 8081). */
  serverFeedbackPort: 'PERENNIAL_SERVER_FEEDBACK_PORT',
  /**
   * Bearer tokens the feedback listener accepts, separated by commas or newlines (several during a rotation); from
   * the ModelDeployment's feedback Secret (key `token`). Unset: the feedback listener is not started.
   */
  serverFeedbackToken: 'PERENNIAL_SERVER_FEEDBACK_TOKEN',
  /**
   * Key (at least 16 bytes of text) that signs prediction ids, shared by every replica of a ModelDeployment; from its
   * feedback Secret (key `signingKey`). Unset: a random key per process (only this process can verify its ids).
   */
  serverSigningKey: 'PERENNIAL_SERVER_SIGNING_KEY',
  /** Labels are taken for predictions at most this old, in seconds (default 86400, at most 365 days). */
  serverFeedbackTtlSeconds: 'PERENNIAL_SERVER_FEEDBACK_TTL_SECONDS',
  /** Most labelled prediction ids remembered to refuse second labels (default 200000; the oldest go first). */
  serverFeedbackMaxIds: 'PERENNIAL_SERVER_FEEDBACK_MAX_IDS',
  /** Local folder (an emptyDir) for log batches the object store could not take. Default /tmp/perennial-spill. */
  serverLogSpillDir: 'PERENNIAL_SERVER_LOG_SPILL_DIR',
  /** Records per log object (default 1000). */
  serverLogBatchRecords: 'PERENNIAL_SERVER_LOG_BATCH_RECORDS',
  /** Longest a record waits in memory before its batch is written, in ms (default 5000). */
  serverLogFlushMs: 'PERENNIAL_SERVER_LOG_FLUSH_MS',
  /** Records held in memory at most; beyond it sealed batches go to the spill folder (default 20000). */
  serverLogMaxMemoryRecords: 'PERENNIAL_SERVER_LOG_MAX_MEMORY_RECORDS',
  /** Bytes per log object at most: a batch is sealed at this size or at the record count (default 1 MiB). */
  serverLogBatchBytes: 'PERENNIAL_SERVER_LOG_BATCH_BYTES',
  /** Bytes of log records held in memory per stream at most; beyond it sealed batches go to the spill folder (default 32 MiB). */
  serverLogMaxMemoryBytes: 'PERENNIAL_SERVER_LOG_MAX_MEMORY_BYTES',
  /**
   * Bytes in the spill folder at most, both streams together (default 256 MiB; keep it below the volume's size limit).
   * A batch that fits neither memory nor the folder is dropped, counted (outcome `dropped`) and logged.
   */
  serverLogMaxSpillBytes: 'PERENNIAL_SERVER_LOG_MAX_SPILL_BYTES',
  /** URL of the shadow's `:predict` endpoint; mirroring is off when unset. */
  serverShadowUrl: 'PERENNIAL_SERVER_SHADOW_URL',
  /** Share of requests mirrored, 0..1 (default 1). */
  serverShadowSample: 'PERENNIAL_SERVER_SHADOW_SAMPLE',
  /** Shadow request timeout in ms (default 2000). */
  serverShadowTimeoutMs: 'PERENNIAL_SERVER_SHADOW_TIMEOUT_MS',
  /** On the shadow track: how often the inference log is read back to pair mirrored rows (ms, default 5000). */
  serverShadowPollMs: 'PERENNIAL_SERVER_SHADOW_POLL_MS',
  /** Relative tolerance under which a shadow's regression value agrees with the serving version's (default 0.01). */
  serverShadowTolerance: 'PERENNIAL_SERVER_SHADOW_TOLERANCE',
  /** Longest the server drains on SIGTERM before it flushes and exits, in ms (default 25000). */
  serverDrainTimeoutMs: 'PERENNIAL_SERVER_DRAIN_TIMEOUT_MS',
  /**
   * On SIGTERM the server reports unready but goes on serving this long (ms, default 5000, part of the drain timeout)
   * before it refuses new requests: EndpointSlices and kube-proxy learn of the pod's deletion concurrently with it.
   */
  serverShutdownDelayMs: 'PERENNIAL_SERVER_SHUTDOWN_DELAY_MS',
  // --- the Kafka sink (spec.server.kafka; src/server/kafka-sink.ts) ---
  /** Comma-separated `host:port` bootstrap servers; the sink is off when unset. */
  serverKafkaBrokers: 'PERENNIAL_SERVER_KAFKA_BROKERS',
  /** Topic of the prediction events. */
  serverKafkaPredictionsTopic: 'PERENNIAL_SERVER_KAFKA_PREDICTIONS_TOPIC',
  /** Topic of the feedback events. */
  serverKafkaFeedbackTopic: 'PERENNIAL_SERVER_KAFKA_FEEDBACK_TOPIC',
  /** "true": TLS to the brokers (default "false"). */
  serverKafkaTls: 'PERENNIAL_SERVER_KAFKA_TLS',
  /** plain | scram-sha-256 | scram-sha-512 (default scram-sha-512), used when a username is set. */
  serverKafkaSaslMechanism: 'PERENNIAL_SERVER_KAFKA_SASL_MECHANISM',
  /** SASL username and password, from the Secret spec.server.kafka.secretName names (keys username, password). */
  serverKafkaUsername: 'PERENNIAL_SERVER_KAFKA_USERNAME',
  serverKafkaPassword: 'PERENNIAL_SERVER_KAFKA_PASSWORD',
  /** Events held while the broker is away (default 100000); more are dropped and counted. */
  serverKafkaMaxBufferedEvents: 'PERENNIAL_SERVER_KAFKA_MAX_BUFFERED_EVENTS',
} as const;

/**
 * The server's connection ages when their variables are unset (serverMaxConnectionAgeMs, serverGrpcMaxConnectionAgeMs):
 * the operator sets the variables only for other values (spec.server.maxConnectionAge, grpcMaxConnectionAge).
 */
export const serverConnectionAgeDefaultsMs = { http: 5000, grpc: 30_000 } as const;

/**
 * Trainer exit codes (sysexits-style so they never collide with Node's own 1 for an uncaught error or
 * 128+n for a signal). Only `storeUnavailable` and `internalError` are worth a retry.
 */
export const exitCodes = {
  success: 0,
  /** The config document is missing, not JSON, or violates the schema. Not retried. */
  invalidConfig: 78,
  /** The data failed validation; the validation report is in the run prefix. Not retried. */
  invalidData: 65,
  /** The object store could not be reached or answered 5xx. Retried by the Job. */
  storeUnavailable: 75,
  /** A bug or an unexpected failure. Retried (a checkpoint makes the retry cheap). */
  internalError: 70,
} as const;

export type ExitCodeName = keyof typeof exitCodes;
export type ExitCode = (typeof exitCodes)[ExitCodeName];

/** Codes after which the Job must not start another pod. */
export const nonRetryableExitCodes: readonly ExitCode[] = [exitCodes.invalidConfig, exitCodes.invalidData];

export const defaultTerminationMessagePath = '/dev/termination-log';
/** The kubelet keeps at most 4096 bytes of a termination message. */
export const terminationMessageMaxBytes = 4096;

/** The summary written to the termination log: the operator reads it from the pod status. */
export interface TerminationMessage {
  readonly outcome: ExitCodeName;
  readonly exitCode: ExitCode;
  readonly message: string;
  readonly runId?: string;
  readonly version?: string;
  /** Key of the manifest (success) or of the validation report (invalid data). */
  readonly key?: string;
}

/** Serialises a termination message, shortening `message` so the JSON fits the kubelet's limit. */
export function formatTerminationMessage(m: TerminationMessage): string {
  let text = JSON.stringify(m);
  let message = m.message;
  while (Buffer.byteLength(text) > terminationMessageMaxBytes && message.length > 0) {
    message = message.slice(0, Math.floor(message.length / 2));
    text = JSON.stringify({ ...m, message: `${message}…` });
  }
  return text;
}

/**
 * Writes the summary where the kubelet looks. The default path is used only if it exists (it does not outside
 * a pod); a path that was configured explicitly is created.
 */
export function writeTerminationMessage(
  m: TerminationMessage,
  path: string | undefined,
): boolean {
  const target = path ?? defaultTerminationMessagePath;
  if (path === undefined && !existsSync(target)) return false;
  try {
    writeFileSync(target, formatTerminationMessage(m));
    return true;
  } catch {
    return false;
  }
}
