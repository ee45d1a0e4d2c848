// The reconciler against the runtime's recording fake: the exact writes of each reconcile, in order, with the
// events after the status write. The caches are views of the fake (what an informer would hold), the store is
// in memory.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunOutcome, TrainingPipeline } from '../../../api/training-pipeline.js';
import { artifactKey, runValidationReportKey } from '../../../shared/artifact-layout.js';
import { MemoryStore } from '../../../storage/memory-store.js';
import { StoreRequestError, StoreUnavailableError } from '../../../storage/object-store.js';
import { ConflictError, InvalidError, TransientError } from '../../runtime/errors.js';
import type { EventRecorder } from '../../runtime/events.js';
import { WriteExpectations } from '../../runtime/expectations.js';
import type { ModelDeployment } from '../../../api/model-deployment.js';
import type { CacheReader } from '../../runtime/informer.js';
import { matches, parseSelector } from '../../runtime/label-selector.js';
import { createLogger } from '../../runtime/log.js';
import type { KubeObject, ResourceRef } from '../../runtime/resource.js';
import { StatusWriter } from '../../runtime/status-writer.js';
import { FakeClock } from '../../runtime/testing/fake-clock.js';
import { FakeKube } from '../../runtime/testing/fake-kube.js';
import { jobs, modelDeployments, pods, trainingPipelines } from '../../resources.js';
import type { PodObject } from '../pod-faults.js';
import { CredentialsError } from '../store-credentials.js';
import { DataPolls } from './data-polls.js';
import { aDeployment } from '../../../api/testing/builders.js';
import { manifest, pipeline, report, store as storeSettings, t0, tenancy } from './fixtures.js';
import { TrainingPipelineReconciler } from './reconciler.js';
import { pipelinesUsedBy } from './versions-in-use.js';

/** A cache reading the fake's current objects (what a synced informer would hold). */
function cacheOf(kube: FakeKube, ref: ResourceRef, hide: Set<string> = new Set()): CacheReader<KubeObject> {
  return {
    hasSynced: () => true,
    get: (namespace, name) => (hide.has(name) ? undefined : kube.get(ref, { namespace, name })),
    list: (namespace, selector) => kube.list<KubeObject>(ref, namespace)
      .filter((o) => !hide.has(o.metadata?.name ?? ''))
      .filter((o) => selector === undefined || matches(parseSelector(selector), o.metadata?.labels)),
  };
}

function setup(tp: TrainingPipeline, options: { dataPolls?: boolean | { listingsPerSecond: number; burst: number } } = {}) {
  const kube = new FakeKube();
  kube.seed(trainingPipelines, tp);
  const clock = new FakeClock(t0);
  const store = new MemoryStore();
  const log: Array<{ text: string; at: number }> = [];
  const events: EventRecorder = {
    event: (_obj, type, reason) => {
      // Where the event falls among the writes: it must come after the status write.
      log.push({ text: `event ${type} ${reason}`, at: kube.writes.length });
      return Promise.resolve();
    },
  };
  const outcomes: RunOutcome[] = [];
  const hiddenJobs = new Set<string>();
  // The pipelines' own credentials: Secret "team-s3" gives a store of its own, any other name is missing.
  const teamStore = new MemoryStore();
  const secretReads: string[] = [];
  const storeForSecret = (namespace: string, name: string): Promise<MemoryStore> => {
    secretReads.push(`${namespace}/${name}`);
    return name === 'team-s3' ? Promise.resolve(teamStore) : Promise.reject(new CredentialsError(`Secret "${name}" not found in namespace "${namespace}"`));
  };
  // The kept listings (data-polls.ts) when asked for; a restart replaces them (and the reconciler) with empty ones.
  const budget = typeof options.dataPolls === 'object' ? options.dataPolls : { listingsPerSecond: 10, burst: 20 };
  const newDataPolls = (): DataPolls | undefined => (options.dataPolls
    ? new DataPolls({ now: () => clock.now(), random: () => 0.5, ...budget })
    : undefined);
  let dataPolls: DataPolls | undefined;
  const newReconciler = (): TrainingPipelineReconciler => new TrainingPipelineReconciler({
    pipelines: cacheOf(kube, trainingPipelines),
    jobs: cacheOf(kube, jobs, hiddenJobs),
    deployments: cacheOf(kube, modelDeployments),
    deploymentsUsing: (namespace, name) => kube.list<ModelDeployment>(modelDeployments, namespace).filter((md) => pipelinesUsedBy(md).includes(name)),
    readPods: (namespace, labels) => Promise.resolve(kube.list<PodObject & KubeObject>(pods, namespace).filter((p) => matches(parseSelector(labels), p.metadata?.labels))),
    kube,
    statusWriter: new StatusWriter(kube, new WriteExpectations(clock)),
    events,
    clock,
    logger: createLogger({ silent: true }),
    store,
    storeSettings,
    storeForSecret,
    tenancy,
    onRunFinished: (_tp, run) => outcomes.push(run.outcome),
    dataPollMs: 60_000,
    dataPolls: (dataPolls = newDataPolls()),
    jobTtlSeconds: 86_400,
  });
  let reconciler = newReconciler();
  const restart = (): void => { reconciler = newReconciler(); };
  const key = { namespace: 'ml', name: 'weather' };
  const current = (): TrainingPipeline => kube.get<TrainingPipeline>(trainingPipelines, key) as TrainingPipeline;
  const writes = async (): Promise<string[]> => {
    const before = kube.writes.length;
    const logBefore = log.length;
    await reconciler.reconcile(key);
    return [...kube.summary().slice(before), ...log.slice(logBefore).map((e) => `${e.text} after ${e.at - before} write(s)`)];
  };
  const told = (): string[] => log.map((e) => e.text);
  return { kube, clock, store, teamStore, secretReads, reconciler, restart, key, current, writes, outcomes, hiddenJobs, told, dataPolls: () => dataPolls };
}

function complete(kube: FakeKube, name: string): void {
  const job = kube.get<KubeObject & { status?: unknown }>(jobs, { namespace: 'ml', name });
  assert.ok(job, `job ${name} exists`);
  kube.seed(jobs, { ...job, status: { conditions: [{ type: 'SuccessCriteriaMet', status: 'True' }, { type: 'Complete', status: 'True' }], completionTime: '2026-11-21T10:30:00Z', succeeded: 1 } });
}

/** The pod the Job controller would have made for a Job, with the kubelet's view of its trainer container. */
function seedPod(kube: FakeKube, jobName: string, status: PodObject['status'], limits?: Record<string, string>): void {
  const job = kube.get<KubeObject>(jobs, { namespace: 'ml', name: jobName });
  assert.ok(job, `job ${jobName} exists`);
  kube.seed(pods, {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `${jobName}-abcde`, namespace: 'ml', labels: { 'perennial.dev/pipeline': 'weather', 'perennial.dev/run': jobName }, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: job.metadata?.uid ?? '', controller: true }] },
    spec: { containers: [{ name: 'trainer', image: 'trainer:missing', ...(limits ? { resources: { limits } } : {}) }] },
    status,
  } as KubeObject);
}

async function publish(s: MemoryStore, version: string, accuracy: number, champion?: { version: string; accuracy: number }): Promise<void> {
  const ref = { namespace: 'ml', name: 'weather' };
  await s.put('models', artifactKey(ref, version, 'metrics'), JSON.stringify(report({ accuracy }, champion && { version: champion.version, metrics: { accuracy: champion.accuracy } })));
  await s.put('models', artifactKey(ref, version, 'manifest'), JSON.stringify(manifest(version)));
}

/** The initial run on data/ml/a.csv (2 rows), completed and published as v1 (its watermark: 1 object); then 2 minutes on. */
async function firstRunDone({ writes, kube, store, clock }: Pick<ReturnType<typeof setup>, 'writes' | 'kube' | 'store' | 'clock'>): Promise<void> {
  await store.put('models', 'data/ml/a.csv', 'x,y\n1,a\n2,b\n');
  await writes(); // Initial run
  complete(kube, 'weather-1');
  await publish(store, 'v1', 0.8);
  await writes();
  clock.advance(120_000);
  await new Promise((r) => setTimeout(r, 5)); // a later write than the one the watermark saw
}

describe('TrainingPipelineReconciler', () => {
  it('a new pipeline: one status write claiming run 1, the event right after it, then its Job', async () => {
    const { writes, current, kube } = setup(pipeline());
    assert.deepEqual(await writes(), [
      'patchStatus trainingpipelines.perennial.dev ml/weather',
      'create jobs.batch ml/weather-1',
      'event Normal RunStarted after 1 write(s)',
    ]);
    assert.equal(current().status?.currentRun, 'weather-1');
    assert.equal(kube.list(jobs, 'ml').length, 1);
    assert.deepEqual(await writes(), [], 'the next reconcile finds the Job active and writes nothing');
  });

  it('a restart before the Job reached the cache re-creates it under the same name: AlreadyExists, no second Job', async () => {
    const { writes, kube, hiddenJobs } = setup(pipeline());
    await writes();
    hiddenJobs.add('weather-1'); // the new process's cache has not seen the Job yet
    assert.deepEqual(await writes(), ['create jobs.batch ml/weather-1']);
    assert.deepEqual(kube.list(jobs, 'ml').map((j) => j.metadata?.name), ['weather-1']);
  });

  it('a conflicting status write stops the reconcile before any Job exists', async () => {
    const { writes, kube } = setup(pipeline());
    kube.failNext('patchStatus', new ConflictError('modified', 409, 'Conflict'));
    await assert.rejects(writes(), ConflictError);
    assert.deepEqual(kube.summary(), ['patchStatus trainingpipelines.perennial.dev ml/weather !ConflictError']);
    assert.equal(kube.list(jobs, 'ml').length, 0);
  });

  it('a successful run is judged once: blessed, counted, then quiet', async () => {
    const { writes, kube, store, current, outcomes } = setup(pipeline());
    await writes();
    complete(kube, 'weather-1');
    await publish(store, 'v1', 0.8);
    assert.deepEqual(await writes(), ['patchStatus trainingpipelines.perennial.dev ml/weather', 'event Normal Blessed after 1 write(s)']);
    assert.equal(current().status?.championVersion, 'v1');
    assert.deepEqual(outcomes, ['Blessed']);
    assert.deepEqual(await writes(), []);
  });

  it('a rejected candidate leaves the champion; the run names the gate', async () => {
    const { writes, kube, store, current, outcomes } = setup(pipeline((t) => { t.spec.evaluation.thresholds = [{ metric: 'accuracy', min: 0.9 }]; }));
    await writes();
    complete(kube, 'weather-1');
    await publish(store, 'v1', 0.8);
    assert.deepEqual(await writes(), ['patchStatus trainingpipelines.perennial.dev ml/weather', 'event Warning Rejected after 1 write(s)']);
    assert.equal(current().status?.championVersion, undefined);
    assert.match(current().status?.runs?.[0]?.message ?? '', /threshold:accuracy/);
    assert.deepEqual(outcomes, ['Rejected']);
  });

  it('a store outage delays the verdict: the reconcile fails, nothing is written', async () => {
    const { writes, kube, store } = setup(pipeline());
    await writes();
    complete(kube, 'weather-1');
    store.getBuffer = () => Promise.reject(new Error('store down'));
    await assert.rejects(writes(), /store down/);
    assert.equal(kube.summary('patchStatus').length, 1, 'only the first reconcile wrote');
  });

  it('a store outage while reading a published run\'s metrics is no verdict: the reconcile fails, the run still runs', async () => {
    const { writes, kube, store, current, outcomes } = setup(pipeline());
    await writes();
    complete(kube, 'weather-1');
    await publish(store, 'v1', 0.8);
    const read = store.getBuffer.bind(store);
    store.getBuffer = (bucket, key) => (key.endsWith('metrics.json') ? Promise.reject(new StoreUnavailableError('object store unavailable (ECONNRESET)')) : read(bucket, key));
    await assert.rejects(writes(), StoreUnavailableError);
    assert.equal(current().status?.runs?.[0]?.outcome, 'Running', 'not Failed: an outage decides nothing');
    assert.equal(current().status?.conditions?.find((c) => c.type === 'Progressing')?.reason, 'StoreUnavailable');
    assert.deepEqual(outcomes, []);
    store.getBuffer = read;
    await writes();
    assert.equal(current().status?.runs?.[0]?.outcome, 'Blessed', 'judged once the store answers');
  });

  it('a Job create that fails after the status write loses neither the event nor the count, and repeats neither', async () => {
    const { writes, kube, store, current, outcomes, told } = setup(pipeline((t) => { t.spec.retention.keepVersions = 1; t.spec.triggers.minInterval = '1s'; }));
    await writes();
    complete(kube, 'weather-1');
    await publish(store, 'v1', 0.8);
    await writes();
    const tp = current();
    kube.seed(trainingPipelines, { ...tp, metadata: { ...tp.metadata, annotations: { 'perennial.dev/trigger': 'again' } }, status: { ...tp.status, lastTriggerTime: '2026-11-21T09:00:00Z' } });
    kube.failNext('create', new TransientError('the API server did not answer', 503, 'ServiceUnavailable', undefined));
    const before = kube.writes.length;
    const toldBefore = told().length;
    await assert.rejects(writes(), TransientError);
    assert.deepEqual(told().slice(toldBefore), ['event Normal RunStarted'], 'told right after the status write that started run 2');
    assert.deepEqual(kube.summary().slice(before), ['patchStatus trainingpipelines.perennial.dev ml/weather', 'create jobs.batch ml/weather-2 !TransientError']);
    assert.equal(current().status?.currentRun, 'weather-2');
    assert.deepEqual(await writes(), ['create jobs.batch ml/weather-2'], 'the retry creates the Job and tells nothing twice');

    complete(kube, 'weather-2');
    await publish(store, 'v2', 0.85, { version: 'v1', accuracy: 0.8 });
    const deleteObject = store.delete.bind(store);
    store.delete = () => Promise.reject(new StoreUnavailableError('object store unavailable (ECONNRESET)'));
    await assert.rejects(writes(), StoreUnavailableError, 'retention cannot delete v1');
    assert.deepEqual(outcomes, ['Blessed', 'Blessed'], 'the second blessing is counted although a later write failed');
    assert.equal(current().status?.championVersion, 'v2');
    store.delete = deleteObject;
    await writes();
    assert.deepEqual(outcomes, ['Blessed', 'Blessed'], 'and counted once');
  });

  it('a failed Job with a validation report is InvalidData', async () => {
    const { writes, kube, store, current } = setup(pipeline());
    await writes();
    const job = kube.get<KubeObject>(jobs, { namespace: 'ml', name: 'weather-1' });
    kube.seed(jobs, { ...job, status: { conditions: [{ type: 'FailureTarget', status: 'True' }, { type: 'Failed', status: 'True', reason: 'PodFailurePolicy', message: 'exit code 65' }] } });
    await store.put('models', runValidationReportKey({ namespace: 'ml', name: 'weather' }, 'weather-1'), JSON.stringify({ ok: false, issues: [{ severity: 'error', message: 'only 12 rows, 100 needed' }] }));
    assert.deepEqual(await writes(), ['patchStatus trainingpipelines.perennial.dev ml/weather', 'event Warning InvalidData after 1 write(s)']);
    assert.equal(current().status?.runs?.[0]?.outcome, 'InvalidData');
    assert.match(current().status?.runs?.[0]?.message ?? '', /only 12 rows/);
  });

  it('onDelete Delete: the finalizer first; on deletion the store is emptied before the finalizer goes', async () => {
    const { writes, kube, store, key } = setup(pipeline((t) => { t.spec.retention.onDelete = 'Delete'; }));
    assert.deepEqual(await writes(), ['patch trainingpipelines.perennial.dev ml/weather']);
    await store.put('models', 'pipelines/ml/weather/versions/v1/manifest.json', '{}');
    await store.put('models', 'pipelines/ml/other/versions/v1/manifest.json', '{}');
    const tp = kube.get<TrainingPipeline>(trainingPipelines, key) as TrainingPipeline;
    kube.seed(trainingPipelines, { ...tp, metadata: { ...tp.metadata, deletionTimestamp: '2026-11-21T11:00:00Z' } });
    assert.deepEqual(await writes(), ['patch trainingpipelines.perennial.dev ml/weather']);
    assert.deepEqual((await store.list('models', 'pipelines/')).map((o) => o.key), ['pipelines/ml/other/versions/v1/manifest.json']);
    assert.deepEqual(kube.get<TrainingPipeline>(trainingPipelines, key)?.metadata.finalizers, []);
  });

  it('a cleanup that fails keeps the finalizer', async () => {
    const { writes, kube, store, key } = setup(pipeline((t) => { t.spec.retention.onDelete = 'Delete'; t.metadata.finalizers = ['perennial.dev/cleanup']; t.metadata.deletionTimestamp = '2026-11-21T11:00:00Z'; }));
    await store.put('models', 'pipelines/ml/weather/versions/v1/manifest.json', '{}');
    store.delete = () => Promise.reject(new Error('store down'));
    await assert.rejects(writes(), /store down/);
    assert.deepEqual(kube.summary(), []);
    assert.deepEqual(kube.get<TrainingPipeline>(trainingPipelines, key)?.metadata.finalizers, ['perennial.dev/cleanup']);
  });

  it('newData: the first run records the data seen; new objects with enough rows start the next run', async () => {
    const h = setup(pipeline((t) => { t.spec.triggers.newData = { minRows: 3 }; t.spec.triggers.minInterval = '1m'; }));
    const { writes, store, current } = h;
    await firstRunDone(h);
    assert.equal(current().status?.dataWatermark?.objects, 1);
    await store.put('models', 'data/ml/b.csv', 'x,y\n3,a\n');
    assert.deepEqual(await writes(), [], 'one new row is not enough');
    await store.put('models', 'data/ml/c.csv', 'x,y\n4,a\n5,b\n\n');
    assert.deepEqual(await writes(), [
      'patchStatus trainingpipelines.perennial.dev ml/weather',
      'create jobs.batch ml/weather-2',
      'event Normal RunStarted after 1 write(s)',
    ]);
    const run = current().status?.runs?.[0];
    assert.equal(run?.trigger, 'NewData');
    assert.match(run?.reason ?? '', /2 new object\(s\) with 3 row\(s\)/);
  });

  it('a first data listing that must wait for the listing budget holds no worker: the reconcile writes nothing and comes back when its token is due', async () => {
    const h = setup(pipeline((t) => { t.spec.triggers.newData = { minRows: 3 }; }), { dataPolls: { listingsPerSecond: 1, burst: 1 } });
    const { writes, store, current, clock, reconciler, key } = h;
    await store.put('models', 'data/ml/a.csv', 'x,y\n1,a\n2,b\n');
    await h.dataPolls()?.listing('ml/other', 'b', 60_000, () => Promise.resolve({ objects: 0, digest: 'd', newestMs: undefined, newObjects: 0, newRows: 0 })); // the one token
    const started = clock.now();
    assert.deepEqual(await reconciler.reconcile(key), { requeueAfterMs: 1_000 });
    assert.equal(clock.now(), started, 'nothing waited');
    assert.equal(current().status, undefined, 'nothing written');
    clock.advance(1_000);
    await writes();
    assert.equal(current().status?.dataWatermark?.objects, 1, 'at its token it lists, and the baseline is written');
  });

  it('newData: the watermark a reconcile writes from its own listing (the baseline, a run\'s data) needs no second listing', async () => {
    const h = setup(pipeline((t) => { t.spec.triggers.newData = { minRows: 3 }; t.spec.triggers.minInterval = '1m'; }), { dataPolls: true });
    const { writes, kube, store, current } = h;
    const listings: string[] = [];
    const list = store.list.bind(store);
    store.list = (bucket, prefix) => { if (prefix.startsWith('data/')) listings.push(prefix); return list(bucket, prefix); };
    await store.put('models', 'data/ml/a.csv', 'x,y\n1,a\n2,b\n');
    await writes(); // the initial run: it takes the data there is
    assert.equal(current().status?.dataWatermark?.objects, 1);
    assert.equal(listings.length, 1);
    await writes();
    complete(kube, 'weather-1');
    await publish(store, 'v1', 0.8);
    await writes();
    assert.equal(current().status?.runs?.[0]?.outcome, 'Blessed');
    assert.equal(listings.length, 1, 'run 1 took its watermark from the listing the operator keeps: not listed again');
    listings.length = 0;
    h.clock.advance(120_000); // past minInterval (and the poll)
    kube.seed(trainingPipelines, { ...current(), metadata: { ...current().metadata, annotations: { 'perennial.dev/trigger': 'again' } } });
    await writes();
    assert.equal(current().status?.currentRun, 'weather-2');
    assert.deepEqual(listings, ['data/ml/'], 'run 2 lists the data it takes, once');
    await writes();
    assert.deepEqual(listings, ['data/ml/'], 'and not again for the watermark it wrote');
  });

  it('newData after a restart: no listing until the first poll (the watermark stands in); a run another trigger starts meanwhile lists first and takes the data there is', async () => {
    const h = setup(pipeline((t) => { t.spec.triggers.newData = { minRows: 3 }; t.spec.triggers.minInterval = '1m'; }), { dataPolls: true });
    const { writes, kube, store, current, restart } = h;
    const listings: string[] = [];
    const list = store.list.bind(store);
    store.list = (bucket, prefix) => { if (prefix.startsWith('data/')) listings.push(prefix); return list(bucket, prefix); };
    await firstRunDone(h);
    assert.equal(current().status?.dataWatermark?.objects, 1);
    await store.put('models', 'data/ml/b.csv', 'x,y\n3,a\n4,b\n');
    restart();
    listings.length = 0;
    assert.deepEqual(await writes(), [], 'nothing to write');
    assert.deepEqual(listings, [], 'the restarted operator does not list before the first poll');
    // A manual trigger before that poll: the run takes b.csv too, so its watermark must say so.
    kube.seed(trainingPipelines, { ...current(), metadata: { ...current().metadata, annotations: { 'perennial.dev/trigger': 'now' } } });
    await writes();
    assert.equal(current().status?.currentRun, 'weather-2');
    assert.deepEqual(listings, ['data/ml/'], 'listed once, before the run started');
    assert.equal(current().status?.dataWatermark?.objects, 2, 'the watermark of the data there is, not the one standing in');
  });

  it('newData: rows taken by a run of another trigger that failed count again; a run that trained takes them', async () => {
    const h = setup(pipeline((t) => { t.spec.triggers.newData = { minRows: 3 }; t.spec.triggers.minInterval = '1m'; }));
    const { writes, kube, store, current, clock } = h;
    const later = async (): Promise<void> => {
      clock.advance(120_000);
      await new Promise((r) => setTimeout(r, 5)); // a later write than the one the watermark saw
    };
    await firstRunDone(h);
    await store.put('models', 'data/ml/b.csv', 'x,y\n3,a\n4,b\n');
    assert.deepEqual(await writes(), [], 'two new rows are not enough');
    // Another trigger starts run 2, which takes b.csv's rows, and fails without training on them.
    kube.seed(trainingPipelines, { ...current(), metadata: { ...current().metadata, annotations: { 'perennial.dev/trigger': 'now' } } });
    await writes();
    assert.equal(current().status?.currentRun, 'weather-2');
    const job = kube.get<KubeObject>(jobs, { namespace: 'ml', name: 'weather-2' });
    kube.seed(jobs, { ...job, status: { conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'the pod failed' }] } });
    await writes();
    assert.equal(current().status?.runs?.[0]?.outcome, 'Failed');
    await later();
    await store.put('models', 'data/ml/c.csv', 'x,y\n5,a\n');
    await writes();
    const run = current().status?.runs?.[0];
    assert.equal(run?.trigger, 'NewData', 'b.csv and c.csv: 3 rows the last run that trained has not seen');
    assert.match(run?.reason ?? '', /2 new object\(s\) with 3 row\(s\)/);
    // Run 3 trains (published, blessed): its rows are taken.
    complete(kube, 'weather-3');
    await publish(store, 'v3', 0.8);
    await writes();
    await later();
    await store.put('models', 'data/ml/d.csv', 'x,y\n6,a\n');
    assert.deepEqual(await writes(), [], 'one new row since the data run 3 trained on');
  });

  it('Replace: the running Job is deleted (uid precondition) before the status write, then the new Job', async () => {
    const { writes, kube, current } = setup(pipeline((t) => { t.spec.triggers.concurrencyPolicy = 'Replace'; t.spec.triggers.minInterval = '1s'; }));
    await writes();
    const tp = current();
    kube.seed(trainingPipelines, { ...tp, metadata: { ...tp.metadata, annotations: { 'perennial.dev/trigger': 'now' } }, status: { ...tp.status, lastTriggerTime: '2026-11-21T09:00:00Z' } });
    assert.deepEqual(await writes(), [
      'delete jobs.batch ml/weather-1',
      'patchStatus trainingpipelines.perennial.dev ml/weather',
      'create jobs.batch ml/weather-2',
      'event Normal RunReplaced after 2 write(s)',
      'event Normal RunStarted after 2 write(s)',
    ]);
    assert.deepEqual(current().status?.runs?.map((r) => [r.name, r.outcome]), [['weather-2', 'Running'], ['weather-1', 'Failed']]);
  });

  it('a Job the API server refuses ends the run Failed with its reason, instead of a retry loop', async () => {
    const { writes, kube, current, outcomes } = setup(pipeline((t) => { t.spec.trainer.nodeSelector = { 'bad key!': 'x' }; }));
    kube.failNext('create', new InvalidError('Job.batch "weather-1" is invalid: spec.template.spec.nodeSelector: Invalid value: "bad key!"', 422, 'Invalid'));
    assert.deepEqual(await writes(), [
      'patchStatus trainingpipelines.perennial.dev ml/weather',
      'create jobs.batch ml/weather-1 !InvalidError',
      'patchStatus trainingpipelines.perennial.dev ml/weather',
      'event Normal RunStarted after 1 write(s)',
      'event Warning RunFailed after 3 write(s)',
    ]);
    const status = current().status;
    assert.equal(status?.currentRun, undefined);
    assert.equal(status?.runs?.[0]?.outcome, 'Failed');
    assert.match(status?.runs?.[0]?.message ?? '', /nodeSelector/);
    assert.equal(status?.conditions?.find((c) => c.type === 'Degraded')?.status, 'True');
    assert.deepEqual(outcomes, ['Failed']);
    assert.deepEqual(await writes(), [], 'and then it waits: no Initial run again, no retry');
  });

  it('a trainer killed for memory ends the run Failed naming the limit to raise; its Job is stopped after the status write', async () => {
    const { writes, kube, current, outcomes, reconciler, key } = setup(pipeline());
    await writes();
    seedPod(kube, 'weather-1', {
      phase: 'Failed', startTime: '2026-11-21T09:59:00Z',
      containerStatuses: [{ name: 'trainer', state: { terminated: { reason: 'OOMKilled', exitCode: 137 } } }],
    }, { memory: '40Mi' });
    assert.deepEqual(await writes(), [
      'patchStatus trainingpipelines.perennial.dev ml/weather',
      'delete jobs.batch ml/weather-1',
      'event Warning OOMKilled after 1 write(s)',
    ]);
    const run = current().status?.runs?.[0];
    assert.equal(run?.outcome, 'Failed');
    assert.match(run?.message ?? '', /killed for using more memory than its limit of 40Mi \(OOMKilled, exit code 137\)\. Raise spec\.trainer\.resources\.limits\.memory/);
    assert.equal(current().status?.currentRun, undefined, 'the next trigger may start a run');
    assert.equal(current().status?.conditions?.find((c) => c.type === 'Degraded')?.reason, 'RunFailed');
    assert.deepEqual(outcomes, ['Failed']);
    assert.deepEqual(await reconciler.reconcile(key), {}, 'nothing to look at again');
  });

  it('a missing image is reported once on the run and the pipeline, then ends the run Failed after imagePullTimeout', async () => {
    const { writes, kube, current, clock, outcomes, reconciler, key } = setup(pipeline((t) => { t.spec.trainer.imagePullTimeout = '30s'; }));
    await writes();
    seedPod(kube, 'weather-1', {
      phase: 'Pending', startTime: '2026-11-21T10:00:00Z',
      containerStatuses: [{ name: 'trainer', state: { waiting: { reason: 'ErrImageNeverPull', message: 'Container image "trainer:missing" is not present with pull policy of Never' } } }],
    });
    assert.deepEqual(await writes(), ['patchStatus trainingpipelines.perennial.dev ml/weather', 'event Warning ImagePullFailed after 1 write(s)']);
    const progressing = current().status?.conditions?.find((c) => c.type === 'Progressing');
    assert.equal(progressing?.reason, 'ImagePullFailed');
    assert.match(progressing?.message ?? '', /^Run weather-1: The trainer image "trainer:missing" cannot be pulled \(ErrImageNeverPull: Container image .* is not present.*\); the run ends Failed at 2026-11-21T10:00:30Z/);
    assert.match(current().status?.runs?.[0]?.message ?? '', /cannot be pulled/);
    assert.equal(current().status?.runs?.[0]?.outcome, 'Running');
    assert.deepEqual(await reconciler.reconcile(key), { requeueAfterMs: 10_000 }, 'looked at again while the pod waits');
    assert.deepEqual(await writes(), [], 'said once');
    clock.advance(30_000);
    assert.deepEqual(await writes(), [
      'patchStatus trainingpipelines.perennial.dev ml/weather',
      'delete jobs.batch ml/weather-1',
      'event Warning ImagePullFailed after 1 write(s)',
    ]);
    const run = current().status?.runs?.[0];
    assert.equal(run?.outcome, 'Failed');
    assert.match(run?.message ?? '', /cannot be pulled .*, for 30s \(spec\.trainer\.imagePullTimeout\)/);
    assert.deepEqual(outcomes, ['Failed']);
  });

  it('an object store that refuses (a missing bucket) writes why the pipeline waits, then fails the reconcile for a retry', async () => {
    const t = setup(pipeline((tp) => { tp.spec.triggers.newData = { minObjects: 1 }; }));
    t.store.list = () => Promise.reject(new StoreRequestError('object store refused perennial/data/: The specified bucket does not exist', 'NoSuchBucket'));
    await assert.rejects(t.reconciler.reconcile(t.key), StoreRequestError);
    const status = t.current().status;
    const progressing = status?.conditions?.find((c) => c.type === 'Progressing');
    assert.equal(progressing?.reason, 'StoreUnavailable');
    assert.equal(progressing?.message, 'Waiting for the object store: the object store refused a request (NoSuchBucket).', 'its code, not the store\'s text');
    assert.equal(status?.conditions?.find((c) => c.type === 'Accepted')?.status, 'True');
    assert.equal(t.kube.list(jobs, 'ml').length, 0, 'no Job without the store');
  });

  it('a spec outside its namespace\'s grants: Accepted=False/NotPermitted naming the field, and nothing read from the store', async () => {
    const t = setup(pipeline((tp) => { tp.spec.data.sources = [{ prefix: 'data/other/', format: 'csv' }]; tp.spec.triggers.newData = { minObjects: 1 }; }));
    t.store.list = () => Promise.reject(new Error('the store must not be listed'));
    assert.deepEqual(await t.writes(), ['patchStatus trainingpipelines.perennial.dev ml/weather', 'event Warning NotPermitted after 1 write(s)']);
    const accepted = t.current().status?.conditions?.find((c) => c.type === 'Accepted');
    assert.equal(accepted?.status, 'False');
    assert.equal(accepted?.reason, 'NotPermitted');
    assert.match(accepted?.message ?? '', /spec\.data\.sources\[0\]: s3:\/\/models\/data\/other\/ is outside what namespace "ml" may read \(.*s3:\/\/models\/data\/ml\/; wider grants are set at install time\)/);
    assert.equal(t.kube.list(jobs, 'ml').length, 0);
  });

  it('deleted while its bucket is not granted: the finalizer goes, nothing is deleted there', async () => {
    const t = setup(pipeline((tp) => {
      tp.spec.retention.onDelete = 'Delete'; tp.spec.storage = { bucket: 'victim' };
      tp.metadata.finalizers = ['perennial.dev/cleanup']; tp.metadata.deletionTimestamp = '2026-11-21T11:00:00Z';
    }));
    await t.store.put('victim', 'pipelines/ml/weather/versions/v1/manifest.json', '{}');
    assert.deepEqual(await t.writes(), ['patch trainingpipelines.perennial.dev ml/weather']);
    assert.equal((await t.store.list('victim', '')).length, 1, 'the object is still there');
    assert.deepEqual(t.kube.get<TrainingPipeline>(trainingPipelines, t.key)?.metadata.finalizers, []);
  });

  it('retention keeps every version a ModelDeployment in the namespace serves or references: model.uri, stable and canary URIs', async () => {
    const t = setup(pipeline((tp) => {
      tp.spec.retention.keepVersions = 1;
      tp.status = { observedGeneration: 3, runCount: 6, championVersion: 'v6', lastTriggerTime: '2026-11-21T09:00:00Z' };
    }));
    for (const v of ['v1', 'v2', 'v3', 'v4', 'v5', 'v6']) await publish(t.store, v, 0.8);
    const uri = (v: string): string => `s3://models/pipelines/ml/weather/versions/${v}`;
    // A fixed model by URI (no fromPipeline), one serving an older URI as stable while it canaries another, and one
    // referencing a version of another pipeline of the same name in another bucket (not this pipeline's).
    t.kube.seed(modelDeployments, aDeployment('fixed').servingUri(uri('v1')).build());
    t.kube.seed(modelDeployments, aDeployment('moving').servingUri(uri('v5')).withStatus({ stableVersion: 'v2', stableURI: uri('v2'), canaryVersion: 'v3', canaryURI: `${uri('v3')}/` }).build());
    t.kube.seed(modelDeployments, aDeployment('elsewhere').servingUri('s3://other/pipelines/ml/weather/versions/v4').build());
    await t.writes();
    const left = new Set((await t.store.list('models', 'pipelines/ml/weather/versions/')).map((o) => o.key.split('/')[4]));
    assert.deepEqual([...left].sort(), ['v1', 'v2', 'v3', 'v5', 'v6']);
  });

  it('a champion a following ModelDeployment rolled back is demoted to what it serves as stable; the next run starts from and is judged against that', async () => {
    const t = setup(pipeline((tp) => {
      tp.spec.trainer.warmStart = 'Champion';
      tp.status = {
        observedGeneration: 3, runCount: 3, championVersion: 'v3', championMetrics: { accuracy: 0.9 }, lastTriggerTime: '2026-11-21T08:00:00Z',
        runs: [
          { name: 'weather-3', version: 'v3', trigger: 'Drift', startTime: '2026-11-21T08:00:00Z', outcome: 'Blessed', metrics: { accuracy: 0.9 } },
          { name: 'weather-2', version: 'v2', trigger: 'Drift', startTime: '2026-11-21T07:00:00Z', outcome: 'Blessed', metrics: { accuracy: 0.85 } },
        ],
      };
    }));
    for (const v of ['v1', 'v2', 'v3']) await publish(t.store, v, 0.8);
    t.kube.seed(modelDeployments, aDeployment('weather').following('weather').withStatus({
      stableVersion: 'v2', abortedVersion: 'v3', abortedMessage: 'gate minAccuracy: live accuracy 0.61 < 0.8',
    }).build());
    const writes = await t.writes();
    assert.ok(writes.includes('event Warning ChampionDemoted after 1 write(s)'), writes.join('\n'));
    const st = t.current().status;
    assert.equal(st?.championVersion, 'v2');
    assert.deepEqual(st?.championMetrics, { accuracy: 0.85 }, 'the metrics of v2 when it was blessed, not those of v3');
    assert.match(st?.message ?? '', /Champion v2: v3 was demoted, ModelDeployment weather rolled it back .*live accuracy 0\.61/);
    assert.deepEqual(await t.writes(), [], 'demoted once');
    // The next run warm-starts from v2 and is compared with it.
    t.kube.seed(trainingPipelines, { ...t.current(), metadata: { ...t.current().metadata, annotations: { 'perennial.dev/trigger': 'now' } } });
    await t.writes();
    const job = t.kube.get<KubeObject & { spec: { template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string }> }> } } } }>(jobs, { namespace: 'ml', name: 'weather-4' });
    const config = JSON.parse(job?.spec.template.spec.containers[0]?.env.find((e) => e.name === 'PERENNIAL_TRAINER_CONFIG')?.value ?? '{}') as { championVersion?: string; warmStart?: string };
    assert.deepEqual([config.championVersion, config.warmStart], ['v2', 'champion']);
  });

  it('the perennial.dev/champion annotation pins the champion (a rollback does not demote it); a version never published is refused once', async () => {
    const annotate = (value: string | undefined): void => {
      const tp = t.current();
      t.kube.seed(trainingPipelines, { ...tp, metadata: { ...tp.metadata, annotations: value === undefined ? {} : { 'perennial.dev/champion': value } } });
    };
    const t = setup(pipeline((tp) => {
      tp.status = { observedGeneration: 3, runCount: 3, championVersion: 'v2', lastTriggerTime: '2026-11-21T08:00:00Z' };
    }));
    for (const v of ['v1', 'v2', 'v3']) await publish(t.store, v, 0.8);
    t.kube.seed(modelDeployments, aDeployment('weather').following('weather').withStatus({ stableVersion: 'v2', abortedVersion: 'v3', abortedMessage: 'the perennial.dev/abort annotation' }).build());
    annotate('v3');
    assert.ok((await t.writes()).includes('event Normal ChampionPinned after 1 write(s)'));
    assert.equal(t.current().status?.championVersion, 'v3', 'pinned, although the deployment aborted it');
    assert.match(t.current().status?.message ?? '', /pinned by the perennial\.dev\/champion annotation/);
    assert.deepEqual(await t.writes(), [], 'the pin holds');
    annotate('v9');
    const refused = await t.writes();
    assert.ok(refused.includes('event Warning ChampionPinRefused after 1 write(s)'), refused.join('\n'));
    assert.ok(refused.includes('event Warning ChampionDemoted after 1 write(s)'), 'not pinned any more: the rollback demotes v3');
    assert.equal(t.current().status?.championVersion, 'v2');
    assert.deepEqual(await t.writes(), [], 'refused once');
  });

  it('its own credentials: results, retention and cleanup go through the store built from its Secret', async () => {
    const t = setup(pipeline((tp) => { tp.spec.storage = { credentialsSecret: 'team-s3' }; tp.spec.retention.keepVersions = 1; }));
    await t.writes();
    assert.deepEqual(t.secretReads, ['ml/team-s3']);
    complete(t.kube, 'weather-1');
    await publish(t.teamStore, 'v1', 0.8);
    await t.writes();
    assert.equal(t.current().status?.championVersion, 'v1', 'the result was read with the pipeline\'s credentials');
    assert.deepEqual(await t.store.list('models', ''), [], 'the operator\'s own client was not used');
  });

  it('a credentials Secret that cannot be read: a condition, a slow requeue, no store and no Job; then it recovers', async () => {
    const t = setup(pipeline((tp) => { tp.spec.storage = { credentialsSecret: 'missing' }; }));
    t.store.list = () => Promise.reject(new Error('the store must not be used'));
    const before = t.kube.writes.length;
    assert.deepEqual(await t.reconciler.reconcile(t.key), { requeueAfterMs: 60_000 });
    assert.deepEqual(t.kube.summary().slice(before), ['patchStatus trainingpipelines.perennial.dev ml/weather']);
    const progressing = t.current().status?.conditions?.find((c) => c.type === 'Progressing');
    assert.equal(progressing?.reason, 'CredentialsUnavailable');
    assert.match(progressing?.message ?? '', /^spec\.storage\.credentialsSecret: Secret "missing" not found in namespace "ml"; nothing is done in the object store/);
    assert.equal(t.current().status?.conditions?.find((c) => c.type === 'Accepted')?.status, 'True');
    assert.equal(t.current().status?.conditions?.find((c) => c.type === 'Degraded')?.reason, 'CredentialsUnavailable', 'the user must act');
    assert.deepEqual(await t.writes(), [], 'the same condition again is no write and no second event');
    assert.equal(t.kube.list(jobs, 'ml').length, 0);
    const tp = t.current();
    t.kube.seed(trainingPipelines, { ...tp, spec: { ...tp.spec, storage: { credentialsSecret: 'team-s3' } } });
    await t.writes();
    assert.equal(t.current().status?.currentRun, 'weather-1', 'with a readable Secret the first run starts');
    assert.equal(t.current().status?.conditions?.find((c) => c.type === 'Degraded')?.status, 'False');
  });

  it('deleted while its credentials Secret is gone (a namespace being deleted): the finalizer goes, with a warning', async () => {
    const t = setup(pipeline((tp) => {
      tp.spec.retention.onDelete = 'Delete'; tp.spec.storage = { credentialsSecret: 'missing' };
      tp.metadata.finalizers = ['perennial.dev/cleanup']; tp.metadata.deletionTimestamp = '2026-11-21T11:00:00Z';
    }));
    assert.deepEqual(await t.writes(), ['patch trainingpipelines.perennial.dev ml/weather', 'event Warning CleanupFailed after 0 write(s)']);
    assert.deepEqual(t.kube.get<TrainingPipeline>(trainingPipelines, t.key)?.metadata.finalizers, []);
  });
});
