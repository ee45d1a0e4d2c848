// `make demo`: Perennial on the local cluster, for a person to watch and poke at.
//   the real control plane (etcd, kube-apiserver, kube-controller-manager, MinIO) + the node agent running the
//   trainer and server bundles as pods + the operator; Seattle weather rows in the store; a TrainingPipeline that
//   trains v1 in a GPU Job, and a ModelDeployment that serves the champion and canaries each new one; a little
//   traffic with feedback labels. It prints the state every few seconds and the kubectl commands to look around.
//   Ctrl-C stops everything and removes the data.
// (The full closed loop — New York data arriving, drift and accuracy triggering a retrain, a bad candidate rolled
// back — is the e2e scenario; here a retrain is one annotation away.)
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { LocalCluster, repoRoot } from '../localcluster/cluster.js';
import { NodeAgent } from '../localcluster/node-agent/agent.js';
import { kubeConfigFor, minioClientFor } from '../localcluster/test-cluster.js';
import type { ModelDeployment } from '../src/api/model-deployment.js';
import type { TrainingPipeline } from '../src/api/training-pipeline.js';
import { loadConfig } from '../src/operator/config.js';
import { buildManager } from '../src/operator/operator.js';
import type { Manager } from '../src/operator/runtime/manager.js';
import { weatherLines } from '../test/integration/trainer-harness.js';
import { installCrds } from '../test/support/crds.js';
import { credentialsSecret, localOperatorEnv, weatherPipeline, yearlyCsv } from '../test/support/weather-loop.js';

const namespace = 'demo';
const bucket = 'perennial-models';
const started = Date.now();
const say = (line: string): void => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);

say('building the trainer and server bundles (what the images run)...');
execFileSync(process.execPath, [join(repoRoot, 'scripts', 'bundle.mjs'), 'trainer', 'server'], { stdio: 'inherit' });
say('starting the local cluster (etcd, kube-apiserver, kube-controller-manager, MinIO)...');
const cluster = await LocalCluster.start({ name: 'demo' });
// Filled in as they start; Ctrl-C stops whatever is up.
const running: { agent?: NodeAgent; manager?: Manager } = {};
let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping: operator, pods, cluster');
  void (async () => {
    await running.manager?.stop().catch(() => undefined);
    await running.agent?.stop().catch(() => undefined);
    await cluster.stop();
    process.exit(0);
  })();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const { info } = cluster;
const s3 = info.s3;
if (!s3) throw new Error('the demo needs MinIO');
const kc = kubeConfigFor(info);
await installCrds(kc);
const agent = await NodeAgent.start({ kubeConfig: kc, server: info.server, caData: info.caData, repoRoot, logDir: info.logDir });
running.agent = agent;
say(`node agent up (${agent.networkMode === 'netns' ? 'pods on their own network' : 'pods on loopback addresses'})`);

const core = kc.makeApiClient(CoreV1Api);
await core.createNamespace({ body: { metadata: { name: namespace } } });
await core.createNamespacedSecret({ namespace, body: {
  metadata: { name: credentialsSecret }, stringData: { AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey },
} });

// Seattle 2012–2015, one object per year, as a data pipeline would drop them.
const minio = minioClientFor(info);
await minio.makeBucket(bucket);
for (const [year, csv] of yearlyCsv('Seattle')) await minio.putObject(bucket, `data/weather/seattle-${year}.csv`, Buffer.from(csv));
const { header, rows } = weatherLines();
say(`uploaded ${rows.filter((r) => r.startsWith('Seattle,')).length} Seattle rows to s3://${bucket}/data/weather/`);

const manager = buildManager(loadConfig(localOperatorEnv(namespace, s3, bucket)), kc);
running.manager = manager;
await manager.start();
say('operator running (in this process; the chart runs it as a Deployment)');

const custom = kc.makeApiClient(CustomObjectsApi);
const create = (plural: string, body: object) =>
  custom.createNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace, plural, body });
await create('trainingpipelines', weatherPipeline('weather', { minInterval: '30s' }));
await create('modeldeployments', {
  apiVersion: 'perennial.dev/v1alpha1', kind: 'ModelDeployment', metadata: { name: 'weather' },
  spec: {
    model: { fromPipeline: 'weather' },
    server: { image: 'ghcr.io/perennial-dev/perennial-server:0.1.0', replicas: 2 },
    rollout: {
      strategy: 'Canary',
      canary: { steps: [{ setWeight: 50 }, { analysis: { duration: '20s' } }] },
      analysis: { interval: '5s', minSamples: 20, gates: { maxErrorRate: 0.02, minAccuracy: 0.5 } },
    },
  },
});
say('applied TrainingPipeline weather and ModelDeployment weather');

const kubeconfig = join(repoRoot, '.cache', 'kubeconfig');
writeFileSync(kubeconfig, readFileSync(info.kubeconfigPath, 'utf8'), { mode: 0o600 });
console.log(`
Look around in another terminal:
  export KUBECONFIG=${kubeconfig}
  alias kubectl=${join(info.binDir, 'kubectl')}
  kubectl -n ${namespace} get perennial,jobs,deployments,pods -o wide
  kubectl -n ${namespace} describe tp weather
  kubectl -n ${namespace} annotate tp weather perennial.dev/trigger="$(date +%s)"   # retrain now → canary of the new champion
  kubectl -n ${namespace} annotate md weather perennial.dev/abort="$(date +%s)"     # abort a canary
Logs of every component and pod: ${info.logDir}
Ctrl-C stops everything.
`);

// Traffic as kube-proxy would spread it (ready server pods), with the true label fed back for each answer.
const seattle2015 = rows.filter((r) => r.startsWith('Seattle,2015'));
const cols = header.split(',');
const traffic = { requests: 0, failed: 0 };
void (async () => {
  let i = 0;
  while (!stopping) {
    const pods = (await core.listNamespacedPod({ namespace, labelSelector: 'perennial.dev/deployment=weather' }).catch(() => ({ items: [] }))).items
      .filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && p.status.podIP);
    if (pods.length === 0) {
      await sleep(1000);
      continue;
    }
    const pod = pods[i % pods.length];
    const cells = (seattle2015[i % seattle2015.length] ?? '').split(',');
    const rec = Object.fromEntries(cols.map((c, k) => [c, cells[k] ?? '']));
    i++;
    const base = `http://${pod?.status?.podIP ?? ''}:8080`;
    try {
      const res = await fetch(`${base}/v1/models/weather:predict`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(3000),
        body: JSON.stringify({ instances: [{ precipitation: Number(rec['precipitation']), temp_max: Number(rec['temp_max']), temp_min: Number(rec['temp_min']), wind: Number(rec['wind']) }] }),
      });
      traffic.requests++;
      if (!res.ok) traffic.failed++;
      else {
        const body = (await res.json()) as { prediction_ids?: string[] };
        const id = body.prediction_ids?.[0];
        if (id) await fetch(`${base}/v1/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(3000), body: JSON.stringify({ feedback: [{ id, label: rec['weather'] }] }) });
      }
    } catch {
      traffic.requests++;
      traffic.failed++;
    }
    await sleep(100);
  }
})();

let last = '';
while (!stopping) {
  const tp = await custom.getNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace, plural: 'trainingpipelines', name: 'weather' }).catch(() => undefined) as TrainingPipeline | undefined;
  const md = await custom.getNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace, plural: 'modeldeployments', name: 'weather' }).catch(() => undefined) as ModelDeployment | undefined;
  const run = tp?.status?.runs?.[0];
  const live = md?.status?.liveMetrics;
  const line = [
    `pipeline ${tp?.status?.phase ?? '-'}: champion ${tp?.status?.championVersion ?? '-'}, latest ${tp?.status?.latestVersion ?? '-'}`,
    run ? `last run ${run.name} ${run.outcome}${run.metrics?.['accuracy'] !== undefined ? ` (holdout accuracy ${run.metrics['accuracy'].toFixed(3)})` : ''}` : 'no run yet',
    `deployment ${md?.status?.phase ?? '-'}: stable ${md?.status?.stableVersion ?? '-'}${md?.status?.canaryVersion ? `, canary ${md.status.canaryVersion} at ${md.status.canaryWeight ?? 0}%` : ''}`,
    `live accuracy ${live?.accuracy?.toFixed(3) ?? '-'}, max drift ${live?.maxDriftPsi?.toFixed(3) ?? '-'}, requests ${traffic.requests} (${traffic.failed} failed)`,
  ].join(' | ');
  if (line !== last) say(line);
  last = line;
  await sleep(3000);
}
