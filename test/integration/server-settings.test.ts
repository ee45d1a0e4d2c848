// What changes while server pods run, on the real node (kubelet, containerd, the server image built from its
// Dockerfile), with the operator in this process: spec.server.logPredictions false logs nothing and, turned on, the
// same pod starts logging with no new revision; a canary's pods record the track "canary" and, once promoted, the
// same pods (not restarted) record "stable". Both travel through the <md>-server ConfigMap the pods mount
// (src/shared/server-settings.ts), which the kubelet swaps in place.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Pod } from '@kubernetes/client-node';
import { Annotation } from '../../src/api/conditions.js';
import type { ModelDeployment } from '../../src/api/model-deployment.js';
import { aDeployment } from '../../src/api/testing/builders.js';
import { predictionsPrefix } from '../../src/shared/artifact-layout.js';
import type { MinioStore } from '../../src/storage/minio-store.js';
import { eventually } from '../support/eventually.js';
import { LoopStack } from '../support/loop-stack.js';
import { imageTags } from '../support/node-cluster.js';
import { quickTraining, trainWeatherModel, weatherInstances } from '../support/served-model.js';
import { storeFor } from './trainer-harness.js';

const namespace = 'ml';
const bucket = 'perennial-settings';
const md = 'weather';

describe('server settings applied in place on the real node: logPredictions and the track', () => {
  let stack: LoopStack;
  let store: MinioStore;

  const getMd = (): Promise<ModelDeployment> => stack.getMd(md);
  const untilMd = (what: string, ok: (x: ModelDeployment) => boolean): Promise<ModelDeployment> => stack.untilMd(md, what, ok);
  const patchMd = (body: unknown): Promise<void> => stack.patchMd(md, body);
  const readyPods = async (revisionHash?: string): Promise<V1Pod[]> =>
    (await stack.core.listNamespacedPod({ namespace, labelSelector: `perennial.dev/deployment=${md}${revisionHash ? `,perennial.dev/revision=${revisionHash}` : ''}` })).items
      .filter((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  /** Predictions straight to a pod (the host routes to pod IPs); the ids the pod signed. */
  const predict = async (pod: V1Pod): Promise<string[]> => {
    const r = await fetch(`http://${pod.status?.podIP ?? ''}:8080/v1/models/weather:predict`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: weatherInstances().instances.slice(0, 5) }),
    });
    assert.equal(r.status, 200);
    return ((await r.json()) as { prediction_ids: string[] }).prediction_ids;
  };
  /** The prediction records in the store, by id: their track. */
  const loggedTracks = async (): Promise<Map<string, string>> => {
    const out = new Map<string, string>();
    for (const o of await store.list(bucket, predictionsPrefix({ namespace, name: md }))) {
      for (const line of (await store.getBuffer(bucket, o.key)).toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        const r = JSON.parse(line) as { id: string; track?: string };
        out.set(r.id, r.track ?? '');
      }
    }
    return out;
  };
  /** Sends predictions to the pod until the ones sent are logged, each with `track` (the kubelet swaps the file within its sync period). */
  const untilLoggedAs = (pod: V1Pod, track: string, what: string): Promise<true> => eventually(what, async () => {
    const ids = await predict(pod);
    await sleep(7000); // the server flushes its log every 5 s
    const tracks = await loggedTracks();
    return ids.every((id) => tracks.get(id) === track) || undefined;
  }, 180_000, 1000);

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the local node needs root: run the tests as root');
    stack = await LoopStack.start({ name: 'server-settings', namespace, bucket, log: (l) => console.log(`# ${l}`) });
    store = storeFor(stack.cluster.info);
    await trainWeatherModel(stack.cluster.info, store, bucket, 'v1', quickTraining);
    await stack.create('modeldeployments', aDeployment(md).inNamespace(namespace)
      .servingUri(`s3://${bucket}/pipelines/${namespace}/weather/versions/v1`).withServer({ image: imageTags.server, replicas: 1, logPredictions: false })
      .withCanarySteps({ setWeight: 50 }, { pause: {} }).build());
  });

  after(async () => {
    await stack?.stop();
  });

  it('logPredictions false logs nothing; turned on, the same pod logs (track stable), with no new revision', async () => {
    const served = await untilMd('v1 to serve', (x) => x.status?.phase === 'Healthy');
    const [pod] = await readyPods();
    assert.ok(pod, 'a ready server pod');
    await predict(pod);
    await sleep(8000);
    assert.deepEqual(await store.list(bucket, predictionsPrefix({ namespace, name: md })), [], 'no prediction logged');
    await patchMd({ spec: { server: { logPredictions: true } } });
    await untilLoggedAs(pod, 'stable', 'the pod to log its predictions');
    const now = await getMd();
    assert.equal(now.status?.stableRevision, served.status?.stableRevision, 'the same revision');
    assert.equal(now.status?.canaryRevision, undefined, 'no canary of the same version');
    assert.deepEqual((await readyPods()).map((p) => p.metadata?.uid), [pod.metadata?.uid], 'the same pod, never restarted');
  });

  it('a canary\'s pods record track canary; promoted, the same pods record stable without a restart', async () => {
    // A server-template edit is a new revision of the same version: a canary.
    await patchMd({ spec: { server: { maxBatchSize: 16 } } });
    const rolling = await untilMd('the canary to pause at 50%', (x) => x.status?.canaryRevision !== undefined && x.status.phase === 'Paused' && (x.status.canaryReadyReplicas ?? 0) >= 1);
    const canaryRevision = rolling.status?.canaryRevision ?? '';
    const [pod] = await readyPods(canaryRevision.slice(`${md}-`.length));
    assert.ok(pod, 'a ready canary pod');
    await untilLoggedAs(pod, 'canary', 'the canary pod to log track canary');
    await patchMd({ metadata: { annotations: { [Annotation.promote]: 'full' } } });
    await untilMd('the canary promoted', (x) => x.status?.stableRevision === canaryRevision && x.status.canaryRevision === undefined);
    await untilLoggedAs(pod, 'stable', 'the promoted pod to log track stable');
    const same = (await readyPods(canaryRevision.slice(`${md}-`.length))).find((p) => p.metadata?.uid === pod.metadata?.uid);
    assert.ok(same, 'the same pod serves');
    assert.equal(same.status?.containerStatuses?.[0]?.restartCount, 0, 'never restarted');
  });
});
