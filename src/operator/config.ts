// The operator's configuration. This is the only module that reads process.env, and only when
// loadConfig is called, never at import time. Every value has a safe default or a clear error.
import { podEnv } from '../shared/pod-contract.js';
import type { StoreConfig } from './store-settings.js';
import { installDestination, type Destination } from './notifications/destinations.js';

export interface OperatorConfig {
  /** Namespace to watch; '' watches all. */
  readonly watchNamespace: string;
  readonly leaderElection: {
    readonly enabled: boolean;
    readonly namespace: string;
    readonly name: string;
    readonly identity: string;
  };
  /**
   * Shards to split the work into across replicas (one Lease each, named after the leader Lease); 0 = no sharding:
   * one leader works, the others stand by (PERENNIAL_SHARDS).
   */
  readonly shards: number;
  readonly healthPort: number;
  /** Address of /healthz /readyz /metrics: the chart sets the pod IP (pods on the local node share one network namespace). */
  readonly healthHost: string;
  readonly logLevel: string;
  readonly workers: number;
  /** Absent when the operator runs without an object store (it then starts no runs: it could not read their results). */
  readonly store: StoreConfig | undefined;
  /**
   * How often a pipeline with a newData trigger lists its sources (a bucket cannot be watched), unless its
   * spec.triggers.newData.pollInterval says otherwise (training-pipeline/triggers.ts dataPollIntervalMs).
   */
  readonly dataPollMs: number;
  /**
   * The endpoint bucket notifications are sent to (store-notifications/): its port and the token a notification must
   * carry (from a Secret). Absent: newData is found by polling alone (PERENNIAL_STORE_NOTIFY_PORT unset).
   */
  readonly storeNotifications: { readonly port: number; readonly host: string; readonly token: string } | undefined;
  /** Listings of newData sources per second for the whole operator (a token bucket, burst twice as many). */
  readonly storeListingsPerSecond: number;
  /** ttlSecondsAfterFinished of training Jobs: long enough for the operator to read a finished run. */
  readonly jobTtlSeconds: number;
  /** The install-time webhook of loop events (PERENNIAL_NOTIFICATIONS_URL / _FORMAT), if any: docs/observability.md. */
  readonly notifications: Destination | undefined;
  /** What namespace tenants may make the operator do: store grants, images, Prometheus servers (set at install). */
  readonly tenancy: TenancyConfig;
}

export type StoreAccess = 'Read' | 'ReadWrite';

/** An install-time grant: a namespace (or every one, "*") may use keys under a prefix of a bucket. */
export interface StoreGrant {
  readonly namespace: string;
  readonly bucket: string;
  /** Ends in "/", or "" for the whole bucket. */
  readonly prefix: string;
  readonly access: StoreAccess;
}

export interface TenancyConfig {
  /** Grants beyond a namespace's own prefixes in the default bucket (PERENNIAL_STORE_GRANTS, JSON). */
  readonly storeGrants: readonly StoreGrant[];
  /** Image prefixes spec.trainer.image must start with. */
  readonly trainerImages: readonly string[];
  /** Image prefixes spec.server.image must start with. */
  readonly serverImages: readonly string[];
  /** The Prometheus a provider of type Prometheus queries when its spec names none. */
  readonly prometheusURL: string | undefined;
  /** Further Prometheus base URLs a spec may name. */
  readonly prometheusAllowedURLs: readonly string[];
}

/** The chart's defaults: Perennial's own trainer and server images. */
export const defaultTrainerImages = ['ghcr.io/perennial-dev/perennial-trainer'] as const;
export const defaultServerImages = ['ghcr.io/perennial-dev/perennial-server'] as const;

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

function list(env: Env, name: string, fallback: readonly string[]): string[] {
  const raw = env[name];
  if (raw === undefined) return [...fallback];
  return raw.split(',').map((x) => x.trim()).filter((x) => x !== '');
}

function httpURL(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `"${raw}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(name, `"${raw}" is not an http(s) URL`);
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new ConfigError(name, `"${raw}" must be a base URL without credentials, query or fragment`);
  }
  return raw;
}

const bucketName = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const namespaceName = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** PERENNIAL_STORE_GRANTS: a JSON list of {namespace, bucket, prefix?, access?}; every field checked. */
export function parseStoreGrants(raw: string | undefined): StoreGrant[] {
  const name = 'PERENNIAL_STORE_GRANTS';
  if (raw === undefined || raw.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(name, 'must be a JSON list of {namespace, bucket, prefix, access}');
  }
  if (!Array.isArray(parsed)) throw new ConfigError(name, 'must be a JSON list of {namespace, bucket, prefix, access}');
  return parsed.map((item: unknown, i): StoreGrant => {
    const g = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const at = `[${i}]`;
    const namespace = g['namespace'];
    if (typeof namespace !== 'string' || (namespace !== '*' && !namespaceName.test(namespace))) {
      throw new ConfigError(name, `${at}.namespace must be a namespace name or "*"`);
    }
    const bucket = g['bucket'];
    if (typeof bucket !== 'string' || !bucketName.test(bucket)) throw new ConfigError(name, `${at}.bucket must be a bucket name`);
    const prefix = g['prefix'] ?? '';
    // A prefix that does not end in "/" would also cover its longer namesakes (public → public-secret/).
    if (typeof prefix !== 'string' || (prefix !== '' && (!prefix.endsWith('/') || prefix.startsWith('/')))) {
      throw new ConfigError(name, `${at}.prefix must be "" (the whole bucket) or end in "/" and not start with it`);
    }
    const access = g['access'] ?? 'Read';
    if (access !== 'Read' && access !== 'ReadWrite') throw new ConfigError(name, `${at}.access must be Read or ReadWrite`);
    return { namespace, bucket, prefix, access };
  });
}

/** PERENNIAL_STORE_NOTIFY_PORT with its token; a port without a token of at least 16 characters is an error. */
function storeNotifications(env: Env): OperatorConfig['storeNotifications'] {
  const raw = env['PERENNIAL_STORE_NOTIFY_PORT'];
  if (raw === undefined || raw === '') return undefined;
  const port = int(env, 'PERENNIAL_STORE_NOTIFY_PORT', 0, 0, 65535);
  const token = env['PERENNIAL_STORE_NOTIFY_TOKEN'] ?? '';
  if (token.length < 16) throw new ConfigError('PERENNIAL_STORE_NOTIFY_TOKEN', 'must be set (at least 16 characters) with PERENNIAL_STORE_NOTIFY_PORT');
  return { port, host: env['PERENNIAL_STORE_NOTIFY_HOST'] || '0.0.0.0', token };
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
    shards: int(env, 'PERENNIAL_SHARDS', 0, 0, 256),
    healthPort: int(env, 'PERENNIAL_HEALTH_PORT', 8081, 0, 65535),
    healthHost: env['PERENNIAL_HEALTH_HOST'] || '0.0.0.0',
    logLevel: env['PERENNIAL_LOG_LEVEL'] ?? 'info',
    workers: int(env, 'PERENNIAL_WORKERS', 16, 1, 64),
    store,
    dataPollMs: int(env, 'PERENNIAL_DATA_POLL_SECONDS', 60, 1, 86_400) * 1000,
    storeNotifications: storeNotifications(env),
    storeListingsPerSecond: int(env, 'PERENNIAL_STORE_LISTINGS_PER_SECOND', 50, 1, 10_000),
    jobTtlSeconds: int(env, 'PERENNIAL_JOB_TTL_SECONDS', 86_400, 60, 30 * 86_400),
    notifications: installDestination(env),
    tenancy: {
      storeGrants: parseStoreGrants(env['PERENNIAL_STORE_GRANTS']),
      trainerImages: list(env, 'PERENNIAL_TRAINER_IMAGES', defaultTrainerImages),
      serverImages: list(env, 'PERENNIAL_SERVER_IMAGES', defaultServerImages),
      prometheusURL: env['PERENNIAL_PROMETHEUS_URL'] ? httpURL('PERENNIAL_PROMETHEUS_URL', env['PERENNIAL_PROMETHEUS_URL']) : undefined,
      prometheusAllowedURLs: list(env, 'PERENNIAL_PROMETHEUS_ALLOWED_URLS', []).map((u) => httpURL('PERENNIAL_PROMETHEUS_ALLOWED_URLS', u)),
    },
  };
}
