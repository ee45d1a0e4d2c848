// newData detection by bucket notifications, on a real MinIO configured with a notify_webhook target pointing at
// the operator's store-notification endpoint (token from the operator's configuration, as the chart's Secret
// gives it), and the real API server. The test plays the Job controller (the cluster has none) only to end each
// pipeline's Initial run as Failed (no trainer runs here): the pipeline then has a data baseline and no run, so a
// newData trigger that fires starts run 2 with trigger NewData, which is what these tests wait for.
//   - notified: its prefix has a bucket notification and its poll interval is 1 h: a new object fires NewData
//     within seconds (the time is printed);
//   - polled: no notification for its prefix, poll interval 10 s: polling still fires it;
//   - quiet: no notification, poll interval 1 h: a forged notification without the token is refused (401) and
//     fires nothing; the same notification with the token fires it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { NotificationConfig, ObjectCreatedAll, QueueConfig, buildARN } from 'minio';
import { LocalCluster } from '../../localcluster/cluster.js';
import { freePorts } from '../../localcluster/net.js';
import { kubeConfigFor, minioClientFor } from '../../localcluster/test-cluster.js';
import { aPipeline, seattleWeatherSchema } from '../../src/api/testing/builders.js';
import type { TrainingPipeline } from '../../src/api/training-pipeline.js';
import { loadConfig } from '../../src/operator/config.js';
import { buildManager } from '../../src/operator/operator.js';
import type { Manager } from '../../src/operator/runtime/manager.js';
import { storeEventsPath } from '../../src/operator/store-notifications/webhook-server.js';
import type { MinioStore } from '../../src/storage/minio-store.js';
import { installCrds } from '../support/crds.js';
import { eventually } from '../support/eventually.js';
import { JobController } from '../support/job-controller.js';
import { putText, storeFor } from './trainer-harness.js';

const namespace = 'ml';
const bucket = 'perennial-models';
const targetId = 'PERENNIAL';
const csv = 'date,precipitation,temp_max,temp_min,wind,weather\n2015-01-01,0.0,10.0,2.0,3.0,sun\n';

function pipeline(name: string, pollInterval: string): TrainingPipeline {
  return aPipeline(name).inNamespace(namespace)
    .readingFrom({ prefix: `data/${namespace}/${name}/`, format: 'csv' })
    .withSchema(seattleWeatherSchema)
    .withTriggers({ minInterval: '1s', newData: { minObjects: 1, pollInterval } })
    .build();
}

/** POSTs an S3 event document naming one object to the operator's endpoint; the HTTP status. */
function notify(port: number, key: string, authorization: string | undefined): Promise<number> {
  const body = JSON.stringify({
    EventName: 's3:ObjectCreated:Put', Key: `${bucket}/${key}`,
    Records: [{ eventName: 's3:ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key: encodeURIComponent(key) } } }],
  });
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port, method: 'POST', path: storeEventsPath,
      headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('store notifications: newData by bucket events, polling as the fallback', () => {
  let cluster: LocalCluster;
  let kc: KubeConfig;
  let custom: CustomObjectsApi;
  let store: MinioStore;
  let manager: Manager | undefined;
  let hookPort = 0;
  const token = randomBytes(24).toString('hex');

  const baselined = async (name: string): Promise<true | undefined> => {
    const tp = await custom.getNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace, plural: 'trainingpipelines', name }) as TrainingPipeline;
    if (tp.status?.dataWatermark !== undefined && tp.status.currentRun === undefined && (tp.status.runCount ?? 0) >= 1) return true;
    // Say why not, so a timeout names it (eventually reports the last error).
    throw new Error(`${name}: ${JSON.stringify(tp.status?.conditions?.map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`) ?? [])}`);
  };
  const fired = async (name: string): Promise<true | undefined> => {
    const tp = await custom.getNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace, plural: 'trainingpipelines', name }) as TrainingPipeline;
    return tp.status?.runs?.some((r) => r.trigger === 'NewData') ? true : undefined;
  };
  const storeRequests = async (): Promise<number> => {
    const metric = manager?.metrics.registry.getSingleMetric('perennial_store_requests_total');
    const data = await metric?.get();
    return (data?.values ?? []).filter((v) => v.labels['op'] === 'list').reduce((sum, v) => sum + v.value, 0);
  };

  before(async () => {
    [hookPort = 0] = await freePorts(1);
    cluster = await LocalCluster.start({
      name: 'store-notifications', controllerManager: false,
      minioEnv: {
        [`MINIO_NOTIFY_WEBHOOK_ENABLE_${targetId}`]: 'on',
        [`MINIO_NOTIFY_WEBHOOK_ENDPOINT_${targetId}`]: `http://127.0.0.1:${hookPort}${storeEventsPath}`,
        [`MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_${targetId}`]: token,
      },
    });
    kc = kubeConfigFor(cluster.info);
    await installCrds(kc);
    custom = kc.makeApiClient(CustomObjectsApi);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const s3 = cluster.info.s3;
    if (!s3) throw new Error('no MinIO');
    store = storeFor(cluster.info);
    await store.ensureBucket(bucket);
    // Only the notified pipeline's prefix sends events (PutBucketNotificationConfiguration with a prefix filter).
    const config = new NotificationConfig();
    const queue = new QueueConfig(buildARN('minio', 'sqs', '', targetId, 'webhook'));
    queue.addEvent(ObjectCreatedAll);
    queue.addFilterPrefix(`data/${namespace}/notified/`);
    config.add(queue);
    await minioClientFor(cluster.info).setBucketNotification(bucket, config);
    for (const name of ['notified', 'polled', 'quiet']) await putText(store, bucket, `data/${namespace}/${name}/part-0.csv`, csv);
    manager = buildManager(loadConfig({
      PERENNIAL_WATCH_NAMESPACE: namespace, PERENNIAL_LEADER_ELECT: 'false', PERENNIAL_LOG_LEVEL: 'warn', PERENNIAL_HEALTH_PORT: '0',
      PERENNIAL_S3_ENDPOINT: s3.endPoint, PERENNIAL_S3_PORT: String(s3.port), PERENNIAL_S3_TLS: 'false', PERENNIAL_S3_REGION: s3.region,
      PERENNIAL_S3_BUCKET: bucket, AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey,
      PERENNIAL_STORE_NOTIFY_PORT: String(hookPort), PERENNIAL_STORE_NOTIFY_HOST: '127.0.0.1', PERENNIAL_STORE_NOTIFY_TOKEN: token,
      PERENNIAL_TRAINER_IMAGES: 'trainer:', // the builders' image (its Job never runs here)
    }), kc);
    await manager.start();
    for (const name of ['notified', 'polled', 'quiet']) {
      await custom.createNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace, plural: 'trainingpipelines', body: pipeline(name, name === 'polled' ? '10s' : '1h') });
    }
    // Each Initial run ends Failed (the Job controller's status for a pod that exited 1): no run is active after it.
    const jobs = new JobController(kc, namespace);
    for (const name of ['notified', 'polled', 'quiet']) {
      const job = await jobs.waitFor(`${name}-1`);
      await jobs.finish(job, await jobs.start(job.metadata.name), { code: 1, stdout: '', stderr: '' });
    }
    for (const name of ['notified', 'polled', 'quiet']) await eventually(`${name}: its Initial run ended and a data baseline`, () => baselined(name), 30_000);
  });

  after(async () => {
    await manager?.stop();
    await cluster?.stop();
  });

  it('a new object under a notified prefix fires newData within seconds, with a 1 h poll interval', async () => {
    const listsBefore = await storeRequests();
    const putAt = Date.now();
    await putText(store, bucket, `data/${namespace}/notified/part-1.csv`, csv);
    await eventually('NewData fired on notified', () => fired('notified'), 30_000, 100);
    const ms = Date.now() - putAt;
    console.log(`store notification: NewData fired ${ms} ms after the upload (poll interval 1 h); listings meanwhile: ${(await storeRequests()) - listsBefore}`);
    assert.equal(await fired('quiet'), undefined, 'the other pipelines were not told');
  });

  it('without a notification for its prefix, polling still fires newData', async () => {
    await putText(store, bucket, `data/${namespace}/polled/part-1.csv`, csv);
    const putAt = Date.now();
    await eventually('NewData fired on polled', () => fired('polled'), 60_000);
    console.log(`polling: NewData fired ${Date.now() - putAt} ms after the upload (poll interval 10 s, jittered ×0.8–1.2)`);
  });

  it('a forged notification without the token is refused with 401 and fires nothing; with the token it fires', async () => {
    const key = `data/${namespace}/quiet/part-1.csv`;
    await putText(store, bucket, key, csv);
    assert.equal(await notify(hookPort, key, undefined), 401);
    assert.equal(await notify(hookPort, key, 'Bearer not-the-token'), 401);
    assert.equal(await notify(hookPort, key, token), 401, 'the token without its scheme is not accepted either');
    await sleep(3000);
    assert.equal(await fired('quiet'), undefined, 'nothing fired');
    assert.equal(await notify(hookPort, key, `Bearer ${token}`), 204);
    await eventually('NewData fired on quiet', () => fired('quiet'), 15_000, 100);
  });

  it('what is not an event document is a 400 naming why', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: hookPort, method: 'POST', path: storeEventsPath, headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end('{"Records": [{"s3": {}}]}');
    });
    assert.equal(status, 400);
  });
});
