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
// And, on the same node for CI time's sake, one that is no fault: a GradientBoosting pipeline with a small search
// trains in the trainer image, and a deployment following it serves the calibrated probabilities of that model.
// Everything is created up front, so the waits (image pulls, deadlines) overlap; each test then checks its own.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, BatchV1Api, EventsV1Api, type V1Pod } from '@kubernetes/client-node';
import type { ModelDeployment } from '../../src/api/model-deployment.js';
import { aDeployment, aPipeline, seattleWeatherSchema } from '../../src/api/testing/builders.js';
import type { TrainingPipeline } from '../../src/api/training-pipeline.js';
import { eventually } from '../support/eventually.js';
import { LoopStack } from '../support/loop-stack.js';
import { imageTags } from '../support/node-cluster.js';
import { quickTraining, trainWeatherModel, weatherDataPrefix, weatherInstances } from '../support/served-model.js';
import { loadTabularModel } from '../../src/ml/load-model.js';
import { predictRows } from '../../src/ml/predict.js';
import { readSavedModel } from '../../src/ml/store-io.js';
import { artifactKey, versionPrefix } from '../../src/shared/artifact-layout.js';
import { parsePreprocessingSpec } from '../../src/shared/preprocessing.js';
import { storeFor } from './trainer-harness.js';

const namespace = 'ml';
const bucket = 'perennial-models';
const missingTrainer = 'ghcr.io/perennial-dev/perennial-trainer:does-not-exist';
const missingServer = 'ghcr.io/perennial-dev/perennial-server:does-not-exist';

describe('node faults on the real node end in the conditions a user expects', () => {
  let stack: LoopStack;
  /** Every Progressing reason each pipeline showed, polled while the tests run: a report may be short-lived. */
  const seenReasons = new Map<string, Set<string>>();
  let watching = true;
  let watcher: Promise<void> | undefined;

  const condition = (o: TrainingPipeline | ModelDeployment, type: string) => o.status?.conditions?.find((c) => c.type === type);
  const warnings = async (name: string, reason: string): Promise<string[]> =>
    (await stack.kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace })).items
      .filter((e) => e.regarding?.name === name && e.reason === reason && e.type === 'Warning').map((e) => e.note ?? '');
  const readyPods = async (md: string): Promise<V1Pod[]> =>
    (await stack.core.listNamespacedPod({ namespace, labelSelector: `perennial.dev/deployment=${md}` })).items
      .filter((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the local node needs root: run the tests as root');
    stack = await LoopStack.start({ name: 'node-faults', namespace, bucket, log: (l) => console.log(`# ${l}`) });

    // The pipelines first: their first run starts at once (Initial), and their waits overlap everything below.
    await stack.create('trainingpipelines', aPipeline('missing-image').inNamespace(namespace)
      .withTrainer({ image: missingTrainer, imagePullTimeout: '40s' }).build());
    await stack.create('trainingpipelines', aPipeline('oom').inNamespace(namespace)
      .withTrainer({ image: imageTags.trainer, resources: { limits: { memory: '40Mi' } } }).build());
    watcher = (async () => {
      while (watching) {
        for (const name of ['missing-image', 'oom']) {
          const reason = condition(await stack.getTp(name).catch(() => ({ status: undefined }) as unknown as TrainingPipeline), 'Progressing')?.reason;
          if (reason !== undefined) seenReasons.set(name, (seenReasons.get(name) ?? new Set()).add(reason));
        }
        await sleep(250);
      }
    })();
    // A first version that can never start (its image is not on the node).
    await stack.create('modeldeployments', aDeployment('broken').inNamespace(namespace).servingUri(`s3://${bucket}/pipelines/${namespace}/weather/versions/v1`)
      .withImage(missingServer).withReplicas(1).withRollout({ progressDeadline: '20s' }).build());
    // Server pods that refer to a Secret the namespace does not have: the kubelet cannot make their environment.
    await stack.create('modeldeployments', aDeployment('no-secret').inNamespace(namespace).servingUri(`s3://${bucket}/pipelines/${namespace}/weather/versions/v1`)
      .withServer({ image: imageTags.server, replicas: 1, feedback: { port: 8081, secretName: 'absent-feedback' } }).build());
    // A model to serve: the real trainer, briefly (its quality does not matter here).
    await trainWeatherModel(stack.cluster.info, storeFor(stack.cluster.info), bucket, 'v1', quickTraining);
    await stack.create('modeldeployments', aDeployment('weather').inNamespace(namespace).servingUri(`s3://${bucket}/pipelines/${namespace}/weather/versions/v1`)
      .withImage(imageTags.server).withReplicas(1).withCanarySteps({ setWeight: 50 }, { pause: {} }).withRollout({ progressDeadline: '20s' }).build());
    // Not a fault: the tree family and a search in the real trainer image, served by the real server image (the
    // weather data is in the bucket now; the pipeline's first run starts at once).
    await stack.create('trainingpipelines', aPipeline('trees').inNamespace(namespace)
      .readingFrom({ prefix: weatherDataPrefix, format: 'csv' }).withSchema(seattleWeatherSchema).withValidation({ minRows: 500, maxMissingRate: 0.05 })
      .withTrainer({
        image: imageTags.trainer, model: { type: 'GradientBoosting' },
        search: { trials: 3, parameters: [{ name: 'maxDepth', min: 2, max: 6, scale: 'Linear' }, { name: 'learningRate', min: 0.05, max: 0.3, scale: 'Log' }] },
      }).build());
    await stack.create('modeldeployments', aDeployment('trees').inNamespace(namespace).following('trees').withImage(imageTags.server).withReplicas(1).build());
  });

  after(async () => {
    watching = false;
    await watcher;
    await stack?.stop();
  });

  it('a trainer image that is not there: reported on the run and the pipeline, then the run ends Failed and its Job is stopped', async () => {
    const pullReason = /cannot be pulled \((ErrImagePull|ImagePullBackOff|ErrImageNeverPull)/;
    const failed = await stack.untilTp('missing-image', 'the run to end Failed', (tp) => tp.status?.runs?.[0]?.outcome === 'Failed');
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
    const batch = stack.kc.makeApiClient(BatchV1Api);
    await eventually('the run\'s Job to be deleted', async () => (await batch.listNamespacedJob({ namespace, labelSelector: 'perennial.dev/run=missing-image-1' })).items.length === 0);
  });

  it('the real trainer over a 40Mi memory limit: OOMKilled ends the run Failed, naming the limit to raise', async () => {
    const failed = await stack.untilTp('oom', 'the run to end Failed', (tp) => tp.status?.runs?.[0]?.outcome === 'Failed');
    const run = failed.status?.runs?.[0];
    console.log(`# run ended: ${run?.message ?? ''}`);
    assert.match(run?.message ?? '', /^The trainer container trainer was killed for using more memory than its limit of 40Mi \(OOMKilled, exit code 137\)\. Raise spec\.trainer\.resources\.limits\.memory/);
    assert.equal(failed.status?.currentRun, undefined);
    assert.match(condition(failed, 'Degraded')?.message ?? '', /OOMKilled/);
    assert.equal((await warnings('oom', 'OOMKilled')).length, 1);
    const batch = stack.kc.makeApiClient(BatchV1Api);
    await eventually('the run\'s Job to be deleted (no retries of the same limit)', async () => (await batch.listNamespacedJob({ namespace, labelSelector: 'perennial.dev/run=oom-1' })).items.length === 0);
  });

  it('a GradientBoosting pipeline with a search trains in the trainer image, and its deployment serves it calibrated', async () => {
    const tp = await stack.untilTp('trees', 'v1 blessed', (x) => x.status?.championVersion === 'v1', 300_000);
    assert.equal(tp.status?.runs?.[0]?.outcome, 'Blessed', JSON.stringify(tp.status?.runs?.[0]));
    const store = storeFor(stack.cluster.info);
    const pipeline = { namespace, name: 'trees' };
    const lineage = JSON.parse((await store.getBuffer(bucket, artifactKey(pipeline, 'v1', 'lineage'))).toString('utf8')) as {
      family: string; search?: { trials: { status: string; score?: number }[] }; calibration: { method: string };
    };
    assert.equal(lineage.family, 'gradient-boosting');
    assert.deepEqual(lineage.search?.trials.map((t) => t.status), ['done', 'done', 'done']);
    assert.equal(lineage.calibration.method, 'temperature');
    await stack.untilMd('trees', 'serving v1', (x) => x.status?.phase === 'Healthy' && x.status.stableVersion === 'v1', 180_000);
    const spec = parsePreprocessingSpec((await store.getBuffer(bucket, artifactKey(pipeline, 'v1', 'preprocessing'))).toString('utf8'));
    const model = await loadTabularModel(await readSavedModel(store, bucket, versionPrefix(pipeline, 'v1') + 'model/'));
    const rows = weatherInstances('Seattle').instances.slice(0, 50);
    const local = predictRows(model, spec, rows);
    model.dispose();
    const [endpoint] = await (await stack.target('trees')).endpoints();
    const answer = await fetch(`http://${endpoint ?? ''}/v1/models/trees:predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: rows }) });
    const body = (await answer.json()) as { model_version: string; probabilities: number[][] };
    assert.equal(answer.status, 200, JSON.stringify(body));
    assert.equal(body.model_version, 'v1');
    assert.ok(local.task === 'classification');
    local.probabilities.forEach((p, i) => p.forEach((q, c) => assert.ok(Math.abs((body.probabilities[i]?.[c] ?? NaN) - q) < 1e-6, `row ${i} class ${c}`)));
  });

  it('a first server version whose image is not there: Degraded=True/ProgressDeadlineExceeded and Available=False naming the image, one Warning', async () => {
    const pulled = new RegExp(`image "${missingServer}" cannot be pulled \\((ErrImagePull|ImagePullBackOff|ErrImageNeverPull)`);
    const md = await stack.untilMd('broken', 'Degraded naming the image', (x) => condition(x, 'Degraded')?.reason === 'ProgressDeadlineExceeded' && pulled.test(condition(x, 'Degraded')?.message ?? ''));
    assert.equal(md.status?.phase, 'Degraded');
    console.log(`# Degraded: ${condition(md, 'Degraded')?.message ?? ''}`);
    assert.match(condition(md, 'Degraded')?.message ?? '', /^The pods of v1 did not become ready within spec\.rollout\.progressDeadline \(20s\)/);
    assert.equal(condition(md, 'Available')?.status, 'False');
    assert.match(condition(md, 'Available')?.message ?? '', new RegExp(`^No ready pod of v1: ${pulled.source}`));
    const told = await warnings('broken', 'ProgressDeadlineExceeded');
    assert.equal(told.length, 1, told.join(' | '));
  });

  it('a Secret missing from the namespace: Available=False/ConfigMissing naming it, well before the progress deadline', async () => {
    const md = await stack.untilMd('no-secret', 'Available naming the missing Secret', (x) => condition(x, 'Available')?.reason === 'ConfigMissing', 120_000);
    console.log(`# Available: ${condition(md, 'Available')?.message ?? ''}`);
    assert.equal(condition(md, 'Available')?.status, 'False');
    assert.match(condition(md, 'Available')?.message ?? '', /^No ready pod of v1: container server cannot start: Secret "absent-feedback" does not exist in the namespace \(CreateContainerConfigError: /);
  });

  it('a canary whose image is not there is aborted at the progress deadline, naming it; the stable revision is untouched', async () => {
    let md = await stack.untilMd('weather', 'v1 to serve', (x) => x.status?.phase === 'Healthy' && condition(x, 'Available')?.status === 'True');
    const stableRevision = md.status?.stableRevision ?? '';
    const apps = stack.kc.makeApiClient(AppsV1Api);
    const stableTemplate = (await apps.readNamespacedDeployment({ namespace, name: stableRevision })).spec?.template;
    const stablePods = (await readyPods('weather')).map((p) => p.metadata?.uid);
    await stack.patchMd('weather', { spec: { server: { image: missingServer } } });
    md = await stack.untilMd('weather', 'the rollout of the new server image to start', (x) => x.status?.canaryRevision !== undefined);
    const canaryRevision = md.status?.canaryRevision;
    md = await stack.untilMd('weather', 'the canary to be aborted', (x) => x.status?.abortedRevision === canaryRevision, 120_000);
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
    await stack.patchMd('weather', { spec: { server: { image: imageTags.server } } });
    md = await stack.untilMd('weather', 'Healthy again', (x) => x.status?.phase === 'Healthy' && condition(x, 'Degraded')?.status === 'False');
    assert.equal(md.status?.stableRevision, stableRevision);
  });

  it('a node restart (kubelet, kube-proxy, containerd): the served deployment is Healthy again with its pods ready, and new pods start', async () => {
    await stack.untilMd('weather', 'Healthy before the restart', (x) => x.status?.phase === 'Healthy');
    const before = await readyPods('weather');
    assert.equal(before.length, 1);
    const restartStart = Date.now();
    await stack.cluster.node?.restart();
    console.log(`# node services restarted and the Node Ready in ${((Date.now() - restartStart) / 1000).toFixed(1)} s`);
    const node = await stack.core.readNode({ name: stack.cluster.info.node?.name ?? '' });
    assert.equal(node.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    const md = await stack.untilMd('weather', 'Healthy and Available after the restart', (x) => x.status?.phase === 'Healthy' && condition(x, 'Available')?.status === 'True' && x.status.stableReadyReplicas === 1);
    assert.equal(md.status?.stableReadyReplicas, 1);
    const pods = await eventually('the server pod ready after the restart', async () => {
      const p = await readyPods('weather');
      return p.length === 1 ? p : undefined;
    });
    console.log(`# server pod after the restart: ${pods[0]?.metadata?.uid === before[0]?.metadata?.uid ? 'the same pod' : 'a new pod'}, restarts ${String(pods[0]?.status?.containerStatuses?.[0]?.restartCount)}`);
    // The restarted node starts new pods: delete the server pod; its Deployment's new pod gets ready and serves.
    await stack.core.deleteNamespacedPod({ namespace, name: pods[0]?.metadata?.name ?? '' });
    const replaced = await eventually('a new server pod ready on the restarted node', async () => {
      const p = await readyPods('weather');
      return p.length === 1 && p[0]?.metadata?.uid !== pods[0]?.metadata?.uid ? p : undefined;
    }, 120_000, 500);
    assert.equal(replaced[0]?.spec?.nodeName, stack.cluster.info.node?.name);
    await stack.untilMd('weather', 'Healthy with the new pod', (x) => x.status?.phase === 'Healthy' && x.status.stableReadyReplicas === 1);
  });

  it('stopping the cluster after the restart still leaves nothing of the node on the host', async () => {
    const node = stack.cluster.info.node;
    assert.ok(node);
    const index = node.name.split('-').pop() ?? '';
    const nodeRoot = dirname(stack.cluster.node?.dirs.containerd ?? '/nowhere');
    watching = false;
    await watcher;
    await stack.stopOperator();
    await stack.cluster.stop();
    await sleep(200);
    assert.ok(!execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).includes(node.name), 'the namespace is gone');
    assert.ok(!execFileSync('ip', ['route'], { encoding: 'utf8' }).includes(node.podCIDR), 'the pod route is gone');
    assert.ok(!existsSync(`/sys/fs/cgroup/memory/perennial-node-${index}`), 'the cgroups are gone');
    assert.deepEqual(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(`${nodeRoot}/`)), [], 'no mount is left');
    assert.deepEqual(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(nodeRoot)), [], 'no process is left');
  });
});
