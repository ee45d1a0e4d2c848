// A model to serve, made the way production makes one: the real trainer (its bundle, as the image runs it) on the
// vega-datasets weather data, Seattle 2012–2014, published to MinIO. Plus the model server started as its image
// would start it (the bundle, the pod-contract environment), on a free loopback port.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot, type ClusterInfo } from '../../localcluster/cluster.js';
import { putText, runTrainer, trainerEnv, weatherLines } from '../integration/trainer-harness.js';
import { podEnv } from '../../src/shared/pod-contract.js';
import type { PipelineRef } from '../../src/shared/artifact-layout.js';
import type { RawRow } from '../../src/shared/preprocessing.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { imageEnv } from './image-env.js';

export const weatherPipeline: PipelineRef = { namespace: 'ml', name: 'weather' };
/** Where the weather rows are: the pipeline namespace's own data prefix (a namespace reads data/<namespace>/). */
export const weatherDataPrefix = `data/${weatherPipeline.namespace}/weather/`;

export const weatherFeatures = ['precipitation', 'temp_max', 'temp_min', 'wind', 'date', 'location'] as const;

/** The weather CSV as request instances: numbers as numbers, the label kept apart. */
export function weatherInstances(location?: string): { instances: RawRow[]; labels: string[] } {
  const { header, rows } = weatherLines();
  const cols = header.split(',');
  const instances: RawRow[] = [];
  const labels: string[] = [];
  for (const line of rows) {
    const cells = line.split(',');
    const rec = Object.fromEntries(cols.map((c, i) => [c, cells[i] ?? '']));
    if (location !== undefined && rec['location'] !== location) continue;
    instances.push({
      precipitation: Number(rec['precipitation']), temp_max: Number(rec['temp_max']), temp_min: Number(rec['temp_min']),
      wind: Number(rec['wind']), date: rec['date'] ?? null, location: rec['location'] ?? null,
    });
    labels.push(rec['weather'] ?? '');
  }
  return { instances, labels };
}

/** The trainer config of test/integration/trainer-weather.test.ts (Seattle, 2015 held out), for `version`. */
export function weatherTrainerConfig(version: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'perennial.dev/trainer-config/v1',
    pipeline: weatherPipeline,
    runId: `run-${version}`,
    version,
    data: { sources: [{ prefix: weatherDataPrefix, format: 'csv' }], where: { column: 'location', in: ['Seattle'] } },
    schema: {
      features: [
        { name: 'precipitation', type: 'numeric' }, { name: 'temp_max', type: 'numeric' }, { name: 'temp_min', type: 'numeric' },
        { name: 'wind', type: 'numeric' }, { name: 'date', type: 'date' }, { name: 'location', type: 'categorical' },
      ],
      label: 'weather', task: 'classification', timestamp: 'date',
    },
    validation: { minRows: 500, ranges: { precipitation: { min: 0 }, wind: { min: 0 } }, allowedCategories: { location: ['Seattle'] }, schemaDrift: 'warning' },
    model: { hiddenUnits: [16, 8] },
    hyperparameters: { epochs: 25, batchSize: 32, learningRate: 0.01, patience: 6, validationFraction: 0.15 },
    seed: 7,
    evaluation: { holdout: { from: '2015-01-01' }, sliceColumn: 'location', gates: { thresholds: { accuracy: 0.6 } } },
    ...over,
  };
}

/** Trainer settings for a model whose quality does not matter: two epochs, no quality gate. */
export const quickTraining = {
  hyperparameters: { epochs: 2, batchSize: 64, learningRate: 0.01, patience: 1, validationFraction: 0.15 },
  evaluation: { holdout: { from: '2015-01-01' }, sliceColumn: 'location', gates: { thresholds: { accuracy: 0 } } },
};

/**
 * Uploads the weather data and runs the real trainer to publish `version` of ml/weather in `bucket` (`over` as
 * weatherTrainerConfig takes it, e.g. quickTraining).
 */
export async function trainWeatherModel(info: ClusterInfo, store: ObjectStore, bucket: string, version: string, over: Record<string, unknown> = {}): Promise<void> {
  await store.ensureBucket(bucket);
  const { header, rows } = weatherLines();
  await putText(store, bucket, `${weatherDataPrefix}all.csv`, [header, ...rows].join('\n') + '\n');
  const r = await runTrainer(trainerEnv(info, bucket, weatherTrainerConfig(version, over)));
  if (r.code !== 0) throw new Error(`trainer exited ${String(r.code)}: ${r.stdout.slice(-3000)}${r.stderr.slice(-2000)}`);
}

/** The feedback token and signing key the test servers run with (a ModelDeployment's come from its feedback Secret). */
export const testFeedbackToken = 'test-feedback-token-0123456789';
export const testSigningKey = 'test-signing-key-0123456789';

export interface ServerOptions {
  readonly bucket: string;
  readonly version: string;
  readonly deployment?: string;
  readonly spillDir?: string;
  readonly env?: Readonly<Record<string, string>>;
}

export function serverEnv(info: ClusterInfo, o: ServerOptions): NodeJS.ProcessEnv {
  const s = info.s3;
  if (!s) throw new Error('cluster runs no MinIO');
  return {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? '',
    [podEnv.storeEndpoint]: s.endPoint,
    [podEnv.storePort]: String(s.port),
    [podEnv.storeUseTls]: 'false',
    [podEnv.storeBucket]: o.bucket,
    [podEnv.storeRegion]: s.region,
    [podEnv.accessKeyId]: s.accessKey,
    [podEnv.secretAccessKey]: s.secretKey,
    [podEnv.codeVersion]: 'test',
    [podEnv.serverModel]: `${weatherPipeline.namespace}/${weatherPipeline.name}@${o.version}`,
    [podEnv.serverDeployment]: o.deployment ?? 'ml/weather',
    [podEnv.serverPort]: '0',
    [podEnv.serverFeedbackPort]: '0',
    [podEnv.serverFeedbackToken]: testFeedbackToken,
    [podEnv.serverSigningKey]: testSigningKey,
    [podEnv.serverHost]: '127.0.0.1',
    [podEnv.serverPodName]: 'test-pod',
    [podEnv.serverLogSpillDir]: o.spillDir ?? mkdtempSync(join(tmpdir(), 'perennial-spill-')),
    [podEnv.serverLogFlushMs]: '200',
    // V8's heap policy as the server image sets it (server-image/Dockerfile): the bundle runs as its pod does.
    ...imageEnv('server-image/Dockerfile'),
    ...o.env,
  };
}

let bundle: string | undefined;

/** The server bundle (scripts/bundle.mjs), built once per test process into a private folder. */
function serverBundle(): string {
  if (bundle === undefined) {
    const out = join('.cache', 'test-bundles', `server-${process.pid}`);
    execFileSync(process.execPath, [join(repoRoot, 'scripts/bundle.mjs'), 'server'], { cwd: repoRoot, env: { ...process.env, BUNDLE_OUT_DIR: out }, stdio: 'ignore' });
    bundle = join(repoRoot, out, 'server', 'main.js');
    process.on('exit', () => rmSync(join(repoRoot, out), { recursive: true, force: true }));
  }
  return bundle;
}

export interface RunningServer {
  readonly child: ChildProcess;
  /** Base URL once listening, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** Base URL of the feedback listener (POST /v1/feedback with the token), when it runs. */
  readonly feedbackUrl: string | undefined;
  /** stdout so far (JSON log lines). */
  output(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the server and waits until it listens (not until it is ready: see waitReady). */
export async function startServer(env: NodeJS.ProcessEnv): Promise<RunningServer> {
  const child = spawn(process.execPath, [serverBundle()], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let port: number | undefined;
  let feedbackPort: number | null = null;
  for (let i = 0; i < 300 && port === undefined; i++) {
    const line = out.split('\n').find((l) => l.includes('"message":"server listening"'));
    if (line !== undefined) ({ port, feedbackPort } = JSON.parse(line) as { port: number; feedbackPort: number | null });
    else if (child.exitCode !== null) throw new Error(`server exited: ${out}`);
    else await sleep(100);
  }
  if (port === undefined) throw new Error(`server did not listen: ${out}`);
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    feedbackUrl: feedbackPort === null ? undefined : `http://127.0.0.1:${feedbackPort}`,
    output: () => out,
    exited,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Polls /v2/health/ready until 200. */
export async function waitReady(s: RunningServer, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const r = await fetch(`${s.url}/v2/health/ready`).catch(() => undefined);
    if (r?.status === 200) return;
    await sleep(200);
  }
  throw new Error(`server not ready after ${timeoutMs} ms: ${s.output().slice(-3000)}`);
}

export async function postJson(url: string, body: unknown, headers: Readonly<Record<string, string>> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

/** Posts labels to a test server's feedback listener with the test token. */
export function postFeedback(s: RunningServer, body: unknown, token = testFeedbackToken): Promise<{ status: number; body: Record<string, unknown> }> {
  if (s.feedbackUrl === undefined) throw new Error('the server runs no feedback listener');
  return postJson(`${s.feedbackUrl}/v1/feedback`, body, { authorization: `Bearer ${token}` });
}
