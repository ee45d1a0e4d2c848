// What changes while server pods run, on the real node (kubelet, containerd, the server image built from its
// Dockerfile), with the operator in this process: spec.server.logPredictions false logs nothing and, turned on, the
// same pod starts logging with no new revision; a canary's pods record the track "canary" and, once promoted, the
// same pods (not restarted) record "stable". Both travel through the <md>-server ConfigMap the pods mount
// (src/shared/server-settings.ts), which the kubelet swaps in place.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { LocalCluster } from '../../localcluster/cluster.js';
import { kubeConfigFor } from '../../localcluster/test-cluster.js';
import { Annotation } from '../../src/api/conditions.js';
import type { ModelDeployment } from '../../src/api/model-deployment.js';
import { aDeployment } from '../../src/api/testing/builders.js';
import { loadConfig } from '../../src/operator/config.js';
import { buildManager } from '../../src/operator/operator.js';
import { KubeHttpClient, PatchType } from '../../src/operator/runtime/kube-http.js';
import type { Manager } from '../../src/operator/runtime/manager.js';
import { predictionsPrefix } from '../../src/shared/artifact-layout.js';
import type { MinioStore } from '../../src/storage/minio-store.js';
import { installCrds } from '../support/crds.js';
import { eventually } from '../support/eventually.js';
import { imageTags, startClusterWithNode } from '../support/node-cluster.js';
import { weatherDataPrefix, weatherInstances, weatherTrainerConfig } from '../support/served-model.js';
import { putText, runTrainer, storeFor, trainerEnv, weatherLines } from './trainer-harness.js';

const namespace = 'ml';
const bucket = 'perennial-settings';
const md = 'weather';
const group = { group: 'perennial.dev', version: 'v1alpha1', namespace };

describe('server settings applied in place on the real node: logPredictions and the track', () => {
  let cluster: LocalCluster;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  let http: KubeHttpClient;
  let store: MinioStore;
  let manager: Manager | undefined;

  const getMd = async (): Promise<ModelDeployment> => await custom.getNamespacedCustomObject({ ...group, plural: 'modeldeployments', name: md }) as ModelDeployment;
  const untilMd = (what: string, ok: (x: ModelDeployment) => boolean, timeoutMs = 180_000): Promise<ModelDeployment> =>
    eventually(what, async () => { const x = await getMd(); return ok(x) ? x : undefined; }, timeoutMs, 500);
  const patchMd = (body: unknown) =>
    http.request('PATCH', `/apis/perennial.dev/v1alpha1/namespaces/${namespace}/modeldeployments/${md}`, { body, contentType: PatchType.merge });
  const readyPods = async (revisionHash?: string): Promise<V1Pod[]> =>
    (await core.listNamespacedPod({ namespace, labelSelector: `perennial.dev/deployment=${md}${revisionHash ? `,perennial.dev/revision=${revisionHash}` : ''}` })).items
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
    cluster = await startClusterWithNode('server-settings', (l) => console.log(`# ${l}`));
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
    store = storeFor(cluster.info);
    await store.ensureBucket(bucket);
    const { header, rows } = weatherLines();
    await putText(store, bucket, `${weatherDataPrefix}all.csv`, [header, ...rows].join('\n') + '\n');
    const quick = { hyperparameters: { epochs: 2, batchSize: 64, learningRate: 0.01, patience: 1, validationFraction: 0.15 }, evaluation: { holdout: { from: '2015-01-01' }, sliceColumn: 'location', gates: { thresholds: { accuracy: 0 } } } };
    const trained = await runTrainer(trainerEnv(cluster.info, bucket, weatherTrainerConfig('v1', quick)));
    if (trained.code !== 0) throw new Error(`trainer exited ${String(trained.code)}: ${trained.stdout.slice(-2000)}${trained.stderr.slice(-2000)}`);
    await custom.createNamespacedCustomObject({ ...group, plural: 'modeldeployments', body: aDeployment(md).inNamespace(namespace)
      .servingUri(`s3://${bucket}/pipelines/${namespace}/weather/versions/v1`).withServer({ image: imageTags.server, replicas: 1, logPredictions: false })
      .withCanarySteps({ setWeight: 50 }, { pause: {} }).build() });
  });

  after(async () => {
    await manager?.stop();
    await cluster?.stop();
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
