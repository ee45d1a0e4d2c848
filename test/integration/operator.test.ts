// The operator as main.ts builds it, against the real API server: both controllers accept valid resources, reject
// an invalid one with a clear condition and one event and no hot loop, and write status only when it changes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi, EventsV1Api, type KubeConfig } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { repoRoot } from '../../localcluster/cluster.js';
import { kubeConfigFor, sharedCluster, uniqueName } from '../../localcluster/test-cluster.js';
import type { TrainingPipeline } from '../../src/api/training-pipeline.js';
import type { ModelDeployment } from '../../src/api/model-deployment.js';
import { loadConfig } from '../../src/operator/config.js';
import { buildManager, controllerNames } from '../../src/operator/operator.js';
import { KubeHttpClient, PatchType } from '../../src/operator/runtime/kube-http.js';
import type { Manager } from '../../src/operator/runtime/manager.js';
import { installCrds } from '../support/crds.js';
import { eventually } from '../support/eventually.js';

describe('operator', () => {
  const namespace = uniqueName('op');
  let kc: KubeConfig;
  let custom: CustomObjectsApi;
  let manager: Manager;

  const get = async <T>(plural: string, name: string): Promise<T> =>
    await custom.getNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace, plural, name }) as T;
  const apply = (plural: string, body: object) =>
    custom.createNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace, plural, body });
  const writes = (controller: string) => manager.metrics.value('perennial_status_writes_total', { controller });
  const reconciles = (controller: string) => manager.metrics.value('perennial_reconcile_total', { controller, result: 'success' });

  before(async () => {
    const info = await sharedCluster();
    kc = kubeConfigFor(info);
    await installCrds(kc);
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    custom = kc.makeApiClient(CustomObjectsApi);
    const config = loadConfig({ PERENNIAL_WATCH_NAMESPACE: namespace, PERENNIAL_LEADER_ELECT: 'false', PERENNIAL_HEALTH_PORT: '0', PERENNIAL_LOG_LEVEL: 'warn' });
    manager = buildManager(config, kc);
    await manager.start();
  });

  after(async () => {
    await manager?.stop();
  });

  it('accepts the examples and writes each status exactly once while nothing changes', async () => {
    const tpManifest = yaml.load(readFileSync(join(repoRoot, 'examples', 'training-pipeline.yaml'), 'utf8')) as TrainingPipeline;
    const mdManifest = yaml.load(readFileSync(join(repoRoot, 'examples', 'model-deployment.yaml'), 'utf8')) as ModelDeployment;
    // The example reads namespace ml's data; here it reads this namespace's own (all a namespace may read by default).
    tpManifest.spec.data.sources = [{ prefix: `data/${namespace}/weather/`, format: 'csv' }];
    await apply('trainingpipelines', tpManifest);
    await apply('modeldeployments', mdManifest);
    const tp = await eventually('the pipeline accepted', async () => {
      const got = await get<TrainingPipeline>('trainingpipelines', 'weather');
      return got.status?.observedGeneration === got.metadata.generation ? got : undefined;
    });
    assert.equal(tp.status?.phase, 'Idle');
    assert.equal(tp.status?.conditions?.find((c) => c.type === 'Accepted')?.status, 'True');
    const md = await eventually('the deployment accepted', async () => {
      const got = await get<ModelDeployment>('modeldeployments', 'weather');
      return got.status?.observedGeneration === got.metadata.generation ? got : undefined;
    });
    assert.equal(md.status?.conditions?.find((c) => c.type === 'Accepted')?.status, 'True');

    const writesBefore = await writes(controllerNames.trainingPipeline);
    assert.equal(writesBefore, 1, 'one pipeline, one status write so far');
    const reconcilesBefore = await reconciles(controllerNames.trainingPipeline);
    // Metadata-only edits: each is a watch event and a reconcile, none changes what status should say.
    const http = new KubeHttpClient(kc);
    for (let i = 0; i < 5; i++) {
      await http.request('PATCH', `/apis/perennial.dev/v1alpha1/namespaces/${namespace}/trainingpipelines/weather`, {
        body: { metadata: { annotations: { 'example.com/touch': String(i) } } },
        contentType: PatchType.merge,
      });
    }
    await eventually('reconciles of the edits', async () =>
      (await reconciles(controllerNames.trainingPipeline)) >= reconcilesBefore + 1 ? true : undefined);
    await sleep(500);
    assert.equal(await writes(controllerNames.trainingPipeline), writesBefore, 'no status write when nothing changed');
    const after = await get<TrainingPipeline>('trainingpipelines', 'weather');
    assert.deepEqual(after.status, tp.status);
  });

  it('rejects a spec the schema cannot catch with Accepted=False, one Warning event and no hot loop', async () => {
    const tpManifest = yaml.load(readFileSync(join(repoRoot, 'examples', 'training-pipeline.yaml'), 'utf8')) as TrainingPipeline;
    tpManifest.metadata.name = 'feb30';
    tpManifest.spec.data.sources = [{ prefix: `data/${namespace}/weather/`, format: 'csv' }];
    tpManifest.spec.triggers.schedule = { cron: '0 0 30 2 *', startingDeadline: '1h' };
    await apply('trainingpipelines', tpManifest);
    const tp = await eventually('the pipeline rejected', async () => {
      const got = await get<TrainingPipeline>('trainingpipelines', 'feb30');
      return got.status?.observedGeneration === got.metadata.generation ? got : undefined;
    });
    const accepted = tp.status?.conditions?.find((c) => c.type === 'Accepted');
    assert.equal(accepted?.status, 'False');
    assert.equal(accepted?.reason, 'InvalidSpec');
    assert.match(accepted?.message ?? '', /spec\.triggers\.schedule\.cron: "0 0 30 2 \*" never matches a real time/);
    assert.equal(tp.status?.phase, 'Failed');

    // The status write itself comes back as a watch event (one more reconcile, which writes nothing); after that
    // the key must stay quiet: no retries, no backoff loop.
    await sleep(1000);
    const settled = await reconciles(controllerNames.trainingPipeline);
    const errors = await manager.metrics.value('perennial_reconcile_total', { controller: controllerNames.trainingPipeline, result: 'error' });
    await sleep(3000);
    assert.equal(await reconciles(controllerNames.trainingPipeline), settled, 'an invalid spec waits for the next edit');
    assert.equal(errors, 0, 'an invalid spec is not an error to retry');

    const events = await eventually('the InvalidSpec event', async () => {
      const list = await kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace });
      const mine = list.items.filter((e) => e.regarding?.name === 'feb30' && e.reason === 'InvalidSpec');
      return mine.length > 0 ? mine : undefined;
    });
    assert.equal(events.length, 1);
    assert.equal(events[0]?.type, 'Warning');
    assert.equal(events[0]?.reportingController, 'perennial.dev/operator');
  });

  it('serves /healthz, /readyz and /metrics', async () => {
    const base = `http://127.0.0.1:${manager.healthPort ?? 0}`;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /perennial_reconcile_total\{controller="trainingpipeline",result="success"\} \d+/);
    assert.match(metrics, /perennial_workqueue_adds_total\{controller="modeldeployment"\} \d+/);
    assert.match(metrics, /perennial_status_writes_total\{controller="trainingpipeline"\} \d+/);
  });
});
