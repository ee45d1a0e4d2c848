// The only reader of the environment in the server: turns the pod contract's variables into a typed value,
// reporting every problem at once.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { isBackendName, type BackendName } from '../ml/backend.js';
import { isKeySegment, type DeploymentRef, type PipelineRef } from '../shared/artifact-layout.js';
import { podEnv } from '../shared/pod-contract.js';
import type { MinioStoreOptions } from '../storage/minio-store.js';
import type { EdgeLimits } from './http-io.js';

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
  readonly track: string;
  readonly podName: string;
  readonly host: string;
  readonly port: number;
  readonly batch: { readonly maxSize: number; readonly maxWaitMs: number; readonly maxQueueRows: number };
  readonly maxInstances: number;
  readonly maxBodyBytes: number;
  /** Both listeners' bounds: header and body timeouts, connections. */
  readonly edge: EdgeLimits;
  readonly maxStringBytes: number;
  readonly driftWindowSeconds: number;
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

export function readServerConfig(env: NodeJS.ProcessEnv): ServerConfig {
  const problems: string[] = [];
  const text = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const need = (name: string): string => {
    const v = text(name);
    if (v === undefined) problems.push(`environment variable ${name} is not set`);
    return v ?? '';
  };
  const num = (name: string, dflt: number, min: number, max: number, integer = true): number => {
    const v = text(name);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      problems.push(`${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(v)}`);
      return dflt;
    }
    return n;
  };

  const modelText = need(podEnv.serverModel);
  const model = modelText === '' ? undefined : parseModelRef(modelText);
  if (modelText !== '' && model === undefined) problems.push(`${podEnv.serverModel} must look like <namespace>/<pipeline>@<version>, got ${JSON.stringify(modelText)}`);
  const depText = need(podEnv.serverDeployment);
  const dep = /^([^/]+)\/([^/]+)$/.exec(depText);
  if (depText !== '' && (!dep || !isKeySegment(dep[1] ?? '') || !isKeySegment(dep[2] ?? ''))) {
    problems.push(`${podEnv.serverDeployment} must look like <namespace>/<deployment>, got ${JSON.stringify(depText)}`);
  }
  const track = text(podEnv.serverTrack) ?? 'stable';
  if (!['stable', 'canary', 'shadow'].includes(track)) problems.push(`${podEnv.serverTrack} must be stable, canary or shadow`);
  const shadowUrl = text(podEnv.serverShadowUrl);
  if (shadowUrl !== undefined) {
    try {
      const u = new URL(shadowUrl);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') problems.push(`${podEnv.serverShadowUrl} must be an http(s) URL`);
    } catch {
      problems.push(`${podEnv.serverShadowUrl} is not a URL: ${JSON.stringify(shadowUrl)}`);
    }
  }
  const backend = text(podEnv.tfBackend);
  if (backend !== undefined && !isBackendName(backend)) problems.push(`${podEnv.tfBackend} must be one of tensorflow-gpu, tensorflow, wasm, cpu`);
  // Tokens and the key are secrets: problems name the variable, never the value.
  const tokens = (env[podEnv.serverFeedbackToken] ?? '').split(/[,\n]/).map((t) => t.trim()).filter((t) => t !== '');
  if (tokens.some((t) => t.length < 16 || /\s/.test(t))) problems.push(`${podEnv.serverFeedbackToken}: every token must be at least 16 characters without spaces`);
  const signingKeyText = text(podEnv.serverSigningKey);
  if (signingKeyText !== undefined && Buffer.byteLength(signingKeyText) < 16) problems.push(`${podEnv.serverSigningKey} must be at least 16 bytes`);
  const storePort = text(podEnv.storePort) === undefined ? undefined : num(podEnv.storePort, 0, 1, 65535);
  const bucket = need(podEnv.storeBucket);
  const store: MinioStoreOptions = {
    endPoint: need(podEnv.storeEndpoint),
    port: storePort,
    useSSL: (text(podEnv.storeUseTls) ?? 'true').toLowerCase() !== 'false',
    accessKey: need(podEnv.accessKeyId),
    secretKey: need(podEnv.secretAccessKey),
    region: text(podEnv.storeRegion),
    caFile: text(podEnv.storeCaFile),
  };
  const config: ServerConfig = {
    store,
    bucket,
    modelBucket: text(podEnv.serverModelBucket) ?? bucket,
    pipeline: model?.pipeline ?? { namespace: '', name: '' },
    version: model?.version ?? '',
    modelName: text(podEnv.serverModelName) ?? model?.pipeline.name ?? '',
    deployment: { namespace: dep?.[1] ?? '', name: dep?.[2] ?? '' },
    track,
    podName: text(podEnv.serverPodName) ?? hostname(),
    host: text(podEnv.serverHost) ?? '0.0.0.0',
    port: num(podEnv.serverPort, 8080, 0, 65535),
    batch: {
      maxSize: num(podEnv.serverBatchMaxSize, 64, 1, 4096),
      maxWaitMs: num(podEnv.serverBatchMaxWaitMs, 0, 0, 1000, false),
      maxQueueRows: num(podEnv.serverQueueMaxRows, 4096, 1, 1_000_000),
    },
    maxInstances: num(podEnv.serverMaxInstances, 1000, 1, 100_000),
    maxBodyBytes: num(podEnv.serverMaxBodyBytes, 1 << 20, 1024, 1 << 30),
    edge: {
      headersTimeoutMs: num(podEnv.serverHeadersTimeoutMs, 10_000, 0, 600_000),
      bodyTimeoutMs: num(podEnv.serverBodyTimeoutMs, 10_000, 0, 600_000),
      maxConnections: num(podEnv.serverMaxConnections, 1024, 0, 1_000_000),
    },
    maxStringBytes: num(podEnv.serverMaxStringBytes, 256, 0, 1 << 20),
    driftWindowSeconds: num(podEnv.serverDriftWindowSeconds, 3600, 10, 7 * 86400),
    feedback: {
      port: tokens.length === 0 ? undefined : num(podEnv.serverFeedbackPort, 8081, 0, 65535),
      tokens,
      ttlSeconds: num(podEnv.serverFeedbackTtlSeconds, 86400, 1, 365 * 86400),
      maxIds: num(podEnv.serverFeedbackMaxIds, 200_000, 1, 10_000_000),
    },
    signingKey: signingKeyText === undefined ? { key: randomBytes(32), generated: true } : { key: Buffer.from(signingKeyText), generated: false },
    log: {
      spillDir: text(podEnv.serverLogSpillDir) ?? '/tmp/perennial-spill',
      batchRecords: num(podEnv.serverLogBatchRecords, 1000, 1, 100_000),
      flushMs: num(podEnv.serverLogFlushMs, 5000, 10, 600_000),
      maxMemoryRecords: num(podEnv.serverLogMaxMemoryRecords, 20_000, 1, 10_000_000),
      batchBytes: num(podEnv.serverLogBatchBytes, 1 << 20, 1024, 256 << 20),
      maxMemoryBytes: num(podEnv.serverLogMaxMemoryBytes, 32 << 20, 2048, 2 ** 34),
      maxSpillBytes: num(podEnv.serverLogMaxSpillBytes, 256 << 20, 0, 2 ** 40),
    },
    shadow: shadowUrl === undefined ? undefined : {
      url: shadowUrl,
      sample: num(podEnv.serverShadowSample, 1, 0, 1, false),
      timeoutMs: num(podEnv.serverShadowTimeoutMs, 2000, 1, 60_000),
    },
    drainTimeoutMs: num(podEnv.serverDrainTimeoutMs, 25_000, 0, 600_000),
    shutdownDelayMs: num(podEnv.serverShutdownDelayMs, 5000, 0, 600_000),
    forcedBackend: backend !== undefined && isBackendName(backend) ? backend : undefined,
    codeVersion: text(podEnv.codeVersion) ?? 'dev',
    logLevel: text(podEnv.logLevel) ?? 'info',
  };
  // A sealed batch must fit in memory beside the open one, or the memory bound could not hold.
  if (config.log.maxMemoryBytes < 2 * config.log.batchBytes) {
    problems.push(`${podEnv.serverLogMaxMemoryBytes} (${config.log.maxMemoryBytes}) must be at least twice ${podEnv.serverLogBatchBytes} (${config.log.batchBytes})`);
  }
  if (problems.length > 0) throw new ServerConfigError(problems);
  return config;
}
