// Operator scale: N TrainingPipelines and N ModelDeployments (default 1,000 + 1,000), against a baseline of N/10 +
// N/10 run first in the same invocation, each on a fresh local cluster. For each size it measures the operator
// (the real bundle, `node dist/operator/main.js`, as its own process with leader election on):
//   create   — all objects created; time until every one is reconciled, the writes that took, CPU, peak RSS;
//   steady   — nothing changes for a window (default 60 s): API writes per minute (must be 0; Lease renewals and
//              Events counted apart), reads per minute, CPU, settled RSS;
//   restart  — SIGTERM, a new operator: time until it has reconciled every object again (its own
//              perennial_reconcile_total), the writes it made doing so (nothing changed: should be 0), CPU, RSS;
//   floor    — a bare client-node process caching the same five collections: operator RSS / bare-cache RSS.
// Then a table with both sizes and their ratio (10× the objects → ≈10× is linear). Exits 1 if the steady state
// writes anything but Lease renewals, or if some object was not reconciled.
//
// Choices, and why:
//   - No kube-controller-manager. With it, the 500 server Deployments would become ReplicaSets and Pending pods
//     and the 1,000 Jobs Pending pods (the cluster has no node to run them): thousands of objects and
//     writes that are not the operator's, competing for the 2 shared cores, and no more work for the operator
//     (its pods never get ready). Without it Jobs stay active and Deployments have no ready replicas, which are
//     steady states the operator must keep quiet in: "Run 1 is training" and "no ready pod yet".
//   - MinIO on: without a store the operator starts no run and serves no model (both controllers then only
//     report "no object store", a degenerate state). With it, every pipeline's Initial run claims run 1 and
//     creates its Job, every newData trigger lists the data prefix each poll, and fixed-URI deployments get
//     their Deployment, Services and HTTPRoute. The fixed URI's artifacts are not published: only server pods
//     read them, and there are none.
//   - The objects are the shipped examples (bench/operator-scale-objects.ts), GatewayAPI routing included, so
//     the Gateway API CRDs are installed; half the deployments follow their pipeline (no champion yet: waiting).
//   - Writes are counted in the kube-apiserver's audit log, for the operator's own user only.
// Run: npx tsx bench/operator-scale.ts [--count 1000] [--window 60]
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { LocalCluster, kubeconfigYaml, repoRoot, type ClusterInfo } from '../localcluster/cluster.js';
import { freePort } from '../localcluster/net.js';
import { ManagedProcess } from '../localcluster/process.js';
import { kubeConfigFor } from '../localcluster/test-cluster.js';
import { buildBundles } from '../test/support/bundles.js';
import { installCrds } from '../test/support/crds.js';
import { installGatewayApiCrds } from '../test/support/gateway-api-crds.js';
import { credentialsSecret, localOperatorEnv } from '../test/support/loop-stack.js';
import { weatherDataPrefix, yearlyCsv } from '../test/support/weather-loop.js';
import { putText, storeFor } from '../test/integration/trainer-harness.js';
import { deployments, httpRoutes, jobs, modelDeployments, services, trainingPipelines } from '../src/operator/resources.js';
import { KubeHttpClient } from '../src/operator/runtime/kube-http.js';
import { type ResourceRef, resourcePath } from '../src/operator/runtime/resource.js';
import { auditPolicy, countRequests, histogramQuantile, procSample, RssSampler, scrapeOperator, type RequestCounts } from './operator-scale-measure.js';
import { scaleObjects, type ScaleObject, type ScaleSet } from './operator-scale-objects.js';

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    window: { type: 'string', default: '60' },
    namespaces: { type: 'string', default: '4' },
    // Reconciles in flight per controller (PERENNIAL_WORKERS); default: the operator's own default.
    workers: { type: 'string' },
  },
});
const count = Number(args.count);
const windowSeconds = Number(args.window);
const namespaceCount = Number(args.namespaces);
const workers = args.workers;
if (!Number.isInteger(count) || count < 10) throw new Error('--count must be an integer of at least 10');
if (!(windowSeconds >= 10)) throw new Error('--window must be at least 10 (seconds)');

const operatorUser = 'perennial-operator';
const informerUser = 'bare-informer';
const bucket = 'perennial';
const workDir = join(repoRoot, '.cache', 'bench-operator-scale');
const controllers = ['trainingpipeline', 'modeldeployment'] as const;
const reconcileTimeoutMs = 20 * 60_000;

class BenchError extends Error {
  override readonly name = 'BenchError';
}

interface ScaleResult {
  readonly count: number;
  readonly idleRssBytes: number;
  readonly create: {
    readonly failed: number; readonly createSeconds: number; readonly reconciledSeconds: number; readonly requests: RequestCounts;
    readonly cpuSeconds: number; readonly peakRssBytes: number;
    /** Reconcile duration quantiles (s) over the create phase, both controllers. */
    readonly reconcileP50: number; readonly reconcileP99: number;
    readonly storeRequests: number | undefined;
  };
  readonly settleSeconds: number;
  readonly steady: {
    readonly seconds: number; readonly requests: RequestCounts; readonly cpuSeconds: number; readonly rssBytes: number; readonly peakRssBytes: number;
    readonly reconcilesPerMinute: Readonly<Record<string, number>>;
    readonly heapUsedBytes: number;
    readonly storeRequestsPerMinute: number | undefined;
  };
  readonly restart: {
    readonly stopSeconds: number; readonly readySeconds: number; readonly reconciledSeconds: number; readonly reconciled: Readonly<Record<string, number>>;
    readonly failed: number; readonly requests: RequestCounts; readonly cpuSeconds: number; readonly peakRssBytes: number;
  };
  readonly bareRssBytes: number;
  readonly bareObjects: number;
}

/** The operator and the bare-informer bundles, private to this benchmark (other work may rebuild dist/). */
async function benchBundles(): Promise<{ operator: string; informer: string }> {
  const out = join('.cache', 'bench-operator-scale', 'dist');
  const { operator } = buildBundles(['operator'], out);
  const informer = join(repoRoot, out, 'bare-informer', 'main.js');
  await build({
    entryPoints: [join(repoRoot, 'bench', 'operator-scale-informer.ts')], outfile: informer, bundle: true, platform: 'node',
    format: 'esm', target: 'node20', logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  return { operator, informer };
}

async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await fn(item);
    }
  }));
}

interface Listed {
  readonly metadata?: { readonly namespace?: string; readonly generation?: number };
  readonly status?: { readonly observedGeneration?: number; readonly currentRun?: string };
}

async function listAll(http: KubeHttpClient, ref: ResourceRef): Promise<Listed[]> {
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
async function outstanding(http: KubeHttpClient, set: ScaleSet): Promise<string[]> {
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

async function until<T>(what: string, timeoutMs: number, intervalMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() - start > timeoutMs) throw new BenchError(`timed out after ${Math.round((Date.now() - start) / 1000)} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}

class Operator {
  readonly proc: ManagedProcess;
  readonly sampler: RssSampler;
  readonly startedAt = Date.now();

  private constructor(proc: ManagedProcess, readonly metricsUrl: string, readonly readyUrl: string) {
    this.proc = proc;
    this.sampler = new RssSampler(proc.pid ?? 0);
  }

  static async start(bundle: string, info: ClusterInfo, kubeconfig: string, identity: string): Promise<Operator> {
    const s3 = info.s3;
    if (!s3) throw new BenchError('the cluster runs no MinIO');
    const port = await freePort();
    const proc = new ManagedProcess({
      name: identity,
      command: process.execPath,
      args: [bundle],
      env: {
        ...localOperatorEnv('', s3, bucket),
        PERENNIAL_LEADER_ELECT: 'true', PERENNIAL_LEASE_NAMESPACE: 'perennial-system', POD_NAME: identity,
        PERENNIAL_HEALTH_PORT: String(port), PERENNIAL_HEALTH_HOST: '127.0.0.1', PERENNIAL_LOG_LEVEL: 'info',
        KUBECONFIG: kubeconfig, ...(workers === undefined ? {} : { PERENNIAL_WORKERS: workers }),
      },
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
async function settle(auditLog: string, quietMs: number, maxMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    await sleep(2000);
    const now = Date.now();
    const c = countRequests(auditLog, operatorUser, now - quietMs, now);
    if (now - start >= quietMs && c.writes + c.eventWrites === 0) return (now - start) / 1000;
    if (now - start > maxMs) throw new BenchError(`the operator kept writing for ${maxMs / 1000} s after every object was reconciled: ${JSON.stringify(c.writesBy)}`);
  }
}

async function bareInformerRss(bundle: string, info: ClusterInfo, kubeconfig: string): Promise<{ rssBytes: number; objects: number }> {
  const logFile = join(info.logDir, 'bare-informer.log');
  const proc = new ManagedProcess({ name: 'bare-informer', command: process.execPath, args: [bundle], env: { KUBECONFIG: kubeconfig }, logFile });
  proc.start();
  try {
    const objects = await until('the bare informer to sync', 5 * 60_000, 250, () => {
      proc.assertRunning();
      const m = existsSync(logFile) ? /^synced (\d+)$/m.exec(readFileSync(logFile, 'utf8')) : null;
      return Promise.resolve(m ? Number(m[1]) : undefined);
    });
    await sleep(10_000); // let the first watch events and allocations settle, as for the operator
    return { rssBytes: procSample(proc.pid ?? 0).rssBytes, objects };
  } finally {
    await proc.stop();
  }
}

async function prepare(info: ClusterInfo, http: KubeHttpClient, set: ScaleSet): Promise<void> {
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

async function runScale(n: number, bundles: { operator: string; informer: string }): Promise<ScaleResult> {
  console.log(`\n== ${n} TrainingPipelines + ${n} ModelDeployments ==`);
  const cluster = await LocalCluster.start({
    name: 'bench-scale', controllerManager: false, minio: true, serviceClusterIpRange: '10.0.0.0/16', // 2 ClusterIPs per fixed-URI deployment
    auditPolicy: auditPolicy([operatorUser]), users: [operatorUser, informerUser],
  });
  let op: Operator | undefined;
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

    op = await Operator.start(bundles.operator, info, kubeconfigOf(operatorUser), 'operator-1');
    const first = op;
    await until('the operator to be ready', 120_000, 200, async () => ((await first.ready()) ? true : undefined));
    await sleep(3000);
    const idleRssBytes = procSample(op.pid).rssBytes;
    console.log(`operator ready; idle RSS ${mb(idleRssBytes)}`);

    // Create: the pipeline and the deployment of each pair one after the other, 8 requests in flight.
    op.sampler.takePeak();
    const cpu0 = procSample(op.pid).cpuSeconds;
    const createdFrom = await scrapeOperator(first.metricsUrl);
    const t0 = Date.now();
    const pairs: ScaleObject[] = set.pipelines.flatMap((tp, i) => [tp, set.deployments[i]].filter((o): o is ScaleObject => o !== undefined));
    await inParallel(pairs, 8, async (o) => {
      const ref = o.kind === 'TrainingPipeline' ? trainingPipelines : modelDeployments;
      await http.request('POST', resourcePath(ref, o.metadata.namespace), { body: o });
    });
    const createSeconds = (Date.now() - t0) / 1000;
    console.log(`created ${pairs.length} objects in ${createSeconds.toFixed(1)} s`);
    // The operator's counters first (cheap to poll), then the objects themselves (a full list of everything is heavy
    // on the API server this benchmark loads: polled slowly, it confirms rather than tracks).
    await until('the operator to reconcile every object once', reconcileTimeoutMs, 500, async () => {
      const c = await scrapeOperator(first.metricsUrl);
      return c && c.queueDepth === 0 && controllers.every((k) => (c.reconciled[k] ?? 0) >= n) ? true : undefined;
    });
    const tCounters = Date.now();
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
    const drained = await until('the operator queues to drain', 120_000, 250, async () => {
      const c = await scrapeOperator(first.metricsUrl);
      return c?.queueDepth === 0 ? c : undefined;
    });
    // Done when the counters said so, if the objects confirm it at the first look; else when they did.
    const tReconciled = checks === 1 ? tCounters : Date.now();
    const create = {
      failed: Object.values(drained.failed).reduce((a, b) => a + b, 0),
      createSeconds,
      reconciledSeconds: (tReconciled - t0) / 1000,
      requests: countRequests(auditLog, operatorUser, t0, Date.now()),
      cpuSeconds: procSample(op.pid).cpuSeconds - cpu0,
      peakRssBytes: op.sampler.takePeak(),
      reconcileP50: histogramQuantile(0.5, createdFrom?.durationBuckets ?? new Map(), drained.durationBuckets) ?? 0,
      reconcileP99: histogramQuantile(0.99, createdFrom?.durationBuckets ?? new Map(), drained.durationBuckets) ?? 0,
      storeRequests: difference(createdFrom?.storeRequests, drained.storeRequests),
    };
    console.log(`all reconciled ${create.reconciledSeconds.toFixed(1)} s after the first create; writes ${JSON.stringify(create.requests.writesBy)}`);

    const settleSeconds = await settle(auditLog, 10_000, 180_000);
    console.log(`quiet after ${settleSeconds.toFixed(0)} s more; steady window of ${windowSeconds} s`);

    // Steady state: nothing changes.
    const cpuS = procSample(op.pid).cpuSeconds;
    op.sampler.takePeak();
    const before = await scrapeOperator(first.metricsUrl);
    const tS = Date.now();
    await sleep(windowSeconds * 1000);
    const tE = Date.now();
    const after = await scrapeOperator(first.metricsUrl);
    const reconcilesPerMinute = Object.fromEntries(controllers.map((k) =>
      [k, perMinute((after?.attempts[k] ?? 0) - (before?.attempts[k] ?? 0), (tE - tS) / 1000)]));
    const steadyCpu = procSample(op.pid).cpuSeconds - cpuS;
    const steadyRss = procSample(op.pid).rssBytes;
    const steadyPeak = op.sampler.takePeak();
    await sleep(2000); // the audit log is written as requests complete
    const steadyStore = difference(before?.storeRequests, after?.storeRequests);
    const steady = {
      seconds: (tE - tS) / 1000, requests: countRequests(auditLog, operatorUser, tS, tE), cpuSeconds: steadyCpu, rssBytes: steadyRss,
      peakRssBytes: steadyPeak, reconcilesPerMinute, heapUsedBytes: after?.heapUsedBytes ?? 0,
      storeRequestsPerMinute: steadyStore === undefined ? undefined : perMinute(steadyStore, (tE - tS) / 1000),
    };
    console.log(`steady: writes ${JSON.stringify(steady.requests.writesBy)}; reads ${JSON.stringify(steady.requests.readsBy)}`);

    // Restart: a graceful stop (drain, release the Lease), then a new process.
    const tStop = Date.now();
    await op.stop();
    const stopSeconds = (Date.now() - tStop) / 1000;
    op = await Operator.start(bundles.operator, info, kubeconfigOf(operatorUser), 'operator-2');
    const second = op;
    const tR = second.startedAt;
    let readyAt: number | undefined;
    const done = await until('the restarted operator to reconcile every object', reconcileTimeoutMs, 200, async () => {
      if (readyAt === undefined && (await second.ready())) readyAt = Date.now();
      const c = await scrapeOperator(second.metricsUrl);
      if (!c || c.queueDepth > 0) return undefined;
      return controllers.every((k) => (c.reconciled[k] ?? 0) >= n) ? c : undefined;
    });
    const tRDone = Date.now();
    const restartCpu = procSample(op.pid).cpuSeconds;
    const restartPeak = op.sampler.takePeak();
    await sleep(5000); // writes that trail the last reconcile still count
    const restart = {
      stopSeconds,
      readySeconds: ((readyAt ?? tRDone) - tR) / 1000,
      reconciledSeconds: (tRDone - tR) / 1000,
      reconciled: done.reconciled,
      failed: Object.values(done.failed).reduce((a, b) => a + b, 0),
      requests: countRequests(auditLog, operatorUser, tR, Date.now()),
      cpuSeconds: restartCpu,
      peakRssBytes: restartPeak,
    };
    console.log(`restart: ready ${restart.readySeconds.toFixed(1)} s, all reconciled ${restart.reconciledSeconds.toFixed(1)} s; writes ${JSON.stringify(restart.requests.writesBy)}`);

    const bare = await bareInformerRss(bundles.informer, info, kubeconfigOf(informerUser));
    console.log(`bare informer: ${bare.objects} objects cached, RSS ${mb(bare.rssBytes)}`);
    return { count: n, idleRssBytes, create, settleSeconds, steady, restart, bareRssBytes: bare.rssBytes, bareObjects: bare.objects };
  } finally {
    await op?.stop();
    await cluster.stop();
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

/** after − before of a counter the operator may not export (undefined then). */
function difference(before: number | undefined, after: number | undefined): number | undefined {
  return after === undefined ? undefined : after - (before ?? 0);
}

function perMinute(n: number, seconds: number): number {
  return (n * 60) / seconds;
}

function printTable(base: ScaleResult, full: ScaleResult): void {
  const rows: Array<[string, number, number, (v: number) => string]> = [];
  const add = (label: string, f: (r: ScaleResult) => number, fmt: (v: number) => string): void => {
    rows.push([label, f(base), f(full), fmt]);
  };
  const s = (d: number) => (v: number): string => v.toFixed(d);
  const m = (v: number): string => (v / 1024 / 1024).toFixed(0);
  add('operator RSS idle, no objects (MB)', (r) => r.idleRssBytes, m);
  add('create: all objects created (s)', (r) => r.create.createSeconds, s(1));
  add('create: first create → all reconciled (s)', (r) => r.create.reconciledSeconds, s(1));
  add('create: operator writes (excl. Lease, Events)', (r) => r.create.requests.writes, s(0));
  add('create: Events written', (r) => r.create.requests.eventWrites, s(0));
  add('create: failed reconciles (retried)', (r) => r.create.failed, s(0));
  add('create: operator CPU (s)', (r) => r.create.cpuSeconds, s(1));
  add('create: peak RSS (MB)', (r) => r.create.peakRssBytes, m);
  add('create: reconcile duration p50 (ms)', (r) => 1000 * r.create.reconcileP50, s(0));
  add('create: reconcile duration p99 (ms)', (r) => 1000 * r.create.reconcileP99, s(0));
  add('create: store calls', (r) => r.create.storeRequests ?? NaN, s(0));
  add('steady: API writes/min (excl. Lease) — must be 0', (r) => perMinute(r.steady.requests.writes + r.steady.requests.eventWrites, r.steady.seconds), s(1));
  add('steady: Lease renewals/min', (r) => perMinute(r.steady.requests.leaseWrites, r.steady.seconds), s(1));
  add('steady: API reads/min', (r) => perMinute(r.steady.requests.reads, r.steady.seconds), s(0));
  add('steady: TrainingPipeline reconciles/min (data polls)', (r) => r.steady.reconcilesPerMinute['trainingpipeline'] ?? 0, s(0));
  add('steady: ModelDeployment reconciles/min', (r) => r.steady.reconcilesPerMinute['modeldeployment'] ?? 0, s(0));
  add('steady: operator CPU (% of one core)', (r) => (100 * r.steady.cpuSeconds) / r.steady.seconds, s(1));
  add('steady: RSS settled (MB)', (r) => r.steady.rssBytes, m);
  add('steady: V8 heap used (MB)', (r) => r.steady.heapUsedBytes, m);
  add('steady: store calls/min', (r) => r.steady.storeRequestsPerMinute ?? NaN, s(0));
  add('restart: graceful stop (s)', (r) => r.restart.stopSeconds, s(1));
  add('restart: start → ready (s)', (r) => r.restart.readySeconds, s(1));
  add('restart: start → all reconciled (s)', (r) => r.restart.reconciledSeconds, s(1));
  add('restart: writes (excl. Lease)', (r) => r.restart.requests.writes + r.restart.requests.eventWrites, s(0));
  add('restart: Lease writes', (r) => r.restart.requests.leaseWrites, s(0));
  add('restart: operator CPU (s)', (r) => r.restart.cpuSeconds, s(1));
  add('restart: peak RSS (MB)', (r) => r.restart.peakRssBytes, m);
  add('bare client-node informer RSS (MB)', (r) => r.bareRssBytes, m);
  add('operator RSS settled / bare informer RSS', (r) => r.steady.rssBytes / r.bareRssBytes, s(2));
  const head = `${'figure'.padEnd(52)}${`${base.count}+${base.count}`.padStart(12)}${`${full.count}+${full.count}`.padStart(12)}${'ratio'.padStart(9)}`;
  console.log(`\n${head}\n${'-'.repeat(head.length)}`);
  for (const [label, b, f, fmt] of rows) {
    const ratio = b === 0 ? (f === 0 ? '—' : '∞') : `${(f / b).toFixed(2)}×`;
    console.log(`${label.padEnd(52)}${fmt(b).padStart(12)}${fmt(f).padStart(12)}${ratio.padStart(9)}`);
  }
  console.log(`(ratio = ${full.count}+${full.count} / ${base.count}+${base.count}; ${full.count / base.count}× the objects. Operator: the production bundle, ${workers ?? 'the default'} workers per controller, leader election on; no kube-controller-manager. NaN: the operator does not count store calls.)`);
  // The memory each TrainingPipeline + ModelDeployment pair adds (with its Job and, for half of them, a server
  // Deployment and 3 Services): the slope between the two sizes, which cancels what the process holds anyway.
  const pairs = full.count - base.count;
  const perPair = (f: (r: ScaleResult) => number): string => ((f(full) - f(base)) / pairs / 1024).toFixed(1);
  console.log(`\nper TrainingPipeline + ModelDeployment pair (slope ${base.count} → ${full.count}): steady RSS ${perPair((r) => r.steady.rssBytes)} KB, V8 heap ${perPair((r) => r.steady.heapUsedBytes)} KB; bare client-node informers ${perPair((r) => r.bareRssBytes)} KB`);
  console.log(`steady RSS at ${full.count}+${full.count}: ${(full.steady.rssBytes / 2 ** 20).toFixed(0)} MiB (target < 128 MiB); first create → all reconciled ${full.create.reconciledSeconds.toFixed(1)} s (target 30 s); restart → all reconciled ${full.restart.reconciledSeconds.toFixed(1)} s (target 10 s) with ${full.restart.requests.writes + full.restart.requests.eventWrites} writes`);
}

mkdirSync(workDir, { recursive: true });
console.log(`operator scale benchmark: ${count / 10}+${count / 10} (baseline) then ${count}+${count} objects, ${namespaceCount} namespaces, steady window ${windowSeconds} s; node ${process.version}`);
const bundles = await benchBundles();
const baseline = await runScale(Math.round(count / 10), bundles);
const full = await runScale(count, bundles);
printTable(baseline, full);

const problems: string[] = [];
for (const r of [baseline, full]) {
  const w = r.steady.requests;
  if (w.writes + w.eventWrites > 0) problems.push(`${r.count}+${r.count}: ${w.writes + w.eventWrites} steady-state writes ${JSON.stringify(w.writesBy)}`);
  for (const c of controllers) {
    if ((r.restart.reconciled[c] ?? 0) < r.count) problems.push(`${r.count}+${r.count}: ${c} reconciled ${r.restart.reconciled[c] ?? 0} after the restart`);
  }
  if (r.restart.failed > 0) problems.push(`${r.count}+${r.count}: ${r.restart.failed} failed reconciles after the restart`);
}
if (problems.length > 0) {
  console.log(`\nFAILED:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('\nOK: no steady-state writes besides Lease renewals; every object reconciled at both sizes.');
process.exit(0);
