// The TrainingPipeline controller on the real API server and MinIO, with the test playing the Job controller
// (the cluster runs no kube-controller-manager): it runs the real trainer with the env of the Job the operator
// created and writes the Job status as the Job controller would. Seattle weather (vega-datasets) is the data.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { LocalCluster } from '../../localcluster/cluster.js';
import { kubeConfigFor } from '../../localcluster/test-cluster.js';
import { aDeployment, aPipeline, seattleWeatherSchema } from '../../src/api/testing/builders.js';
import type { TrainingPipeline } from '../../src/api/training-pipeline.js';
import { loadConfig } from '../../src/operator/config.js';
import { buildManager, controllerNames } from '../../src/operator/operator.js';
import { KubeHttpClient, PatchType } from '../../src/operator/runtime/kube-http.js';
import type { Manager } from '../../src/operator/runtime/manager.js';
import { artifactKey, versionsPrefix } from '../../src/shared/artifact-layout.js';
import { exitCodes } from '../../src/shared/pod-contract.js';
import type { MinioStore } from '../../src/storage/minio-store.js';
import { installCrds } from '../support/crds.js';
import { JobController } from '../support/job-controller.js';
import { putText, storeFor, weatherLines } from './trainer-harness.js';
import { eventually } from '../support/eventually.js';

const namespace = 'ml';
const bucket = 'perennial-models';

/** A classifier of the Seattle weather in this namespace's seattle/ prefix, from the shared builders. */
function weatherPipeline(name: string, edit: (tp: TrainingPipeline) => void = () => undefined): TrainingPipeline {
  return aPipeline(name).inNamespace(namespace)
    .readingFrom({ prefix: `data/${namespace}/seattle/`, format: 'csv' })
    .withSchema(seattleWeatherSchema)
    .withValidation({ minRows: 500, maxMissingRate: 0.05 })
    .withTriggers({ minInterval: '1s' })
    .withTrainer({
      image: 'ghcr.io/perennial-dev/perennial-trainer:test', gpu: { count: 1, resourceName: 'nvidia.com/gpu' },
      model: { hiddenUnits: [16, 8] }, hyperparameters: { epochs: 8, batchSize: 64, earlyStoppingPatience: 3 },
      seed: 7, activeDeadlineSeconds: 900, backoffLimit: 2,
    })
    .withEvaluation({ holdout: { fraction: 0.2 } })
    .withRetention({ keepVersions: 10 })
    .withHistoryLimit(10)
    .edit(edit)
    .build();
}

describe('TrainingPipeline controller (real API server and MinIO; the test plays the Job controller)', () => {
  let cluster: LocalCluster;
  let kc: KubeConfig;
  let custom: CustomObjectsApi;
  let http: KubeHttpClient;
  let store: MinioStore;
  let jobs: JobController;
  let manager: Manager | undefined;

  const startOperator = async (): Promise<Manager> => {
    const s3 = cluster.info.s3;
    if (!s3) throw new Error('no MinIO');
    const m = buildManager(loadConfig({
      PERENNIAL_WATCH_NAMESPACE: namespace, PERENNIAL_LEADER_ELECT: 'false', PERENNIAL_LOG_LEVEL: 'warn',
      PERENNIAL_S3_ENDPOINT: s3.endPoint, PERENNIAL_S3_PORT: String(s3.port), PERENNIAL_S3_TLS: 'false', PERENNIAL_S3_REGION: s3.region,
      PERENNIAL_S3_BUCKET: bucket, AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey,
    }), kc);
    await m.start();
    return m;
  };
  const get = async (name: string): Promise<TrainingPipeline> =>
    await custom.getNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace, plural: 'trainingpipelines', name }) as TrainingPipeline;
  const create = (tp: TrainingPipeline) =>
    custom.createNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace, plural: 'trainingpipelines', body: tp });
  const patch = (name: string, body: unknown) =>
    http.request('PATCH', `/apis/perennial.dev/v1alpha1/namespaces/${namespace}/trainingpipelines/${name}`, { body, contentType: PatchType.merge });
  const runEnded = (name: string, run: string) => eventually(`run ${run} to end`, async () => {
    const tp = await get(name);
    const r = tp.status?.runs?.find((x) => x.name === run);
    return r && r.outcome !== 'Running' && tp.status?.currentRun === undefined ? tp : undefined;
  }, 120_000);
  const versionsInStore = async (name: string): Promise<string[]> => {
    const prefix = versionsPrefix({ namespace, name });
    return [...new Set((await store.list(bucket, prefix)).map((o) => o.key.slice(prefix.length).split('/')[0] ?? ''))].sort();
  };

  before(async () => {
    cluster = await LocalCluster.start({ name: 'tp-controller', controllerManager: false });
    kc = kubeConfigFor(cluster.info);
    await installCrds(kc);
    custom = kc.makeApiClient(CustomObjectsApi);
    http = new KubeHttpClient(kc);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const s3 = cluster.info.s3;
    if (!s3) throw new Error('no MinIO');
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'perennial-s3' }, stringData: { AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey } } });
    store = storeFor(cluster.info);
    await store.ensureBucket(bucket);
    const { header, rows } = weatherLines();
    const seattle = rows.filter((r) => r.startsWith('Seattle,'));
    const half = Math.ceil(seattle.length / 2);
    await putText(store, bucket, `data/${namespace}/seattle/part-0.csv`, [header, ...seattle.slice(0, half)].join('\n') + '\n');
    await putText(store, bucket, `data/${namespace}/seattle/part-1.csv`, [header, ...seattle.slice(half)].join('\n') + '\n');
    await putText(store, bucket, `data/${namespace}/tiny/part-0.csv`, [header, ...seattle.slice(0, 20)].join('\n') + '\n');
    jobs = new JobController(kc, namespace);
    manager = await startOperator();
  });

  after(async () => {
    await manager?.stop();
    await cluster?.stop();
  });

  it('blesses v1 on Seattle weather, rejects a candidate that misses a threshold (champion unchanged), and retention keeps the champion', async () => {
    await create(weatherPipeline('weather', (tp) => { tp.spec.retention.keepVersions = 1; }));
    // Run 1: the Initial run of a pipeline without a champion.
    const job1 = await jobs.waitFor('weather-1');
    assert.equal(job1.spec.template.spec.containers[0]?.image, 'ghcr.io/perennial-dev/perennial-trainer:test');
    assert.ok(job1.metadata.ownerReferences?.some((r) => r.controller === true));
    const exit1 = await jobs.run('weather-1');
    assert.equal(exit1.code, exitCodes.success, exit1.stderr.slice(-2000));
    let tp = await runEnded('weather', 'weather-1');
    const run1 = tp.status?.runs?.[0];
    assert.equal(run1?.outcome, 'Blessed', run1?.message);
    assert.equal(run1?.trigger, 'Initial');
    assert.equal(tp.status?.championVersion, 'v1');
    assert.equal(tp.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    const accuracy = run1?.metrics?.['accuracy'] ?? 0;
    console.log(`# v1 holdout accuracy ${accuracy.toFixed(4)}`);
    assert.ok(accuracy > 0.5, `accuracy ${accuracy}`);

    // Run 2: a threshold no model meets, started by the annotation: Rejected, the champion stays v1, and v1 is
    // kept although keepVersions is 1 (the champion is never deleted).
    await patch('weather', { metadata: { annotations: { 'perennial.dev/trigger': 'strict' } }, spec: { evaluation: { thresholds: [{ metric: 'accuracy', min: 0.999 }] } } });
    assert.equal((await jobs.run('weather-2')).code, exitCodes.success);
    tp = await runEnded('weather', 'weather-2');
    const run2 = tp.status?.runs?.[0];
    assert.equal(run2?.outcome, 'Rejected');
    assert.equal(run2?.trigger, 'Manual');
    assert.match(run2?.message ?? '', /threshold:accuracy/);
    assert.equal(tp.status?.championVersion, 'v1');
    assert.equal(tp.status?.latestVersion, 'v2');
    assert.deepEqual(await versionsInStore('weather'), ['v1', 'v2']);

    // Run 3: no threshold, same data and seed: as good as the champion, so blessed; retention then deletes v1
    // and v2 (beyond keepVersions, no longer the champion, served by nobody).
    await patch('weather', { metadata: { annotations: { 'perennial.dev/trigger': 'relaxed' } }, spec: { evaluation: { thresholds: null } } });
    assert.equal((await jobs.run('weather-3')).code, exitCodes.success);
    tp = await runEnded('weather', 'weather-3');
    assert.equal(tp.status?.runs?.[0]?.outcome, 'Blessed', tp.status?.runs?.[0]?.message);
    assert.equal(tp.status?.championVersion, 'v3');
    await eventually('retention', async () => ((await versionsInStore('weather')).join() === 'v3' ? true : undefined));
    assert.ok(await store.exists(bucket, artifactKey({ namespace, name: 'weather' }, 'v3', 'manifest')));
    assert.deepEqual((await jobs.list('perennial.dev/pipeline=weather')).map((j) => j.metadata.name).sort(), ['weather-1', 'weather-2', 'weather-3']);
    assert.ok((await manager?.metrics.value('perennial_training_pipeline_runs_total', { namespace, name: 'weather', outcome: 'Blessed' }) ?? 0) >= 2);
  });

  it('invalid data ends as InvalidData: the Job fails by its podFailurePolicy and is not retried', async () => {
    await create(weatherPipeline('tiny', (tp) => { tp.spec.data.sources = [{ prefix: `data/${namespace}/tiny/`, format: 'csv' }]; }));
    const job = await jobs.waitFor('tiny-1');
    assert.ok(job.spec.podFailurePolicy?.rules.some((r) => r.action === 'FailJob' && r.onExitCodes?.values.includes(exitCodes.invalidData)));
    const exit = await jobs.run('tiny-1');
    assert.equal(exit.code, exitCodes.invalidData, exit.stderr.slice(-2000));
    const tp = await runEnded('tiny', 'tiny-1');
    const run = tp.status?.runs?.[0];
    assert.equal(run?.outcome, 'InvalidData');
    // The trainer's count and minimum, in the operator's words with what to do about a small first period.
    assert.match(run?.message ?? '', /20 row\(s\), fewer than the minimum 500 \(spec\.validation\.minRows\): lower spec\.validation\.minRows or wait for more data/);
    assert.equal(tp.status?.conditions?.find((c) => c.type === 'Degraded')?.reason, 'InvalidData');
    await sleep(1500);
    assert.deepEqual((await jobs.list('perennial.dev/pipeline=tiny')).map((j) => j.metadata.name), ['tiny-1'], 'no retry, no new run');
  });

  it('an operator stopped mid-run and replaced creates no second Job; the new one completes the run', async () => {
    await create(weatherPipeline('restart'));
    const job = await jobs.waitFor('restart-1');
    const started = await jobs.start('restart-1');
    await manager?.stop();
    manager = await startOperator();
    await sleep(1500); // the new operator has listed and reconciled the running pipeline
    assert.deepEqual((await jobs.list('perennial.dev/pipeline=restart')).map((j) => j.metadata.name), ['restart-1']);
    const env = await jobs.podEnv(job);
    const { startTrainer } = await import('./trainer-harness.js');
    const exit = await startTrainer(env).done;
    await jobs.finish(job, started, exit);
    const tp = await runEnded('restart', 'restart-1');
    assert.equal(tp.status?.runs?.[0]?.outcome, 'Blessed', tp.status?.runs?.[0]?.message);
    assert.equal(tp.status?.runCount, 1);
    assert.deepEqual((await jobs.list('perennial.dev/pipeline=restart')).map((j) => j.metadata.name), ['restart-1']);
  });

  /** A ModelDeployment following `pipeline`, once it names the champion v1 as stable (its pods never get ready here). */
  const followingDeployment = async (md: string, pipeline: string): Promise<void> => {
    await custom.createNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace, plural: 'modeldeployments',
      body: aDeployment(md).inNamespace(namespace).following(pipeline).withImage('ghcr.io/perennial-dev/perennial-server:test').build() });
    await eventually(`${md} serving v1`, async () => {
      const got = await custom.getNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace, plural: 'modeldeployments', name: md }) as { status?: { stableVersion?: string } };
      return got.status?.stableVersion === 'v1';
    });
  };
  /** What a deployment's serving pods would report as v1's live metrics (this cluster runs no pods). */
  const reportLive = (md: string, figures: Record<string, number>) => http.request('PATCH', `/apis/perennial.dev/v1alpha1/namespaces/${namespace}/modeldeployments/${md}/status`, {
    contentType: PatchType.merge,
    body: { status: { liveMetrics: { time: new Date().toISOString(), version: 'v1', requestRate: 20, labelledSamples: 400, ...figures } } },
  });
  /** The pipeline once a run started by `trigger` is in its status. */
  const runBy = (pipeline: string, trigger: string) => eventually(`a ${trigger} run`, async () => {
    const got = await get(pipeline);
    return got.status?.runs?.find((r) => r.trigger === trigger) ? got : undefined;
  }, 30_000);

  it('falling live accuracy of the ModelDeployment it watches starts a Performance run', async () => {
    const md = 'perf-md';
    await create(weatherPipeline('perf', (tp) => {
      tp.spec.triggers.performance = { deployment: md, metric: 'accuracy', threshold: 0.7, minSamples: 50, for: '2s' };
    }));
    assert.equal((await jobs.run('perf-1')).code, exitCodes.success);
    assert.equal((await runEnded('perf', 'perf-1')).status?.championVersion, 'v1');
    await followingDeployment(md, 'perf');
    // Healthy first, then accuracy falling.
    await reportLive(md, { accuracy: 0.85 });
    await sleep(3000);
    assert.equal((await get('perf')).status?.runs?.length, 1, 'accuracy above the threshold starts nothing');
    await reportLive(md, { accuracy: 0.55 });
    let tp = await runBy('perf', 'Performance');
    const run = tp.status?.runs?.[0];
    assert.equal(run?.name, 'perf-2');
    assert.match(run?.reason ?? '', /live accuracy 0\.5500 < 0\.7 on ModelDeployment perf-md since .* \(for 2s\)/);
    assert.equal((await jobs.run('perf-2')).code, exitCodes.success);
    // The measurement that started perf-2 is still there when it ends, but it is of v1 and the deployment follows the
    // pipeline to v2: no third run.
    tp = await runEnded('perf', 'perf-2');
    assert.equal(tp.status?.championVersion, 'v2');
    await sleep(4000);
    assert.deepEqual((await get('perf')).status?.runs?.map((r) => r.name), ['perf-2', 'perf-1']);
  });

  it('an estimated accuracy falling with no label at all starts a Performance run (metric estimatedAccuracy)', async () => {
    const md = 'conf-md';
    await create(weatherPipeline('conf', (tp) => {
      tp.spec.triggers.performance = { deployment: md, metric: 'estimatedAccuracy', threshold: 0.7, minSamples: 100, for: '2s' };
    }));
    assert.equal((await jobs.run('conf-1')).code, exitCodes.success);
    assert.equal((await runEnded('conf', 'conf-1')).status?.championVersion, 'v1');
    await followingDeployment(md, 'conf');
    // Labels never come: no accuracy, no labelled samples; only the servers' confidence (server-confidence.test.ts
    // shows real servers producing it).
    await reportLive(md, { labelledSamples: 0, estimatedAccuracy: 0.82, estimatedSamples: 500 });
    const stored = await custom.getNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace, plural: 'modeldeployments', name: md }) as { status?: { liveMetrics?: Record<string, unknown> } };
    assert.deepEqual([stored.status?.liveMetrics?.['estimatedAccuracy'], stored.status?.liveMetrics?.['estimatedSamples']], [0.82, 500], 'the CRD keeps the fields');
    await sleep(3000);
    assert.equal((await get('conf')).status?.runs?.length, 1, 'an estimate above the threshold starts nothing');
    await reportLive(md, { labelledSamples: 0, estimatedAccuracy: 0.58, estimatedSamples: 500 });
    const tp = await runBy('conf', 'Performance');
    assert.match(tp.status?.runs?.[0]?.reason ?? '', /live estimatedAccuracy 0\.5800 < 0\.7 on ModelDeployment conf-md since .* \(for 2s\)/);
  });

  it('a regression pipeline: live RMSE above its threshold on the deployment it watches starts a Performance run', async () => {
    const md = 'temp-md';
    await create(weatherPipeline('temp', (tp) => {
      tp.spec.data.schema = {
        features: seattleWeatherSchema.features.filter((f) => f.name !== 'temp_max'),
        label: { name: 'temp_max', task: 'regression', min: -50, max: 60 },
        timestampColumn: 'date',
      };
      tp.spec.triggers.performance = { deployment: md, metric: 'rmse', threshold: 3, minSamples: 50, for: '2s' };
    }));
    assert.equal((await jobs.run('temp-1')).code, exitCodes.success);
    const first = await runEnded('temp', 'temp-1');
    assert.equal(first.status?.championVersion, 'v1', first.status?.runs?.[0]?.message);
    assert.ok((first.status?.runs?.[0]?.metrics?.['rmse'] ?? Infinity) < 10, JSON.stringify(first.status?.runs?.[0]?.metrics));
    await followingDeployment(md, 'temp');
    // The rollout integration test shows real pods producing liveMetrics.rmse from labels.
    await reportLive(md, { rmse: 2.1 });
    await sleep(3000);
    assert.equal((await get('temp')).status?.runs?.length, 1, 'RMSE below the threshold starts nothing');
    await reportLive(md, { rmse: 4.5 });
    const tp = await runBy('temp', 'Performance');
    assert.match(tp.status?.runs?.[0]?.reason ?? '', /live rmse 4\.5000 > 3 on ModelDeployment temp-md/);
    assert.equal((await jobs.run('temp-2')).code, exitCodes.success);
    const second = await runEnded('temp', 'temp-2');
    assert.ok(['Blessed', 'Rejected'].includes(second.status?.runs?.[0]?.outcome ?? ''), second.status?.runs?.[0]?.message);
    assert.ok(second.status?.runs?.[0]?.championMetrics?.['rmse'] !== undefined, 'judged against the regression champion on the same holdout');
  });

  it('a rollback demotes the champion: the deployment following it aborts v2, the champion goes back to v1, the next run starts from v1; a pin restores v2', async () => {
    const md = 'rollback-md';
    await create(weatherPipeline('rollback', (tp) => { tp.spec.trainer.warmStart = 'Champion'; }));
    assert.equal((await jobs.run('rollback-1')).code, exitCodes.success);
    assert.equal((await runEnded('rollback', 'rollback-1')).status?.championVersion, 'v1');
    await custom.createNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace, plural: 'modeldeployments',
      body: aDeployment(md).inNamespace(namespace).following('rollback').withImage('ghcr.io/perennial-dev/perennial-server:test').build() });
    const mdStatus = async (): Promise<Record<string, unknown> | undefined> =>
      (await custom.getNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace, plural: 'modeldeployments', name: md }) as { status?: Record<string, unknown> }).status;
    await eventually('the deployment serving v1', async () => (await mdStatus())?.['stableVersion'] === 'v1');
    // Run 2: same data and seed, blessed; the deployment starts rolling v2 out.
    await patch('rollback', { metadata: { annotations: { 'perennial.dev/trigger': 'v2' } } });
    assert.equal((await jobs.run('rollback-2')).code, exitCodes.success);
    assert.equal((await runEnded('rollback', 'rollback-2')).status?.championVersion, 'v2');
    await eventually('v2 canaried', async () => (await mdStatus())?.['canaryVersion'] === 'v2');
    // Production refuses it (an abort by request stands for a failed gate: the operator cannot tell them apart here).
    await http.request('PATCH', `/apis/perennial.dev/v1alpha1/namespaces/${namespace}/modeldeployments/${md}`, {
      contentType: PatchType.merge, body: { metadata: { annotations: { 'perennial.dev/abort': 'bad-v2' } } },
    });
    let tp = await eventually('the champion back to v1', async () => {
      const got = await get('rollback');
      return got.status?.championVersion === 'v1' ? got : undefined;
    }, 30_000);
    assert.deepEqual(tp.status?.demotions?.map((d) => [d.version, d.to, d.deployment]), [['v2', 'v1', md]]);
    assert.match(tp.status?.demotions?.[0]?.reason ?? '', /perennial\.dev\/abort/);
    assert.match(tp.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '', /Champion v1: v2 was demoted, ModelDeployment rollback-md rolled it back/);
    assert.equal((await mdStatus())?.['stableVersion'], 'v1');
    // The next run warm-starts from v1 and is judged against it.
    await patch('rollback', { metadata: { annotations: { 'perennial.dev/trigger': 'v3' } } });
    const job3 = await jobs.waitFor('rollback-3');
    const config = JSON.parse(String((await jobs.podEnv(job3))['PERENNIAL_TRAINER_CONFIG'])) as { championVersion?: string; warmStart?: string };
    assert.deepEqual([config.championVersion, config.warmStart], ['v1', 'champion']);
    assert.equal((await jobs.run('rollback-3')).code, exitCodes.success);
    tp = await runEnded('rollback', 'rollback-3');
    assert.equal(tp.status?.runs?.[0]?.outcome, 'Blessed', tp.status?.runs?.[0]?.message);
    assert.equal(tp.status?.runs?.[0]?.gates?.find((g) => g.name === 'champion')?.passed, true, 'compared with v1');
    // A person restores v2 by annotation: pinned, although the deployment aborted it.
    await patch('rollback', { metadata: { annotations: { 'perennial.dev/champion': 'v2' } } });
    tp = await eventually('v2 pinned', async () => {
      const got = await get('rollback');
      return got.status?.championVersion === 'v2' ? got : undefined;
    }, 30_000);
    assert.equal(tp.status?.lastChampionPin, 'v2');
    await sleep(1500);
    assert.equal((await get('rollback')).status?.championVersion, 'v2', 'the pin holds');
  });

  it('a bad spec gets Accepted=False naming the field, no Job, and no hot loop', async () => {
    await create(weatherPipeline('feb30', (tp) => { tp.spec.triggers.schedule = { cron: '0 0 30 2 *', startingDeadline: '1h' }; }));
    const tp = await eventually('the pipeline rejected', async () => {
      const got = await get('feb30');
      return got.status?.observedGeneration === got.metadata.generation ? got : undefined;
    });
    const accepted = tp.status?.conditions?.find((c) => c.type === 'Accepted');
    assert.equal(accepted?.status, 'False');
    assert.match(accepted?.message ?? '', /spec\.triggers\.schedule\.cron/);
    await sleep(1000);
    const reconciles = (): Promise<number> => manager?.metrics.value('perennial_reconcile_total', { controller: controllerNames.trainingPipeline }) ?? Promise.resolve(0);
    const settled = await reconciles();
    await sleep(3000);
    assert.equal(await reconciles(), settled, 'an invalid spec waits for the next edit');
    assert.deepEqual(await jobs.list('perennial.dev/pipeline=feb30'), []);
  });
});
