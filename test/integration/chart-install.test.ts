// Installs the rendered chart into a real local cluster (kube-apiserver, kube-controller-manager, MinIO, and the
// node agent running the perennial-operator image as its bundle) and watches it work as in a cluster: both
// replicas start, one holds the Lease, the other stands by, and both resources get reconciled, all with the
// chart's RBAC (each pod talks to the API server with a token of the chart's ServiceAccount), in a namespace that
// enforces the restricted Pod Security profile. Then the leader is deleted and the standby takes the Lease.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { load } from 'js-yaml';
import { LocalCluster, repoRoot } from '../../localcluster/cluster.js';
import { NodeAgent } from '../../localcluster/node-agent/agent.js';
import { kubeConfigFor, minioClientFor } from '../../localcluster/test-cluster.js';
import { installCrds, renderChart, writeTemp } from './chart-tools.js';
import { eventually } from '../support/eventually.js';

const run = promisify(execFile);
const releaseNamespace = 'perennial-system';
const appNamespace = 'ml';

interface Conditioned { metadata: { generation?: number }; status?: { observedGeneration?: number; conditions?: { type: string; status: string; reason?: string; message?: string; observedGeneration?: number }[] } }

describe('chart: installed into a local cluster', () => {
  let cluster: LocalCluster;
  let agent: NodeAgent;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let kubectl: (args: readonly string[]) => Promise<string>;

  before(async () => {
    // The node agent runs the operator image as dist/operator/main.js.
    await run(process.execPath, [join(repoRoot, 'scripts', 'bundle.mjs'), 'operator'], { cwd: repoRoot });
    cluster = await LocalCluster.start({ name: 'chart-install' });
    const info = cluster.info;
    kc = kubeConfigFor(info);
    core = kc.makeApiClient(CoreV1Api);
    kubectl = async (args) => (await run(join(info.binDir, 'kubectl'), ['--kubeconfig', info.kubeconfigPath, ...args], { maxBuffer: 64 * 1024 * 1024 })).stdout;
    agent = await NodeAgent.start({
      kubeConfig: kc, server: info.server, caData: info.caData, repoRoot, logDir: cluster.logDir,
      capacity: { cpu: '2', memory: '24Gi', pods: 50, gpus: 1 },
    });
    const s3 = info.s3;
    assert.ok(s3, 'the cluster runs MinIO');
    // The bucket is the user's to create, as with any S3 store.
    await minioClientFor(info).makeBucket('perennial', s3.region);
    // The chart as a user installs it, pointed at the cluster's MinIO (plain HTTP on loopback).
    const values = writeTemp('values.yaml', [
      'image: { repository: perennial-operator, tag: dev }',
      `objectStore: { endpoint: ${s3.endPoint}, port: ${String(s3.port)}, tls: false, region: ${s3.region}, bucket: perennial,`,
      `  credentials: { create: true, accessKeyId: ${s3.accessKey}, secretAccessKey: ${s3.secretKey} } }`,
      'logLevel: debug',
    ].join('\n'));
    const { yaml } = await renderChart(['--values', values], { namespace: releaseNamespace });
    await kubectl(['create', 'namespace', releaseNamespace]);
    // Pod Security Admission enforces the restricted profile there: a pod the chart renders that breaks it is
    // refused by the API server, and the replicas never start.
    await kubectl(['label', 'namespace', releaseNamespace, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/enforce-version=v1.34']);
    await kubectl(['create', 'namespace', appNamespace]);
    const manifests = writeTemp('perennial.yaml', yaml);
    // CRDs first, established before anything uses them (the rendered chart carries them too).
    await installCrds(join(info.binDir, 'kubectl'), info.kubeconfigPath, join(repoRoot, 'charts', 'perennial', 'files', 'crds'));
    await kubectl(['apply', '--server-side', '-f', manifests]);
  });

  after(async () => {
    await agent?.stop();
    await cluster?.stop();
  });

  const operatorPods = async (): Promise<V1Pod[]> =>
    (await core.listNamespacedPod({ namespace: releaseNamespace, labelSelector: 'app.kubernetes.io/component=operator' })).items;

  const leaseHolder = async (): Promise<string | undefined> => {
    const lease = await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: 'perennial-operator', namespace: releaseNamespace });
    return lease.spec?.holderIdentity || undefined;
  };

  it('runs two operator replicas as the chart\'s ServiceAccount', async () => {
    const pods = await eventually('two running operator pods', async () => {
      const running = (await operatorPods()).filter((p) => p.status?.phase === 'Running');
      return running.length === 2 ? running : undefined;
    });
    for (const p of pods) assert.equal(p.spec?.serviceAccountName, 'perennial');
  });

  it('the namespace really enforces the restricted profile (a root pod is refused)', async () => {
    const pod = (await operatorPods())[0];
    assert.ok(pod?.spec, 'an operator pod');
    const spec = { ...pod.spec, securityContext: {}, containers: pod.spec.containers.map((c) => ({ ...c, securityContext: {} })) };
    await assert.rejects(
      core.createNamespacedPod({ namespace: releaseNamespace, body: { metadata: { name: 'root-pod' }, spec }, dryRun: 'All' }),
      (e: unknown) => e instanceof Error && /violates PodSecurity .*restricted:v1\.34/.test(e.message),
    );
  });

  it('elects one leader through the Lease', async () => {
    const holder = await eventually('a Lease holder', leaseHolder);
    const names = (await operatorPods()).map((p) => p.metadata?.name);
    assert.ok(names.includes(holder), `the holder ${holder} is one of the operator pods ${names.join(', ')}`);
  });

  it('reconciles a TrainingPipeline and a ModelDeployment (Accepted) with the chart\'s RBAC', async () => {
    const custom = kc.makeApiClient(CustomObjectsApi);
    for (const [file, plural] of [['training-pipeline.yaml', 'trainingpipelines'], ['model-deployment.yaml', 'modeldeployments']] as const) {
      const body = load(readFileSync(join(repoRoot, 'examples', file), 'utf8')) as { spec: { rollout?: { shadow?: unknown } } };
      // The example's shadow phase needs GatewayAPI routing (the ModelDeployment controller rejects it with the
      // Replicas router); this test is about the install, not the rollout, so it rolls out without shadowing.
      delete body.spec.rollout?.shadow;
      await custom.createNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace: appNamespace, plural, body });
    }
    for (const plural of ['trainingpipelines', 'modeldeployments']) {
      const accepted = await eventually(`${plural}/weather Accepted`, async () => {
        const obj = (await custom.getNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace: appNamespace, plural, name: 'weather' })) as Conditioned;
        const c = obj.status?.conditions?.find((x) => x.type === 'Accepted');
        return c && obj.status?.observedGeneration === obj.metadata.generation ? c : undefined;
      });
      assert.equal(accepted.status, 'True', `${plural}/weather: ${accepted.reason ?? ''} ${accepted.message ?? ''}`);
    }
  });

  it('the standby takes over when the leader goes away', async () => {
    const before = await eventually('a Lease holder', leaseHolder);
    await core.deleteNamespacedPod({ name: before, namespace: releaseNamespace });
    const after = await eventually('a new Lease holder', async () => {
      const h = await leaseHolder();
      return h && h !== before ? h : undefined;
    });
    const names = (await operatorPods()).map((p) => p.metadata?.name);
    assert.ok(names.includes(after), `the new holder ${after} is an operator pod`);
  });
});
