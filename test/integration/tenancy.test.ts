// Two tenants of one operator on the real API server and MinIO (docs/security.md, "What a namespace tenant can and
// cannot make the operator do"). team-b has no credentials of its own: the operator acts for it with its own, so
// it may use only its own prefixes of the operator's bucket, and each spec asking for more is refused with a
// condition naming the field and the grant, before anything is read, listed or deleted. team-a brings credentials
// of its own (a MinIO user allowed one bucket, team-a-models): the operator serves its pipeline with them — the
// trainer, the result reads, a following ModelDeployment's servers — and what they may not read stays unread.
// Statuses and Events of both carry nothing from outside what each may read. The test plays the Job controller.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, EventsV1Api, type KubeConfig } from '@kubernetes/client-node';
import { LocalCluster } from '../../localcluster/cluster.js';
import { kubeConfigFor } from '../../localcluster/test-cluster.js';
import type { Condition } from '../../src/api/common.js';
import type { ModelDeployment } from '../../src/api/model-deployment.js';
import { aDeployment, aPipeline, seattleWeatherSchema, type DeploymentBuilder } from '../../src/api/testing/builders.js';
import type { TrainingPipeline } from '../../src/api/training-pipeline.js';
import { loadConfig } from '../../src/operator/config.js';
import { buildManager } from '../../src/operator/operator.js';
import { KubeHttpClient, PatchType } from '../../src/operator/runtime/kube-http.js';
import type { Manager } from '../../src/operator/runtime/manager.js';
import { exitCodes } from '../../src/shared/pod-contract.js';
import { MinioStore } from '../../src/storage/minio-store.js';
import { installCrds } from '../support/crds.js';
import { eventually } from '../support/eventually.js';
import { installGatewayApiCrds } from '../support/gateway-api-crds.js';
import { JobController } from '../support/job-controller.js';
import { addUserWithPolicy, oneBucketPolicy } from '../support/minio-admin.js';
import { putText, storeFor, weatherLines } from './trainer-harness.js';

const bucket = 'perennial-tenancy'; // the operator's
const teamBucket = 'team-a-models'; // team-a's own: its credentials reach this bucket and nothing else
const teamA = 'team-a';
const teamB = 'team-b';
/** Written into team-a's data in the operator's bucket: it must never show up in anything team-b (or team-a's own credentials) can see. */
const sentinel = 'SENTINEL-7f3a';
const trainerImage = 'ghcr.io/perennial-dev/perennial-trainer:test';
const serverImage = 'ghcr.io/perennial-dev/perennial-server:test';

/** A small Seattle weather classifier reading its namespace's own data prefix, from the shared builders. */
function pipeline(name: string, namespace: string, edit: (tp: TrainingPipeline) => void = () => undefined): TrainingPipeline {
  return aPipeline(name).inNamespace(namespace)
    .withSchema(seattleWeatherSchema)
    .withData({ maxFeedbackShare: 0.3 })
    .withValidation({ minRows: 200, maxMissingRate: 0.05 })
    .withTriggers({ newData: { minObjects: 1 } })
    .withTrainer({ image: trainerImage, hyperparameters: { epochs: 4, batchSize: 64 }, seed: 7, backoffLimit: 0 })
    .withEvaluation({ holdout: { fraction: 0.2 } })
    .withRetention({ keepVersions: 10 })
    .withHistoryLimit(10)
    .edit(edit)
    .build();
}

/** A one-pod deployment of the server image the operator may run, serving `model`. */
function deployment(name: string, namespace: string, model: ModelDeployment['spec']['model'], edit: (md: DeploymentBuilder) => DeploymentBuilder = (b) => b): ModelDeployment {
  return edit(aDeployment(name).inNamespace(namespace).withImage(serverImage).withReplicas(1).edit((md) => { md.spec.model = model; })).build();
}

describe('two tenants of one operator (real API server and MinIO)', () => {
  let cluster: LocalCluster;
  let kc: KubeConfig;
  let custom: CustomObjectsApi;
  let core: CoreV1Api;
  let http: KubeHttpClient;
  let root: MinioStore;
  let teamStore: MinioStore;
  let manager: Manager | undefined;

  const plural = (kind: 'tp' | 'md'): string => (kind === 'tp' ? 'trainingpipelines' : 'modeldeployments');
  const create = (kind: 'tp' | 'md', body: TrainingPipeline | ModelDeployment) => custom.createNamespacedCustomObject({
    group: 'perennial.dev', version: 'v1alpha1', namespace: body.metadata.namespace ?? '', plural: plural(kind), body,
  });
  const get = async <T>(kind: 'tp' | 'md', namespace: string, name: string): Promise<T> =>
    await custom.getNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace, plural: plural(kind), name }) as T;
  const condition = (o: { status?: { conditions?: Condition[] } }, type: string): Condition | undefined => o.status?.conditions?.find((c) => c.type === type);
  /** The object once its status describes its current generation. */
  const observed = <T extends TrainingPipeline | ModelDeployment>(kind: 'tp' | 'md', namespace: string, name: string): Promise<T> =>
    eventually(`${namespace}/${name} observed`, async () => {
      const o = await get<T>(kind, namespace, name);
      return o.status?.observedGeneration === o.metadata.generation && condition(o, 'Accepted') ? o : undefined;
    }, 60_000);
  const notPermitted = async (kind: 'tp' | 'md', body: TrainingPipeline | ModelDeployment, message: RegExp): Promise<void> => {
    await create(kind, body);
    const o = await observed(kind, body.metadata.namespace ?? '', body.metadata.name ?? '');
    const accepted = condition(o, 'Accepted');
    assert.equal(accepted?.status, 'False', `${body.metadata.name ?? ''}: ${accepted?.message ?? ''}`);
    assert.equal(accepted?.reason, 'NotPermitted');
    assert.match(accepted?.message ?? '', message);
  };
  const events = async (namespace: string): Promise<Array<{ regarding?: { name?: string }; reason?: string; note?: string }>> =>
    (await kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace })).items;

  before(async () => {
    cluster = await LocalCluster.start({ name: 'tenancy', controllerManager: false });
    kc = kubeConfigFor(cluster.info);
    await installCrds(kc);
    custom = kc.makeApiClient(CustomObjectsApi);
    core = kc.makeApiClient(CoreV1Api);
    http = new KubeHttpClient(kc);
    const s3 = cluster.info.s3;
    if (!s3) throw new Error('no MinIO');
    root = storeFor(cluster.info);
    await root.ensureBucket(bucket);
    await root.ensureBucket(teamBucket);
    // team-a's credentials: a MinIO user allowed its bucket only.
    const team = { accessKey: 'team-a-user', secretKey: 'team-a-secret-0123456789' };
    await addUserWithPolicy({ url: s3.url, accessKey: s3.accessKey, secretKey: s3.secretKey, region: s3.region }, team.accessKey, team.secretKey, oneBucketPolicy(teamBucket));
    teamStore = new MinioStore({ endPoint: s3.endPoint, port: s3.port, useSSL: false, region: s3.region, ...team });
    for (const namespace of [teamA, teamB]) {
      await core.createNamespace({ body: { metadata: { name: namespace } } });
      // The Secret the operator's pods use by default in each namespace (what an admin provides).
      await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'perennial-s3' }, stringData: { AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey } } });
    }
    await core.createNamespacedSecret({ namespace: teamA, body: { metadata: { name: 'team-a-s3' }, stringData: { AWS_ACCESS_KEY_ID: team.accessKey, AWS_SECRET_ACCESS_KEY: team.secretKey } } });
    await core.createNamespacedSecret({ namespace: teamA, body: { metadata: { name: 'half-s3' }, stringData: { AWS_ACCESS_KEY_ID: team.accessKey } } });
    const { header, rows } = weatherLines();
    const seattle = rows.filter((r) => r.startsWith('Seattle,')).slice(0, 800);
    await putText(teamStore, teamBucket, 'data/weather.csv', [header, ...seattle].join('\n') + '\n');
    await putText(root, bucket, `data/${teamA}/private.csv`, `${header}\n${sentinel},2015-01-01,0,10,5,3,sun\n`);
    await putText(root, bucket, `data/${teamB}/weather.csv`, [header, ...seattle].join('\n') + '\n');
    manager = buildManager(loadConfig({
      PERENNIAL_WATCH_NAMESPACE: '', PERENNIAL_LEADER_ELECT: 'false', PERENNIAL_LOG_LEVEL: 'warn', PERENNIAL_HEALTH_PORT: '0',
      PERENNIAL_S3_ENDPOINT: s3.endPoint, PERENNIAL_S3_PORT: String(s3.port), PERENNIAL_S3_TLS: 'false', PERENNIAL_S3_REGION: s3.region,
      PERENNIAL_S3_BUCKET: bucket, AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey,
      PERENNIAL_PROMETHEUS_URL: 'http://prometheus.monitoring:9090',
    }), kc);
    await manager.start();
  });

  after(async () => {
    await manager?.stop();
    await cluster?.stop();
  });

  it('team-b: each spec outside its own prefixes, images and Prometheus is NotPermitted, naming the field and the grant', async () => {
    const own = `s3://${bucket}/data/${teamB}/`;
    await notPermitted('tp', pipeline('other-data', teamB, (tp) => { tp.spec.data.sources = [{ prefix: `data/${teamA}/`, format: 'csv' }]; }),
      new RegExp(`spec\\.data\\.sources\\[0\\]: s3://${bucket}/data/${teamA}/ is outside what namespace "${teamB}" may read \\(.*${own.replace(/[/.]/g, '\\$&')}; wider grants are set at install time\\)`));
    await notPermitted('tp', pipeline('other-bucket', teamB, (tp) => { tp.spec.data.sources = [{ bucket: teamBucket, prefix: 'data/', format: 'csv' }]; }),
      /spec\.data\.sources\[0\]: s3:\/\/team-a-models\/data\/ is outside what namespace "team-b" may read/);
    await notPermitted('tp', pipeline('their-models', teamB, (tp) => { tp.spec.storage = { bucket: teamBucket }; tp.spec.data.sources = [{ bucket, prefix: `data/${teamB}/`, format: 'csv' }]; }),
      /spec\.storage\.bucket: bucket "team-a-models" is not granted to namespace "team-b" for its models and logs \(pipelines\/team-b\/their-models\/ and deployments\/team-b\/, read-write\)/);
    await notPermitted('tp', pipeline('miner', teamB, (tp) => { tp.spec.trainer.image = 'docker.io/someone/miner:1'; }),
      /spec\.trainer\.image: "docker\.io\/someone\/miner:1" is not under the image prefixes this operator runs \(ghcr\.io\/perennial-dev\/perennial-trainer; set at install time\)/);
    await notPermitted('md', deployment('their-model', teamB, { uri: `s3://${bucket}/pipelines/${teamA}/weather/versions/v1` }),
      /spec\.model\.uri: s3:\/\/perennial-tenancy\/pipelines\/team-a\/weather\/versions\/v1 is outside what namespace "team-b" may read/);
    await notPermitted('md', deployment('metadata-service', teamB, { uri: `s3://${bucket}/pipelines/${teamB}/weather/versions/v1` },
      (md) => md.withAnalysis({ provider: { type: 'Prometheus', prometheusURL: 'http://169.254.169.254/latest/meta-data' } })), /spec\.rollout\.analysis\.provider\.prometheusURL: "http:\/\/169\.254\.169\.254\/latest\/meta-data" is not a Prometheus server this operator may query \(http:\/\/prometheus\.monitoring:9090; set at install time\)/);
    await notPermitted('md', deployment('their-server', teamB, { uri: `s3://${bucket}/pipelines/${teamB}/weather/versions/v1` }, (md) => md.withImage('docker.io/someone/server:1')),
      /spec\.server\.image: "docker\.io\/someone\/server:1" is not under the image prefixes/);
    // Nothing was done for them: no listing recorded, no run, no Job, no server Deployment.
    const tp = await get<TrainingPipeline>('tp', teamB, 'other-data');
    assert.equal(tp.status?.dataWatermark, undefined, 'the other namespace\'s data was never listed');
    assert.equal(tp.status?.runCount, undefined);
    assert.deepEqual((await new JobController(kc, teamB).list()).map((j) => j.metadata.name), []);
    assert.deepEqual((await kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: teamB })).items.map((d) => d.metadata?.name), []);
  });

  it('team-b: a pipeline moved into a bucket it may not use, then deleted, deletes nothing there', async () => {
    await create('tp', pipeline('moved', teamB, (tp) => { tp.spec.retention.onDelete = 'Delete'; tp.spec.triggers = { minInterval: '10m', concurrencyPolicy: 'Forbid' }; tp.spec.suspend = true; }));
    await eventually('the cleanup finalizer', async () => (await get<TrainingPipeline>('tp', teamB, 'moved')).metadata.finalizers?.includes('perennial.dev/cleanup'));
    // What the pipeline would clean up if it were in team-a's bucket: team-a's objects that merely share the layout.
    const victim = `pipelines/${teamB}/moved/versions/v1/manifest.json`;
    await putText(root, teamBucket, victim, '{"keep":"me"}');
    await http.request('PATCH', `/apis/perennial.dev/v1alpha1/namespaces/${teamB}/trainingpipelines/moved`, { body: { spec: { storage: { bucket: teamBucket } } }, contentType: PatchType.merge });
    const moved = await eventually('the move refused', async () => {
      const o = await get<TrainingPipeline>('tp', teamB, 'moved');
      return o.status?.observedGeneration === o.metadata.generation ? o : undefined;
    });
    assert.equal(condition(moved, 'Accepted')?.reason, 'NotPermitted');
    await custom.deleteNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace: teamB, plural: 'trainingpipelines', name: 'moved' });
    await eventually('the pipeline gone', async () => {
      try {
        await get<TrainingPipeline>('tp', teamB, 'moved');
        return false;
      } catch {
        return true;
      }
    });
    assert.equal(await root.exists(teamBucket, victim), true, 'nothing deleted in a bucket the namespace may not use');
  });

  it('team-a: a pipeline with its own credentials is served with them: its trainer, its results, its servers', async () => {
    await create('tp', pipeline('weather', teamA, (tp) => {
      tp.spec.storage = { bucket: teamBucket, credentialsSecret: 'team-a-s3' };
      tp.spec.data.sources = [{ prefix: 'data/', format: 'csv' }]; // in its bucket, where its credentials reach
    }));
    const jobs = new JobController(kc, teamA);
    const job = await jobs.waitFor('weather-1');
    const env = Object.fromEntries((job.spec.template.spec.containers[0]?.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));
    assert.equal(env['PERENNIAL_S3_BUCKET'], teamBucket);
    assert.deepEqual(env['AWS_SECRET_ACCESS_KEY'], { secretKeyRef: { name: 'team-a-s3', key: 'AWS_SECRET_ACCESS_KEY' } });
    const exit = await jobs.run('weather-1');
    assert.equal(exit.code, exitCodes.success, exit.stdout.slice(-2000) + exit.stderr.slice(-2000));
    // The operator read the result with team-a's credentials (it listed the data with them when the run started).
    const tp = await eventually('v1 blessed', async () => {
      const o = await get<TrainingPipeline>('tp', teamA, 'weather');
      return o.status?.championVersion === 'v1' ? o : undefined;
    }, 60_000);
    assert.equal(tp.status?.modelPrefix, `s3://${teamBucket}/pipelines/${teamA}/weather/`);
    assert.equal(tp.status?.dataWatermark?.objects, 1, 'its data listed in its bucket');
    assert.ok(await teamStore.exists(teamBucket, `pipelines/${teamA}/weather/versions/v1/manifest.json`));
    // A ModelDeployment following it runs servers with the pipeline's bucket and Secret.
    await create('md', deployment('weather', teamA, { fromPipeline: 'weather' }));
    const revision = await eventually('a server Deployment', async () => (await kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: teamA })).items[0]);
    const serverEnv = Object.fromEntries((revision.spec?.template.spec?.containers[0]?.env ?? []).map((e) => [e.name, e.value ?? JSON.parse(JSON.stringify(e.valueFrom)) as unknown]));
    assert.equal(serverEnv['PERENNIAL_S3_BUCKET'], teamBucket);
    assert.equal(serverEnv['PERENNIAL_SERVER_MODEL_BUCKET'], undefined);
    assert.deepEqual(serverEnv['AWS_ACCESS_KEY_ID'], { secretKeyRef: { name: 'team-a-s3', key: 'AWS_ACCESS_KEY_ID' } });
  });

  it('team-a: what its credentials cannot read stays unread, and a Secret without its keys is a condition', async () => {
    // Its own credentials lift the grants, not the store's rules: the operator's bucket is not theirs.
    await create('tp', pipeline('peek', teamA, (tp) => {
      tp.spec.storage = { bucket: teamBucket, credentialsSecret: 'team-a-s3' };
      tp.spec.data.sources = [{ bucket, prefix: `data/${teamA}/`, format: 'csv' }];
    }));
    const peek = await eventually('the store refusing team-a\'s credentials', async () => {
      const o = await get<TrainingPipeline>('tp', teamA, 'peek');
      return condition(o, 'Progressing')?.reason === 'StoreUnavailable' ? o : undefined;
    }, 60_000);
    assert.equal(condition(peek, 'Progressing')?.message, 'Waiting for the object store: the object store refused a request (AccessDenied).');
    assert.equal(peek.status?.dataWatermark, undefined);
    assert.equal(peek.status?.runCount, undefined, 'no run without its data');

    await create('tp', pipeline('half', teamA, (tp) => { tp.spec.storage = { bucket: teamBucket, credentialsSecret: 'half-s3' }; tp.spec.data.sources = [{ prefix: 'data/', format: 'csv' }]; }));
    const half = await eventually('the Secret refused', async () => {
      const o = await get<TrainingPipeline>('tp', teamA, 'half');
      return condition(o, 'Progressing')?.reason === 'CredentialsUnavailable' ? o : undefined;
    }, 60_000);
    assert.match(condition(half, 'Progressing')?.message ?? '', /^spec\.storage\.credentialsSecret: Secret "half-s3" has no AWS_SECRET_ACCESS_KEY \(it needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\); nothing is done in the object store/);
    assert.equal(condition(half, 'Accepted')?.status, 'True');
    assert.equal(condition(half, 'Degraded')?.reason, 'CredentialsUnavailable');
    assert.equal(half.status?.runCount, undefined);
  });

  it('statuses and Events carry nothing either tenant could not read with its own credentials', async () => {
    for (const namespace of [teamA, teamB]) {
      const tps = (await custom.listNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace, plural: 'trainingpipelines' }) as { items: unknown[] }).items;
      const mds = (await custom.listNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace, plural: 'modeldeployments' }) as { items: unknown[] }).items;
      const text = JSON.stringify([tps, mds, await events(namespace)]);
      assert.ok(!text.includes(sentinel), `${namespace}: team-a's private row never reaches a status or Event`);
      assert.ok(!text.includes('private.csv'), `${namespace}: nor the name of an object it may not read`);
      assert.ok(!/Access Denied|The specified|RequestId|HostId/.test(text), `${namespace}: no store error text, only its code`);
    }
    const refusals = (await events(teamB)).filter((e) => e.reason === 'NotPermitted').map((e) => e.regarding?.name).sort();
    assert.deepEqual(refusals, ['metadata-service', 'miner', 'moved', 'other-bucket', 'other-data', 'their-model', 'their-models', 'their-server']);
  });

  it('an HTTPRoute of its name that it does not control is left alone and said so; taken once it is gone', async () => {
    await installGatewayApiCrds(kc);
    const routes = { group: 'gateway.networking.k8s.io', version: 'v1', namespace: teamB, plural: 'httproutes' };
    const theirs = { parentRefs: [{ name: 'public' }], rules: [{ backendRefs: [{ name: 'their-app', port: 80 }] }] };
    await custom.createNamespacedCustomObject({ ...routes, body: { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'web' }, spec: theirs } });
    await create('md', deployment('web', teamB, { uri: `s3://${bucket}/pipelines/${teamB}/weather/versions/v1` },
      (md) => md.throughGateway({ parentRefs: [{ name: 'gateway', namespace: 'infra' }], pathPrefix: '/' })));
    const md = await eventually('RouteNotOwned', async () => {
      const o = await get<ModelDeployment>('md', teamB, 'web');
      return condition(o, 'Degraded')?.reason === 'RouteNotOwned' ? o : undefined;
    }, 60_000);
    assert.match(condition(md, 'Degraded')?.message ?? '', /^HTTPRoute web exists and is not controlled by this ModelDeployment: it is left alone/);
    const route = await custom.getNamespacedCustomObject({ ...routes, name: 'web' }) as { spec: unknown; metadata: { ownerReferences?: unknown[] } };
    assert.equal(route.metadata.ownerReferences, undefined, 'not taken over');
    assert.deepEqual((route.spec as typeof theirs).rules[0]?.backendRefs.map((b) => b.name), ['their-app'], 'their backends untouched');
    assert.ok((await events(teamB)).some((e) => e.regarding?.name === 'web' && e.reason === 'RouteNotOwned'));

    await custom.deleteNamespacedCustomObject({ ...routes, name: 'web' });
    // Routes are not watched: the next reconcile (any event; here an annotation) writes its own.
    await http.request('PATCH', `/apis/perennial.dev/v1alpha1/namespaces/${teamB}/modeldeployments/web`, { body: { metadata: { annotations: { 'example.com/poke': '1' } } }, contentType: PatchType.merge });
    const ours = await eventually('the route written by the operator', async () => {
      const r = await custom.getNamespacedCustomObject({ ...routes, name: 'web' }).catch(() => undefined) as { metadata: { ownerReferences?: Array<{ uid: string; controller?: boolean }> } } | undefined;
      return r?.metadata.ownerReferences?.some((o) => o.controller === true && o.uid === md.metadata.uid) ? r : undefined;
    }, 60_000);
    assert.ok(ours);
    await eventually('Degraded cleared', async () => condition(await get<ModelDeployment>('md', teamB, 'web'), 'Degraded')?.status === 'False');
  });
});
