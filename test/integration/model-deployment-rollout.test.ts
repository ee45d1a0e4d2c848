// The ModelDeployment controller end to end on a real local cluster: kube-apiserver, kube-controller-manager and
// MinIO, with a real node (kubelet, containerd) running the operator's server Deployments as containers of the
// server image built from its Dockerfile. Models are made by the real trainer on the Seattle weather data: v1 trained
// properly, v2 barely trained (its live accuracy from fed-back labels is poor). The test sends traffic the way
// kube-proxy would (to ready pods, weighted by replicas) and feeds back the true labels.
// Also: the Gateway API standard CRDs installed from the sigs.k8s.io/gateway-api Go module at test time and the
// operator's HTTPRoute (exact weights, RequestMirror); a real Prometheus (Debian's package) scraping the server
// processes and answering the `prometheus` metric provider, for two deployments that serve different models under
// the same version name. And the loop's semantics on real pods: labels sent to any pod (the feedback Service's way)
// count for the version that made the prediction; a shadow phase with accuracy gates is judged per mirrored request
// and on the mirrored requests' labels, then promoted (the test plays the Gateway that mirrors); a regression model's
// live RMSE reaches status.liveMetrics, fires a TrainingPipeline's performance trigger and rolls a worse candidate
// back through a maxRmse gate.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, AutoscalingV2Api, type V1Pod } from '@kubernetes/client-node';
import { freePort } from '../../localcluster/net.js';
import { Annotation } from '../../src/api/conditions.js';
import type { ModelDeploymentSpec } from '../../src/api/model-deployment.js';
import { aDeployment } from '../../src/api/testing/builders.js';
import { PrometheusMetricProvider } from '../../src/operator/controllers/model-deployment/metrics/prometheus.js';
import { NoValuesError } from '../../src/operator/controllers/model-deployment/metrics/provider.js';
import { PodsMetricProvider } from '../../src/operator/controllers/model-deployment/metrics/pods.js';
import type { MinioStore } from '../../src/storage/minio-store.js';
import { installGatewayApiCrds } from '../support/gateway-api-crds.js';
import { weatherDataPrefix, weatherInstances, weatherTrainerConfig } from '../support/served-model.js';
import { putText, runTrainer, storeFor, trainerEnv, weatherLines } from './trainer-harness.js';
import { eventually } from '../support/eventually.js';
import { LoopStack } from '../support/loop-stack.js';
import { imageTags } from '../support/node-cluster.js';

const namespace = 'ml';
const bucket = 'perennial-models';

const uri = (version: string, pipeline = 'weather'): string => `s3://${bucket}/pipelines/${namespace}/${pipeline}/versions/${version}`;

/** The weather rows as requests for a regression of temp_max (the label) on the other columns. */
function temperatureInstances(): { instances: Record<string, unknown>[]; labels: number[] } {
  const { instances } = weatherInstances('Seattle');
  return {
    instances: instances.map(({ temp_max: _label, ...rest }) => rest),
    labels: instances.map((r) => Number(r['temp_max'])),
  };
}

/** The trainer config of a regression of temp_max on the Seattle rows, pipeline ml/temp. */
function temperatureTrainerConfig(version: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const base = weatherTrainerConfig(version);
  return {
    ...base,
    pipeline: { namespace, name: 'temp' },
    schema: {
      features: [
        { name: 'precipitation', type: 'numeric' }, { name: 'temp_min', type: 'numeric' }, { name: 'wind', type: 'numeric' },
        { name: 'date', type: 'date' }, { name: 'location', type: 'categorical' },
      ],
      label: 'temp_max', task: 'regression', timestamp: 'date',
    },
    evaluation: { holdout: { from: '2015-01-01' }, sliceColumn: 'location', gates: { thresholds: { rmse: 1000 } } },
    ...over,
  };
}

/** Two pods of the test server image serving `version`: 50% then a 15 s analysis, judged every 3 s. */
function mdSpec(version: string, edit: (s: ModelDeploymentSpec) => void = () => undefined): ModelDeploymentSpec {
  return aDeployment('weather')
    .servingUri(uri(version))
    .withImage(imageTags.server)
    .withCanarySteps({ setWeight: 50 }, { analysis: { duration: '15s' } })
    .withAnalysis({ interval: '3s', minSamples: 30, inconclusiveLimit: 20, gates: { maxErrorRate: 0.05, minAccuracy: 0.6 } })
    .edit((md) => edit(md.spec))
    .buildSpec();
}

describe('ModelDeployment controller (real cluster, real node, real model servers)', () => {
  let stack: LoopStack;
  let store: MinioStore;
  let stopTraffic = false;
  const traffics = new Set<{ stop: () => Promise<void> }>();
  const sent = { requests: 0, failed: 0, feedbackFailed: 0 };

  const create = (name: string, spec: ModelDeploymentSpec) =>
    stack.create('modeldeployments', aDeployment(name).inNamespace(namespace).edit((md) => { md.spec = spec; }).build());
  const readyPods = async (md: string): Promise<V1Pod[]> => {
    const list = await stack.core.listNamespacedPod({ namespace, labelSelector: `perennial.dev/deployment=${md}` });
    return list.items.filter((p) => p.status?.podIP && !p.metadata?.deletionTimestamp && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  };
  const tokens = new Map<string, string>();
  /** The token a label sender reads from the deployment's feedback Secret (created by the operator). */
  const feedbackToken = async (md: string): Promise<string> => {
    const known = tokens.get(md);
    if (known !== undefined) return known;
    const secret = await stack.core.readNamespacedSecret({ name: `${md}-feedback`, namespace });
    const token = Buffer.from(secret.data?.['token'] ?? '', 'base64').toString('utf8');
    tokens.set(md, token);
    return token;
  };
  interface TrafficOptions {
    /** Requests and their true labels (the weather kinds by default). */
    readonly data?: { instances: readonly unknown[]; labels: readonly (string | number)[] };
    /** Play a Gateway's RequestMirror: every request is also sent to a pod of this version, whose answer is dropped. */
    readonly mirrorToVersion?: string;
    /** Only pods of this version answer (the stable one, as a route with a mirror would send them). */
    readonly onlyVersion?: string;
    /** The served model's name: its pipeline's (weather by default). */
    readonly model?: string;
    /** Feed back, for every prediction, a label of the data other than the one answered (a live accuracy of exactly 0). */
    readonly contradict?: boolean;
  }
  /**
   * Sends requests as a Service would (a random ready pod), and feeds back the true label of every prediction
   * through any ready pod of the deployment (the feedback Service's way), never to the pod that answered.
   */
  const sendTraffic = async (md: string, o: TrafficOptions = {}, stopped: () => boolean = () => false): Promise<void> => {
    const { instances, labels } = o.data ?? weatherInstances('Seattle');
    const n = Math.min(1400, instances.length);
    const versionOf = (p: V1Pod): string | undefined => p.metadata?.labels?.['perennial.dev/version'];
    const kinds = [...new Set(labels)];
    let i = 0;
    while (!stopTraffic && !stopped()) {
      const pods = await readyPods(md).catch(() => []);
      const answering = o.onlyVersion === undefined ? pods : pods.filter((p) => versionOf(p) === o.onlyVersion);
      const pod = answering[Math.floor(Math.random() * answering.length)];
      if (!pod) {
        await sleep(200);
        continue;
      }
      const batch = instances.slice(i % n, (i % n) + 4);
      const truth = labels.slice(i % n, (i % n) + 4);
      i += 4;
      const body = JSON.stringify({ instances: batch });
      const predict = (p: V1Pod): Promise<Response> => fetch(`http://${p.status?.podIP ?? ''}:8080/v1/models/${o.model ?? 'weather'}:predict`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(5000),
      });
      try {
        const mirrors = o.mirrorToVersion === undefined ? [] : pods.filter((p) => versionOf(p) === o.mirrorToVersion);
        const mirror = mirrors[Math.floor(Math.random() * mirrors.length)];
        if (mirror) void predict(mirror).then((r) => r.arrayBuffer()).catch(() => undefined);
        const r = await predict(pod);
        sent.requests++;
        if (!r.ok) {
          sent.failed++;
          continue;
        }
        const answer = await r.json() as { predictions: string[]; prediction_ids: string[] };
        const labelOf = (k: number): string | number | undefined =>
          o.contradict === true ? kinds.find((kind) => kind !== answer.predictions[k]) : truth[k];
        const others = pods.filter((p) => p !== pod);
        const to = (others.length > 0 ? others : pods)[Math.floor(Math.random() * (others.length > 0 ? others.length : pods.length))];
        const f = await fetch(`http://${to?.status?.podIP ?? ''}:8081/v1/feedback`, {
          method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await feedbackToken(md)}` },
          body: JSON.stringify({ feedback: answer.prediction_ids.map((id, k) => ({ id, label: labelOf(k) })) }), signal: AbortSignal.timeout(5000),
        });
        if (!f.ok) sent.feedbackFailed++;
      } catch {
        // a pod going away mid-request: the next one is picked from a fresh list
      }
      await sleep(20);
    }
  };

  /** Traffic to one deployment until stopped (or the suite ends). */
  const startTraffic = (md: string, o: TrafficOptions = {}): { stop: () => Promise<void> } => {
    let stop = false;
    const running = sendTraffic(md, o, () => stop);
    const handle = { stop: async (): Promise<void> => { stop = true; await running; traffics.delete(handle); } };
    traffics.add(handle);
    return handle;
  };

  before(async () => {
    stack = await LoopStack.start({ name: 'md-rollout', namespace, bucket, operator: 'none', log: (l) => console.log(`# ${l}`) });
    store = storeFor(stack.cluster.info);
    await store.ensureBucket(bucket);
    const { header, rows } = weatherLines();
    await putText(store, bucket, `${weatherDataPrefix}all.csv`, [header, ...rows].join('\n') + '\n');
    // v1: trained as the weather tests train it. v2: one epoch at a tiny learning rate (published: no gate).
    const noGate = { evaluation: { holdout: { from: '2015-01-01' }, sliceColumn: 'location', gates: { thresholds: { accuracy: 0 } } } };
    const poor = { epochs: 1, batchSize: 512, learningRate: 0.00001, patience: 1, validationFraction: 0.15 };
    // v3: trained as v1 is (the good candidate of the shadow test); other/v1: the poor model under v1's name, in
    // another pipeline; temp/v1 and temp/v2: a good and a poor regression of temp_max.
    const runs: Array<[string, Record<string, unknown>]> = [
      ['weather v1', weatherTrainerConfig('v1', noGate)],
      ['weather v2', weatherTrainerConfig('v2', { ...noGate, hyperparameters: poor })],
      ['weather v3', weatherTrainerConfig('v3', { ...noGate, seed: 11 })],
      ['other v1', { ...weatherTrainerConfig('v1', { ...noGate, hyperparameters: poor }), pipeline: { namespace, name: 'other' } }],
      ['temp v1', temperatureTrainerConfig('v1')],
      ['temp v2', temperatureTrainerConfig('v2', { hyperparameters: poor })],
    ];
    for (const [name, config] of runs) {
      const r = await runTrainer(trainerEnv(stack.cluster.info, bucket, config));
      if (r.code !== 0) throw new Error(`trainer ${name} exited ${String(r.code)}: ${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`);
    }
    await stack.startOperator();
  });

  after(async () => {
    stopTraffic = true;
    await Promise.all([...traffics].map((t) => t.stop()));
    await stack?.stop();
  });

  it('serves v1, rolls v2 out to 50%, resumes at the same step after an operator restart, and rolls the failing v2 back with v1 untouched', async () => {
    await create('weather', mdSpec('v1'));
    let md = await stack.untilMd('weather', 'v1 to serve', (x) => x.status?.phase === 'Healthy' && x.status.stableReadyReplicas === 2);
    const v1Revision = md.status?.stableRevision ?? '';
    const apps = stack.kc.makeApiClient(AppsV1Api);
    const v1Template = (await apps.readNamespacedDeployment({ namespace, name: v1Revision })).spec?.template;
    const v1Pods = (await readyPods('weather')).map((p) => p.metadata?.uid).sort();
    assert.equal(v1Pods.length, 2);
    startTraffic('weather');

    // Live metrics for the TrainingPipeline triggers, refreshed at the analysis interval with no rollout running.
    md = await stack.untilMd('weather', 'live metrics', (x) => (x.status?.liveMetrics?.labelledSamples ?? 0) > 0 && x.status?.liveMetrics?.accuracy !== undefined);
    const live = md.status?.liveMetrics;
    assert.equal(live?.version, 'v1');
    assert.ok((live?.requestRate ?? 0) > 0, JSON.stringify(live));
    assert.ok((live?.accuracy ?? 0) > 0.6, `v1 live accuracy ${String(live?.accuracy)}`);
    assert.ok(Object.keys(live?.drift ?? {}).includes('precipitation'), JSON.stringify(live?.drift));

    await stack.patchMd('weather', { spec: { model: { uri: uri('v2') } } });
    md = await stack.untilMd('weather', 'v2 at 50% with ready pods', (x) => x.status?.canaryVersion === 'v2' && x.status.currentStep === 1 && (x.status.canaryWeight ?? 0) > 0);
    assert.equal(md.status?.canaryWeight, 50, 'one of two pods each');
    const stepStart = md.status?.stepStartTime;

    // Operator restart in the middle of the analysis step.
    await stack.stopOperator();
    await sleep(2000);
    await stack.startOperator();
    await sleep(1500);
    md = await stack.getMd('weather');
    assert.equal(md.status?.canaryVersion, 'v2', 'the 15 s analysis window is still open');
    assert.equal(md.status?.currentStep, 1, 'the same step after the restart');
    assert.equal(md.status?.stepStartTime, stepStart, 'the same window');

    md = await stack.untilMd('weather', 'v2 to be aborted', (x) => x.status?.abortedVersion === 'v2', 180_000);
    assert.equal(md.status?.stableVersion, 'v1');
    assert.equal(md.status?.stableRevision, v1Revision);
    assert.equal(md.status?.canaryVersion, undefined);
    assert.equal(md.status?.canaryWeight, 0);
    assert.equal(md.status?.phase, 'Degraded');
    const failed = md.status?.analysis?.find((a) => a.verdict === 'Failed');
    assert.ok(failed, JSON.stringify(md.status?.analysis));
    assert.match(failed.message ?? '', /accuracy: live accuracy [0-9.]+ below 0.6/);
    assert.ok((failed.measurements?.['labelledSamples'] ?? 0) >= 30);
    // v1 untouched: the same pods (never restarted) serve again at full size; v2's are gone.
    await eventually('v2 pods gone and v1 back at 2', async () => {
      const pods = await readyPods('weather');
      return pods.length === 2 && pods.every((p) => p.metadata?.labels?.['perennial.dev/version'] === 'v1') ? pods : undefined;
    });
    const after = (await readyPods('weather')).map((p) => p.metadata?.uid);
    assert.ok(v1Pods.filter((u) => after.includes(u)).length >= 1, 'the stable pod that was not scaled away is the same process');
    assert.deepEqual((await apps.readNamespacedDeployment({ namespace, name: v1Revision })).spec?.template, v1Template, 'the stable pod template is untouched');
    assert.ok(sent.requests > 0);
  });

  it('a real Prometheus scraping the server processes answers the prometheus provider, keeping two deployments\' v1 apart', async () => {
    // A second deployment serving another pipeline's (poor) model under the same version name, v1. Its labels
    // contradict every answer, so its live accuracy is exactly 0 and any mixing of the two v1s' series shows (true
    // labels would make it the share of the majority kind in whichever rows the window caught: 0.55-0.6 in the
    // first months of the data, too close to the good model's in a window of a slow run).
    await create('other', mdSpec('v1', (sp) => {
      sp.model.uri = uri('v1', 'other');
      sp.server.replicas = 1;
    }));
    await stack.untilMd('other', 'other/v1 to serve', (x) => x.status?.phase === 'Healthy');
    const otherTraffic = startTraffic('other', { model: 'other', contradict: true });
    const weatherPods = await readyPods('weather');
    const pods = [...weatherPods, ...await readyPods('other')];
    assert.ok(pods.length >= 3);
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'perennial-prometheus-'));
    const targets = pods.map((p) => `'${p.status?.podIP ?? ''}:8080'`).join(', ');
    writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: perennial-server\n    static_configs:\n      - targets: [${targets}]\n`);
    const prom: ChildProcess = spawn('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
    ], { stdio: 'ignore' });
    try {
      // Client errors: counted apart by both providers, never as faults of the server. One first, so that the series
      // exists in Prometheus before the five that increase() is to see.
      const refused = async (n: number): Promise<void> => {
        for (const p of weatherPods) {
          for (let i = 0; i < n; i++) {
            const r = await fetch(`http://${p.status?.podIP ?? ''}:8080/v1/models/weather:predict`, { method: 'POST', body: new TextEncoder().encode('{"instances": [') });
            assert.equal(r.status, 415);
          }
        }
      };
      await refused(1);
      await eventually('Prometheus to have scraped the 415 series of every pod', async () => {
        const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent('perennial_server_requests_total{code="415"}')}`).catch(() => undefined);
        const body = r?.ok === true ? (await r.json()) as { data?: { result?: unknown[] } } : undefined;
        return (body?.data?.result?.length ?? 0) >= weatherPods.length ? true : undefined;
      }, 60_000);
      // The window starts 20 s before the five and grows from there, so that they stay in it however long the
      // labels take to reach Prometheus on a slow machine.
      const windowStartMs = Date.now() - 20_000;
      await refused(5);
      const provider = new PrometheusMetricProvider(`http://127.0.0.1:${port}`);
      const query = (version: string) => provider.measure({ namespace, deployment: 'weather', revisionHash: '', version, port: 8080, windowStartMs, nowMs: Date.now() });
      let last: unknown;
      const m = await eventually('Prometheus to have 20s of v1 traffic', async () => {
        const r = await query('v1').catch((e: unknown) => (e instanceof Error ? e.message : String(e)));
        last = r;
        if (typeof r === 'string') return undefined;
        return r.requests >= 30 && r.labelled >= 30 && r.clientErrors >= 4 * weatherPods.length ? r : undefined;
      }, 90_000).catch((e: unknown) => {
        throw new Error(`${e instanceof Error ? e.message : String(e)}; last answer: ${JSON.stringify(last)}`);
      });
      assert.equal(m.errors, 0, 'client errors are no faults (PromQL: code=~"5..",code!="503")');
      assert.equal(m.shed, 0);
      assert.ok(m.latencyP99Ms !== undefined && m.latencyP99Ms > 0);
      assert.ok(m.correct / m.labelled > 0.6, `accuracy from Prometheus ${m.correct / m.labelled}`);
      assert.ok(Object.keys(m.drift).includes('precipitation'));
      // The same version name in another deployment is another model: judged on its own series only.
      const other = await eventually('Prometheus to have 20s of other/v1 traffic', async () => {
        const r = await provider.measure({ namespace, deployment: 'other', revisionHash: '', version: 'v1', port: 8080, windowStartMs, nowMs: Date.now() }).catch(() => undefined);
        return r !== undefined && r.labelled >= 30 ? r : undefined;
      }, 90_000);
      const again = await query('v1');
      console.log(`# Prometheus: weather/v1 accuracy ${(again.correct / again.labelled).toFixed(3)} on ${again.labelled} labels, other/v1 ${(other.correct / other.labelled).toFixed(3)} on ${other.labelled}`);
      assert.equal(other.correct, 0, 'other/v1 is judged on its own (contradicting) labels only');
      assert.ok(again.correct / again.labelled > 0.6, 'weather/v1 is judged on its own labels only');
      const refusedCounts = `the 415s went to weather's pods only: ${again.clientErrors} and ${other.clientErrors}`;
      assert.ok(again.clientErrors >= 4 * weatherPods.length, refusedCounts);
      assert.equal(other.clientErrors, 0, refusedCounts);
      assert.ok(again.logLossLabels > 0 && other.logLossLabels > 0, 'labels carry the log loss (ids with probabilities)');
      assert.ok(again.logLossSum / again.logLossLabels < other.logLossSum / other.logLossLabels, 'the good model\'s log loss is the lower');
      await assert.rejects(query('v9'), NoValuesError, 'absent is not zero');
      const now = Date.now();
      await assert.rejects(provider.measure({ namespace, deployment: 'weather-elsewhere', revisionHash: '', version: 'v1', port: 8080, windowStartMs: now - 20_000, nowMs: now }),
        NoValuesError, 'v1 of another deployment (or namespace) is not this one: series carry namespace and model_deployment');
      // The pods provider measures the same servers directly.
      const pp = new PodsMetricProvider(async (ns, labels) => (await stack.core.listNamespacedPod({ namespace: ns, labelSelector: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',') })).items);
      const stableRevision = (await stack.getMd('weather')).status?.stableRevision ?? '';
      const hash = stableRevision.slice('weather-'.length);
      const q = { namespace, deployment: 'weather', revisionHash: hash, version: 'v1', port: 8080, windowStartMs: Date.now() - 1, nowMs: Date.now() };
      await assert.rejects(pp.measure(q), NoValuesError, 'no baseline before the first scrape');
      let lastDirect: unknown;
      await eventually('the pods provider to count requests and labels since its baseline', async () => {
        const direct = await pp.measure({ ...q, nowMs: Date.now() });
        lastDirect = direct;
        return direct.requests > 0 && direct.labelled > 0;
      }, 60_000, 1000).catch((e: unknown) => {
        throw new Error(`${e instanceof Error ? e.message : String(e)}; last answer: ${JSON.stringify(lastDirect)}`);
      });
    } finally {
      await otherTraffic.stop();
      prom.kill('SIGTERM');
      await new Promise((r) => prom.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gatewayAPI: the operator owns an HTTPRoute with exact weights and RequestMirror in the shadow phase (CRDs from the Go module)', async () => {
    const crds = await installGatewayApiCrds(stack.kc);
    assert.ok(crds.includes('httproutes.gateway.networking.k8s.io'));
    const route = async (): Promise<{ backendRefs: Array<{ name: string; weight: number }>; filters?: Array<{ type: string; requestMirror: { percent: number; backendRef: { name: string } } }> } | undefined> => {
      const r = await stack.custom.getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace, plural: 'httproutes', name: 'weather-gw' }).catch(() => undefined) as
        { spec: { rules: Array<{ backendRefs: Array<{ name: string; weight: number }> }> } } | undefined;
      return r?.spec.rules[0];
    };
    await create('weather-gw', mdSpec('v1', (s) => {
      s.server.replicas = 1;
      s.rollout.trafficRouting = { type: 'GatewayAPI', gatewayAPI: { parentRefs: [{ name: 'gateway', namespace: 'infra' }], pathPrefix: '/' } };
      s.rollout.shadow = { percent: 40, duration: '1h', minAgreement: 0.9 };
      s.rollout.canary.steps = [{ setWeight: 30 }, { pause: {} }];
    }));
    await stack.untilMd('weather-gw', 'v1 to serve', (x) => x.status?.phase === 'Healthy');
    assert.deepEqual((await route())?.backendRefs.map((b) => [b.name, b.weight]), [['weather-gw', 100]]);
    // gRPC (server.grpcPort, default 9000): the Services carry it as h2c, and a GRPCRoute splits it as the HTTPRoute.
    const grpcRoute = async (): Promise<{ backendRefs: Array<{ name: string; weight: number; port: number }>; filters?: Array<{ requestMirror: { percent: number } }> } | undefined> => {
      const r = await stack.custom.getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace, plural: 'grpcroutes', name: 'weather-gw' }).catch(() => undefined) as
        { spec: { rules: Array<{ backendRefs: Array<{ name: string; weight: number; port: number }> }> } } | undefined;
      return r?.spec.rules[0];
    };
    const grpcWeights = async (): Promise<string> => JSON.stringify((await grpcRoute())?.backendRefs.map((b) => [b.name, b.weight, b.port]));
    assert.equal(await grpcWeights(), JSON.stringify([['weather-gw', 100, 9000]]));
    for (const name of ['weather-gw', 'weather-gw-canary']) {
      const svc = await stack.core.readNamespacedService({ namespace, name });
      const grpc = svc.spec?.ports?.find((p) => p.name === 'grpc');
      assert.deepEqual([grpc?.port, grpc?.targetPort, grpc?.appProtocol], [9000, 'grpc', 'kubernetes.io/h2c'], name);
    }

    await stack.patchMd('weather-gw', { spec: { model: { uri: uri('v2') } } });
    await eventually('the mirror to the ready candidate', async () => {
      const r = await route();
      return r?.filters?.[0]?.requestMirror.percent === 40 ? r : undefined;
    });
    const shadowRoute = await route();
    assert.equal(shadowRoute?.filters?.[0]?.type, 'RequestMirror');
    assert.equal(shadowRoute?.filters?.[0]?.requestMirror.backendRef.name, 'weather-gw-canary');
    assert.deepEqual(shadowRoute?.backendRefs.map((b) => [b.name, b.weight]), [['weather-gw', 100], ['weather-gw-canary', 0]]);
    assert.equal((await grpcRoute())?.filters?.[0]?.requestMirror.percent, 40, 'gRPC mirrored alike');

    // Promote past the shadow phase (GitOps-style, by annotation): exact 70/30 once the candidate is ready.
    await stack.patchMd('weather-gw', { metadata: { annotations: { [Annotation.promote]: 'shadow-done' } } });
    await eventually('70/30 weights', async () => {
      const r = await route();
      return JSON.stringify(r?.backendRefs.map((b) => [b.name, b.weight])) === JSON.stringify([['weather-gw', 70], ['weather-gw-canary', 30]]) && r?.filters === undefined ? r : undefined;
    });
    await stack.untilMd('weather-gw', 'paused at the untimed pause', (x) => x.status?.phase === 'Paused' && x.status.canaryWeight === 30);
    assert.equal(await grpcWeights(), JSON.stringify([['weather-gw', 70, 9000], ['weather-gw-canary', 30, 9000]]), 'the GRPCRoute at 70/30 too');

    await stack.patchMd('weather-gw', { metadata: { annotations: { [Annotation.abort]: 'stop' } } });
    await eventually('all traffic back to stable', async () => {
      const r = await route();
      return JSON.stringify(r?.backendRefs.map((b) => [b.name, b.weight])) === JSON.stringify([['weather-gw', 100]]) ? r : undefined;
    });
    const md = await stack.untilMd('weather-gw', 'aborted', (x) => x.status?.abortedVersion === 'v2');
    assert.equal(md.status?.stableVersion, 'v1');
  });

  it('shadow with accuracy gates: judged per mirrored request and on the mirrored requests\' labels, then promoted', async () => {
    await create('weather-sh', mdSpec('v1', (sp) => {
      sp.server.replicas = 1;
      sp.rollout.trafficRouting = { type: 'GatewayAPI', gatewayAPI: { parentRefs: [{ name: 'gateway', namespace: 'infra' }], pathPrefix: '/' } };
      sp.rollout.shadow = { percent: 100, duration: '20s', minAgreement: 0.6 };
      sp.rollout.canary.steps = [{ setWeight: 50 }, { pause: {} }];
    }));
    await stack.untilMd('weather-sh', 'v1 to serve', (x) => x.status?.phase === 'Healthy');
    // The test plays the Gateway: every request goes to v1 and is mirrored to v3 once its pod is up; labels go to
    // any pod through the feedback port, for v1's prediction ids (the only ids a client ever sees).
    const t = startTraffic('weather-sh', { onlyVersion: 'v1', mirrorToVersion: 'v3' });
    try {
      await stack.patchMd('weather-sh', { spec: { model: { uri: uri('v3') } } });
      const md = await stack.untilMd('weather-sh', 'v3 past its shadow phase', (x) => x.status?.canaryVersion === 'v3' && (x.status.currentStep ?? 0) >= 1, 240_000);
      const passed = md.status?.analysis?.find((a) => a.version === 'v3' && a.verdict === 'Passed');
      assert.ok(passed, JSON.stringify(md.status?.analysis));
      const m = passed.measurements ?? {};
      console.log(`# shadow analysis of v3: ${JSON.stringify(m)}`);
      assert.ok((m['compared'] ?? 0) >= 30, 'mirrored requests paired with v1\'s answers');
      assert.ok((m['agreement'] ?? 0) >= 0.6 && (m['agreement'] ?? 0) <= 1);
      assert.ok((m['labelledSamples'] ?? 0) >= 30 && (m['accuracy'] ?? 0) >= 0.6, 'the shadow\'s accuracy from the labels of the mirrored requests');
      assert.match(passed.message ?? '', /agreement/);
    } finally {
      await t.stop();
    }
  });

  it('regression: live RMSE reaches liveMetrics from labels sent to any pod, and a maxRmse gate rolls a worse candidate back', async () => {
    await create('temp', mdSpec('v1', (sp) => {
      sp.model.uri = uri('v1', 'temp');
      sp.rollout.analysis.gates = { maxErrorRate: 0.05, maxRmse: 8 };
    }));
    await stack.untilMd('temp', 'temp/v1 to serve', (x) => x.status?.phase === 'Healthy' && x.status.stableReadyReplicas === 2);
    const t = startTraffic('temp', { data: temperatureInstances(), model: 'temp' });
    try {
      let md = await stack.untilMd('temp', 'live RMSE of v1', (x) => x.status?.liveMetrics?.rmse !== undefined && (x.status.liveMetrics.labelledSamples ?? 0) >= 20, 120_000);
      const live = md.status?.liveMetrics;
      console.log(`# temp/v1 live: ${JSON.stringify(live)}`);
      assert.equal(live?.version, 'v1');
      assert.ok((live?.rmse ?? Infinity) < 8, `v1 live RMSE ${String(live?.rmse)}`);
      assert.equal(live?.accuracy, undefined, 'no accuracy for a regression');
      await stack.patchMd('temp', { spec: { model: { uri: uri('v2', 'temp') } } });
      md = await stack.untilMd('temp', 'temp/v2 to be aborted', (x) => x.status?.abortedVersion === 'v2', 240_000);
      const failed = md.status?.analysis?.find((a) => a.verdict === 'Failed');
      assert.ok(failed, JSON.stringify(md.status?.analysis));
      assert.match(failed.message ?? '', /rmse: live RMSE [0-9.]+ above 8/);
      assert.equal(md.status?.stableVersion, 'v1');
    } finally {
      await t.stop();
    }
  });
  it('autoscaling: the real HPA controller scales the md through its scale subresource, and the canary split follows the total', async () => {
    const autoscaling = { minReplicas: 1, maxReplicas: 3, targetCPUUtilization: 80 };
    await create('scaled', mdSpec('v1', (sp) => {
      sp.server.autoscaling = autoscaling;
      sp.rollout.canary = { steps: [{ setWeight: 50 }, { pause: {} }] };
    }));
    let md = await stack.untilMd('scaled', 'scaled/v1 to serve', (x) => x.status?.phase === 'Healthy' && x.status.stableReadyReplicas === 2);
    assert.equal(md.status?.replicas, 2);
    assert.match(md.status?.selector ?? '', /^perennial\.dev\/deployment=scaled,perennial\.dev\/revision in \([a-z0-9]+\)$/);
    const hpas = stack.kc.makeApiClient(AutoscalingV2Api);
    const hpa = await hpas.readNamespacedHorizontalPodAutoscaler({ namespace, name: 'scaled' });
    assert.deepEqual({ ...hpa.spec?.scaleTargetRef }, { apiVersion: 'perennial.dev/v1alpha1', kind: 'ModelDeployment', name: 'scaled' });
    assert.equal(hpa.spec?.maxReplicas, 3);
    // kube-controller-manager's HPA controller reads the md's scale subresource (no metrics source here: it says
    // so in ScalingActive, but the bounds are enforced without metrics).
    await eventually('the HPA controller to read the md\'s scale', async () => {
      const h = await hpas.readNamespacedHorizontalPodAutoscaler({ namespace, name: 'scaled' });
      return h.status?.currentReplicas === 2 && h.status.conditions?.some((c) => c.type === 'AbleToScale' && c.status === 'True') ? h : undefined;
    }, 120_000);
    const scaleTo = (replicas: number): Promise<unknown> => stack.custom.patchNamespacedCustomObjectScale({
      group: 'perennial.dev', version: 'v1alpha1', namespace, plural: 'modeldeployments', name: 'scaled',
      body: [{ op: 'replace', path: '/spec/replicas', value: replicas }],
    });
    // Above maxReplicas: the HPA controller itself brings the total down to 3 through the scale subresource.
    await scaleTo(5);
    md = await stack.untilMd('scaled', 'the HPA to cap the total at 3 and 3 pods ready', (x) => x.spec.server.replicas === 3 && x.status?.stableReadyReplicas === 3, 120_000);
    const scaledBy = await hpas.readNamespacedHorizontalPodAutoscaler({ namespace, name: 'scaled' });
    assert.equal(scaledBy.status?.desiredReplicas, 3, JSON.stringify(scaledBy.status));
    assert.equal(md.status?.replicas, 3);

    // A canary at 50% of 3: the candidate gets ceil(3 x 50%) = 2 pods, the stable version keeps 1 once they are ready.
    await stack.patchMd('scaled', { spec: { model: { uri: uri('v3') } } });
    md = await stack.untilMd('scaled', 'v3 at 50% of 3', (x) => x.status?.canaryVersion === 'v3' && x.status.canaryReadyReplicas === 2 && x.status.stableReadyReplicas === 1, 180_000);
    assert.equal(md.status?.replicas, 3);
    assert.match(md.status?.selector ?? '', /revision in \([a-z0-9]+,[a-z0-9]+\)$/, 'both revisions taking traffic are measured');
    // The autoscaler (here: the test, as the HPA would) shrinks the total to 2 mid-rollout: one pod each.
    await scaleTo(2);
    md = await stack.untilMd('scaled', 'one pod each at a total of 2', (x) => x.spec.server.replicas === 2 && x.status?.canaryReadyReplicas === 1 && x.status.stableReadyReplicas === 1 && x.status.replicas === 2, 180_000);
    assert.equal(md.status?.canaryWeight, 50);
    assert.equal(md.status?.currentStep, 1, 'still paused at the step: scaling is not a rollout');
    // Autoscaling turned off: the operator deletes its HPA.
    await stack.patchMd('scaled', { spec: { server: { autoscaling: null } } });
    await eventually('the HPA to be deleted', async () => {
      try {
        await hpas.readNamespacedHorizontalPodAutoscaler({ namespace, name: 'scaled' });
        return undefined;
      } catch {
        return true;
      }
    }, 60_000);
    await stack.custom.deleteNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace, plural: 'modeldeployments', name: 'scaled' });
  });
});
