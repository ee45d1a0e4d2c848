// The operator's configuration. This is the only module that reads process.env (STYLE.md §10), and only when
// loadConfig is called, never at import time. Every value has a safe default or a clear error.
import { podEnv } from '../shared/pod-contract.js';

export interface StoreConfig {
  readonly endPoint: string;
  readonly port: number | undefined;
  readonly useSSL: boolean;
  readonly region: string;
  readonly bucket: string;
  /** The Secret (in each workload's namespace, or referenced per pipeline) with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for trainer and server pods. */
  readonly credentialsSecret: string;
  readonly accessKey: string;
  readonly secretKey: string;
}

export interface OperatorConfig {
  /** Namespace to watch; '' watches all. */
  readonly watchNamespace: string;
  readonly leaderElection: {
    readonly enabled: boolean;
    readonly namespace: string;
    readonly name: string;
    readonly identity: string;
  };
  readonly healthPort: number;
  /** Address of /healthz /readyz /metrics: the chart sets the pod IP (pods on the local node share one network namespace). */
  readonly healthHost: string;
  readonly logLevel: string;
  readonly workers: number;
  /** Absent when the operator runs without an object store (it then starts no runs: it could not read their results). */
  readonly store: StoreConfig | undefined;
  /** How often a pipeline with a newData trigger lists its sources (a bucket cannot be watched). */
  readonly dataPollMs: number;
  /** ttlSecondsAfterFinished of training Jobs: long enough for the operator to read a finished run. */
  readonly jobTtlSeconds: number;
}

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(name, `must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

export function loadConfig(env: Env = process.env): OperatorConfig {
  const podNamespace = env['POD_NAMESPACE'] ?? 'perennial-system';
  const identity = env['POD_NAME'] ?? `${env['HOSTNAME'] ?? 'perennial-operator'}-${process.pid}`;
  const endPoint = env[podEnv.storeEndpoint];
  let store: StoreConfig | undefined;
  if (endPoint) {
    const accessKey = env[podEnv.accessKeyId];
    const secretKey = env[podEnv.secretAccessKey];
    if (!accessKey || !secretKey) {
      throw new ConfigError(podEnv.accessKeyId, `${podEnv.accessKeyId} and ${podEnv.secretAccessKey} are required with ${podEnv.storeEndpoint}`);
    }
    const port = env[podEnv.storePort] ? int(env, podEnv.storePort, 443, 1, 65535) : undefined;
    store = {
      endPoint,
      port,
      useSSL: bool(env, podEnv.storeUseTls, true),
      region: env[podEnv.storeRegion] ?? 'us-east-1',
      bucket: env[podEnv.storeBucket] ?? 'perennial',
      credentialsSecret: env['PERENNIAL_S3_CREDENTIALS_SECRET'] ?? 'perennial-s3',
      accessKey,
      secretKey,
    };
  }
  return {
    watchNamespace: env['PERENNIAL_WATCH_NAMESPACE'] ?? '',
    leaderElection: {
      enabled: bool(env, 'PERENNIAL_LEADER_ELECT', true),
      namespace: env['PERENNIAL_LEASE_NAMESPACE'] ?? podNamespace,
      name: env['PERENNIAL_LEASE_NAME'] ?? 'perennial-operator',
      identity,
    },
    healthPort: int(env, 'PERENNIAL_HEALTH_PORT', 8081, 0, 65535),
    healthHost: env['PERENNIAL_HEALTH_HOST'] || '0.0.0.0',
    logLevel: env['PERENNIAL_LOG_LEVEL'] ?? 'info',
    workers: int(env, 'PERENNIAL_WORKERS', 2, 1, 64),
    store,
    dataPollMs: int(env, 'PERENNIAL_DATA_POLL_SECONDS', 60, 1, 86_400) * 1000,
    jobTtlSeconds: int(env, 'PERENNIAL_JOB_TTL_SECONDS', 86_400, 60, 30 * 86_400),
  };
}
