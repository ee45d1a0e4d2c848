// The sharded run of the operator-scale benchmark (bench/operator-scale.ts --replicas N): N operator processes
// with PERENNIAL_SHARDS set split the objects by shard Leases (src/operator/runtime/shards*.ts) on a fresh cluster
// with the same objects as the 1-replica run. It measures each replica as the 1-replica run measures its one
// operator (create: CPU, peak RSS, reconcile duration p50/p99; steady: RSS, V8 heap, CPU, store calls per minute)
// and the objects' own state for "every object reconciled", so the two runs print side by side.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  allReconciled, controllers, createAll, Operator, operatorUser, reconcileTimeoutMs, settle, startScaleCluster, until,
} from './operator-scale-cluster.js';
import { countRequests, histogramQuantile, procSample, scrapeOperator, type OperatorCounters } from './operator-scale-measure.js';

export interface ReplicaResult {
  readonly identity: string;
  readonly shardsHeld: number;
  /** Reconciles this replica ran in the create phase, both controllers. */
  readonly reconciles: number;
  readonly createCpuSeconds: number;
  readonly createPeakRssBytes: number;
  readonly reconcileP50: number;
  readonly reconcileP99: number;
  readonly steadyRssBytes: number;
  readonly steadyHeapUsedBytes: number;
  readonly steadyCpuPercent: number;
  readonly steadyStoreRequestsPerMinute: number | undefined;
}

export interface ShardedResult {
  readonly count: number;
  readonly replicas: readonly ReplicaResult[];
  readonly reconciledSeconds: number;
  /** Operator writes (all replicas) in the steady window besides Lease renewals: must be 0. */
  readonly steadyWrites: number;
}

const sum = (r: Readonly<Record<string, number>>): number => Object.values(r).reduce((a, b) => a + b, 0);

async function scrapeAll(ops: readonly Operator[]): Promise<Array<OperatorCounters | undefined>> {
  return Promise.all(ops.map((o) => scrapeOperator(o.metricsUrl)));
}

/** Runs N replicas on n + n objects; `env` is the operator environment of the 1-replica run (workers). */
export async function runSharded(
  n: number, replicas: number, shards: number, namespaceCount: number, bundle: string, env: Readonly<Record<string, string>>, windowSeconds: number,
): Promise<ShardedResult> {
  console.log(`\n== ${n} TrainingPipelines + ${n} ModelDeployments, ${replicas} replicas, ${shards} shards ==`);
  const { cluster, info, auditLog, http, set, kubeconfigOf } = await startScaleCluster(n, namespaceCount);
  const ops: Operator[] = [];
  try {
    for (let i = 0; i < replicas; i++) {
      ops.push(await Operator.start(bundle, info, kubeconfigOf(operatorUser), `operator-shard-${i + 1}`, { ...env, PERENNIAL_SHARDS: String(shards) }));
    }
    // Ready, and the shards split: every replica holds some and together they hold all.
    await until('the replicas to hold every shard between them', 120_000, 500, async () => {
      const c = await scrapeAll(ops);
      const held = c.map((x) => x?.shardsHeld ?? 0);
      return held.every((h) => h > 0) && held.reduce((a, b) => a + b, 0) === shards ? true : undefined;
    });
    await sleep(3000);
    for (const o of ops) o.sampler.takePeak();
    const cpu0 = ops.map((o) => procSample(o.pid).cpuSeconds);
    const from = await scrapeAll(ops);
    const t0 = Date.now();
    await createAll(http, set);
    const drained = await until('the replicas to reconcile every object once', reconcileTimeoutMs, 500, async () => {
      const c = await scrapeAll(ops);
      if (c.some((x) => x === undefined || x.queueDepth > 0)) return undefined;
      return controllers.every((k) => c.reduce((a, x) => a + (x?.reconciled[k] ?? 0), 0) >= n) ? c : undefined;
    });
    const tCounters = Date.now();
    const checks = await allReconciled(http, set);
    const reconciledSeconds = ((checks === 1 ? tCounters : Date.now()) - t0) / 1000;
    const createCpu = ops.map((o, i) => procSample(o.pid).cpuSeconds - (cpu0[i] ?? 0));
    const createPeak = ops.map((o) => o.sampler.takePeak());
    console.log(`all reconciled ${reconciledSeconds.toFixed(1)} s after the first create`);

    await settle(auditLog, 10_000, 180_000);
    const cpuS = ops.map((o) => procSample(o.pid).cpuSeconds);
    const before = await scrapeAll(ops);
    const tS = Date.now();
    await sleep(windowSeconds * 1000);
    const tE = Date.now();
    const after = await scrapeAll(ops);
    const seconds = (tE - tS) / 1000;
    await sleep(2000); // the audit log is written as requests complete
    const steady = countRequests(auditLog, operatorUser, tS, tE);
    const results = ops.map((o, i): ReplicaResult => {
      const f = from[i];
      const d = drained[i];
      const b = before[i];
      const a = after[i];
      const store = a?.storeRequests === undefined ? undefined : ((a.storeRequests - (b?.storeRequests ?? 0)) * 60) / seconds;
      return {
        identity: `operator-shard-${i + 1}`,
        shardsHeld: a?.shardsHeld ?? 0,
        reconciles: sum(d?.reconciled ?? {}) - sum(f?.reconciled ?? {}),
        createCpuSeconds: createCpu[i] ?? 0,
        createPeakRssBytes: createPeak[i] ?? 0,
        reconcileP50: histogramQuantile(0.5, f?.durationBuckets ?? new Map(), d?.durationBuckets ?? new Map()) ?? 0,
        reconcileP99: histogramQuantile(0.99, f?.durationBuckets ?? new Map(), d?.durationBuckets ?? new Map()) ?? 0,
        steadyRssBytes: procSample(o.pid).rssBytes,
        steadyHeapUsedBytes: a?.heapUsedBytes ?? 0,
        steadyCpuPercent: (100 * (procSample(o.pid).cpuSeconds - (cpuS[i] ?? 0))) / seconds,
        steadyStoreRequestsPerMinute: store,
      };
    });
    return { count: n, replicas: results, reconciledSeconds, steadyWrites: steady.writes + steady.eventWrites };
  } finally {
    for (const o of ops) await o.stop();
    await cluster.stop();
  }
}
