// Blue-green autoPromoteAfter on the real node (kubelet, containerd, the server image), with the operator in this
// process and the pods metric provider scraping the real pods: a preview nobody sends traffic to is promoted once it
// has been ready for autoPromoteAfter (as Argo Rollouts' autoPromotionSeconds); the analysis gates would judge
// whatever reached the preview Service (canary-steps.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { LocalCluster } from '../../localcluster/cluster.js';
import { kubeConfigFor } from '../../localcluster/test-cluster.js';
import type { ModelDeployment } from '../../src/api/model-deployment.js';
import { aDeployment } from '../../src/api/testing/builders.js';
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
const bucket = 'perennial-bluegreen';
const md = 'weather';
const group = { group: 'perennial.dev', version: 'v1alpha1', namespace };

describe('blue-green on the real node: a preview without traffic is promoted after autoPromoteAfter', () => {
  let cluster: LocalCluster;
  let kc: KubeConfig;
  let custom: CustomObjectsApi;
  let http: KubeHttpClient;
  let manager: Manager | undefined;

  const getMd = async (): Promise<ModelDeployment> => await custom.getNamespacedCustomObject({ ...group, plural: 'modeldeployments', name: md }) as ModelDeployment;
  const untilMd = (what: string, ok: (x: ModelDeployment) => boolean, timeoutMs = 180_000): Promise<ModelDeployment> =>
    eventually(what, async () => { const x = await getMd(); return ok(x) ? x : undefined; }, timeoutMs, 500);

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the local node needs root: run the tests as root');
    cluster = await startClusterWithNode('blue-green', (l) => console.log(`# ${l}`));
    kc = kubeConfigFor(cluster.info);
    await installCrds(kc);
    const core = kc.makeApiClient(CoreV1Api);
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
    const { header, rows } = weatherLines();
    await putText(store, bucket, `${weatherDataPrefix}all.csv`, [header, ...rows].join('\n') + '\n');
    const quick = { hyperparameters: { epochs: 2, batchSize: 64, learningRate: 0.01, patience: 1, validationFraction: 0.15 }, evaluation: { holdout: { from: '2015-01-01' }, sliceColumn: 'location', gates: { thresholds: { accuracy: 0 } } } };
    const trained = await runTrainer(trainerEnv(cluster.info, bucket, weatherTrainerConfig('v1', quick)));
    if (trained.code !== 0) throw new Error(`trainer exited ${String(trained.code)}: ${trained.stdout.slice(-2000)}${trained.stderr.slice(-2000)}`);
    await custom.createNamespacedCustomObject({ ...group, plural: 'modeldeployments', body: aDeployment(md).inNamespace(namespace)
      .servingUri(`s3://${bucket}/pipelines/${namespace}/weather/versions/v1`).withServer({ image: imageTags.server, replicas: 1 })
      .blueGreen({ autoPromoteAfter: '10s' }).withAnalysis({ interval: '5s', minSamples: 20 }).build() });
  });

  after(async () => {
    await manager?.stop();
    await cluster?.stop();
  });

  it('a new revision behind the preview Service, never sent a request, is promoted after autoPromoteAfter', async () => {
    await untilMd('v1 to serve', (x) => x.status?.phase === 'Healthy');
    // A server-template edit is a new revision: a blue-green rollout of it.
    await http.request('PATCH', `/apis/perennial.dev/v1alpha1/namespaces/${namespace}/modeldeployments/${md}`, { body: { spec: { server: { maxBatchSize: 16 } } }, contentType: PatchType.merge });
    const previewing = await untilMd('the preview to start', (x) => x.status?.canaryRevision !== undefined);
    const preview = previewing.status?.canaryRevision ?? '';
    const started = Date.now();
    const done = await untilMd('the preview promoted', (x) => x.status?.stableRevision === preview && x.status.canaryRevision === undefined, 180_000);
    console.log(`# promoted ${Math.round((Date.now() - started) / 1000)} s after the preview started: ${done.status?.message ?? ''}`);
    assert.equal(done.status?.phase, 'Healthy');
    assert.equal(done.status?.analysis?.[0]?.verdict, 'Inconclusive', 'judged with no samples');
    assert.equal(done.status?.analysis?.[0]?.measurements?.['samples'] ?? 0, 0);
  });
});
