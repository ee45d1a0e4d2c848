// The whole loop on the real weather data (issue 9, part 2), with real processes and HTTP only:
//   the local cluster (kube-apiserver, kube-controller-manager, MinIO) + the node agent running the trainer and
//   server bundles as pods + the operator in this process.
//   1. A TrainingPipeline trains v1 on Seattle; a ModelDeployment following it serves v1.
//   2. Traffic, balanced over the ready endpoints of the stable Service's EndpointSlices (as kube-proxy would),
//      with the true label fed back for every answered prediction.
//   3. New York arrives: traffic switches to New York days and New York CSV objects land under the data prefix.
//      Drift and/or falling live accuracy fire the pipeline's trigger; the run trains on the fed-back data too;
//      v2 is evaluated against v1 on the same holdout, blessed, canaried through the live gates and promoted;
//      live accuracy on New York traffic recovers.
//   4. A deliberately bad candidate (one epoch from scratch at a tiny learning rate, the gates relaxed so it is
//      blessed) is canaried and rolled back automatically, the stable revision untouched.
//   Not one request fails during any of it.
// The milestones print as `# <seconds since start> <what>` lines.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import { LocalCluster, repoRoot } from '../../localcluster/cluster.js';
import { NodeAgent } from '../../localcluster/node-agent/agent.js';
import { kubeConfigFor, minioClientFor } from '../../localcluster/test-cluster.js';
import { Annotation } from '../../src/api/conditions.js';
import type { ModelDeployment } from '../../src/api/model-deployment.js';
import type { TrainingPipeline, TrainingRun } from '../../src/api/training-pipeline.js';
import { loadConfig } from '../../src/operator/config.js';
import { buildManager } from '../../src/operator/operator.js';
import { KubeHttpClient, PatchType } from '../../src/operator/runtime/kube-http.js';
import type { Manager } from '../../src/operator/runtime/manager.js';
import { weatherLines } from '../integration/trainer-harness.js';
import { installCrds } from '../support/crds.js';
import { eventually } from '../support/eventually.js';
import { credentialsSecret, localOperatorEnv, weatherPipeline, yearlyCsv } from '../support/weather-loop.js';

const namespace = 'loop';
const bucket = 'perennial-models';
const name = 'weather';
const started = Date.now();
const milestone = (what: string): void => console.log(`# ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  ${what}`);

interface Day {
  readonly instance: Record<string, number | string>;
  readonly label: string;
}

function days(location: string): Day[] {
  const { header, rows } = weatherLines();
  const cols = header.split(',');
  return rows.map((line) => Object.fromEntries(line.split(',').map((v, i) => [cols[i] ?? '', v])))
    .filter((r) => r['location'] === location)
    .map((r) => ({
      instance: { precipitation: Number(r['precipitation']), temp_max: Number(r['temp_max']), temp_min: Number(r['temp_min']), wind: Number(r['wind']), date: r['date'] ?? '' },
      label: r['weather'] ?? '',
    }));
}


/** Client-side counts per traffic phase: every request and every failure (a non-2xx answer or no answer). */
interface Counts { requests: number; failed: number; feedback: number; feedbackFailed: number; errors: string[] }

describe('closed loop on the weather data (train → serve → drift → retrain → canary → promote → bad candidate rolled back)', () => {
  let cluster: LocalCluster;
  let agent: NodeAgent | undefined;
  let manager: Manager | undefined;
  let kc: KubeConfig;
  let custom: CustomObjectsApi;
  let discovery: DiscoveryV1Api;
  let http: KubeHttpClient;
  let traffic: Promise<void> | undefined;
  let stopTraffic = false;
  let source: Day[] = days('Seattle');
  const counts: Counts = { requests: 0, failed: 0, feedback: 0, feedbackFailed: 0, errors: [] };

  const getTp = async (): Promise<TrainingPipeline> =>
    await custom.getNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace, plural: 'trainingpipelines', name }) as TrainingPipeline;
  const getMd = async (): Promise<ModelDeployment> =>
    await custom.getNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace, plural: 'modeldeployments', name }) as ModelDeployment;
  const untilTp = (what: string, ok: (tp: TrainingPipeline) => boolean, timeoutMs = 180_000) =>
    eventually(what, async () => { const tp = await getTp(); return ok(tp) ? tp : undefined; }, timeoutMs, 500);
  const untilMd = (what: string, ok: (md: ModelDeployment) => boolean, timeoutMs = 180_000) =>
    eventually(what, async () => { const md = await getMd(); return ok(md) ? md : undefined; }, timeoutMs, 500);
  /** Every distinct status.liveMetrics (one per analysis interval), recorded while traffic runs. */
  const live = new Map<string, NonNullable<NonNullable<ModelDeployment['status']>['liveMetrics']>>();
  const recordLive = async (): Promise<void> => {
    while (!stopTraffic) {
      const m = (await getMd().catch(() => undefined))?.status?.liveMetrics;
      if (m?.time !== undefined) live.set(m.time, m);
      await sleep(1000);
    }
  };
  /** Live accuracy of a version over the windows measured in [fromMs, toMs], weighted by their labelled samples. */
  const liveAccuracy = (version: string, fromMs: number, toMs = Infinity): { accuracy: number; samples: number; windows: number } => {
    let correct = 0;
    let samples = 0;
    let windows = 0;
    for (const m of live.values()) {
      const t = Date.parse(m.time ?? '');
      if (m.version !== version || !(t > fromMs && t <= toMs) || m.accuracy === undefined || !m.labelledSamples) continue;
      correct += m.accuracy * m.labelledSamples;
      samples += m.labelledSamples;
      windows++;
    }
    return { accuracy: samples > 0 ? correct / samples : NaN, samples, windows };
  };
  const runOf = (tp: TrainingPipeline, version: string): TrainingRun | undefined => tp.status?.runs?.find((r) => r.version === version);

  /** The ready endpoints of the stable Service, read from its EndpointSlices as kube-proxy reads them. */
  const endpoints = async (): Promise<string[]> => {
    const slices = await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${name}` });
    const out: string[] = [];
    for (const slice of slices.items) {
      const port = slice.ports?.[0]?.port ?? 8080;
      for (const e of slice.endpoints) {
        if (e.conditions?.ready !== true) continue;
        for (const a of e.addresses) out.push(`${a}:${port}`);
      }
    }
    return out;
  };

  /** Round robin over the ready endpoints, refreshed before every request; the true label fed back for each answer. */
  const sendTraffic = async (): Promise<void> => {
    let i = 0;
    while (!stopTraffic) {
      const eps = await endpoints().catch(() => []);
      const ep = eps[i % Math.max(1, eps.length)];
      if (ep === undefined) {
        await sleep(200);
        continue;
      }
      const batch = [0, 1, 2, 3].map((k) => source[(i * 4 + k) % source.length]).filter((d): d is Day => d !== undefined);
      i++;
      const base = `http://${ep}`;
      counts.requests++;
      let ids: string[];
      try {
        const r = await fetch(`${base}/v1/models/${name}:predict`, {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ instances: batch.map((d) => d.instance) }), signal: AbortSignal.timeout(5000),
        });
        if (!r.ok) {
          counts.failed++;
          counts.errors.push(`${ep}: HTTP ${r.status} ${(await r.text()).slice(0, 200)}`);
          continue;
        }
        ids = (await r.json() as { prediction_ids: string[] }).prediction_ids;
      } catch (e: unknown) {
        counts.failed++;
        counts.errors.push(`${ep}: ${e instanceof Error ? `${e.message} ${String(e.cause)}` : String(e)}`);
        continue;
      }
      try {
        const f = await fetch(`${base}/v1/feedback`, {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ feedback: ids.map((id, k) => ({ id, label: batch[k]?.label })) }), signal: AbortSignal.timeout(5000),
        });
        counts.feedback++;
        if (!f.ok) counts.feedbackFailed++;
      } catch {
        counts.feedback++;
        counts.feedbackFailed++;
      }
      await sleep(20);
    }
  };

  before(async () => {
    execFileSync(process.execPath, [join(repoRoot, 'scripts/bundle.mjs'), 'trainer', 'server'], { cwd: repoRoot, stdio: 'ignore' });
    cluster = await LocalCluster.start({ name: 'e2e-closed-loop' });
    const s3 = cluster.info.s3;
    if (!s3) throw new Error('no MinIO');
    kc = kubeConfigFor(cluster.info);
    await installCrds(kc);
    agent = await NodeAgent.start({ kubeConfig: kc, server: cluster.info.server, caData: cluster.info.caData, repoRoot, logDir: cluster.logDir });
    const core = kc.makeApiClient(CoreV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
    discovery = kc.makeApiClient(DiscoveryV1Api);
    http = new KubeHttpClient(kc);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedSecret({ namespace, body: {
      metadata: { name: credentialsSecret }, stringData: { AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey },
    } });
    await eventually('the default ServiceAccount', () => core.readNamespacedServiceAccount({ name: 'default', namespace }));
    const minio = minioClientFor(cluster.info);
    await minio.makeBucket(bucket);
    for (const [year, csv] of yearlyCsv('Seattle')) await minio.putObject(bucket, `data/weather/seattle-${year}.csv`, Buffer.from(csv));
    manager = buildManager(loadConfig(localOperatorEnv(namespace, s3, bucket)), kc);
    await manager.start();
    milestone('cluster, node agent and operator up; Seattle 2012–2015 in the store');
  });

  after(async () => {
    stopTraffic = true;
    await traffic;
    await manager?.stop();
    await agent?.stop();
    await cluster?.stop();
  });

  it('closes the loop with no failed request', async () => {
    const create = (plural: string, body: object) =>
      custom.createNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace, plural, body });
    // Short `for`s so the test sees them fire. minInterval keeps the drift/performance triggers from starting a
    // second run while the first retrain is still being rolled out (they keep firing against v1 until then).
    await create('trainingpipelines', weatherPipeline(name, {
      minInterval: '75s',
      drift: { deployment: name, psiThreshold: 0.25, for: '10s' },
      performance: { deployment: name, metric: 'accuracy', threshold: 0.6, minSamples: 50, for: '10s' },
    }));
    await create('modeldeployments', {
      apiVersion: 'perennial.dev/v1alpha1', kind: 'ModelDeployment', metadata: { name },
      spec: {
        model: { fromPipeline: name },
        server: { image: 'ghcr.io/perennial-dev/perennial-server:0.1.0', replicas: 2 },
        rollout: {
          strategy: 'Canary',
          canary: { steps: [{ setWeight: 50 }, { analysis: { duration: '15s' } }] },
          analysis: { interval: '3s', minSamples: 30, gates: { maxErrorRate: 0.01, minAccuracy: 0.4, maxAccuracyDrop: 0.1 } },
        },
      },
    });
    milestone('TrainingPipeline and ModelDeployment applied');

    // 1. v1 trained on Seattle, blessed, served.
    let tp = await untilTp('v1 blessed', (x) => x.status?.championVersion === 'v1');
    const v1Run = runOf(tp, 'v1');
    assert.equal(v1Run?.trigger, 'Initial');
    assert.equal(v1Run?.outcome, 'Blessed');
    milestone(`v1 blessed (holdout accuracy ${v1Run?.metrics?.['accuracy']?.toFixed(3) ?? '?'})`);
    let md = await untilMd('v1 served', (x) => x.status?.stableVersion === 'v1' && x.status.stableReadyReplicas === 2 && x.status.phase === 'Healthy');
    milestone('v1 serving on 2 pods');
    assert.equal((await endpoints()).length, 2, 'two ready endpoints in the stable Service');

    // 2. Seattle traffic with feedback: live accuracy of v1 where it was trained.
    traffic = Promise.all([sendTraffic(), recordLive()]).then(() => undefined);
    const liveSince = (version: string, fromMs: number, minSamples: number) => untilMd(`live metrics of ${version} after ${new Date(fromMs).toISOString()}`, (x) => {
      const m = x.status?.liveMetrics;
      return m?.version === version && Date.parse(m.time ?? '') > fromMs && (m.labelledSamples ?? 0) >= minSamples && m.accuracy !== undefined;
    });
    md = await liveSince('v1', Date.now() + 3000, 30);
    const seattle = md.status?.liveMetrics;
    milestone(`v1 live on Seattle: accuracy ${seattle?.accuracy?.toFixed(3) ?? '?'}, max PSI ${seattle?.maxDriftPsi?.toFixed(3) ?? '?'} (${seattle?.labelledSamples ?? 0} labelled)`);
    assert.ok((seattle?.accuracy ?? 0) > 0.6, `v1 on Seattle: ${JSON.stringify(seattle)}`);
    assert.equal((await getTp()).status?.runs?.length, 1, 'no trigger fires on the data v1 was trained for');

    // 3. New York arrives: the days sent switch, and New York objects land under the data prefix.
    source = days('New York');
    const minio = minioClientFor(cluster.info);
    for (const [year, csv] of yearlyCsv('New York')) await minio.putObject(bucket, `data/weather/new-york-${year}.csv`, Buffer.from(csv));
    const nySwitch = Date.now();
    milestone('New York traffic and New York CSV objects start flowing');
    md = await liveSince('v1', nySwitch + 4000, 30);
    const v1Ny = md.status?.liveMetrics;
    milestone(`v1 live on New York: accuracy ${v1Ny?.accuracy?.toFixed(3) ?? '?'}, max PSI ${v1Ny?.maxDriftPsi?.toFixed(3) ?? '?'}`);

    tp = await untilTp('a drift or performance run', (x) => (x.status?.runs ?? []).some((r) => r.trigger === 'Drift' || r.trigger === 'Performance'));
    const retrainSeen = Date.now();
    const v1NyMean = liveAccuracy('v1', nySwitch + 4000, retrainSeen);
    const v2Run = tp.status?.runs?.[0];
    const v2 = v2Run?.version ?? '';
    assert.ok(v2Run && (v2Run.trigger === 'Drift' || v2Run.trigger === 'Performance'), JSON.stringify(v2Run));
    milestone(`retrain ${v2Run.name} started by ${v2Run.trigger}: ${v2Run.reason ?? ''}`);

    tp = await untilTp(`${v2} to finish`, (x) => runOf(x, v2)?.outcome !== 'Running');
    const v2Done = runOf(tp, v2);
    assert.equal(v2Done?.outcome, 'Blessed', JSON.stringify(v2Done));
    assert.equal(tp.status?.championVersion, v2);
    assert.ok(v2Done.championMetrics?.['accuracy'] !== undefined, `evaluated against v1 on the same holdout: ${JSON.stringify(v2Done)}`);
    assert.ok((v2Done.metrics?.['accuracy'] ?? 0) >= (v2Done.championMetrics['accuracy'] ?? 1) - 0.03, JSON.stringify(v2Done));
    milestone(`${v2} blessed: holdout accuracy ${v2Done.metrics?.['accuracy']?.toFixed(3) ?? '?'} vs champion v1 ${v2Done.championMetrics['accuracy']?.toFixed(3) ?? '?'}`);
    // It trained on the fed-back data and on the New York objects (lineage, written by the trainer).
    const lineage = JSON.parse(await (await minio.getObject(bucket, `pipelines/${namespace}/${name}/versions/${v2}/lineage.json`)).toArray().then((c) => Buffer.concat(c as Buffer[]).toString('utf8'))) as {
      feedback?: { joined: number }; sources: { key: string }[];
    };
    assert.ok((lineage.feedback?.joined ?? 0) > 0, `feedback rows joined: ${JSON.stringify(lineage.feedback)}`);
    assert.ok(lineage.sources.some((s) => s.key.includes('/feedback/')), 'the feedback log objects are in the lineage');
    assert.ok(lineage.sources.some((s) => s.key.startsWith('data/weather/new-york-')), 'the New York objects are in the lineage');
    milestone(`${v2} lineage: ${lineage.feedback?.joined ?? 0} fed-back rows joined`);

    md = await untilMd(`${v2} canary`, (x) => x.status?.canaryVersion === v2);
    milestone(`${v2} canary at ${md.status?.canaryWeight ?? 0}%`);
    md = await untilMd(`${v2} promoted`, (x) => x.status?.stableVersion === v2 && x.status.canaryVersion === undefined && x.status.phase === 'Healthy');
    const passed = md.status?.analysis?.filter((a) => a.version === v2 && a.verdict === 'Passed') ?? [];
    assert.ok(passed.length > 0, JSON.stringify(md.status?.analysis));
    milestone(`${v2} promoted through the gates (${passed.length} passed analyses)`);
    const v2Revision = md.status?.stableRevision;

    const promoted = Date.now();
    const v2NyMean = await eventually(`5 live windows of ${v2}`, () => {
      const m = liveAccuracy(v2, promoted + 3000);
      return m.windows >= 5 ? m : undefined;
    }, 60_000, 500);
    const fmt = (m: { accuracy: number; samples: number; windows: number }): string => `${m.accuracy.toFixed(3)} (${m.samples} labelled over ${m.windows} windows)`;
    milestone(`live accuracy on New York: ${v2} ${fmt(v2NyMean)}, v1 ${fmt(v1NyMean)}`);
    // The bound is v1's live accuracy on the New York traffic, measured in this run over every analysis window from
    // the switch to the retrain (0.82 over 19 windows, ~5000 labels, when this test was written; v2 then measured
    // 0.86 over 5 windows): the retrained model must do better on the new data than the one it replaced. A fixed
    // number would not do: v1 is not poor on New York (sun and rain follow precipitation there too, and single
    // windows swing by ±0.05 with the days they cover); it is the drift (PSI 0.3–1.0) that fires the retrain.
    assert.ok(v1NyMean.windows >= 3, `v1 measured on New York: ${fmt(v1NyMean)}`);
    assert.ok(v2NyMean.accuracy > v1NyMean.accuracy, `live accuracy recovers: ${v2} ${fmt(v2NyMean)} vs v1 ${fmt(v1NyMean)}`);

    // 4. A deliberately bad candidate: one epoch from scratch at a tiny learning rate, the gates relaxed so it is
    // blessed; the drift/performance triggers removed so this manual run is the only one.
    await http.request('PATCH', `/apis/perennial.dev/v1alpha1/namespaces/${namespace}/trainingpipelines/${name}`, {
      contentType: PatchType.merge,
      body: {
        metadata: { annotations: { [Annotation.trigger]: 'bad-candidate' } },
        spec: {
          triggers: { drift: null, performance: null },
          trainer: { warmStart: 'Scratch', hyperparameters: { epochs: 1, batchSize: 512, learningRate: 0.000001, earlyStoppingPatience: 0 } },
          evaluation: { thresholds: [{ metric: 'accuracy', min: 0 }], maxRegression: 1 },
        },
      },
    });
    milestone('bad candidate requested (manual trigger)');
    tp = await untilTp('the bad candidate blessed', (x) => (x.status?.runs ?? []).some((r) => r.trigger === 'Manual' && r.outcome === 'Blessed'));
    const bad = (tp.status?.runs ?? []).find((r) => r.trigger === 'Manual');
    const v3 = bad?.version ?? '';
    milestone(`${v3} blessed with holdout accuracy ${bad?.metrics?.['accuracy']?.toFixed(3) ?? '?'} (gates relaxed)`);
    md = await untilMd(`${v3} canary`, (x) => x.status?.canaryVersion === v3);
    milestone(`${v3} canary at ${md.status?.canaryWeight ?? 0}%`);
    md = await untilMd(`${v3} rolled back`, (x) => x.status?.abortedVersion === v3);
    const failed = md.status?.analysis?.find((a) => a.version === v3 && a.verdict === 'Failed');
    milestone(`${v3} rolled back: ${failed?.message ?? ''}`);
    assert.ok(failed, JSON.stringify(md.status?.analysis));
    assert.match(failed.message ?? '', /accuracy/);
    assert.equal(md.status?.stableVersion, v2);
    assert.equal(md.status?.stableRevision, v2Revision, 'stable untouched');
    assert.equal(md.status?.canaryVersion, undefined);
    await eventually(`only ${v2} endpoints`, async () => {
      const eps = await endpoints();
      const pods = (await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace, labelSelector: `perennial.dev/deployment=${name}` })).items
        .filter((p) => !p.metadata?.deletionTimestamp);
      return eps.length === 2 && pods.length === 2 && pods.every((p) => p.metadata?.labels?.['perennial.dev/version'] === v2);
    });
    milestone(`back to ${v2} on 2 pods`);

    stopTraffic = true;
    await traffic;
    traffic = undefined;
    milestone(`traffic: ${counts.requests} requests, ${counts.failed} failed; ${counts.feedback} feedback posts, ${counts.feedbackFailed} failed`);
    assert.deepEqual(counts.errors.slice(0, 10), []);
    assert.equal(counts.failed, 0);
    assert.equal(counts.feedbackFailed, 0);
    assert.ok(counts.requests > 500, `${counts.requests} requests`);
  });
});
