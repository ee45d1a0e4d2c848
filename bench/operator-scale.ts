// Operator scale: N TrainingPipelines and N ModelDeployments (default 1,000 + 1,000), against a baseline of N/10 +
// N/10 run first in the same invocation (or the sizes --sizes lists, the first the baseline), each on a fresh local
// cluster. For each size it measures the operator (the real bundle, `node dist/operator/main.js` with the NODE_OPTIONS
// of the operator image, as its own process with leader election on):
//   create   — all objects created; time until every one is reconciled, the writes that took, CPU, peak RSS;
//   steady   — nothing changes for a window (default 60 s): API writes per minute (must be 0; Lease renewals and
//              Events counted apart), reads per minute, CPU, settled RSS;
//   restart  — SIGTERM, a new operator: time until it has reconciled every object again (its own
//              perennial_reconcile_total), the writes it made doing so (nothing changed: should be 0), CPU, RSS;
//   floor    — a bare client-node process caching the same five collections: operator RSS / bare-cache RSS.
//   memory   — where the steady RSS is: V8 heap used and reserved by space (new, old, code), external, the rest;
//              with --heap-snapshot, the restarted operator's live heap grouped by what holds it (operator-scale-heap.ts).
// Then a table with every size and the ratio of the last to the first (10× the objects → ≈10× is linear), and the
// memory each pipeline + deployment pair adds (the slope between consecutive sizes). With --replicas N (default 2), a third run of the
// full size with N operator replicas splitting the objects by shard Leases (PERENNIAL_SHARDS=--shards), printed
// per replica beside the 1-replica run (bench/operator-scale-sharded.ts); it runs after the sizes up to --count and
// before the larger ones. The table is printed after every size, so a larger size that fails or is stopped leaves
// the others measured; a size that fails is said with its error and the larger ones are not tried. Exits 1 if the
// steady state writes anything but Lease renewals, if some object was not reconciled, or if a size failed.
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
//   - The operator's progress is polled from /metrics?name=... (the families read, operator-scale-measure.ts): a
//     full scrape renders every per-object loop series, about 0.3 s of the operator's event loop at 1,000 + 1,000,
//     and polled every 0.2–0.5 s it was most of the operator's work in the runs before 2026-12-05.
// Run: npx tsx bench/operator-scale.ts [--count 1000] [--sizes 100,1000,3000] [--window 60] [--workers 16] [--replicas 2 --shards 4]
//        [--node-options '<flags>'] [--heap-snapshot] [--ab-env KEY=VALUE] [--log-level debug]
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { repoRoot, type ClusterInfo } from '../localcluster/cluster.js';
import { ManagedProcess } from '../localcluster/process.js';
import { buildBundles } from '../test/support/bundles.js';
import {
  allReconciled, controllers, createAll, imageNodeOptions, quantile, reconcileLatencies, informerUser, Operator, operatorUser, reconcileTimeoutMs, settle, startScaleCluster, until, workDir,
} from './operator-scale-cluster.js';
import { summarizeHeapSnapshot, type HeapSummary } from './operator-scale-heap.js';
import { runSharded, type ShardedResult } from './operator-scale-sharded.js';
import { countRequests, histogramQuantile, procSample, scrapeOperator, type MemoryBreakdown, type RequestCounts } from './operator-scale-measure.js';

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    // The 1-replica sizes, smallest first (default: count/10 and count); the ratios are against the first.
    sizes: { type: 'string' },
    // The operator's NODE_OPTIONS (default: the image's, from the Dockerfile); '' runs it with V8's defaults.
    'node-options': { type: 'string' },
    window: { type: 'string', default: '60' },
    namespaces: { type: 'string', default: '4' },
    // Reconciles in flight per controller (PERENNIAL_WORKERS); default: the operator's own default.
    workers: { type: 'string' },
    // A sharded run of --count with this many operator replicas after the 1-replica runs (1: none).
    replicas: { type: 'string', default: '2' },
    shards: { type: 'string', default: '4' },
    // Writes a V8 heap snapshot of the restarted operator once it has reconciled everything (--heapsnapshot-signal),
    // for Chrome DevTools' Memory tab: where the bytes per object are.
    'heap-snapshot': { type: 'boolean', default: false },
    // KEY=VALUE: after the restart, the operator is restarted once more with this variable changed ('' unsets what
    // the image sets), and both restarts are measured alike (until everything is reconciled, RSS 20 s later): an A/B
    // in one invocation, on the same cluster and objects. E.g. --ab-env MALLOC_ARENA_MAX= (glibc's default arenas).
    'ab-env': { type: 'string' },
    // Every operator process writes a V8 CPU profile when it stops (--cpu-prof) into <work dir>/cpu-prof, for Chrome
    // DevTools' Performance tab or any .cpuprofile reader: where a reconcile's time goes at this size.
    'cpu-prof': { type: 'boolean', default: false },
    // The operator's PERENNIAL_LOG_LEVEL (default info; debug logs every reconcile, in <work dir>/logs/operator-*.log).
    'log-level': { type: 'string' },
  },
});
const count = Number(args.count);
const windowSeconds = Number(args.window);
const namespaceCount = Number(args.namespaces);
const workers = args.workers;
const snapshotDir = join(workDir, 'heap');
const nodeOptions = [args['node-options'] ?? imageNodeOptions(), args['heap-snapshot'] ? `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapshotDir}` : '']
  .filter((o) => o !== '').join(' ');
const workerEnv: Record<string, string> = {
  ...(workers === undefined ? {} : { PERENNIAL_WORKERS: workers }),
  ...(args['log-level'] === undefined ? {} : { PERENNIAL_LOG_LEVEL: args['log-level'] }),
  NODE_OPTIONS: nodeOptions,
};
if (args['cpu-prof']) Operator.nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${join(workDir, 'cpu-prof')}`];
/** The operator bundle of this run (set once built). */
let bundleOfRun = '';
const abEnv = args['ab-env'] === undefined ? undefined : parseAssignment(args['ab-env']);
const sizes = (args.sizes ?? `${Math.round(count / 10)},${count}`).split(',').map(Number);
const replicas = Number(args.replicas);
const shards = Number(args.shards);
if (!Number.isInteger(replicas) || replicas < 1 || !Number.isInteger(shards) || shards < replicas) throw new Error('--replicas must be at least 1 and --shards at least --replicas');
if (!Number.isInteger(count) || count < 10) throw new Error('--count must be an integer of at least 10');
if (!(windowSeconds >= 10)) throw new Error('--window must be at least 10 (seconds)');
if (sizes.length < 2 || sizes.some((v, i) => !Number.isInteger(v) || v < 10 || (i > 0 && v <= (sizes[i - 1] ?? 0)))) throw new Error('--sizes must be two or more integers of at least 10, ascending');
if (replicas > 1 && !sizes.includes(count)) throw new Error('--count (the sharded run\'s size) must be one of --sizes');


interface ScaleResult {
  readonly count: number;
  readonly idleRssBytes: number;
  readonly create: {
    readonly failed: number; readonly createSeconds: number; readonly reconciledSeconds: number; readonly requests: RequestCounts;
    readonly cpuSeconds: number; readonly peakRssBytes: number;
    /** Reconcile duration quantiles (s) over the create phase, both controllers. */
    readonly reconcileP50: number; readonly reconcileP99: number;
    readonly storeRequests: number | undefined;
    /** Creation → the operator's first status, per object (s): p50, p99, max. */
    readonly latencyP50: number; readonly latencyP99: number; readonly latencyMax: number;
  };
  readonly settleSeconds: number;
  readonly steady: {
    readonly seconds: number; readonly requests: RequestCounts; readonly cpuSeconds: number; readonly rssBytes: number; readonly peakRssBytes: number;
    readonly reconcilesPerMinute: Readonly<Record<string, number>>;
    readonly heapUsedBytes: number;
    readonly memory: MemoryBreakdown | undefined;
    readonly storeRequestsPerMinute: number | undefined;
  };
  readonly restart: {
    readonly stopSeconds: number; readonly readySeconds: number; readonly reconciledSeconds: number; readonly reconciled: Readonly<Record<string, number>>;
    readonly failed: number; readonly requests: RequestCounts; readonly cpuSeconds: number; readonly peakRssBytes: number;
    /** RSS 20 s after everything was reconciled again. */
    readonly settledRssBytes: number;
  };
  /** The same restart with --ab-env's variable changed. */
  readonly ab: { readonly reconciledSeconds: number; readonly settledRssBytes: number; readonly heapTotalBytes: number; readonly restartHeapTotalBytes: number } | undefined;
  readonly bareRssBytes: number;
  readonly bareObjects: number;
  /** The restarted operator's live heap, from its heap snapshot (--heap-snapshot). */
  readonly heap: HeapSummary | undefined;
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


async function runScale(n: number, bundles: { operator: string; informer: string }): Promise<ScaleResult> {
  console.log(`\n== ${n} TrainingPipelines + ${n} ModelDeployments ==`);
  const { cluster, info, auditLog, http, set, kubeconfigOf } = await startScaleCluster(n, namespaceCount);
  let op: Operator | undefined;
  try {

    op = await Operator.start(bundles.operator, info, kubeconfigOf(operatorUser), 'operator-1', workerEnv);
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
    const createSeconds = await createAll(http, set);
    // The operator's counters first (cheap to poll), then the objects themselves (a full list of everything is heavy
    // on the API server this benchmark loads: polled slowly, it confirms rather than tracks).
    await until('the operator to reconcile every object once', reconcileTimeoutMs, 500, async () => {
      const c = await scrapeOperator(first.metricsUrl);
      return c && c.queueDepth === 0 && controllers.every((k) => (c.reconciled[k] ?? 0) >= n) ? true : undefined;
    });
    const tCounters = Date.now();
    const checks = await allReconciled(http, set);
    const drained = await until('the operator queues to drain', 120_000, 250, async () => {
      const c = await scrapeOperator(first.metricsUrl);
      return c?.queueDepth === 0 ? c : undefined;
    });
    // Done when the counters said so, if the objects confirm it at the first look; else when they did.
    const tReconciled = checks === 1 ? tCounters : Date.now();
    const latencies = await reconcileLatencies(http);
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
      latencyP50: quantile(latencies, 0.5), latencyP99: quantile(latencies, 0.99), latencyMax: latencies[latencies.length - 1] ?? NaN,
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
      peakRssBytes: steadyPeak, reconcilesPerMinute, heapUsedBytes: after?.heapUsedBytes ?? 0, memory: after?.memory,
      storeRequestsPerMinute: steadyStore === undefined ? undefined : perMinute(steadyStore, (tE - tS) / 1000),
    };
    console.log(`steady: writes ${JSON.stringify(steady.requests.writesBy)}; reads ${JSON.stringify(steady.requests.readsBy)}`);

    // Restart: a graceful stop (drain, release the Lease), then a new process.
    const tStop = Date.now();
    await op.stop();
    const stopSeconds = (Date.now() - tStop) / 1000;
    const second = await restarted(n, 'operator-2', workerEnv, info, kubeconfigOf(operatorUser));
    op = second.op;
    const tR = op.startedAt;
    const tRDone = second.doneAt;
    const done = second.done;
    const restartCpu = procSample(op.pid).cpuSeconds;
    const restartPeak = op.sampler.takePeak();
    await sleep(5000); // writes that trail the last reconcile still count
    const restart = {
      stopSeconds,
      readySeconds: second.readySeconds,
      reconciledSeconds: second.reconciledSeconds,
      reconciled: done.reconciled,
      failed: Object.values(done.failed).reduce((a, b) => a + b, 0),
      requests: countRequests(auditLog, operatorUser, tR, Date.now()),
      cpuSeconds: restartCpu,
      peakRssBytes: restartPeak,
      settledRssBytes: await settledRss(op, tRDone),
    };
    const restartHeapTotalBytes = (await scrapeOperator(op.metricsUrl))?.memory.heapTotalBytes ?? NaN;
    console.log(`restart: ready ${restart.readySeconds.toFixed(1)} s, all reconciled ${restart.reconciledSeconds.toFixed(1)} s; writes ${JSON.stringify(restart.requests.writesBy)}`);

    // Last, because writing the snapshot stops the operator's event loop for seconds: longer than its Lease's renew
    // deadline on a busy machine, and an operator that lost its Lease exits.
    let heap: ScaleResult['heap'];
    if (args['heap-snapshot']) {
      // Not the RSS after it: writing a snapshot takes tens of MB of its own (77 → 148 MB for an idle operator here).
      heap = summarizeHeapSnapshot(await heapSnapshot(op.pid));
      printHeap(n, heap);
    }
    let ab: ScaleResult['ab'];
    if (abEnv) {
      await op.stop();
      const third = await restarted(n, 'operator-3', { ...workerEnv, ...abEnv }, info, kubeconfigOf(operatorUser));
      op = third.op;
      const settledRssBytes = await settledRss(op, third.doneAt);
      ab = { reconciledSeconds: third.reconciledSeconds, settledRssBytes, heapTotalBytes: (await scrapeOperator(op.metricsUrl))?.memory.heapTotalBytes ?? NaN, restartHeapTotalBytes };
      console.log(`A/B restart with ${args['ab-env']}: all reconciled ${third.reconciledSeconds.toFixed(1)} s, RSS 20 s later ${mb(settledRssBytes)} (with the image's env: ${mb(restart.settledRssBytes)})`);
    }
    const bare = await bareInformerRss(bundles.informer, info, kubeconfigOf(informerUser));
    console.log(`bare informer: ${bare.objects} objects cached, RSS ${mb(bare.rssBytes)}`);
    return { count: n, idleRssBytes, create, settleSeconds, steady, restart, ab, bareRssBytes: bare.rssBytes, bareObjects: bare.objects, heap };
  } finally {
    await op?.stop();
    await cluster.stop();
  }
}

/** A new operator process (the previous one stopped): when it was ready and had reconciled every object again. */
async function restarted(n: number, identity: string, env: Readonly<Record<string, string>>, info: ClusterInfo, kubeconfig: string): Promise<{
  op: Operator; readySeconds: number; reconciledSeconds: number; doneAt: number; done: NonNullable<Awaited<ReturnType<typeof scrapeOperator>>>;
}> {
  const op = await Operator.start(bundleOfRun, info, kubeconfig, identity, env);
  let readyAt: number | undefined;
  const done = await until(`the restarted operator (${identity}) to reconcile every object`, reconcileTimeoutMs, 200, async () => {
    if (readyAt === undefined && (await op.ready())) readyAt = Date.now();
    const c = await scrapeOperator(op.metricsUrl);
    if (!c || c.queueDepth > 0) return undefined;
    return controllers.every((k) => (c.reconciled[k] ?? 0) >= n) ? c : undefined;
  });
  const doneAt = Date.now();
  return { op, readySeconds: ((readyAt ?? doneAt) - op.startedAt) / 1000, reconciledSeconds: (doneAt - op.startedAt) / 1000, doneAt, done };
}

/** The operator's RSS 20 s after it had reconciled everything (the restart's allocations settled). */
async function settledRss(op: Operator, doneAt: number): Promise<number> {
  await sleep(Math.max(0, doneAt + 20_000 - Date.now()));
  return procSample(op.pid).rssBytes;
}

/** KEY=VALUE as an environment entry. */
function parseAssignment(text: string): Record<string, string> {
  const i = text.indexOf('=');
  if (i <= 0) throw new Error(`--ab-env must be KEY=VALUE, not ${text}`);
  return { [text.slice(0, i)]: text.slice(i + 1) };
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

/** Signals the operator to write a heap snapshot; the file once complete (its size stopped changing). */
async function heapSnapshot(pid: number): Promise<string> {
  mkdirSync(snapshotDir, { recursive: true });
  const before = new Set(readdirSync(snapshotDir));
  process.kill(pid, 'SIGUSR2');
  const file = await until('the heap snapshot', 120_000, 1000, () => {
    const f = readdirSync(snapshotDir).find((n) => !before.has(n) && n.endsWith('.heapsnapshot'));
    return Promise.resolve(f === undefined ? undefined : join(snapshotDir, f));
  });
  let size = -1;
  await until('the heap snapshot to be written', 120_000, 1000, () => {
    const now = statSync(file).size;
    const done = now > 0 && now === size;
    size = now;
    return Promise.resolve(done ? true : undefined);
  });
  console.log(`heap snapshot: ${file} (${mb(size)})`);
  return file;
}

/** The live heap's largest groups (what holds the memory). */
function printHeap(n: number, summary: HeapSummary): void {
  console.log(`live heap at ${n}+${n} (heap snapshot, after a full GC): ${mb(summary.liveBytes)}; largest groups:`);
  for (const g of summary.groups.slice(0, 12)) console.log(`  ${g.what.padEnd(32)}${String(g.count).padStart(10)} nodes${(g.bytes / 2 ** 20).toFixed(1).padStart(9)} MB`);
}

/** after − before of a counter the operator may not export (undefined then). */
function difference(before: number | undefined, after: number | undefined): number | undefined {
  return after === undefined ? undefined : after - (before ?? 0);
}

function perMinute(n: number, seconds: number): number {
  return (n * 60) / seconds;
}

/** The sharded run beside the 1-replica run of the same size: each replica's figures. */
function printSharded(one: ScaleResult, sh: ShardedResult): void {
  const m = (v: number): string => (v / 1024 / 1024).toFixed(0);
  const ms = (v: number): string => (1000 * v).toFixed(0);
  const store = (v: number | undefined): string => (v === undefined ? 'n/a' : v.toFixed(0));
  const rows: Array<[string, string, string[]]> = [
    ['first create → all reconciled (s)', one.create.reconciledSeconds.toFixed(1), sh.replicas.map(() => sh.reconciledSeconds.toFixed(1))],
    ['shards held', '—', sh.replicas.map((r) => String(r.shardsHeld))],
    ['create: reconciles run', '—', sh.replicas.map((r) => String(r.reconciles))],
    ['create: CPU (s)', one.create.cpuSeconds.toFixed(1), sh.replicas.map((r) => r.createCpuSeconds.toFixed(1))],
    ['create: peak RSS (MB)', m(one.create.peakRssBytes), sh.replicas.map((r) => m(r.createPeakRssBytes))],
    ['create: reconcile duration p50 (ms)', ms(one.create.reconcileP50), sh.replicas.map((r) => ms(r.reconcileP50))],
    ['create: reconcile duration p99 (ms)', ms(one.create.reconcileP99), sh.replicas.map((r) => ms(r.reconcileP99))],
    ['steady: RSS (MB)', m(one.steady.rssBytes), sh.replicas.map((r) => m(r.steadyRssBytes))],
    ['steady: V8 heap used (MB)', m(one.steady.heapUsedBytes), sh.replicas.map((r) => m(r.steadyHeapUsedBytes))],
    ['steady: CPU (% of one core)', ((100 * one.steady.cpuSeconds) / one.steady.seconds).toFixed(1), sh.replicas.map((r) => r.steadyCpuPercent.toFixed(1))],
    ['steady: store calls/min', store(one.steady.storeRequestsPerMinute), sh.replicas.map((r) => store(r.steadyStoreRequestsPerMinute))],
  ];
  const head = `${'figure'.padEnd(40)}${'1 replica'.padStart(12)}${sh.replicas.map((r) => r.identity.replace('operator-', '').padStart(12)).join('')}`;
  console.log(`\n${sh.count}+${sh.count}, 1 replica against ${sh.replicas.length} sharded replicas\n${head}\n${'-'.repeat(head.length)}`);
  for (const [label, a, b] of rows) console.log(`${label.padEnd(40)}${a.padStart(12)}${b.map((v) => v.padStart(12)).join('')}`);
}

function printTable(results: readonly ScaleResult[]): void {
  const rows: Array<[string, number[], (v: number) => string]> = [];
  const add = (label: string, f: (r: ScaleResult) => number, fmt: (v: number) => string): void => {
    rows.push([label, results.map(f), fmt]);
  };
  const s = (d: number) => (v: number): string => v.toFixed(d);
  const m = (v: number): string => (v / 1024 / 1024).toFixed(0);
  const space = (r: ScaleResult, which: 'spaceTotalBytes' | 'spaceUsedBytes', name: string): number => r.steady.memory?.[which][name] ?? NaN;
  add('operator RSS idle, no objects (MB)', (r) => r.idleRssBytes, m);
  add('create: all objects created (s)', (r) => r.create.createSeconds, s(1));
  add('create: first create → all reconciled (s)', (r) => r.create.reconciledSeconds, s(1));
  add('create: operator writes (excl. Lease, Events)', (r) => r.create.requests.writes, s(0));
  add('create: Events written', (r) => r.create.requests.eventWrites, s(0));
  add('create: failed reconciles (retried)', (r) => r.create.failed, s(0));
  add('create: operator CPU (s)', (r) => r.create.cpuSeconds, s(1));
  add('create: peak RSS (MB)', (r) => r.create.peakRssBytes, m);
  add('create: creation → first status, p50 (s)', (r) => r.create.latencyP50, s(0));
  add('create: creation → first status, p99 (s)', (r) => r.create.latencyP99, s(0));
  add('create: creation → first status, max (s)', (r) => r.create.latencyMax, s(0));
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
  add('steady: V8 heap reserved (MB)', (r) => r.steady.memory?.heapTotalBytes ?? NaN, m);
  add('steady:   old space used (MB)', (r) => space(r, 'spaceUsedBytes', 'old'), m);
  add('steady:   old space reserved (MB)', (r) => space(r, 'spaceTotalBytes', 'old'), m);
  add('steady:   new space reserved (MB)', (r) => space(r, 'spaceTotalBytes', 'new'), m);
  add('steady:   code space reserved (MB)', (r) => space(r, 'spaceTotalBytes', 'code'), m);
  add('steady: external (Buffers, sockets) (MB)', (r) => r.steady.memory?.externalBytes ?? NaN, m);
  add('steady: RSS outside the V8 heap (MB)', (r) => r.steady.rssBytes - (r.steady.memory?.heapTotalBytes ?? NaN), m);
  add('steady: store calls/min', (r) => r.steady.storeRequestsPerMinute ?? NaN, s(0));
  add('restart: graceful stop (s)', (r) => r.restart.stopSeconds, s(1));
  add('restart: start → ready (s)', (r) => r.restart.readySeconds, s(1));
  add('restart: start → all reconciled (s)', (r) => r.restart.reconciledSeconds, s(1));
  add('restart: writes (excl. Lease)', (r) => r.restart.requests.writes + r.restart.requests.eventWrites, s(0));
  add('restart: Lease writes', (r) => r.restart.requests.leaseWrites, s(0));
  add('restart: operator CPU (s)', (r) => r.restart.cpuSeconds, s(1));
  add('restart: peak RSS (MB)', (r) => r.restart.peakRssBytes, m);
  add('restart: RSS 20 s after (MB)', (r) => r.restart.settledRssBytes, m);
  if (abEnv) {
    add(`A/B restart, ${args['ab-env'] ?? ''}: all reconciled (s)`, (r) => r.ab?.reconciledSeconds ?? NaN, s(1));
    add(`A/B restart, ${args['ab-env'] ?? ''}: RSS 20 s after (MB)`, (r) => r.ab?.settledRssBytes ?? NaN, m);
    add('A/B: RSS, image env − variant (MB)', (r) => r.restart.settledRssBytes - (r.ab?.settledRssBytes ?? NaN), m);
    add('A/B: V8 heap reserved, image env (MB)', (r) => r.ab?.restartHeapTotalBytes ?? NaN, m);
    add('A/B: V8 heap reserved, variant (MB)', (r) => r.ab?.heapTotalBytes ?? NaN, m);
  }
  add('live heap, heap snapshot (MB)', (r) => r.heap?.liveBytes ?? NaN, m);
  add('bare client-node informer RSS (MB)', (r) => r.bareRssBytes, m);
  add('operator RSS settled / bare informer RSS', (r) => r.steady.rssBytes / r.bareRssBytes, s(2));
  const first = results[0];
  const last = results[results.length - 1];
  if (!first || !last) return;
  const head = `${'figure'.padEnd(52)}${results.map((r) => `${r.count}+${r.count}`.padStart(12)).join('')}${'ratio'.padStart(9)}`;
  console.log(`\n${head}\n${'-'.repeat(head.length)}`);
  for (const [label, values, fmt] of rows) {
    const b = values[0] ?? NaN;
    const f = values[values.length - 1] ?? NaN;
    const ratio = b === 0 ? (f === 0 ? '—' : '∞') : `${(f / b).toFixed(2)}×`;
    console.log(`${label.padEnd(52)}${values.map((v) => fmt(v).padStart(12)).join('')}${ratio.padStart(9)}`);
  }
  console.log(`(ratio = ${last.count}+${last.count} / ${first.count}+${first.count}; ${last.count / first.count}× the objects. Operator: the production bundle, NODE_OPTIONS "${nodeOptions}", ${workers ?? 'the default'} workers per controller, leader election on; no kube-controller-manager. NaN: not measured.)`);
  // The memory each TrainingPipeline + ModelDeployment pair adds (with its Job and, for half of them, a server
  // Deployment and 3 Services): the slope between consecutive sizes, which cancels what the process holds anyway.
  console.log('\nper TrainingPipeline + ModelDeployment pair (the slope between sizes):');
  for (let i = 1; i < results.length; i++) {
    const a = results[i - 1];
    const b = results[i];
    if (!a || !b) continue;
    const perPair = (f: (r: ScaleResult) => number): string => ((f(b) - f(a)) / (b.count - a.count) / 1024).toFixed(1);
    console.log(`  ${a.count} → ${b.count}: steady RSS ${perPair((r) => r.steady.rssBytes)} KB, V8 heap used ${perPair((r) => r.steady.heapUsedBytes)} KB, live heap ${perPair((r) => r.heap?.liveBytes ?? NaN)} KB; bare client-node informers ${perPair((r) => r.bareRssBytes)} KB`);
  }
  for (const r of results.filter((x) => x.count >= 1000)) {
    console.log(`at ${r.count}+${r.count}: steady RSS ${(r.steady.rssBytes / 2 ** 20).toFixed(0)} MiB (target < 128 MiB at 1,000+1,000); first create → all reconciled ${r.create.reconciledSeconds.toFixed(1)} s, creation → first status at most ${r.create.latencyMax.toFixed(0)} s (target 30 s); restart → all reconciled ${r.restart.reconciledSeconds.toFixed(1)} s (target 10 s) with ${r.restart.requests.writes + r.restart.requests.eventWrites} writes`);
  }
}

mkdirSync(workDir, { recursive: true });
console.log(`operator scale benchmark: ${sizes.map((n) => `${n}+${n}`).join(', ')} objects${replicas > 1 ? `, then ${count}+${count} on ${replicas} replicas` : ''}, ${namespaceCount} namespaces, steady window ${windowSeconds} s; node ${process.version}; operator NODE_OPTIONS "${nodeOptions}"`);
const bundles = await benchBundles();
bundleOfRun = bundles.operator;
const results: ScaleResult[] = [];
const problems: string[] = [];
let sharded: ShardedResult | undefined;
/** Runs one size; a size that fails is said (with its error) and the larger ones are not tried. */
let failedSize: number | undefined;
async function runSize(n: number): Promise<void> {
  if (failedSize !== undefined) return;
  try {
    results.push(await runScale(n, bundles));
  } catch (e: unknown) {
    failedSize = n;
    problems.push(`${n}+${n} failed: ${e instanceof Error ? e.message : String(e)}`);
    console.log(`\n${n}+${n} FAILED: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  }
  printTable(results); // after every size: what was measured so far, should a larger size not finish
}
// The sizes up to --count, the sharded run of --count, then the larger sizes (the longest last).
for (const n of sizes.filter((v) => v <= count)) await runSize(n);
const oneReplica = results.find((r) => r.count === count);
if (replicas > 1 && oneReplica) {
  try {
    sharded = await runSharded(count, replicas, shards, namespaceCount, bundles.operator, workerEnv, windowSeconds);
    printSharded(oneReplica, sharded);
  } catch (e: unknown) {
    problems.push(`the sharded run (${replicas} replicas, ${shards} shards) failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}
for (const n of sizes.filter((v) => v > count)) await runSize(n);
if (sharded && oneReplica) printSharded(oneReplica, sharded);

for (const r of results) {
  const w = r.steady.requests;
  if (w.writes + w.eventWrites > 0) problems.push(`${r.count}+${r.count}: ${w.writes + w.eventWrites} steady-state writes ${JSON.stringify(w.writesBy)}`);
  for (const c of controllers) {
    if ((r.restart.reconciled[c] ?? 0) < r.count) problems.push(`${r.count}+${r.count}: ${c} reconciled ${r.restart.reconciled[c] ?? 0} after the restart`);
  }
  if (r.restart.failed > 0) problems.push(`${r.count}+${r.count}: ${r.restart.failed} failed reconciles after the restart`);
}
if (sharded && sharded.steadyWrites > 0) problems.push(`${replicas} replicas: ${sharded.steadyWrites} steady-state writes`);
if (problems.length > 0) {
  console.log(`\nFAILED:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('\nOK: no steady-state writes besides Lease renewals; every object reconciled at every size.');
process.exit(0);
