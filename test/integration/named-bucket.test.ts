// A TrainingPipeline that keeps its models in a bucket of its own (spec.storage.bucket) closes the loop in that
// bucket, against the shared cluster's real MinIO: the real trainer publishes v1 there; the server pods the
// ModelDeployment controller plans (for a deployment following the pipeline, and for one naming the version by
// model.uri) run as the real server with exactly that environment, find the model there, and log predictions and
// labels there; and the trainer's next run, configured as the pipeline controller configures it (data.feedbackFrom),
// joins those labels from there. The operator's own bucket stays empty throughout.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterInfo } from '../../localcluster/cluster.js';
import { sharedCluster, uniqueName } from '../../localcluster/test-cluster.js';
import type { ModelDeployment } from '../../src/api/model-deployment.js';
import { aDeployment, aPipeline } from '../../src/api/testing/builders.js';
import type { TrainingPipeline } from '../../src/api/training-pipeline.js';
import { resolveDesiredModel } from '../../src/operator/controllers/model-deployment/desired-model.js';
import type { Observed } from '../../src/operator/controllers/model-deployment/observed.js';
import { planModelDeployment } from '../../src/operator/controllers/model-deployment/plan.js';
import { ReplicasRouter } from '../../src/operator/controllers/model-deployment/routers/replicas.js';
import type { EnvVar } from '../../src/operator/controllers/model-deployment/server-deployment.js';
import type { TenancyPolicy } from '../../src/operator/controllers/tenancy.js';
import { buildTrainerConfig } from '../../src/operator/controllers/training-pipeline/trainer-config.js';
import type { StoreSettings } from '../../src/operator/store-settings.js';
import { feedbackPrefix, predictionsPrefix } from '../../src/shared/artifact-layout.js';
import { readTrainerConfig } from '../../src/shared/trainer-config.js';
import type { MinioStore } from '../../src/storage/minio-store.js';
import { loadData } from '../../src/trainer/load-data.js';
import { postFeedback, postJson, startServer, testFeedbackToken, testSigningKey, trainWeatherModel, waitReady, weatherInstances } from '../support/served-model.js';
import { storeFor } from './trainer-harness.js';

const namespace = 'ml';

describe('a pipeline\'s own bucket: model, servers\' logs and the next run\'s feedback all there', () => {
  let info: ClusterInfo;
  let store: MinioStore;
  const teamBucket = uniqueName('team-models');
  const operatorBucket = uniqueName('perennial');
  let settings: StoreSettings;
  let policy: TenancyPolicy;

  before(async () => {
    info = await sharedCluster();
    const s3 = info.s3;
    if (!s3) throw new Error('no MinIO');
    store = storeFor(info);
    await store.ensureBucket(operatorBucket);
    await trainWeatherModel(info, store, teamBucket, 'v1');
    settings = { endPoint: s3.endPoint, port: s3.port, useSSL: false, region: s3.region, bucket: operatorBucket, credentialsSecret: 'perennial-s3' };
    // What an install grants namespace ml in the team's bucket: its models and its servers' logs.
    policy = {
      defaultBucket: operatorBucket, trainerImages: [], serverImages: ['perennial-server'], prometheusURL: undefined, prometheusAllowedURLs: [],
      storeGrants: [
        { namespace, bucket: teamBucket, prefix: `pipelines/${namespace}/`, access: 'ReadWrite' },
        { namespace, bucket: teamBucket, prefix: `deployments/${namespace}/`, access: 'ReadWrite' },
      ],
    };
  });

  const pipeline = (feedbackFrom?: string): TrainingPipeline => {
    const tp = aPipeline('weather').inNamespace(namespace).withStorage({ bucket: teamBucket }).build();
    if (feedbackFrom !== undefined) tp.spec.data.feedbackFrom = feedbackFrom;
    return { ...tp, status: { championVersion: 'v1' } };
  };

  /** The environment of the server pods the controller plans for md (its first reconcile), as the kubelet would resolve it. */
  function plannedServerEnv(md: ModelDeployment, tp: TrainingPipeline | undefined): NodeJS.ProcessEnv {
    const observed: Observed = {
      md, nowMs: Date.now(), store: settings, pipeline: tp, tenancy: policy, desired: resolveDesiredModel(md, tp, settings.bucket),
      revisions: new Map(), services: new Map(), candidate: undefined, stableInWindow: undefined, stableLive: undefined,
    };
    const plan = planModelDeployment(observed, new ReplicasRouter());
    const spec = plan.deployments[0]?.spec.template.spec as { containers: Array<{ env: EnvVar[] }> } | undefined;
    assert.ok(spec, `a server Deployment is planned: ${plan.status.message ?? ''}`);
    const s3 = info.s3;
    if (!s3) throw new Error('no MinIO');
    const secretValue: Record<string, string> = { AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey, token: testFeedbackToken, signingKey: testSigningKey };
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' };
    for (const e of spec.containers[0]?.env ?? []) {
      const from = e.valueFrom as { secretKeyRef?: { key: string }; fieldRef?: { fieldPath: string } } | undefined;
      env[e.name] = e.value ?? (from?.secretKeyRef ? secretValue[from.secretKeyRef.key] : from?.fieldRef?.fieldPath === 'status.podIP' ? '127.0.0.1' : 'test-pod');
    }
    // This process is not a pod: any free ports, a spill folder of its own, quick flushes.
    return {
      ...env, PERENNIAL_SERVER_PORT: '0', PERENNIAL_SERVER_FEEDBACK_PORT: '0',
      PERENNIAL_SERVER_LOG_SPILL_DIR: mkdtempSync(join(tmpdir(), 'perennial-spill-')), PERENNIAL_SERVER_LOG_FLUSH_MS: '200',
    };
  }

  /** Serves with the planned environment: 20 predictions, each labelled; returns once the logs are flushed. */
  async function serveAndLabel(env: NodeJS.ProcessEnv): Promise<number> {
    const server = await startServer(env);
    try {
      await waitReady(server);
      const { instances, labels } = weatherInstances();
      const answer = await postJson(`${server.url}/v1/models/weather:predict`, { instances: instances.slice(0, 20) });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const ids = answer.body['prediction_ids'] as string[];
      const fed = await postFeedback(server, { feedback: ids.map((id, i) => ({ id, label: labels[i] })) });
      assert.equal(fed.body['accepted'], ids.length, JSON.stringify(fed.body));
      return ids.length;
    } finally {
      assert.equal((await server.stop()).code, 0, server.output().slice(-2000));
    }
  }

  const keys = async (bucket: string, prefix: string): Promise<string[]> => (await store.list(bucket, prefix)).map((o) => o.key);

  for (const [how, md] of [
    ['following the pipeline', aDeployment('follower').inNamespace(namespace).following('weather').withImage('perennial-server').build()],
    ['naming the version by model.uri', aDeployment('by-uri').inNamespace(namespace).servingUri(`s3://${teamBucket}/pipelines/${namespace}/weather/versions/v1`).withImage('perennial-server').build()],
  ] as const) {
    it(`a deployment ${how}: the servers load v1 from the pipeline's bucket and log there, where the next run joins the labels`, async () => {
      const name = md.metadata.name ?? '';
      const env = plannedServerEnv({ ...md, metadata: { ...md.metadata, uid: `uid-${name}`, generation: 1 } }, pipeline());
      assert.equal(env['PERENNIAL_S3_BUCKET'], teamBucket, 'the servers\' store is the pipeline\'s bucket');
      const labelled = await serveAndLabel(env);
      const deployment = { namespace, name };
      assert.ok((await keys(teamBucket, predictionsPrefix(deployment))).length > 0, 'predictions logged in the pipeline\'s bucket');
      assert.ok((await keys(teamBucket, feedbackPrefix(deployment))).length > 0, 'labels logged in the pipeline\'s bucket');
      assert.deepEqual(await keys(operatorBucket, ''), [], 'nothing in the operator\'s bucket');
      // The next run of the pipeline, configured as its controller configures it, reads its bucket.
      const tp = pipeline(name);
      const config = readTrainerConfig(buildTrainerConfig(tp.spec, { namespace, pipeline: 'weather', runId: 'weather-2', version: 'v2', championVersion: 'v1' }));
      const loaded = await loadData(store, config, teamBucket);
      assert.equal(loaded.feedback?.joined, labelled, JSON.stringify(loaded.feedback));
    });
  }
});
