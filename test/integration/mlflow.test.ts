// The MLflow export against a real MLflow tracking server (the pinned `mlflow` from PyPI, sqlite backend, started
// and stopped here) and the operator on the real API server and MinIO, the test playing the Job controller with the
// real trainer (as training-pipeline-controller.test.ts). Everything is read back through MLflow's REST API: the
// run with its parameters, per-epoch and final metrics, tags and artifacts; the registered model's versions and the
// `champion` alias, moved by a blessing and back by a rollback. Then MLflow is stopped: a run still trains and is
// blessed, MLflowSynced says why the export waits, and the export catches up once MLflow is back.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { LocalCluster } from '../../localcluster/cluster.js';
import { kubeConfigFor } from '../../localcluster/test-cluster.js';
import { aDeployment, aPipeline, seattleWeatherSchema } from '../../src/api/testing/builders.js';
import type { TrainingPipeline } from '../../src/api/training-pipeline.js';
import { loadConfig } from '../../src/operator/config.js';
import { buildManager } from '../../src/operator/operator.js';
import { KubeHttpClient, PatchType } from '../../src/operator/runtime/kube-http.js';
import type { Manager } from '../../src/operator/runtime/manager.js';
import { exitCodes } from '../../src/shared/pod-contract.js';
import { installCrds } from '../support/crds.js';
import { eventually } from '../support/eventually.js';
import { JobController } from '../support/job-controller.js';
import { MlflowServer } from '../support/mlflow-server.js';
import { putText, storeFor, weatherLines } from './trainer-harness.js';

const namespace = 'ml';
const bucket = 'perennial-models';
const group = { group: 'perennial.dev', version: 'v1alpha1', namespace };

interface RunData {
  readonly info: { readonly run_id: string; readonly status: string; readonly run_name: string };
  readonly data: { readonly params?: Array<{ key: string; value: string }>; readonly metrics?: Array<{ key: string; value: number }>; readonly tags?: Array<{ key: string; value: string }> };
}

describe('MLflow export (real MLflow server, real API server and MinIO; the test plays the Job controller)', () => {
  let cluster: LocalCluster;
  let kc: KubeConfig;
  let custom: CustomObjectsApi;
  let http: KubeHttpClient;
  let jobs: JobController;
  let manager: Manager | undefined;
  let mlflow: MlflowServer;

  const get = async (name: string): Promise<TrainingPipeline> =>
    await custom.getNamespacedCustomObject({ ...group, plural: 'trainingpipelines', name }) as TrainingPipeline;
  const patch = (plural: string, name: string, body: unknown) =>
    http.request('PATCH', `/apis/perennial.dev/v1alpha1/namespaces/${namespace}/${plural}/${name}`, { body, contentType: PatchType.merge });
  const runEnded = (name: string, run: string) => eventually(`run ${run} to end`, async () => {
    const tp = await get(name);
    const r = tp.status?.runs?.find((x) => x.name === run);
    return r && r.outcome !== 'Running' && tp.status?.currentRun === undefined ? tp : undefined;
  }, 120_000);
  const synced = (name: string, what: string, check: (tp: TrainingPipeline) => boolean) => eventually(what, async () => {
    const tp = await get(name);
    return tp.status?.conditions?.find((c) => c.type === 'MLflowSynced')?.status === 'True' && check(tp) ? tp : undefined;
  }, 180_000);
  /** The MLflow run exported from a Perennial run, found by its tag. */
  const mlflowRuns = async (run: string): Promise<RunData[]> => {
    const exp = await mlflow.api<{ experiment: { experiment_id: string } }>('GET', `experiments/get-by-name?experiment_name=${encodeURIComponent('perennial/ml/weather')}`);
    const found = await mlflow.api<{ runs?: RunData[] }>('POST', 'runs/search', { experiment_ids: [exp.experiment.experiment_id], filter: `tags.\`perennial.run\` = 'ml/weather/${run}'` });
    return found.runs ?? [];
  };
  const champion = async (): Promise<{ version: string; source: string; tags?: Array<{ key: string; value: string }> }> =>
    (await mlflow.api<{ model_version: { version: string; source: string } }>('GET', 'registered-models/alias?name=ml-weather&alias=champion')).model_version;
  const trigger = (value: string) => patch('trainingpipelines', 'weather', { metadata: { annotations: { 'perennial.dev/trigger': value } } });

  before(async () => {
    cluster = await LocalCluster.start({ name: 'mlflow', controllerManager: false });
    mlflow = await MlflowServer.start();
    kc = kubeConfigFor(cluster.info);
    await installCrds(kc);
    custom = kc.makeApiClient(CustomObjectsApi);
    http = new KubeHttpClient(kc);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    // A token Secret, as a tracking server behind authentication needs (this one takes any).
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'mlflow-token' }, stringData: { token: 'test-token-0123456789' } } });
    const s3 = cluster.info.s3;
    if (!s3) throw new Error('no MinIO');
    // The store credentials the trainer Job's env refers to (the test resolves them as the kubelet would).
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'perennial-s3' }, stringData: { AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey } } });
    const store = storeFor(cluster.info);
    await store.ensureBucket(bucket);
    const { header, rows } = weatherLines();
    await putText(store, bucket, `data/${namespace}/seattle/part-0.csv`, [header, ...rows.filter((r) => r.startsWith('Seattle,'))].join('\n') + '\n');
    jobs = new JobController(kc, namespace);
    manager = buildManager(loadConfig({
      PERENNIAL_WATCH_NAMESPACE: namespace, PERENNIAL_LEADER_ELECT: 'false', PERENNIAL_LOG_LEVEL: 'warn',
      PERENNIAL_S3_ENDPOINT: s3.endPoint, PERENNIAL_S3_PORT: String(s3.port), PERENNIAL_S3_TLS: 'false', PERENNIAL_S3_REGION: s3.region,
      PERENNIAL_S3_BUCKET: bucket, AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey,
    }), kc);
    await manager.start();
  });

  after(async () => {
    await manager?.stop();
    await mlflow?.destroy();
    await cluster?.stop();
  });

  it('logs each run with its parameters, metrics, tags and artifacts, registers blessed versions and moves the champion alias, back on a rollback', async () => {
    await custom.createNamespacedCustomObject({ ...group, plural: 'trainingpipelines', body: aPipeline('weather').inNamespace(namespace)
      .readingFrom({ prefix: `data/${namespace}/seattle/`, format: 'csv' })
      .withSchema(seattleWeatherSchema)
      .withValidation({ minRows: 500, maxMissingRate: 0.05 })
      .withTriggers({ minInterval: '1s' })
      .withTrainer({ image: 'ghcr.io/perennial-dev/perennial-trainer:test', model: { hiddenUnits: [8] }, hyperparameters: { epochs: 3, batchSize: 64, earlyStoppingPatience: 3 }, seed: 7, activeDeadlineSeconds: 900, backoffLimit: 2 })
      .withEvaluation({ holdout: { fraction: 0.2 } })
      .edit((tp) => { tp.spec.integrations = { mlflow: { trackingURI: mlflow.url, secretName: 'mlflow-token' } }; })
      .build() });

    assert.equal((await jobs.run('weather-1')).code, exitCodes.success);
    assert.equal((await runEnded('weather', 'weather-1')).status?.championVersion, 'v1');
    const tp = await synced('weather', 'weather-1 exported, alias on v1', (t) => t.status?.mlflow?.champion === 'v1');
    assert.deepEqual(tp.status?.mlflow?.exportedRuns, ['weather-1']);

    const [run1, ...more] = await mlflowRuns('weather-1');
    assert.ok(run1, 'the run is in MLflow');
    assert.deepEqual(more, [], 'once');
    assert.equal(run1.info.status, 'FINISHED');
    assert.equal(run1.info.run_name, 'weather-1');
    const params = Object.fromEntries((run1.data.params ?? []).map((p) => [p.key, p.value]));
    assert.equal(params['hyperparameters.epochs'], '3');
    assert.equal(params['model.hiddenUnits'], '[8]');
    assert.equal(params['seed'], '7');
    const metrics = Object.fromEntries((run1.data.metrics ?? []).map((m) => [m.key, m.value]));
    const accuracy = tp.status?.runs?.[0]?.metrics?.['accuracy'];
    assert.equal(metrics['holdout.accuracy'], accuracy, 'the holdout accuracy the pipeline reports');
    const history = await mlflow.api<{ metrics: Array<{ step: number }> }>('GET', `metrics/get-history?run_id=${run1.info.run_id}&metric_key=loss`);
    assert.deepEqual(history.metrics.map((m) => m.step).sort((a, b) => a - b), [1, 2, 3], 'the loss of every epoch');
    const tags = Object.fromEntries((run1.data.tags ?? []).map((t) => [t.key, t.value]));
    assert.equal(tags['perennial.outcome'], 'Blessed');
    assert.equal(tags['perennial.artifacts'], `s3://${bucket}/pipelines/ml/weather/versions/v1/`);
    assert.equal(tags['perennial.validation.ok'], 'true');
    const artifacts = await mlflow.api<{ files?: Array<{ path: string }> }>('GET', `artifacts/list?run_id=${run1.info.run_id}`);
    assert.deepEqual((artifacts.files ?? []).map((f) => f.path).sort(), ['lineage.json', 'metrics.json', 'validation-report.json']);
    const v1 = await champion();
    assert.equal(v1.source, `s3://${bucket}/pipelines/ml/weather/versions/v1/`);
    console.log(`# mlflow: weather-1 exported (holdout accuracy ${String(accuracy)}), model version ${v1.version} has the champion alias`);

    // A deployment follows the pipeline; run 2 is blessed and takes the alias; production aborts it and the alias goes back.
    const md = 'weather-md';
    await custom.createNamespacedCustomObject({ ...group, plural: 'modeldeployments', body: aDeployment(md).inNamespace(namespace).following('weather').withImage('ghcr.io/perennial-dev/perennial-server:test').build() });
    const mdStatus = async (): Promise<Record<string, unknown> | undefined> =>
      (await custom.getNamespacedCustomObject({ ...group, plural: 'modeldeployments', name: md }) as { status?: Record<string, unknown> }).status;
    await eventually('the deployment serving v1', async () => (await mdStatus())?.['stableVersion'] === 'v1');
    await trigger('v2');
    assert.equal((await jobs.run('weather-2')).code, exitCodes.success);
    assert.equal((await runEnded('weather', 'weather-2')).status?.championVersion, 'v2');
    await synced('weather', 'alias on v2', (t) => t.status?.mlflow?.champion === 'v2');
    const v2 = await champion();
    assert.notEqual(v2.version, v1.version);
    assert.equal(v2.source, `s3://${bucket}/pipelines/ml/weather/versions/v2/`);
    await eventually('v2 canaried', async () => (await mdStatus())?.['canaryVersion'] === 'v2');
    await patch('modeldeployments', md, { metadata: { annotations: { 'perennial.dev/abort': 'bad-v2' } } });
    await eventually('the champion back to v1', async () => (await get('weather')).status?.championVersion === 'v1', 30_000);
    await synced('weather', 'alias back on v1', (t) => t.status?.mlflow?.champion === 'v1');
    assert.equal((await champion()).version, v1.version, 'the alias is back on v1\'s model version');
  });

  it('with MLflow down, a run still trains and is blessed, MLflowSynced says why the export waits, and it catches up when MLflow is back', async () => {
    await mlflow.stop();
    await trigger('v3');
    assert.equal((await jobs.run('weather-3')).code, exitCodes.success);
    const ended = await runEnded('weather', 'weather-3');
    assert.equal(ended.status?.runs?.[0]?.outcome, 'Blessed', ended.status?.runs?.[0]?.message);
    assert.equal(ended.status?.championVersion, 'v3', 'promotion does not wait for MLflow');
    const waiting = await eventually('MLflowSynced False', async () => {
      const tp = await get('weather');
      const c = tp.status?.conditions?.find((x) => x.type === 'MLflowSynced');
      return c?.status === 'False' ? { tp, c } : undefined;
    }, 60_000);
    assert.equal(waiting.c.reason, 'MLflowUnavailable');
    assert.match(waiting.c.message, /did not answer/);
    assert.ok((waiting.tp.status?.mlflow?.failures ?? 0) >= 1);
    assert.match(waiting.tp.status?.mlflow?.lastError ?? '', /did not answer/);
    console.log(`# mlflow down: ${waiting.c.message}`);

    await mlflow.restart();
    const back = await synced('weather', 'the export caught up', (t) => t.status?.mlflow?.champion === 'v3');
    assert.equal(back.status?.mlflow?.failures, 0);
    assert.equal(back.status?.mlflow?.lastError, undefined);
    assert.equal((await mlflowRuns('weather-3')).length, 1, 'run 3 exported once');
    assert.equal((await champion()).source, `s3://${bucket}/pipelines/ml/weather/versions/v3/`);
    assert.ok((await manager?.metrics.value('perennial_mlflow_exports_total', { outcome: 'failed' }) ?? 0) >= 1);
    // At least the three runs (a run is counted again when a status write conflicted after its export and the retry
    // found it in MLflow by its tag).
    assert.ok((await manager?.metrics.value('perennial_mlflow_exports_total', { outcome: 'exported' }) ?? 0) >= 3);
  });
});
