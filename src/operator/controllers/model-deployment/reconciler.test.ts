// The reconciler against the runtime's recording fake: the exact writes of each reconcile, in order, with the
// events after the status write. Caches are views of the fake; the metric provider is a table of measurements;
// the test plays kube-controller-manager by setting readyReplicas on the Deployments.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Annotation } from '../../../api/conditions.js';
import type { ModelDeployment, ModelDeploymentSpec } from '../../../api/model-deployment.js';
import { aDeployment, aPipeline } from '../../../api/testing/builders.js';
import type { EventRecorder } from '../../runtime/events.js';
import { WriteExpectations } from '../../runtime/expectations.js';
import type { CacheReader } from '../../runtime/informer.js';
import { matches, parseSelector } from '../../runtime/label-selector.js';
import { TransientError } from '../../runtime/errors.js';
import { createLogger } from '../../runtime/log.js';
import type { KubeObject, ResourceRef } from '../../runtime/resource.js';
import { StatusWriter } from '../../runtime/status-writer.js';
import { FakeClock } from '../../runtime/testing/fake-clock.js';
import { FakeKube } from '../../runtime/testing/fake-kube.js';
import { deployments, grpcRoutes, httpRoutes, modelDeployments, pods, secrets, services, trainingPipelines } from '../../resources.js';
import type { PodObject } from '../pod-faults.js';
import { emptyMeasurement, NoValuesError, type Measurement, type MetricProvider, type MetricQuery } from './metrics/provider.js';
import type { TenancyPolicy } from '../tenancy.js';
import { ModelDeploymentReconciler } from './reconciler.js';
import type { ServerDeployment } from './server-deployment.js';

function cacheOf(kube: FakeKube, ref: ResourceRef): CacheReader<KubeObject> {
  return {
    hasSynced: () => true,
    get: (namespace, name) => kube.get(ref, { namespace, name }),
    list: (namespace, selector) => kube.list<KubeObject>(ref, namespace)
      .filter((o) => selector === undefined || matches(parseSelector(selector), o.metadata?.labels)),
  };
}

const t0 = Date.UTC(2026, 10, 21, 10, 0, 0);
const store = { endPoint: 'minio.perennial-system.svc', port: 9000, useSSL: false, region: 'us-east-1', bucket: 'perennial', credentialsSecret: 'perennial-s3' };
const tenancy: TenancyPolicy = {
  defaultBucket: 'perennial', storeGrants: [], trainerImages: [], serverImages: ['perennial-server'],
  prometheusURL: 'http://prometheus.monitoring:9090', prometheusAllowedURLs: [],
};

function spec(edit: (s: ModelDeploymentSpec) => void = () => undefined): ModelDeploymentSpec {
  return aDeployment('weather').edit((md) => edit(md.spec)).buildSpec();
}

/** Measurements per model version; a version absent from the table has no values. */
class TableProvider implements MetricProvider {
  readonly table = new Map<string, Measurement>();
  readonly queries: MetricQuery[] = [];
  measure(q: MetricQuery): Promise<Measurement> {
    this.queries.push(q);
    const m = this.table.get(q.version);
    return m ? Promise.resolve(m) : Promise.reject(new NoValuesError('no pods'));
  }
}

function setup(s: ModelDeploymentSpec = spec()) {
  const kube = new FakeKube();
  kube.seed(trainingPipelines, aPipeline('weather').withStatus({ championVersion: 'v1' }).build());
  kube.seed(modelDeployments, aDeployment('weather').withMetadata({ uid: 'md-uid' }).edit((md) => { md.spec = s; }).build());
  const clock = new FakeClock(t0);
  const log: Array<{ text: string; at: number }> = [];
  const events: EventRecorder = {
    event: (_obj, type, reason, note) => {
      log.push({ text: `event ${type} ${reason}: ${note}`, at: kube.writes.length });
      return Promise.resolve();
    },
  };
  const provider = new TableProvider();
  const providersAsked: Array<string | undefined> = [];
  const reconciler = (): ModelDeploymentReconciler => new ModelDeploymentReconciler({
    deployments: cacheOf(kube, modelDeployments),
    pipelines: cacheOf(kube, trainingPipelines),
    serverDeployments: cacheOf(kube, deployments),
    services: cacheOf(kube, services),
    readPods: (namespace, labels) => Promise.resolve(kube.list<PodObject & KubeObject>(pods, namespace).filter((p) => matches(parseSelector(labels), p.metadata?.labels))),
    kube,
    statusWriter: new StatusWriter(kube, new WriteExpectations(clock)),
    events,
    clock,
    logger: createLogger({ silent: true }),
    store,
    metricProvider: (url) => { providersAsked.push(url); return provider; },
    readRoute: (namespace, name, kind) => Promise.resolve(kube.get(kind === 'GRPCRoute' ? grpcRoutes : httpRoutes, { namespace, name })),
    tenancy,
  });
  let r = reconciler();
  const key = { namespace: 'ml', name: 'weather' };
  const md = (): ModelDeployment => kube.get<ModelDeployment>(modelDeployments, key) as ModelDeployment;
  let lastRequeue: number | undefined;
  const step = async (): Promise<string[]> => {
    const before = kube.writes.length;
    const logBefore = log.length;
    const res = await r.reconcile(key);
    lastRequeue = res.requeueAfterMs;
    return [...kube.summary().slice(before), ...log.slice(logBefore).map((e) => `${e.text} (after ${e.at - before} writes)`)];
  };
  const revisions = (): ServerDeployment[] => kube.list<ServerDeployment>(deployments, 'ml');
  /** Plays the Deployment controller: every Deployment's pods are ready. */
  const allReady = (): void => {
    for (const d of revisions()) kube.seed(deployments, { ...d, status: { readyReplicas: d.spec.replicas, replicas: d.spec.replicas } } as KubeObject);
  };
  const setChampion = (v: string): void => {
    const tp = kube.get<KubeObject>(trainingPipelines, key) as KubeObject;
    kube.seed(trainingPipelines, { ...tp, status: { championVersion: v } } as KubeObject);
  };
  const setSpec = (edit: (s: ModelDeploymentSpec) => void): void => {
    const cur = md();
    const next = structuredClone(cur.spec);
    edit(next);
    kube.seed(modelDeployments, { ...cur, spec: next } as KubeObject);
  };
  const annotate = (k: string, v: string): void => {
    const cur = md();
    kube.seed(modelDeployments, { ...cur, metadata: { ...cur.metadata, annotations: { ...cur.metadata.annotations, [k]: v } } });
  };
  return {
    kube, clock, provider, providersAsked, key, md, step, revisions, allReady, setChampion, setSpec, annotate,
    requeue: () => lastRequeue, restart: () => { r = reconciler(); }, events: () => log.map((e) => e.text),
  };
}

const healthy: Measurement = { ...emptyMeasurement, requests: 500, errors: 0, latencyP99Ms: 4, labelled: 0, correct: 0 };
const failing: Measurement = { ...healthy, errors: 60 };

/** Serves v1, then rolls v2 out to its analysis step (the test playing the Deployment controller). */
async function toAnalysis(h: ReturnType<typeof setup>): Promise<void> {
  await h.step();
  h.allReady();
  await h.step();
  h.setChampion('v2');
  for (let i = 0; i < 5 && h.md().status?.currentStep !== 1; i++) {
    await h.step();
    h.allReady();
  }
  assert.equal(h.md().status?.currentStep, 1);
}

/** The names of the revisions: weather-<hash>, one per version here. */
function revisionOf(h: ReturnType<typeof setup>, version: string): ServerDeployment {
  const d = h.revisions().find((x) => x.metadata.labels['perennial.dev/version'] === version);
  assert.ok(d, `a Deployment for ${version}`);
  return d;
}

describe('ModelDeploymentReconciler', () => {
  it('serves the champion first, with the pod contract, probes and a restricted pod', async () => {
    const h = setup();
    const writes = await h.step();
    const v1 = revisionOf(h, 'v1');
    assert.match(v1.metadata.name, /^weather-[0-9a-f]{10}$/);
    assert.deepEqual(writes, [
      'create configmaps ml/weather-server',
      `create deployments.apps ml/${v1.metadata.name}`,
      'create services ml/weather',
      'create services ml/weather-canary',
      'create services ml/weather-feedback',
      'create secrets ml/weather-feedback',
      'patchStatus modeldeployments.perennial.dev ml/weather',
      `event Normal RolloutProgressing: Serving v1 (${v1.metadata.name}). (after 7 writes)`,
    ]);
    assert.equal(v1.spec.replicas, 2);
    const pod = v1.spec.template.spec as { automountServiceAccountToken: boolean; containers: Array<Record<string, unknown>>; volumes: unknown[] };
    assert.equal(pod.automountServiceAccountToken, false);
    const c = pod.containers[0] as { env: Array<{ name: string; value?: string; valueFrom?: unknown }>; readinessProbe: { httpGet: { path: string } }; livenessProbe: { httpGet: { path: string } }; securityContext: Record<string, unknown> };
    const env = Object.fromEntries(c.env.map((e) => [e.name, e.value ?? e.valueFrom]));
    assert.equal(env['PERENNIAL_SERVER_MODEL'], 'ml/weather@v1');
    assert.equal(env['PERENNIAL_SERVER_DRIFT_WINDOW_SECONDS'], '3600', 'spec.server.driftWindow 1h');
    assert.ok(!('PERENNIAL_SERVER_DRIFT_WINDOW_ROWS' in env), 'no spec.server.driftWindowRows: every row of the drift window');
    assert.deepEqual(env['PERENNIAL_SERVER_HOST'], { fieldRef: { fieldPath: 'status.podIP' } });
    assert.deepEqual(env['AWS_SECRET_ACCESS_KEY'], { secretKeyRef: { name: 'perennial-s3', key: 'AWS_SECRET_ACCESS_KEY' } });
    // Feedback: its own port, the token and the id signing key only as references to the feedback Secret.
    assert.equal(env['PERENNIAL_SERVER_FEEDBACK_PORT'], '8081');
    assert.deepEqual(env['PERENNIAL_SERVER_FEEDBACK_TOKEN'], { secretKeyRef: { name: 'weather-feedback', key: 'token' } });
    assert.deepEqual(env['PERENNIAL_SERVER_SIGNING_KEY'], { secretKeyRef: { name: 'weather-feedback', key: 'signingKey' } });
    assert.deepEqual((c as unknown as { ports: unknown[] }).ports, [
      { name: 'http', containerPort: 8080, protocol: 'TCP' }, { name: 'feedback', containerPort: 8081, protocol: 'TCP' }, { name: 'grpc', containerPort: 9000, protocol: 'TCP' },
    ]);
    assert.equal(env['PERENNIAL_SERVER_GRPC_PORT'], '9000');
    // The inference Services carry the gRPC port as HTTP/2 (h2c); the feedback Service does not.
    const stableService = h.kube.get<KubeObject & { spec: { ports: unknown[] } }>(services, { namespace: 'ml', name: 'weather' });
    assert.deepEqual(stableService?.spec.ports, [
      { name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' }, { name: 'grpc', port: 9000, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'kubernetes.io/h2c' },
    ]);
    const feedbackService = h.kube.get<KubeObject & { spec: { selector: unknown; ports: unknown[] } }>(services, { namespace: 'ml', name: 'weather-feedback' });
    assert.deepEqual(feedbackService?.spec.selector, { 'perennial.dev/deployment': 'weather' }, 'every pod of every revision takes labels');
    assert.deepEqual(feedbackService?.spec.ports, [{ name: 'feedback', port: 8081, targetPort: 'feedback', protocol: 'TCP' }]);
    const secret = h.kube.get<KubeObject & { stringData: Record<string, string>; metadata: { ownerReferences: unknown[] } }>(secrets, { namespace: 'ml', name: 'weather-feedback' });
    assert.ok((secret?.stringData['token'] ?? '').length >= 32 && (secret?.stringData['signingKey'] ?? '').length >= 32, 'random token and key');
    assert.equal(secret?.metadata.ownerReferences.length, 1, 'goes with the ModelDeployment');
    assert.equal(h.md().status?.feedbackSecret, 'weather-feedback', 'created once');
    assert.equal(c.readinessProbe.httpGet.path, '/v2/health/ready');
    assert.equal(c.livenessProbe.httpGet.path, '/v2/health/live');
    assert.deepEqual((pod as { securityContext?: unknown }).securityContext, { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    assert.deepEqual(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
    // The spill folder has a size limit, and the server's own spill limit sits below it (drops, never an eviction).
    assert.deepEqual(pod.volumes.find((v) => (v as { name: string }).name === 'spill'), { name: 'spill', emptyDir: { sizeLimit: '320Mi' } });
    assert.equal(env['PERENNIAL_SERVER_LOG_MAX_SPILL_BYTES'], String(256 * 2 ** 20));
    assert.ok(Number(env['PERENNIAL_SERVER_LOG_MAX_SPILL_BYTES']) < 320 * 2 ** 20);
    assert.equal(h.md().status?.phase, 'Pending', 'no pod of the first version is ready yet');

    h.allReady();
    assert.deepEqual(await h.step(), ['patchStatus modeldeployments.perennial.dev ml/weather']);
    const st = h.md().status;
    assert.equal(st?.phase, 'Healthy');
    assert.equal(st?.conditions?.find((x) => x.type === 'Available')?.status, 'True');
    assert.deepEqual(await h.step(), [], 'nothing changed: no write');
  });

  it('waiting for the first pods is quiet: the first status is a fixed point, and nothing is measured without a ready pod', async () => {
    const h = setup();
    await h.step();
    assert.equal(h.md().status?.phase, 'Pending');
    assert.equal(h.requeue(), undefined, 'no timer: the Deployment becoming ready is what changes something');
    h.clock.advance(30_000); // an analysis interval later (a resync, or any event)
    assert.deepEqual(await h.step(), [], 'no pod ready yet, nothing changed: no write');
    assert.equal(h.md().status?.phase, 'Pending', 'still Pending, not Progressing, until a first pod is ready');
    assert.equal(h.provider.queries.length, 0, 'no ready pod of the stable version: nothing to measure');

    h.provider.table.set('v1', healthy);
    h.allReady();
    await h.step();
    assert.equal(h.md().status?.phase, 'Healthy');
    assert.deepEqual(h.provider.queries.map((q) => q.version), ['v1'], 'a ready pod: liveMetrics measured');
    assert.equal(h.requeue(), 30_000, 'and measured again every analysis interval');
    assert.equal(h.md().status?.liveMetrics?.requestRate, 16.667, '500 requests over the 30 s interval');

    // The next interval measures the same values: nothing to write, and the time stays when they were first measured.
    const first = h.md().status?.liveMetrics?.time;
    h.clock.advance(30_000);
    assert.deepEqual(await h.step(), [], 'an unchanged measurement is not written');
    assert.deepEqual(h.provider.queries.map((q) => q.version), ['v1', 'v1'], 'but it was measured');
    assert.equal(h.md().status?.liveMetrics?.time, first);
    h.provider.table.set('v1', { ...healthy, requests: 800 });
    h.clock.advance(30_000);
    assert.deepEqual(await h.step(), ['patchStatus modeldeployments.perennial.dev ml/weather'], 'a changed one is');
    assert.equal(h.md().status?.liveMetrics?.requestRate, 26.667);
    assert.notEqual(h.md().status?.liveMetrics?.time, first);
  });

  it('waiting for the pipeline\'s first champion sets no timer: the champion\'s arrival is what starts it', async () => {
    const h = setup();
    h.kube.seed(trainingPipelines, aPipeline('weather').withStatus({}).build());
    assert.deepEqual(await h.step(), ['patchStatus modeldeployments.perennial.dev ml/weather']);
    assert.equal(h.md().status?.phase, 'Pending');
    assert.match(h.md().status?.message ?? '', /no champion yet/);
    assert.equal(h.requeue(), undefined);
    assert.deepEqual(await h.step(), [], 'nothing changed: no write');

    h.setChampion('v1');
    const writes = await h.step();
    assert.deepEqual(writes.slice(0, 2), ['create configmaps ml/weather-server', `create deployments.apps ml/${revisionOf(h, 'v1').metadata.name}`]);
  });

  it('rolls a new champion out step by step and promotes it, keeping the old one for the rollback window', async () => {
    const h = setup();
    await h.step();
    h.allReady();
    await h.step();
    const v1 = revisionOf(h, 'v1').metadata.name;
    h.setChampion('v2');
    let writes = await h.step();
    const v2 = revisionOf(h, 'v2').metadata.name;
    assert.deepEqual(writes, [
      'patch configmaps ml/weather-server',
      `create deployments.apps ml/${v2}`,
      'patch services ml/weather',
      'patch services ml/weather-canary',
      'patchStatus modeldeployments.perennial.dev ml/weather',
      'event Normal RolloutProgressing: Rollout of v2 started (stable v1). (after 5 writes)',
    ], 'the candidate\'s track is written before its pods start');
    assert.equal(revisionOf(h, 'v2').spec.replicas, 1, '50% of 2 replicas');
    assert.equal(revisionOf(h, 'v1').spec.replicas, 2, 'stable keeps its pods until the candidate is ready');
    assert.equal(h.md().status?.canaryWeight, 0, 'no weight to a candidate without ready pods');

    h.allReady();
    writes = await h.step();
    assert.deepEqual(writes, [`patch deployments.apps ml/${v1}`, 'patchStatus modeldeployments.perennial.dev ml/weather'],
      'the candidate is ready: the stable version gives up a pod');
    assert.equal(h.md().status?.canaryWeight, 33, 'one candidate pod of three ready pods');
    h.allReady();
    writes = await h.step();
    assert.deepEqual(writes, [
      'patchStatus modeldeployments.perennial.dev ml/weather',
      'event Normal RolloutProgressing: step 1/2 (setWeight 50%) reached (after 1 writes)',
    ]);
    assert.equal(h.md().status?.currentStep, 1);
    assert.equal(h.md().status?.canaryWeight, 50);

    // The analysis window: measurements accumulate, the verdict comes at its end.
    h.provider.table.set('v2', healthy);
    h.provider.table.set('v1', healthy);
    h.allReady();
    h.clock.advance(30_000);
    await h.step();
    assert.equal(h.md().status?.currentStep, 1, 'still measuring');
    assert.equal(h.requeue(), 30_000, 'the rest of the window');
    h.clock.advance(30_000);
    writes = await h.step();
    assert.deepEqual(writes, [
      `patch deployments.apps ml/${v2}`,
      'patchStatus modeldeployments.perennial.dev ml/weather',
      'event Normal RolloutProgressing: step 2/2 (analysis) passed (after 2 writes)',
    ]);
    assert.equal(revisionOf(h, 'v2').spec.replicas, 2, 'the candidate gets every pod before promotion');
    h.allReady();
    writes = await h.step();
    assert.deepEqual(writes, [
      'patch configmaps ml/weather-server',
      `patch deployments.apps ml/${v1}`,
      'patch services ml/weather',
      'patchStatus modeldeployments.perennial.dev ml/weather',
      'event Normal RolloutComplete: v2 promoted to stable (was v1). (after 4 writes)',
    ], 'v2\'s track becomes stable in the settings (its pods untouched); the previous revision is scaled back up for the rollback window; the Service selects v2 only');
    const st = h.md().status;
    assert.equal(st?.stableVersion, 'v2');
    assert.equal(st?.previousVersion, 'v1');
    assert.equal(st?.analysis?.[0]?.verdict, 'Passed');
    assert.deepEqual(st?.analysis?.[0]?.measurements, { samples: 500, errorRate: 0, clientErrors: 0, shed: 0, latencyP99Ms: 4, labelledSamples: 0 });
    assert.equal(revisionOf(h, 'v1').spec.replicas, 2, 'the previous revision keeps its pods');

    // Pinning v1 again within the rollback window switches at once.
    h.allReady();
    h.setSpec((s) => { s.model.version = 'v1'; });
    writes = await h.step();
    assert.deepEqual(writes, [
      'patch services ml/weather',
      'patch services ml/weather-canary',
      'patchStatus modeldeployments.perennial.dev ml/weather',
      'event Normal RolledBack: Rolled back from v2 to v1. (after 3 writes)',
    ]);
    assert.equal(h.md().status?.stableVersion, 'v1');

    // After the window the previous revision goes.
    h.clock.advance(10 * 60_000);
    writes = await h.step();
    assert.deepEqual(writes, ['patchStatus modeldeployments.perennial.dev ml/weather', `delete deployments.apps ml/${v2}`]);
  });

  it('server.logPredictions applies in place: the settings ConfigMap changes, no new revision, no rollout, no pod restarted', async () => {
    const h = setup();
    await h.step();
    h.allReady();
    await h.step();
    const stable = revisionOf(h, 'v1');
    h.setSpec((s) => { s.server.logPredictions = false; });
    const writes = await h.step();
    assert.deepEqual(writes, ['patch configmaps ml/weather-server', 'patchStatus modeldeployments.perennial.dev ml/weather']);
    assert.equal(h.md().status?.canaryRevision, undefined, 'no canary of the same version');
    assert.deepEqual(revisionOf(h, 'v1'), stable, 'the stable Deployment untouched');
    assert.deepEqual(await h.step(), [], 'written once');
  });

  it('aborts a failing candidate: all traffic back to stable, stable untouched, the version not retried until asked', async () => {
    const h = setup();
    await toAnalysis(h);
    const stableBefore = revisionOf(h, 'v1');
    h.provider.table.set('v2', failing);
    h.clock.advance(60_000);
    const v2 = revisionOf(h, 'v2').metadata.name;
    const writes = await h.step();
    assert.deepEqual(writes, [
      'patch configmaps ml/weather-server',
      `patch deployments.apps ml/${stableBefore.metadata.name}`,
      'patch services ml/weather',
      'patch services ml/weather-canary',
      'patchStatus modeldeployments.perennial.dev ml/weather',
      `delete deployments.apps ml/${v2}`,
      'event Warning RolloutAborted: Rollout of v2 aborted: step 2/2 (analysis) failed: errorRate: error rate 12.00% above 1.00% (60 server errors in 500 served requests). All traffic is back on v1. (after 5 writes)',
    ], 'the event right after the status write that records the abort, before the candidate\'s Deployment goes');
    const stableAfter = revisionOf(h, 'v1');
    assert.deepEqual(stableAfter.spec.template, stableBefore.spec.template, 'the stable pods are untouched');
    assert.equal(stableAfter.spec.replicas, 2);
    const st = h.md().status;
    assert.equal(st?.abortedVersion, 'v2');
    assert.equal(st?.phase, 'Degraded');
    assert.equal(st?.canaryWeight, 0);
    assert.equal(st?.analysis?.[0]?.verdict, 'Failed');
    assert.equal(st?.conditions?.find((c) => c.type === 'Degraded')?.status, 'True');

    // Not retried by itself...
    h.allReady();
    assert.deepEqual(await h.step(), ['patchStatus modeldeployments.perennial.dev ml/weather'], 'stable back at full size');
    assert.deepEqual(await h.step(), []);
    assert.equal(h.md().status?.canaryVersion, undefined);
    // ...but by the retry annotation.
    h.annotate(Annotation.retry, '1');
    const retried = await h.step();
    assert.ok(retried.some((w) => /create deployments.apps/.test(w)), retried.join('\n'));
    assert.equal(h.md().status?.canaryVersion, 'v2');
    assert.equal(h.md().status?.abortedVersion, undefined);
  });

  it('a delete that fails after the status write loses no event: the abort is told, and the retried reconcile deletes', async () => {
    const h = setup();
    await toAnalysis(h);
    h.provider.table.set('v2', failing);
    h.clock.advance(60_000);
    const v2 = revisionOf(h, 'v2').metadata.name;
    const told = h.events().length;
    h.kube.failNext('delete', new TransientError('the API server did not answer', 503, 'ServiceUnavailable', undefined));
    await assert.rejects(h.step(), TransientError);
    assert.deepEqual(h.kube.summary().slice(-2), ['patchStatus modeldeployments.perennial.dev ml/weather', `delete deployments.apps ml/${v2} !TransientError`]);
    assert.deepEqual(h.events().slice(told).map((e) => e.replace(/:.*/s, '')), ['event Warning RolloutAborted'], 'told once, before the failed delete');
    assert.equal(h.md().status?.abortedVersion, 'v2');
    const retried = await h.step();
    assert.ok(retried.includes(`delete deployments.apps ml/${v2}`), retried.join('\n'));
    assert.deepEqual(retried.filter((w) => w.startsWith('event')), [], 'the retry deletes it, and tells nothing twice');
  });

  it('too little traffic is inconclusive: the window grows uncounted until maxWindow, starts again (counted), then the rollout pauses for a person', async () => {
    const h = setup();
    await toAnalysis(h);
    h.provider.table.set('v2', { ...healthy, requests: 10, errors: 10 });
    // The 1m analysis step ends short of samples: its window grows (default maxWindow: 10 intervals of 30s).
    h.clock.advance(60_000);
    const growing = await h.step();
    assert.ok(!growing.some((w) => /InconclusiveAnalysis/.test(w)), growing.join('\n'));
    assert.equal(h.md().status?.inconclusiveCount, 0);
    assert.match(h.md().status?.analysis?.[0]?.message ?? '', /^window growing, not counted: /);
    h.clock.advance(240_000);
    for (let i = 1; i <= 3; i++) {
      const writes = await h.step();
      assert.ok(writes.some((w) => /InconclusiveAnalysis/.test(w)), writes.join('\n'));
      assert.equal(h.md().status?.inconclusiveCount, i);
      assert.equal(h.md().status?.canaryVersion, 'v2', 'not aborted');
      h.clock.advance(300_000);
    }
    await h.step();
    const st = h.md().status;
    assert.equal(st?.phase, 'Paused');
    assert.equal(st?.conditions?.find((c) => c.type === 'Paused')?.reason, 'InconclusiveAnalysis');
    // A promote moves on.
    h.annotate(Annotation.promote, 'go');
    await h.step();
    assert.equal(h.md().status?.currentStep, 2);
  });

  it('a restarted operator resumes at the same step', async () => {
    const h = setup();
    await toAnalysis(h);
    const before = h.md().status;
    h.restart();
    h.clock.advance(10_000);
    await h.step();
    const after = h.md().status;
    assert.equal(after?.currentStep, before?.currentStep);
    assert.equal(after?.stepStartTime, before?.stepStartTime);
    assert.equal(after?.canaryVersion, 'v2');
  });

  it('gatewayAPI: an owned HTTPRoute with exact weights, written only when it changes; abort by spec', async () => {
    const h = setup(spec((s) => {
      s.rollout.trafficRouting = { type: 'GatewayAPI', gatewayAPI: { parentRefs: [{ name: 'gw' }], pathPrefix: '/' } };
      s.rollout.canary.steps = [{ setWeight: 30 }, { pause: {} }];
    }));
    await h.step();
    h.allReady();
    await h.step();
    const weights = (ref = httpRoutes): Array<[string, number]> => {
      const r = h.kube.get<KubeObject & { spec: { rules: Array<{ backendRefs: Array<{ name: string; weight: number }> }> } }>(ref, h.key);
      return r?.spec.rules[0]?.backendRefs.map((b) => [b.name, b.weight]) ?? [];
    };
    assert.deepEqual(weights(), [['weather', 100]]);
    assert.deepEqual(weights(grpcRoutes), [['weather', 100]], 'the GRPCRoute beside it');
    h.setChampion('v2');
    await h.step();
    assert.deepEqual(weights(), [['weather', 100], ['weather-canary', 0]], 'no weight before the candidate is ready');
    h.allReady();
    const writes = await h.step();
    assert.ok(writes.includes('patch httproutes.gateway.networking.k8s.io ml/weather'), writes.join('\n'));
    assert.ok(writes.includes('patch grpcroutes.gateway.networking.k8s.io ml/weather'), writes.join('\n'));
    assert.deepEqual(weights(), [['weather', 70], ['weather-canary', 30]]);
    assert.deepEqual(weights(grpcRoutes), [['weather', 70], ['weather-canary', 30]], 'gRPC split as REST');
    const grpcRoute = h.kube.get<KubeObject & { spec: { rules: Array<{ matches?: unknown; backendRefs: Array<{ port: number }> }> } }>(grpcRoutes, h.key);
    assert.deepEqual(grpcRoute?.spec.rules[0]?.backendRefs.map((b) => b.port), [9000, 9000]);
    assert.equal(grpcRoute?.spec.rules[0]?.matches, undefined, 'every method of every service');
    assert.equal(revisionOf(h, 'v1').spec.replicas, 2, 'with exact routing the stable version keeps its pods');
    assert.ok(!(await h.step()).some((w) => /httproutes/.test(w)), 'unchanged route: no write');
    assert.equal(h.md().status?.phase, 'Paused');
    h.setSpec((s) => { s.rollout.abort = true; });
    await h.step();
    assert.deepEqual(weights(), [['weather', 100]]);
    assert.equal(h.md().status?.abortedVersion, 'v2');
  });
  it('blue-green: the candidate runs at full size behind the preview Service; a promote switches the stable Service at once', async () => {
    const h = setup(spec((s) => { s.rollout.strategy = 'BlueGreen'; }));
    await h.step();
    h.allReady();
    await h.step();
    const selector = (name: string): Record<string, string> =>
      (h.kube.get<KubeObject & { spec: { selector: Record<string, string> } }>(services, { namespace: 'ml', name }) as { spec: { selector: Record<string, string> } }).spec.selector;
    const v1Hash = revisionOf(h, 'v1').metadata.labels['perennial.dev/revision'];
    assert.equal(selector('weather-preview')['perennial.dev/revision'], v1Hash);
    h.setChampion('v2');
    await h.step();
    const v2 = revisionOf(h, 'v2');
    assert.equal(v2.spec.replicas, 2, 'the preview at full size');
    assert.equal(selector('weather')['perennial.dev/revision'], v1Hash, 'real traffic stays on v1');
    assert.equal(selector('weather-preview')['perennial.dev/revision'], v2.metadata.labels['perennial.dev/revision']);
    h.allReady();
    await h.step();
    assert.equal(h.md().status?.phase, 'Paused', 'no autoPromoteAfter: waiting for a person');
    assert.equal(h.md().status?.conditions?.find((c) => c.type === 'Paused')?.reason, 'PausedAtStep');
    h.annotate(Annotation.promote, 'full-1');
    const writes = await h.step();
    assert.ok(writes.some((w) => /RolloutComplete/.test(w)), writes.join('\n'));
    assert.equal(selector('weather')['perennial.dev/revision'], v2.metadata.labels['perennial.dev/revision'], 'switched');
    assert.equal(h.md().status?.stableVersion, 'v2');
    assert.equal(h.md().status?.previousVersion, 'v1');
  });
  it('gatewayAPI: an HTTPRoute of that name it does not control is left alone, said so once, and taken over only when gone', async () => {
    const h = setup(spec((s) => { s.rollout.trafficRouting = { type: 'GatewayAPI', gatewayAPI: { parentRefs: [{ name: 'gw' }], pathPrefix: '/' } }; }));
    const theirs = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'weather', namespace: 'ml' }, spec: { rules: [{ backendRefs: [{ name: 'their-app', port: 80 }] }] } };
    h.kube.seed(httpRoutes, theirs);
    const writes = await h.step();
    assert.ok(!writes.some((w) => /httproutes/.test(w)), writes.join('\n'));
    assert.ok(writes.some((w) => /^event Warning RouteNotOwned: HTTPRoute weather exists and is not controlled by this ModelDeployment/.test(w)), writes.join('\n'));
    const degraded = h.md().status?.conditions?.find((c) => c.type === 'Degraded');
    assert.equal(degraded?.status, 'True');
    assert.equal(degraded?.reason, 'RouteNotOwned');
    assert.equal(h.md().status?.routeHash, undefined, 'not written, so not recorded');
    assert.deepEqual((h.kube.get(httpRoutes, h.key) as unknown as typeof theirs).spec, theirs.spec, 'their route is untouched');
    h.allReady();
    assert.ok(!(await h.step()).some((w) => /RouteNotOwned|httproutes/.test(w)), 'said once; still left alone');
    await h.kube.delete(httpRoutes, h.key);
    const after = await h.step();
    assert.ok(after.includes('create httproutes.gateway.networking.k8s.io ml/weather'), after.join('\n'));
    assert.equal(h.md().status?.conditions?.find((c) => c.type === 'Degraded')?.status, 'False');
  });

  it('gatewayAPI: a GRPCRoute of that name it does not control is left alone and said so; the HTTPRoute is still written', async () => {
    const h = setup(spec((s) => { s.rollout.trafficRouting = { type: 'GatewayAPI', gatewayAPI: { parentRefs: [{ name: 'gw' }], pathPrefix: '/' } }; }));
    const theirs = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GRPCRoute', metadata: { name: 'weather', namespace: 'ml' }, spec: { rules: [{ backendRefs: [{ name: 'their-grpc', port: 50051 }] }] } };
    h.kube.seed(grpcRoutes, theirs);
    const writes = await h.step();
    assert.ok(writes.includes('create httproutes.gateway.networking.k8s.io ml/weather'), writes.join('\n'));
    assert.ok(!writes.some((w) => /grpcroutes/.test(w)), writes.join('\n'));
    assert.ok(writes.some((w) => /^event Warning RouteNotOwned: GRPCRoute weather exists and is not controlled by this ModelDeployment/.test(w)), writes.join('\n'));
    assert.equal(h.md().status?.routeHash, undefined, 'not both written, so not recorded');
    assert.deepEqual((h.kube.get(grpcRoutes, h.key) as unknown as typeof theirs).spec, theirs.spec, 'their route is untouched');
    await h.kube.delete(grpcRoutes, h.key);
    h.allReady();
    const after = await h.step();
    assert.ok(after.includes('create grpcroutes.gateway.networking.k8s.io ml/weather'), after.join('\n'));
    assert.equal(h.md().status?.conditions?.find((c) => c.type === 'Degraded')?.status, 'False');
  });
  it('a Service made before the gRPC port gets it: ports follow server.port and server.grpcPort', async () => {
    const h = setup(spec(() => undefined));
    await h.step();
    const ports = (): unknown[] => (h.kube.get(services, { namespace: 'ml', name: 'weather' }) as unknown as { spec: { ports: unknown[] } }).spec.ports;
    const http = { name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' };
    await h.kube.patch(services, { namespace: 'ml', name: 'weather' }, { spec: { ports: [http] } });
    const writes = await h.step();
    assert.ok(writes.some((w) => /^patch services.* ml\/weather$/.test(w)), writes.join('\n'));
    assert.deepEqual(ports(), [http, { name: 'grpc', port: 9000, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'kubernetes.io/h2c' }]);
    assert.ok(!(await h.step()).some((w) => /^patch services.* ml\/weather$/.test(w)), 'unchanged ports: no write');
  });

  const refusals: Array<[string, (s: ModelDeploymentSpec) => void, RegExp]> = [
    ['a server image outside the allowed prefixes', (s) => { s.server.image = 'docker.io/someone/server:1'; },
      /spec\.server\.image: "docker\.io\/someone\/server:1" is not under the image prefixes this operator runs \(perennial-server; set at install time\)/],
    ['another namespace\'s model', (s) => { s.model = { uri: 's3://perennial/pipelines/other/weather/versions/v1' }; },
      /spec\.model\.uri: s3:\/\/perennial\/pipelines\/other\/weather\/versions\/v1 is outside what namespace "ml" may read/],
    ['a Prometheus the operator was not given', (s) => { s.rollout.analysis.provider = { type: 'Prometheus', prometheusURL: 'http://169.254.169.254/' }; },
      /spec\.rollout\.analysis\.provider\.prometheusURL: "http:\/\/169\.254\.169\.254\/" is not a Prometheus server this operator may query/],
  ];
  for (const [name, edit, want] of refusals) {
    it(`NotPermitted: ${name}; nothing created, nothing measured`, async () => {
      const h = setup(spec(edit));
      assert.deepEqual((await h.step()).map((w) => w.replace(/: .*/s, '')), ['patchStatus modeldeployments.perennial.dev ml/weather', 'event Warning NotPermitted']);
      const accepted = h.md().status?.conditions?.find((c) => c.type === 'Accepted');
      assert.equal(accepted?.status, 'False');
      assert.equal(accepted?.reason, 'NotPermitted');
      assert.match(accepted?.message ?? '', want);
      assert.deepEqual(h.providersAsked, [], 'no metric provider was even built');
      assert.equal(h.revisions().length, 0);
    });
  }

  it('Prometheus without a URL: the operator\'s own', async () => {
    const h = setup(spec((s) => { s.rollout.analysis.provider = { type: 'Prometheus' }; }));
    h.provider.table.set('v1', healthy);
    await h.step();
    h.allReady();
    await h.step();
    assert.deepEqual([...new Set(h.providersAsked)], ['http://prometheus.monitoring:9090']);
  });

  it('following a pipeline with its own bucket and Secret: the servers use them for the model and their logs', async () => {
    const h = setup();
    h.kube.seed(trainingPipelines, aPipeline('weather').withStorage({ bucket: 'team-models', credentialsSecret: 'team-s3' }).withStatus({ championVersion: 'v1' }).build());
    await h.step();
    const env = Object.fromEntries(((revisionOf(h, 'v1').spec.template.spec as { containers: Array<{ env: Array<{ name: string; value?: string; valueFrom?: unknown }> }> }).containers[0]?.env ?? [])
      .map((e) => [e.name, e.value ?? e.valueFrom]));
    assert.equal(env['PERENNIAL_S3_BUCKET'], 'team-models');
    assert.equal(env['PERENNIAL_SERVER_MODEL_BUCKET'], undefined, 'the model is in the servers\' own bucket');
    assert.deepEqual(env['AWS_ACCESS_KEY_ID'], { secretKeyRef: { name: 'team-s3', key: 'AWS_ACCESS_KEY_ID' } });
    assert.equal(h.md().status?.stableURI, 's3://team-models/pipelines/ml/weather/versions/v1/');
  });

  it('a candidate whose Deployment gave up on its pods is aborted, naming the cause; the stable revision is untouched', async () => {
    const h = setup(spec((s) => { s.rollout.progressDeadline = '30s'; }));
    await h.step();
    assert.equal(revisionOf(h, 'v1').spec.progressDeadlineSeconds, 30, 'the Deployment carries the deadline');
    h.allReady();
    await h.step();
    const v1 = revisionOf(h, 'v1');
    h.setChampion('v2');
    await h.step();
    const v2 = revisionOf(h, 'v2');
    // The Deployment controller gives up on v2; its pod says why.
    h.kube.seed(deployments, { ...v2, status: { replicas: 1, readyReplicas: 0, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${v2.metadata.name}-x" has timed out progressing.` }] } } as KubeObject);
    h.kube.seed(pods, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: `${v2.metadata.name}-x-y`, namespace: 'ml', labels: v2.spec.template.metadata.labels },
      spec: { containers: [{ name: 'server', image: 'perennial-server:nope' }] },
      status: { phase: 'Pending', containerStatuses: [{ name: 'server', ready: false, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "perennial-server:nope"' } } }] },
    } as KubeObject);
    const writes = await h.step();
    assert.ok(writes.includes(`delete deployments.apps ml/${v2.metadata.name}`), writes.join('\n'));
    const event = writes.find((w) => w.startsWith('event Warning RolloutAborted'));
    assert.match(event ?? '', /ProgressDeadlineExceeded: its pods did not become ready within spec\.rollout\.progressDeadline \(30s\): image "perennial-server:nope" cannot be pulled \(ImagePullBackOff/);
    const st = h.md().status;
    assert.equal(st?.phase, 'Degraded');
    assert.equal(st?.abortedRevision, v2.metadata.name);
    assert.equal(st?.stableRevision, v1.metadata.name);
    assert.match(st?.conditions?.find((c) => c.type === 'Degraded')?.message ?? '', /^v2 was aborted \(ProgressDeadlineExceeded: .*ImagePullBackOff.*\) and rolled back; v1 serves/);
    assert.deepEqual(revisionOf(h, 'v1').spec.template, v1.spec.template, 'the stable pod template is untouched');
    assert.equal(revisionOf(h, 'v1').spec.replicas, 2);
  });

  it('a changed progressDeadline is patched onto the existing Deployments (no pod restarts: not the template)', async () => {
    const h = setup();
    await h.step();
    h.allReady();
    await h.step();
    h.setSpec((s) => { s.rollout.progressDeadline = '3m'; });
    const v1 = revisionOf(h, 'v1').metadata.name;
    assert.deepEqual(await h.step(), [`patch deployments.apps ml/${v1}`, 'patchStatus modeldeployments.perennial.dev ml/weather'], 'and the new generation observed');
    assert.equal(revisionOf(h, 'v1').spec.progressDeadlineSeconds, 180);
    assert.deepEqual(await h.step(), []);
  });
});
