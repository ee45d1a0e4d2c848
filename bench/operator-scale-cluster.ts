// The pieces of the operator-scale benchmark that its runs share (bench/operator-scale.ts): the users, the cluster's
// objects and data, the operator as its own process, and the waits on what the API server says.
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalCluster, kubeconfigYaml, repoRoot, type ClusterInfo } from '../localcluster/cluster.js';
import { freePort } from '../localcluster/net.js';
import { ManagedProcess } from '../localcluster/process.js';
import { kubeConfigFor } from '../localcluster/test-cluster.js';
import { installCrds } from '../test/support/crds.js';
import { installGatewayApiCrds } from '../test/support/gateway-api-crds.js';
import { credentialsSecret, localOperatorEnv } from '../test/support/loop-stack.js';
import { weatherDataPrefix, yearlyCsv } from '../test/support/weather-loop.js';
import { putText, storeFor } from '../test/integration/trainer-harness.js';
import { imageEnv as dockerfileEnv } from '../test/support/image-env.js';
import { deployments, httpRoutes, jobs, modelDeployments, services, trainingPipelines } from '../src/operator/resources.js';
import { KubeHttpClient } from '../src/operator/runtime/kube-http.js';
import { type ResourceRef, resourcePath } from '../src/operator/runtime/resource.js';
import { auditPolicy, countRequests, RssSampler } from './operator-scale-measure.js';
import { scaleObjects, type ScaleObject, type ScaleSet } from './operator-scale-objects.js';

export const operatorUser = 'perennial-operator';
export const informerUser = 'bare-informer';
export const bucket = 'perennial';
export const workDir = join(repoRoot, '.cache', 'bench-operator-scale');
export const controllers = ['trainingpipeline', 'modeldeployment'] as const;
export const reconcileTimeoutMs = 20 * 60_000;

/**
 * The NODE_OPTIONS the operator image sets (the Dockerfile's `ENV NODE_OPTIONS=...`: V8's heap policy), so that the
 * benchmark runs the operator as its pod does; '' when the image sets none.
 */
export function imageNodeOptions(): string {
  return imageEnv()['NODE_OPTIONS'] ?? '';
}

/**
 * The environment the operator image sets (V8's heap policy, glibc's MALLOC_ARENA_MAX, NODE_ENV), so that the
 * benchmark runs the operator as its pod does.
 */
export function imageEnv(): Record<string, string> {
  return dockerfileEnv('Dockerfile');
}

export class BenchError extends Error {
  override readonly name = 'BenchError';
}

export async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await fn(item);
    }
  }));
}

export interface Listed {
  readonly metadata?: { readonly namespace?: string; readonly generation?: number; readonly creationTimestamp?: string };
  readonly status?: {
    readonly observedGeneration?: number; readonly currentRun?: string;
    readonly conditions?: ReadonlyArray<{ readonly lastTransitionTime?: string }>;
  };
}

/**
 * Each pipeline's and deployment's creation → first status from the operator: the earliest lastTransitionTime of its
 * conditions less its creationTimestamp, in seconds (both are whole seconds: ±1 s). Sorted ascending.
 */
export async function reconcileLatencies(http: KubeHttpClient): Promise<number[]> {
  const out: number[] = [];
  for (const ref of [trainingPipelines, modelDeployments]) {
    for (const o of await listAll(http, ref)) {
      const created = Date.parse(o.metadata?.creationTimestamp ?? '');
      const first = Math.min(...(o.status?.conditions ?? []).map((c) => Date.parse(c.lastTransitionTime ?? '')).filter((t) => !Number.isNaN(t)));
      if (Number.isFinite(created) && Number.isFinite(first)) out.push((first - created) / 1000);
    }
  }
  return out.sort((a, b) => a - b);
}

/** The q-quantile of sorted values (nearest rank); NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

export async function listAll(http: KubeHttpClient, ref: ResourceRef): Promise<Listed[]> {
  const items: Listed[] = [];
  let cont: string | undefined;
  do {
    const page = await http.request<{ items?: Listed[]; metadata?: { continue?: string } }>('GET', resourcePath(ref, ''), { query: { limit: 500, continue: cont } });
    items.push(...(page.items ?? []).filter((o) => o.metadata?.namespace?.startsWith('scale-')));
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return items;
}

/** What is left to reconcile: a sentence per kind still short, or [] when the operator has done everything. */
export async function outstanding(http: KubeHttpClient, set: ScaleSet): Promise<string[]> {
  const observed = (o: Listed): boolean => o.status?.observedGeneration !== undefined && o.status.observedGeneration === o.metadata?.generation;
  const tps = await listAll(http, trainingPipelines);
  const mds = await listAll(http, modelDeployments);
  const have = {
    pipelines: tps.filter((o) => observed(o) && o.status?.currentRun !== undefined).length,
    deployments: mds.filter(observed).length,
    jobs: (await listAll(http, jobs)).length,
    serverDeployments: (await listAll(http, deployments)).length,
    services: (await listAll(http, services)).length,
    routes: (await listAll(http, httpRoutes)).length,
  };
  const want = { pipelines: set.pipelines.length, deployments: set.deployments.length, ...set.expected };
  return Object.entries(want).filter(([k, n]) => have[k as keyof typeof have] < n).map(([k, n]) => `${k} ${have[k as keyof typeof have]}/${n}`);
}

export async function until<T>(what: string, timeoutMs: number, intervalMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() - start > timeoutMs) throw new BenchError(`timed out after ${Math.round((Date.now() - start) / 1000)} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** The environment without its empty values: '' unsets what the image sets (e.g. MALLOC_ARENA_MAX: glibc's default). */
function withoutEmpty(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
}

export class Operator {
  readonly proc: ManagedProcess;
  readonly sampler: RssSampler;
  readonly startedAt = Date.now();

  private constructor(proc: ManagedProcess, readonly metricsUrl: string, readonly readyUrl: string) {
    this.proc = proc;
    this.sampler = new RssSampler(proc.pid ?? 0);
  }

  /** Node flags before the bundle for every operator started (e.g. --cpu-prof, which NODE_OPTIONS does not take). */
  static nodeArgs: readonly string[] = [];

  static async start(bundle: string, info: ClusterInfo, kubeconfig: string, identity: string, env: Readonly<Record<string, string>> = {}): Promise<Operator> {
    const s3 = info.s3;
    if (!s3) throw new BenchError('the cluster runs no MinIO');
    const port = await freePort();
    const proc = new ManagedProcess({
      name: identity,
      command: process.execPath,
      args: [...Operator.nodeArgs, bundle],
      env: withoutEmpty({
        ...localOperatorEnv('', s3, bucket),
        PERENNIAL_LEADER_ELECT: 'true', PERENNIAL_LEASE_NAMESPACE: 'perennial-system', POD_NAME: identity,
        PERENNIAL_HEALTH_PORT: String(port), PERENNIAL_HEALTH_HOST: '127.0.0.1', PERENNIAL_LOG_LEVEL: 'info',
        KUBECONFIG: kubeconfig, ...imageEnv(), ...env,
      }),
      logFile: join(info.logDir, `${identity}.log`),
    });
    proc.start();
    return new Operator(proc, `http://127.0.0.1:${port}/metrics`, `http://127.0.0.1:${port}/readyz`);
  }

  get pid(): number {
    return this.proc.pid ?? 0;
  }

  async ready(): Promise<boolean> {
    this.proc.assertRunning();
    try {
      return (await fetch(this.readyUrl, { signal: AbortSignal.timeout(2000) })).ok;
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    this.sampler.stop();
    await this.proc.stop(30_000);
  }
}

/** Waits until no operator write other than a Lease renewal has been seen for quietMs; returns the seconds waited. */
export async function settle(auditLog: string, quietMs: number, maxMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    await sleep(2000);
    const now = Date.now();
    const c = countRequests(auditLog, operatorUser, now - quietMs, now);
    if (now - start >= quietMs && c.writes + c.eventWrites === 0) return (now - start) / 1000;
    if (now - start > maxMs) throw new BenchError(`the operator kept writing for ${maxMs / 1000} s after every object was reconciled: ${JSON.stringify(c.writesBy)}`);
  }
}


export async function prepare(info: ClusterInfo, http: KubeHttpClient, set: ScaleSet): Promise<void> {
  const admin = kubeConfigFor(info);
  await installCrds(admin);
  await installGatewayApiCrds(admin);
  for (const ns of [...set.namespaces, 'perennial-system']) {
    await http.request('POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });
  }
  const s3 = info.s3;
  if (!s3) throw new BenchError('the cluster runs no MinIO');
  for (const ns of set.namespaces) {
    await http.request('POST', `/api/v1/namespaces/${ns}/secrets`, {
      body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: credentialsSecret }, stringData: { AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey } },
    });
  }
  // The data every pipeline's source prefix holds (its namespace's own): the weather rows as a data pipeline would drop them.
  const store = storeFor(info);
  await store.ensureBucket(bucket);
  for (const ns of set.namespaces) {
    for (const [year, csv] of yearlyCsv('Seattle')) await putText(store, bucket, `${weatherDataPrefix(ns)}seattle-${year}.csv`, csv);
  }
}

/** A fresh local cluster for one run (audit log of the operator's user, MinIO), its namespaces, Secrets and data. */
export async function startScaleCluster(n: number, namespaceCount: number): Promise<{
  cluster: LocalCluster; info: ClusterInfo; auditLog: string; http: KubeHttpClient; set: ScaleSet; kubeconfigOf: (user: string) => string;
}> {
  const cluster = await LocalCluster.start({
    name: 'bench-scale', controllerManager: false, minio: true, serviceClusterIpRange: '10.0.0.0/16', // 2 ClusterIPs per fixed-URI deployment
    auditPolicy: auditPolicy([operatorUser]), users: [operatorUser, informerUser],
  });
  try {
    const info = cluster.info;
    const auditLog = info.auditLogPath;
    if (auditLog === undefined) throw new BenchError('the cluster writes no audit log');
    const kubeconfigOf = (user: string): string => {
      const path = join(workDir, `kubeconfig-${user}-${n}`);
      writeFileSync(path, kubeconfigYaml(info.server, info.caData, info.userTokens[user] ?? '', user), { mode: 0o600 });
      return path;
    };
    const http = new KubeHttpClient(kubeConfigFor(info));
    const set = scaleObjects(n, namespaceCount, bucket);
    await prepare(info, http, set);
    return { cluster, info, auditLog, http, set, kubeconfigOf };
  } catch (e: unknown) {
    await cluster.stop();
    throw e;
  }
}

/** Creates every pipeline and deployment, each pair one after the other, 8 requests in flight; returns the seconds. */
export async function createAll(http: KubeHttpClient, set: ScaleSet): Promise<number> {
  const t0 = Date.now();
  const pairs: ScaleObject[] = set.pipelines.flatMap((tp, i) => [tp, set.deployments[i]].filter((o): o is ScaleObject => o !== undefined));
  await inParallel(pairs, 8, async (o) => {
    const ref = o.kind === 'TrainingPipeline' ? trainingPipelines : modelDeployments;
    await http.request('POST', resourcePath(ref, o.metadata.namespace), { body: o });
  });
  const seconds = (Date.now() - t0) / 1000;
  console.log(`created ${pairs.length} objects in ${seconds.toFixed(1)} s`);
  return seconds;
}

/** Waits until the objects themselves show every one reconciled, reporting what is left every 15 s. */
export async function allReconciled(http: KubeHttpClient, set: ScaleSet): Promise<number> {
  let lastReport = 0;
  let checks = 0;
  await until('every object to be reconciled', reconcileTimeoutMs, 3000, async () => {
    checks++;
    const left = await outstanding(http, set);
    if (left.length === 0) return true;
    if (Date.now() - lastReport > 15_000) {
      lastReport = Date.now();
      console.log(`  waiting: ${left.join(', ')}`);
    }
    return undefined;
  });
  return checks;
}
