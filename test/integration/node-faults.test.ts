// Faults on the real node end in the conditions a user would expect, with the operator in this process and the
// images built from the Dockerfiles under the real kubelet and containerd (test/support/node-cluster.ts), one
// cluster for the file:
//   - a training image that is not there (the node pulls from no registry): the run and the pipeline say so with the
//     kubelet's reason, a Warning event, and after spec.trainer.imagePullTimeout the run ends Failed, its Job gone;
//   - the real trainer under a 40Mi memory limit: OOMKilled, the run ends Failed naming the limit to raise;
//   - a first server version whose image is not there: Degraded=True/ProgressDeadlineExceeded and Available=False
//     naming the image, a Warning event;
//   - a canary whose image is not there: aborted at the progress deadline, the stable revision untouched;
//   - a Secret the server pods refer to missing from the namespace (CreateContainerConfigError): Available=False/
//     ConfigMissing naming the Secret, long before the progress deadline;
//   - a node restart (kubelet, kube-proxy, containerd stopped and started): the served deployment is Healthy again
//     with its pods ready, and a new pod starts on the restarted node; stopping the cluster still leaves nothing.
// Everything is created up front, so the waits (image pulls, deadlines) overlap; each test then checks its own.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, BatchV1Api, CoreV1Api, CustomObjectsApi, EventsV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { LocalCluster } from '../../localcluster/cluster.js';
import { kubeConfigFor } from '../../localcluster/test-cluster.js';
import type { ModelDeployment } from '../../src/api/model-deployment.js';
import { aDeployment, aPipeline } from '../../src/api/testing/builders.js';
import type { TrainingPipeline } from '../../src/api/training-pipeline.js';
import { loadConfig } from '../../src/operator/config.js';
import { buildManager } from '../../src/operator/operator.js';
import { KubeHttpClient, PatchType } from '../../src/operator/runtime/kube-http.js';
import type { Manager } from '../../src/operator/runtime/manager.js';
import { installCrds } from '../support/crds.js';
import { eventually } from '../support/eventually.js';
import { imageTags, startClusterWithNode } from '../support/node-cluster.js';
import { weatherDataPrefix, weatherTrainerConfig } from '../support/served-model.js';
import { putText, runTrainer, storeFor, trainerEnv, weatherLines } from './trainer-harness.js';

const namespace = 'ml';
const bucket = 'perennial-models';
const missingTrainer = 'ghcr.io/perennial-dev/perennial-trainer:does-not-exist';
const missingServer = 'ghcr.io/perennial-dev/perennial-server:does-not-exist';
const group = { group: 'perennial.dev', version: 'v1alpha1', namespace };

describe('node faults on the real node end in the conditions a user expects', () => {
  let cluster: LocalCluster;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  let http: KubeHttpClient;
  let manager: Manager | undefined;
  /** Every Progressing reason each pipeline showed, polled while the tests run: a report may be short-lived. */
  const seenReasons = new Map<string, Set<string>>();
  let watching = true;
  let watcher: Promise<void> | undefined;

  const getTp = async (name: string): Promise<TrainingPipeline> =>
    await custom.getNamespacedCustomObject({ ...group, plural: 'trainingpipelines', name }) as TrainingPipeline;
  const getMd = async (name: string): Promise<ModelDeployment> =>
    await custom.getNamespacedCustomObject({ ...group, plural: 'modeldeployments', name }) as ModelDeployment;
  const untilTp = (name: string, what: string, ok: (tp: TrainingPipeline) => boolean, timeoutMs = 180_000): Promise<TrainingPipeline> =>
    eventually(what, async () => { const tp = await getTp(name); return ok(tp) ? tp : undefined; }, timeoutMs, 500);
  const untilMd = (name: string, what: string, ok: (md: ModelDeployment) => boolean, timeoutMs = 180_000): Promise<ModelDeployment> =>
    eventually(what, async () => { const md = await getMd(name); return ok(md) ? md : undefined; }, timeoutMs, 500);
  const patchMd = (name: string, body: unknown) =>
    http.request('PATCH', `/apis/perennial.dev/v1alpha1/namespaces/${namespace}/modeldeployments/${name}`, { body, contentType: PatchType.merge });
  const condition = (o: TrainingPipeline | ModelDeployment, type: string) => o.status?.conditions?.find((c) => c.type === type);
  const warnings = async (name: string, reason: string): Promise<string[]> =>
    (await kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace })).items
      .filter((e) => e.regarding?.name === name && e.reason === reason && e.type === 'Warning').map((e) => e.note ?? '');
  const readyPods = async (md: string): Promise<V1Pod[]> =>
    (await core.listNamespacedPod({ namespace, labelSelector: `perennial.dev/deployment=${md}` })).items
      .filter((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the local node needs root: run the tests as root');
    cluster = await startClusterWithNode('node-faults', (l) => console.log(`# ${l}`));
    kc = kubeConfigFor(cluster.info);
    await installCrds(kc);
    core = kc.makeApiClient(CoreV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
    http = new KubeHttpClient(kc);
    const s3 = cluster.info.s3;
    if (!s3) throw new Error('no MinIO');
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'perennial-s3' }, stringData: { AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey } } });
    await eventually('the default ServiceAccount', () => core.readNamespacedServiceAccount({ name: 'default', namespace }));
    manager = buildManager(loadConfig({
      PERENNIAL_WATCH_NAMESPACE: namespace, PERENNIAL_LEADER_ELECT: 'false', PERENNIAL_LOG_LEVEL: 'warn', PERENNIAL_HEALTH_PORT: '0',
      PERENNIAL_S3_ENDPOINT: s3.endPoint, PERENNIAL_S3_PORT: String(s3.port), PERENNIAL_S3_TLS: 'false', PERENNIAL_S3_REGION: s3.region,
      PERENNIAL_S3_BUCKET: bucket, AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey, PERENNIAL_S3_CREDENTIALS_SECRET: 'perennial-s3',
    }), kc);
    await manager.start();
    const store = storeFor(cluster.info);
    await store.ensureBucket(bucket);

    // The pipelines first: their first run starts at once (Initial), and their waits overlap everything below.
    const create = (plural: string, body: object) => custom.createNamespacedCustomObject({ ...group, plural, body });
    await create('trainingpipelines', aPipeline('missing-image').inNamespace(namespace)
      .withTrainer({ image: missingTrainer, imagePullTimeout: '40s' }).build());
    await create('trainingpipelines', aPipeline('oom').inNamespace(namespace)
      .withTrainer({ image: imageTags.trainer, resources: { limits: { memory: '40Mi' } } }).build());
    watcher = (async () => {
      while (watching) {
        for (const name of ['missing-image', 'oom']) {
          const reason = condition(await getTp(name).catch(() => ({ status: undefined }) as unknown as TrainingPipeline), 'Progressing')?.reason;
          if (reason !== undefined) seenReasons.set(name, (seenReasons.get(name) ?? new Set()).add(reason));
        }
        await sleep(250);
      }
    })();
    // A first version that can never start (its image is not on the node).
    await create('modeldeployments', aDeployment('broken').inNamespace(namespace).servingUri(`s3://${bucket}/pipelines/${namespace}/weather/versions/v1`)
      .withImage(missingServer).withReplicas(1).withRollout({ progressDeadline: '20s' }).build());
    // Server pods that refer to a Secret the namespace does not have: the kubelet cannot make their environment.
    await create('modeldeployments', aDeployment('no-secret').inNamespace(namespace).servingUri(`s3://${bucket}/pipelines/${namespace}/weather/versions/v1`)
      .withServer({ image: imageTags.server, replicas: 1, feedback: { port: 8081, secretName: 'absent-feedback' } }).build());
    // A model to serve: the real trainer, briefly (its quality does not matter here).
    const { header, rows } = weatherLines();
    await putText(store, bucket, `${weatherDataPrefix}all.csv`, [header, ...rows].join('\n') + '\n');
    const quick = { hyperparameters: { epochs: 2, batchSize: 64, learningRate: 0.01, patience: 1, validationFraction: 0.15 }, evaluation: { holdout: { from: '2015-01-01' }, sliceColumn: 'location', gates: { thresholds: { accuracy: 0 } } } };
    const trained = await runTrainer(trainerEnv(cluster.info, bucket, weatherTrainerConfig('v1', quick)));
    if (trained.code !== 0) throw new Error(`trainer exited ${String(trained.code)}: ${trained.stdout.slice(-2000)}${trained.stderr.slice(-2000)}`);
    await create('modeldeployments', aDeployment('weather').inNamespace(namespace).servingUri(`s3://${bucket}/pipelines/${namespace}/weather/versions/v1`)
      .withImage(imageTags.server).withReplicas(1).withCanarySteps({ setWeight: 50 }, { pause: {} }).withRollout({ progressDeadline: '20s' }).build());
  });

  after(async () => {
    watching = false;
    await watcher;
    await manager?.stop();
    await cluster?.stop();
  });

  it('a trainer image that is not there: reported on the run and the pipeline, then the run ends Failed and its Job is stopped', async () => {
    const pullReason = /cannot be pulled \((ErrImagePull|ImagePullBackOff|ErrImageNeverPull)/;
    const failed = await untilTp('missing-image', 'the run to end Failed', (tp) => tp.status?.runs?.[0]?.outcome === 'Failed');
    assert.ok(seenReasons.get('missing-image')?.has('ImagePullFailed'), `Progressing said ImagePullFailed while the run waited: ${[...seenReasons.get('missing-image') ?? []].join(', ')}`);
    const reported = await warnings('missing-image', 'ImagePullFailed');
    assert.ok(reported.some((n) => n.startsWith(`Run missing-image-1: The trainer image "${missingTrainer}" `) && pullReason.test(n) && /the run ends Failed at/.test(n)),
      `a Warning while it waited: ${reported.join(' | ')}`);
    const run = failed.status?.runs?.[0];
    console.log(`# run ended: ${run?.message ?? ''}`);
    assert.match(run?.message ?? '', new RegExp(`^The trainer image "${missingTrainer}" ${pullReason.source}.*, for 40s \\(spec\\.trainer\\.imagePullTimeout\\)`));
    assert.equal(failed.status?.currentRun, undefined, 'the next trigger may start a run');
    assert.equal(failed.status?.phase, 'Idle');
    assert.equal(condition(failed, 'Degraded')?.status, 'True');
    assert.equal(condition(failed, 'Degraded')?.reason, 'RunFailed');
    assert.equal(reported.length, 2, 'one Warning while it waited, one as it ended');
    const batch = kc.makeApiClient(BatchV1Api);
    await eventually('the run\'s Job to be deleted', async () => (await batch.listNamespacedJob({ namespace, labelSelector: 'perennial.dev/run=missing-image-1' })).items.length === 0);
  });

  it('the real trainer over a 40Mi memory limit: OOMKilled ends the run Failed, naming the limit to raise', async () => {
    const failed = await untilTp('oom', 'the run to end Failed', (tp) => tp.status?.runs?.[0]?.outcome === 'Failed');
    const run = failed.status?.runs?.[0];
    console.log(`# run ended: ${run?.message ?? ''}`);
    assert.match(run?.message ?? '', /^The trainer container trainer was killed for using more memory than its limit of 40Mi \(OOMKilled, exit code 137\)\. Raise spec\.trainer\.resources\.limits\.memory/);
    assert.equal(failed.status?.currentRun, undefined);
    assert.match(condition(failed, 'Degraded')?.message ?? '', /OOMKilled/);
    assert.equal((await warnings('oom', 'OOMKilled')).length, 1);
    const batch = kc.makeApiClient(BatchV1Api);
    await eventually('the run\'s Job to be deleted (no retries of the same limit)', async () => (await batch.listNamespacedJob({ namespace, labelSelector: 'perennial.dev/run=oom-1' })).items.length === 0);
  });

  it('a first server version whose image is not there: Degraded=True/ProgressDeadlineExceeded and Available=False naming the image, one Warning', async () => {
    const pulled = new RegExp(`image "${missingServer}" cannot be pulled \\((ErrImagePull|ImagePullBackOff|ErrImageNeverPull)`);
    const md = await untilMd('broken', 'Degraded naming the image', (x) => condition(x, 'Degraded')?.reason === 'ProgressDeadlineExceeded' && pulled.test(condition(x, 'Degraded')?.message ?? ''));
    assert.equal(md.status?.phase, 'Degraded');
    console.log(`# Degraded: ${condition(md, 'Degraded')?.message ?? ''}`);
    assert.match(condition(md, 'Degraded')?.message ?? '', /^The pods of v1 did not become ready within spec\.rollout\.progressDeadline \(20s\)/);
    assert.equal(condition(md, 'Available')?.status, 'False');
    assert.match(condition(md, 'Available')?.message ?? '', new RegExp(`^No ready pod of v1: ${pulled.source}`));
    const told = await warnings('broken', 'ProgressDeadlineExceeded');
    assert.equal(told.length, 1, told.join(' | '));
  });

  it('a Secret missing from the namespace: Available=False/ConfigMissing naming it, well before the progress deadline', async () => {
    const md = await untilMd('no-secret', 'Available naming the missing Secret', (x) => condition(x, 'Available')?.reason === 'ConfigMissing', 120_000);
    console.log(`# Available: ${condition(md, 'Available')?.message ?? ''}`);
    assert.equal(condition(md, 'Available')?.status, 'False');
    assert.match(condition(md, 'Available')?.message ?? '', /^No ready pod of v1: container server cannot start: Secret "absent-feedback" does not exist in the namespace \(CreateContainerConfigError: /);
  });

  it('a canary whose image is not there is aborted at the progress deadline, naming it; the stable revision is untouched', async () => {
    let md = await untilMd('weather', 'v1 to serve', (x) => x.status?.phase === 'Healthy' && condition(x, 'Available')?.status === 'True');
    const stableRevision = md.status?.stableRevision ?? '';
    const apps = kc.makeApiClient(AppsV1Api);
    const stableTemplate = (await apps.readNamespacedDeployment({ namespace, name: stableRevision })).spec?.template;
    const stablePods = (await readyPods('weather')).map((p) => p.metadata?.uid);
    await patchMd('weather', { spec: { server: { image: missingServer } } });
    md = await untilMd('weather', 'the rollout of the new server image to start', (x) => x.status?.canaryRevision !== undefined);
    const canaryRevision = md.status?.canaryRevision;
    md = await untilMd('weather', 'the canary to be aborted', (x) => x.status?.abortedRevision === canaryRevision, 120_000);
    assert.equal(md.status?.phase, 'Degraded');
    assert.equal(md.status?.canaryRevision, undefined);
    assert.equal(md.status?.canaryWeight, 0);
    assert.equal(md.status?.stableRevision, stableRevision);
    const cause = new RegExp(`^ProgressDeadlineExceeded: its pods did not become ready within spec\\.rollout\\.progressDeadline \\(20s\\)(: image "${missingServer}" cannot be pulled \\((ErrImagePull|ImagePullBackOff|ErrImageNeverPull))?`);
    assert.match(md.status?.abortedMessage ?? '', cause);
    assert.equal(condition(md, 'Degraded')?.reason, 'RolloutAborted');
    assert.match(condition(md, 'Degraded')?.message ?? '', /was aborted \(ProgressDeadlineExceeded: /);
    const aborted = await warnings('weather', 'RolloutAborted');
    assert.ok(aborted.some((n) => n.includes('ProgressDeadlineExceeded')), aborted.join(' | '));
    await eventually('the canary Deployment to be deleted', async () => (await apps.listNamespacedDeployment({ namespace, labelSelector: 'perennial.dev/deployment=weather' })).items.length === 1);
    assert.deepEqual((await apps.readNamespacedDeployment({ namespace, name: stableRevision })).spec?.template, stableTemplate, 'the stable pod template is untouched');
    assert.deepEqual((await readyPods('weather')).map((p) => p.metadata?.uid), stablePods, 'the same stable pod serves throughout');
    console.log(`# aborted: ${md.status?.abortedMessage ?? ''}`);

    // The image put back: the stable version is wanted again, nothing is aborted any more.
    await patchMd('weather', { spec: { server: { image: imageTags.server } } });
    md = await untilMd('weather', 'Healthy again', (x) => x.status?.phase === 'Healthy' && condition(x, 'Degraded')?.status === 'False');
    assert.equal(md.status?.stableRevision, stableRevision);
  });

  it('a node restart (kubelet, kube-proxy, containerd): the served deployment is Healthy again with its pods ready, and new pods start', async () => {
    await untilMd('weather', 'Healthy before the restart', (x) => x.status?.phase === 'Healthy');
    const before = await readyPods('weather');
    assert.equal(before.length, 1);
    const restartStart = Date.now();
    await cluster.node?.restart();
    console.log(`# node services restarted and the Node Ready in ${((Date.now() - restartStart) / 1000).toFixed(1)} s`);
    const node = await core.readNode({ name: cluster.info.node?.name ?? '' });
    assert.equal(node.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    const md = await untilMd('weather', 'Healthy and Available after the restart', (x) => x.status?.phase === 'Healthy' && condition(x, 'Available')?.status === 'True' && x.status.stableReadyReplicas === 1);
    assert.equal(md.status?.stableReadyReplicas, 1);
    const pods = await eventually('the server pod ready after the restart', async () => {
      const p = await readyPods('weather');
      return p.length === 1 ? p : undefined;
    });
    console.log(`# server pod after the restart: ${pods[0]?.metadata?.uid === before[0]?.metadata?.uid ? 'the same pod' : 'a new pod'}, restarts ${String(pods[0]?.status?.containerStatuses?.[0]?.restartCount)}`);
    // The restarted node starts new pods: delete the server pod; its Deployment's new pod gets ready and serves.
    await core.deleteNamespacedPod({ namespace, name: pods[0]?.metadata?.name ?? '' });
    const replaced = await eventually('a new server pod ready on the restarted node', async () => {
      const p = await readyPods('weather');
      return p.length === 1 && p[0]?.metadata?.uid !== pods[0]?.metadata?.uid ? p : undefined;
    }, 120_000, 500);
    assert.equal(replaced[0]?.spec?.nodeName, cluster.info.node?.name);
    await untilMd('weather', 'Healthy with the new pod', (x) => x.status?.phase === 'Healthy' && x.status.stableReadyReplicas === 1);
  });

  it('stopping the cluster after the restart still leaves nothing of the node on the host', async () => {
    const node = cluster.info.node;
    assert.ok(node);
    const index = node.name.split('-').pop() ?? '';
    const nodeRoot = dirname(cluster.node?.dirs.containerd ?? '/nowhere');
    watching = false;
    await watcher;
    await manager?.stop();
    manager = undefined;
    await cluster.stop();
    await sleep(200);
    assert.ok(!execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).includes(node.name), 'the namespace is gone');
    assert.ok(!execFileSync('ip', ['route'], { encoding: 'utf8' }).includes(node.podCIDR), 'the pod route is gone');
    assert.ok(!existsSync(`/sys/fs/cgroup/memory/perennial-node-${index}`), 'the cgroups are gone');
    assert.deepEqual(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(`${nodeRoot}/`)), [], 'no mount is left');
    assert.deepEqual(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(nodeRoot)), [], 'no process is left');
  });
});
