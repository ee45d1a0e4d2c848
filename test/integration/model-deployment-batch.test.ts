// Batch traffic through a canary analysis step (issue 16): a batch of predictions, their labels some seconds later
// in one go, then nothing. Real model servers (the server bundle, v1 and v2 trained by the real trainer into the
// shared cluster's MinIO), the real `pods` metric provider scraping their /metrics, and the ModelDeployment plan
// (measurementsWanted → provider → planModelDeployment) run reconcile after reconcile on the wall clock, as the
// controller runs them; only the pod listing is played (each "pod" is one of the two server processes, which the
// provider's fetch reaches on its own port), because pods on a node would make the traffic and its timing the
// node's and not the test's.
//
// With analysis.maxWindow the step's window grows from the step's start while it is short of samples: the batch's
// predictions and its labels land in one window and the step passes, no inconclusive analysis counted. With the
// window as long as the step (what every window was before maxWindow), the predictions end up in one window and
// the labels in the next: Inconclusive, window after window, until the rollout pauses for a person. Meanwhile
// status.liveMetrics keeps the stable version's batch of labels (its label window closed on them) interval after
// interval, where one interval's worth showed them once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Pod } from '@kubernetes/client-node';
import type { ClusterInfo } from '../../localcluster/cluster.js';
import { sharedCluster, uniqueName } from '../../localcluster/test-cluster.js';
import type { ModelDeployment } from '../../src/api/model-deployment.js';
import { aDeployment } from '../../src/api/testing/builders.js';
import { growingPrefix } from '../../src/operator/controllers/model-deployment/advance-step.js';
import { resolveDesiredModel } from '../../src/operator/controllers/model-deployment/desired-model.js';
import { measurementsWanted, type MeasurementWindow } from '../../src/operator/controllers/model-deployment/measurements-wanted.js';
import { PodsMetricProvider, type Fetch } from '../../src/operator/controllers/model-deployment/metrics/pods.js';
import { hashOfRevision } from '../../src/operator/controllers/model-deployment/names.js';
import type { MeasureResult, Observed, ObservedRevision } from '../../src/operator/controllers/model-deployment/observed.js';
import { planModelDeployment } from '../../src/operator/controllers/model-deployment/plan.js';
import { ReplicasRouter } from '../../src/operator/controllers/model-deployment/routers/replicas.js';
import type { TenancyPolicy } from '../../src/operator/controllers/tenancy.js';
import type { StoreSettings } from '../../src/operator/store-settings.js';
import { postFeedback, postJson, quickTraining, serverEnv, startServer, trainWeatherModel, waitReady, weatherInstances, type RunningServer } from '../support/served-model.js';
import { storeFor } from './trainer-harness.js';

const namespace = 'ml';
const md = 'weather';

describe('batch traffic through a canary analysis step (real servers, the pods provider, the plan)', () => {
  let info: ClusterInfo;
  const bucket = uniqueName('batch');
  const servers = new Map<string, RunningServer>();
  const started = new Map<string, Date>();
  let settings: StoreSettings;
  let policy: TenancyPolicy;
  const uri = (version: string): string => `s3://${bucket}/pipelines/${namespace}/weather/versions/${version}`;

  before(async () => {
    info = await sharedCluster();
    const s3 = info.s3;
    if (!s3) throw new Error('no MinIO');
    const store = storeFor(info);
    for (const version of ['v1', 'v2']) await trainWeatherModel(info, store, bucket, version, quickTraining);
    for (const version of ['v1', 'v2']) {
      started.set(version, new Date());
      const server = await startServer(serverEnv(info, { bucket, version }));
      servers.set(version, server);
      await waitReady(server);
    }
    settings = { endPoint: s3.endPoint, port: s3.port, useSSL: false, region: s3.region, bucket, credentialsSecret: 'perennial-s3' };
    policy = { defaultBucket: bucket, storeGrants: [], trainerImages: [], serverImages: ['perennial-server'], prometheusURL: undefined, prometheusAllowedURLs: [] };
  });

  after(async () => {
    await Promise.all([...servers.values()].map((s) => s.stop()));
  });

  /** The controller's loop over one deployment: its revisions as Deployments whose pods are all ready. */
  class Loop {
    md: ModelDeployment;
    readonly revisions = new Map<string, ObservedRevision>();
    /** Which server process plays the pods of a revision (by version). */
    readonly versionOf = new Map<string, string>();
    readonly provider: PodsMetricProvider;

    constructor(edit: (b: ReturnType<typeof aDeployment>) => ReturnType<typeof aDeployment>) {
      this.md = edit(aDeployment(md).inNamespace(namespace).withMetadata({ uid: `uid-${uniqueName('md')}`, generation: 1 })
        .servingUri(uri('v1')).withImage('perennial-server').withServer({ replicas: 2 })
        .withCanarySteps({ setWeight: 50 }, { analysis: { duration: '4s' } })).build();
      const listPods = (): Promise<V1Pod[]> => Promise.resolve([...this.revisions.values()].filter((r) => r.readyReplicas > 0).map((r) => this.podOf(r)));
      // A "pod" is reached at its server process: http://<version>.pods:<port>/metrics → that server's /metrics.
      const fetchFn: Fetch = (url, init) => {
        const version = new URL(url).hostname.split('.')[0] ?? '';
        return fetch(`${servers.get(version)?.url ?? 'http://127.0.0.1:1'}/metrics`, init);
      };
      this.provider = new PodsMetricProvider(listPods, fetchFn);
    }

    private podOf(r: ObservedRevision): V1Pod {
      const version = this.versionOf.get(r.name) ?? '';
      return {
        metadata: { name: `${r.name}-0`, uid: `uid-${r.name}`, labels: { 'perennial.dev/deployment': md, 'perennial.dev/revision': hashOfRevision(md, r.name) } },
        status: { podIP: `${version}.pods`, startTime: started.get(version) ?? new Date(0), conditions: [{ type: 'Ready', status: 'True' }] },
      };
    }

    private async measure(w: MeasurementWindow | undefined, nowMs: number): Promise<MeasureResult | undefined> {
      if (!w) return undefined;
      try {
        const m = await this.provider.measure({
          namespace, deployment: md, revisionHash: w.hash, version: w.version, port: 8080, windowStartMs: w.windowStartMs, nowMs,
          ...(w.labelsFromMs === undefined ? {} : { labelsFromMs: w.labelsFromMs }),
        });
        return { ok: true, m };
      } catch (e: unknown) {
        return { ok: false, reason: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
      }
    }

    /** One reconcile at the wall clock's now: measure what the plan wants, plan, "apply" (every pod ready at once). */
    async reconcile(): Promise<void> {
      const nowMs = Date.now();
      const stable = this.md.status?.stableRevision;
      const wanted = measurementsWanted(this.md, nowMs, stable === undefined ? 0 : this.revisions.get(stable)?.readyReplicas ?? 0);
      const [candidate, stableInWindow, stableLive] = await Promise.all([wanted.candidate, wanted.stableWindow, wanted.stableLive].map((w) => this.measure(w, nowMs)));
      const observed: Observed = {
        md: this.md, nowMs, store: settings, pipeline: undefined, tenancy: policy, desired: resolveDesiredModel(this.md, undefined, bucket),
        revisions: new Map(this.revisions), services: new Map(), candidate, stableInWindow, stableLive,
      };
      const plan = planModelDeployment(observed, new ReplicasRouter());
      assert.notEqual(plan.status.phase, 'Degraded', plan.status.message);
      for (const d of plan.deployments) {
        const name = d.metadata.name;
        this.versionOf.set(name, d.metadata.labels['perennial.dev/version'] ?? '');
        this.revisions.set(name, { name, uid: `uid-${name}`, replicas: d.spec.replicas, readyReplicas: d.spec.replicas });
      }
      for (const s of plan.scale) this.revisions.set(s.name, { name: s.name, uid: `uid-${s.name}`, replicas: s.replicas, readyReplicas: s.replicas });
      for (const d of plan.deleteDeployments) this.revisions.delete(d.name);
      this.md = { ...this.md, status: plan.status };
    }

    /** Reconciles every `everyMs` for `forMs`. */
    async run(forMs: number, everyMs = 1000): Promise<void> {
      const until = Date.now() + forMs;
      while (Date.now() < until) {
        await this.reconcile();
        await sleep(everyMs);
      }
    }

    /** Serves v1, then rolls v2 out up to its analysis step; the step's first measurement is its baseline. */
    async toAnalysisStep(): Promise<void> {
      await this.reconcile();
      assert.equal(this.md.status?.stableVersion, 'v1', this.md.status?.message);
      this.md = { ...this.md, spec: { ...this.md.spec, model: { uri: uri('v2') } }, metadata: { ...this.md.metadata, generation: 2 } };
      for (let i = 0; i < 5 && this.md.status?.currentStep !== 1; i++) await this.reconcile();
      assert.equal(this.md.status?.currentStep, 1, this.md.status?.message);
      await this.reconcile();
    }
  }

  /**
   * A batch of `n` predictions from a version's server, sent at once as `n` requests of one row (the error-rate and
   * latency gates count served requests); the ids and their true labels, to be sent later.
   */
  const predictBatch = async (version: string, n: number): Promise<Array<{ id: string; label: string }>> => {
    const server = servers.get(version);
    if (!server) throw new Error(`no server of ${version}`);
    const { instances, labels } = weatherInstances('Seattle');
    return Promise.all(instances.slice(0, n).map(async (instance, i) => {
      const answer = await postJson(`${server.url}/v1/models/weather:predict`, { instances: [instance] });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return { id: (answer.body['prediction_ids'] as string[])[0] ?? '', label: labels[i] ?? '' };
    }));
  };
  const sendLabels = async (version: string, feedback: Array<{ id: string; label: string }>): Promise<void> => {
    const server = servers.get(version);
    if (!server) throw new Error(`no server of ${version}`);
    const fed = await postFeedback(server, { feedback });
    assert.equal(fed.body['accepted'], feedback.length, JSON.stringify(fed.body));
  };
  const analysis = { interval: '2s', minSamples: 40, inconclusiveLimit: 3, gates: { maxErrorRate: 0.05, minAccuracy: 0.05 } };

  it('with maxWindow, a batch of predictions and its labels later are judged in one growing window: the step passes, nothing counted', async () => {
    const loop = new Loop((b) => b.withAnalysis({ ...analysis, maxWindow: '60s' }));
    await loop.toAnalysisStep();
    const candidateBatch = await predictBatch('v2', 60);
    // Past the step's 4 s: too few labels, the window grows and is measured every interval, uncounted.
    await loop.run(7000);
    const growing = loop.md.status;
    assert.equal(growing?.currentStep, 1, growing?.message);
    assert.equal(growing?.inconclusiveCount, 0);
    const record = growing?.analysis?.[0];
    assert.equal(record?.verdict, 'Inconclusive');
    assert.ok(record?.message?.startsWith(growingPrefix), record?.message);
    assert.match(record?.message ?? '', /accuracy: 0 of 40 labelled requests needed/);
    assert.equal(record?.measurements?.['samples'], 60, 'the batch\'s predictions are in the window');
    assert.equal(growing?.analysis?.filter((a) => a.message?.startsWith(growingPrefix)).length, 1, 'one record for the growing window');
    // The labels, in one go; then nothing.
    await sendLabels('v2', candidateBatch);
    for (let i = 0; i < 10 && (loop.md.status?.canaryVersion !== undefined); i++) await loop.run(1000);
    const done = loop.md.status;
    assert.equal(done?.stableVersion, 'v2', `promoted: ${done?.message ?? ''}`);
    const passed = done?.analysis?.find((a) => a.verdict === 'Passed');
    assert.ok(passed, JSON.stringify(done?.analysis));
    assert.equal(passed.measurements?.['samples'], 60);
    assert.equal(passed.measurements?.['labelledSamples'], 60);
    assert.equal(done?.analysis?.filter((a) => a.verdict === 'Inconclusive' && !a.message?.startsWith(growingPrefix)).length, 0, 'no inconclusive analysis counted');
  });

  it('without growth (maxWindow = the step), the same batch is Inconclusive window after window until paused; liveMetrics keep the stable version\'s batch of labels', async () => {
    const loop = new Loop((b) => b.withAnalysis({ ...analysis, maxWindow: '4s' }).edit((m) => { m.spec.liveMetrics = { minSamples: 40, maxWindow: '60s' }; }));
    await loop.toAnalysisStep();
    const candidateBatch = await predictBatch('v2', 60);
    const stableBatch = await predictBatch('v1', 60);
    await loop.run(6000);
    assert.ok((loop.md.status?.inconclusiveCount ?? 0) >= 1, 'the window with the predictions and no labels was counted');
    await sendLabels('v2', candidateBatch);
    await sendLabels('v1', stableBatch);
    await loop.run(16_000);
    const st = loop.md.status;
    assert.equal(st?.canaryVersion, 'v2', 'neither promoted nor aborted');
    assert.equal(st?.phase, 'Paused', st?.message);
    assert.equal(st?.analysis?.some((a) => a.verdict === 'Passed'), false, JSON.stringify(st?.analysis));
    // The stable version's labels arrived once, 16 s (8 intervals) ago: still what liveMetrics says.
    const live = st?.liveMetrics;
    assert.equal(live?.version, 'v1');
    assert.equal(live?.labelledSamples, 60, JSON.stringify(live));
    assert.equal(typeof live?.accuracy, 'number');
    assert.equal(live?.windowSeconds, 2);
    assert.ok(Date.parse(live?.labelledUntil ?? '') < Date.now() - 10_000, `the label window closed on the batch: ${JSON.stringify(live)}`);
    assert.ok(Date.parse(live?.labelledSince ?? '') < Date.parse(live?.labelledUntil ?? ''));
  });
});
