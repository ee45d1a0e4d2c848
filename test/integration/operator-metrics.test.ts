// The operator's loop metrics on its real /metrics endpoint, against the real API server: a series per pipeline and
// per deployment with what their status says, following the status as it changes, and gone once the object is
// deleted (the gauges read the caches; docs/observability.md).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { repoRoot } from '../../localcluster/cluster.js';
import { kubeConfigFor, sharedCluster, uniqueName } from '../../localcluster/test-cluster.js';
import type { ModelDeployment } from '../../src/api/model-deployment.js';
import type { TrainingPipeline } from '../../src/api/training-pipeline.js';
import { loadConfig } from '../../src/operator/config.js';
import { buildManager } from '../../src/operator/operator.js';
import { KubeHttpClient, PatchType } from '../../src/operator/runtime/kube-http.js';
import type { Manager } from '../../src/operator/runtime/manager.js';
import { installCrds } from '../support/crds.js';
import { eventually } from '../support/eventually.js';

describe('the operator\'s loop metrics on /metrics', () => {
  const namespace = uniqueName('metrics');
  let custom: CustomObjectsApi;
  let http: KubeHttpClient;
  let manager: Manager;

  const scrape = async (): Promise<string> => {
    const r = await fetch(`http://127.0.0.1:${String(manager.healthPort)}/metrics`);
    assert.equal(r.status, 200);
    return r.text();
  };
  const ours = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('perennial_') && l.includes(`namespace="${namespace}"`));
  const crd = { group: 'perennial.dev', version: 'v1alpha1', namespace };

  before(async () => {
    const kc = kubeConfigFor(await sharedCluster());
    await installCrds(kc);
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    custom = kc.makeApiClient(CustomObjectsApi);
    http = new KubeHttpClient(kc);
    manager = buildManager(loadConfig({
      PERENNIAL_WATCH_NAMESPACE: namespace, PERENNIAL_LEADER_ELECT: 'false', PERENNIAL_HEALTH_PORT: '0', PERENNIAL_HEALTH_HOST: '127.0.0.1', PERENNIAL_LOG_LEVEL: 'warn',
    }), kc);
    await manager.start();
  });

  after(async () => {
    await manager?.stop();
  });

  it('an info series per object with its phase, following its status, gone when it is deleted', async () => {
    const tp = yaml.load(readFileSync(join(repoRoot, 'examples', 'training-pipeline.yaml'), 'utf8')) as TrainingPipeline;
    tp.spec.data.sources = [{ prefix: `data/${namespace}/weather/`, format: 'csv' }];
    const md = yaml.load(readFileSync(join(repoRoot, 'examples', 'model-deployment.yaml'), 'utf8')) as ModelDeployment;
    await custom.createNamespacedCustomObject({ ...crd, plural: 'trainingpipelines', body: tp });
    await custom.createNamespacedCustomObject({ ...crd, plural: 'modeldeployments', body: md });
    const lines = await eventually('both objects\' series with the phase their status says', async () => {
      const got = ours(await scrape());
      const ok = got.some((l) => l.startsWith(`perennial_training_pipeline_info{namespace="${namespace}",name="weather",phase="Idle",champion_version="",latest_version=""} 1`))
        && got.some((l) => new RegExp(`^perennial_model_deployment_info\\{namespace="${namespace}",name="weather",phase="\\w+",stable_version="",canary_version=""\\} 1$`).test(l));
      return ok ? got : undefined;
    }, 60_000);
    assert.ok(lines.includes(`perennial_model_deployment_canary_weight_percent{namespace="${namespace}",name="weather"} 0`), lines.join('\n'));
    // Nothing measured yet: no live figure is exported (not a 0 a dashboard would plot as a collapse).
    assert.equal(lines.filter((l) => l.startsWith('perennial_model_deployment_live_') || l.startsWith('perennial_model_deployment_drift_')).length, 0);

    // Suspended: the phase label follows the status the controller writes.
    await http.request('PATCH', `/apis/perennial.dev/v1alpha1/namespaces/${namespace}/trainingpipelines/weather`, { body: { spec: { suspend: true } }, contentType: PatchType.merge });
    await eventually('the Suspended phase', async () => ours(await scrape()).some((l) => l.startsWith(`perennial_training_pipeline_info{namespace="${namespace}",name="weather",phase="Suspended"`)), 60_000);
    assert.equal(ours(await scrape()).filter((l) => l.startsWith('perennial_training_pipeline_info')).length, 1, 'one series per pipeline, not one per phase it had');

    await custom.deleteNamespacedCustomObject({ ...crd, plural: 'modeldeployments', name: 'weather' });
    await custom.deleteNamespacedCustomObject({ ...crd, plural: 'trainingpipelines', name: 'weather' });
    await eventually('no series of the deleted objects', async () => ours(await scrape()).length === 0, 60_000);
  });
});
