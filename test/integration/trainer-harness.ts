// Runs the real trainer as a child process with the pod-contract environment, as a Job's container would,
// against the MinIO of the shared local cluster. Shared by the trainer-*.test.ts files.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { repoRoot, type ClusterInfo } from '../../localcluster/cluster.js';
import { podEnv } from '../../src/shared/pod-contract.js';
import { MinioStore } from '../../src/storage/minio-store.js';
import type { ObjectStore } from '../../src/storage/object-store.js';

export const weatherCsvPath = join(repoRoot, 'node_modules/vega-datasets/data/weather.csv');

export function weatherLines(): { header: string; rows: string[] } {
  const [header = '', ...rows] = readFileSync(weatherCsvPath, 'utf8').split('\n').filter((l) => l.trim() !== '');
  return { header, rows };
}

export function storeFor(info: ClusterInfo): MinioStore {
  const s = info.s3;
  if (!s) throw new Error('cluster runs no MinIO');
  return new MinioStore({ endPoint: s.endPoint, port: s.port, useSSL: false, accessKey: s.accessKey, secretKey: s.secretKey, region: s.region });
}

export function trainerEnv(info: ClusterInfo, bucket: string, config: unknown): NodeJS.ProcessEnv {
  const s = info.s3;
  if (!s) throw new Error('cluster runs no MinIO');
  return {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? '',
    [podEnv.trainerConfig]: JSON.stringify(config),
    [podEnv.storeEndpoint]: s.endPoint,
    [podEnv.storePort]: String(s.port),
    [podEnv.storeUseTls]: 'false',
    [podEnv.storeBucket]: bucket,
    [podEnv.storeRegion]: s.region,
    [podEnv.accessKeyId]: s.accessKey,
    [podEnv.secretAccessKey]: s.secretKey,
    [podEnv.codeVersion]: 'test',
  };
}

export interface TrainerRun {
  readonly child: ChildProcess;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

let bundle: string | undefined;

/**
 * The trainer bundle as the image runs it (scripts/bundle.mjs), built once per test process into a private
 * folder so test files running in parallel never overwrite each other's. PERENNIAL_TEST_TRAINER=tsx runs the
 * sources through tsx instead.
 */
function trainerArgs(): string[] {
  if (process.env['PERENNIAL_TEST_TRAINER'] === 'tsx') return ['--import', 'tsx', join(repoRoot, 'src/trainer/main.ts')];
  if (bundle === undefined) {
    const out = join('.cache', 'test-bundles', String(process.pid));
    execFileSync(process.execPath, [join(repoRoot, 'scripts/bundle.mjs'), 'trainer'], { cwd: repoRoot, env: { ...process.env, BUNDLE_OUT_DIR: out }, stdio: 'ignore' });
    bundle = join(repoRoot, out, 'trainer', 'main.js');
    process.on('exit', () => rmSync(join(repoRoot, out), { recursive: true, force: true }));
  }
  return [bundle];
}

/** Starts the trainer as a child process with only the given environment. */
export function startTrainer(env: NodeJS.ProcessEnv): TrainerRun {
  const child = spawn(process.execPath, trainerArgs(), { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export async function runTrainer(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return startTrainer(env).done;
}

export async function readJsonObject<T>(store: ObjectStore, bucket: string, key: string): Promise<T> {
  return JSON.parse((await store.getBuffer(bucket, key)).toString('utf8')) as T;
}

export async function putText(store: ObjectStore, bucket: string, key: string, text: string): Promise<void> {
  await store.put(bucket, key, Readable.from([Buffer.from(text)]), { contentType: 'text/csv' });
}
