// Installs the chart with the real `helm install` into a local cluster with a real node (kubelet, containerd,
// kube-proxy, CoreDNS: localcluster/node) that runs the perennial-operator image built from the Dockerfile, and
// watches it work as in a cluster: both replicas start, one holds the Lease, the other stands by, and both resources
// get reconciled, all with the chart's RBAC (each pod reaches the API server through the `kubernetes` Service with
// a token of the chart's ServiceAccount), in a namespace that enforces the restricted Pod Security profile. Then the
// leader is deleted and the standby takes the Lease. Last, the release's lifecycle as users meet it: `helm upgrade`
// with a changed CRD changes it on the API server (the CRDs are templates, not crds/, which Helm never upgrades),
// `helm uninstall` leaves the CRDs and users' objects (helm.sh/resource-policy: keep), and installing again under
// the same name takes the kept CRDs back.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig, type V1CustomResourceDefinition, type V1Pod,
} from '@kubernetes/client-node';
import { dump, load } from 'js-yaml';
import { type LocalCluster, repoRoot } from '../../localcluster/cluster.js';
import { kubeConfigFor, minioClientFor } from '../../localcluster/test-cluster.js';
import { chartDir, runTool, writeTemp } from './chart-tools.js';
import { eventually } from '../support/eventually.js';
import { imageTags, startClusterWithNode } from '../support/node-cluster.js';
import { operatorImageValues, operatorLeader, operatorRelease } from '../support/operator-chart.js';

const run = promisify(execFile);
const release = 'perennial';
const releaseNamespace = operatorRelease.namespace; // where operatorLeader looks for the Lease
const appNamespace = 'ml';
const pipelineCrd = 'trainingpipelines.perennial.dev';
const crdNames = [pipelineCrd, 'modeldeployments.perennial.dev'];
/** The printer column the upgraded copy of the chart adds to the TrainingPipeline CRD. */
const upgradeColumn = 'Chart-Upgrade';

interface Conditioned { metadata: { generation?: number }; status?: { observedGeneration?: number; conditions?: { type: string; status: string; reason?: string; message?: string; observedGeneration?: number }[] } }

/** A copy of the chart whose TrainingPipeline CRD has one more printer column: what a new chart version brings. */
function chartWithChangedCrd(): string {
  const copy = join(mkdtempSync(join(tmpdir(), 'perennial-chart-upgrade-')), 'perennial');
  cpSync(chartDir, copy, { recursive: true });
  const file = join(copy, 'files', 'crds', 'trainingpipelines.yaml');
  const crd = load(readFileSync(file, 'utf8')) as V1CustomResourceDefinition;
  for (const v of crd.spec.versions) {
    v.additionalPrinterColumns = [...(v.additionalPrinterColumns ?? []), { name: upgradeColumn, type: 'string', jsonPath: '.metadata.uid', priority: 1 }];
  }
  writeFileSync(file, dump(crd, { lineWidth: -1 }));
  return copy;
}

describe('chart: installed with helm into a local cluster with a real node', () => {
  let cluster: LocalCluster;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  let extensions: ApiextensionsV1Api;
  let kubectl: (args: readonly string[]) => Promise<string>;
  let helm: (args: readonly string[]) => Promise<string>;
  let valuesFile: string;

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the local node needs root: run the tests as root');
    // Builds the images from their Dockerfiles (or takes them from the cache) and imports them into the node.
    cluster = await startClusterWithNode('chart-install', (l) => console.log(`# ${l}`));
    const info = cluster.info;
    kc = kubeConfigFor(info);
    core = kc.makeApiClient(CoreV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
    extensions = kc.makeApiClient(ApiextensionsV1Api);
    kubectl = async (args) => (await run(join(info.binDir, 'kubectl'), ['--kubeconfig', info.kubeconfigPath, ...args], { maxBuffer: 64 * 1024 * 1024 })).stdout;
    helm = async (args) => {
      const r = await runTool('helm', [...args, '--kubeconfig', info.kubeconfigPath]);
      if (r.code !== 0) throw new Error(`helm ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return r.stdout;
    };
    const s3 = info.s3;
    assert.ok(s3, 'the cluster runs MinIO');
    // The bucket is the user's to create, as with any S3 store.
    await minioClientFor(info).makeBucket('perennial', s3.region);
    // The chart as a user installs it, with the operator image imported into the node (operatorImageValues). MinIO
    // runs on the host, plain HTTP, at the host's address on the node network, which pods reach.
    valuesFile = writeTemp('values.yaml', [
      `image: ${JSON.stringify(operatorImageValues())}`,
      `objectStore: { endpoint: ${s3.endPoint}, port: ${String(s3.port)}, tls: false, region: ${s3.region}, bucket: perennial,`,
      `  credentials: { create: true, accessKeyId: ${s3.accessKey}, secretAccessKey: ${s3.secretKey} } }`,
      'logLevel: debug',
    ].join('\n'));
    // The namespace is made first (not by --create-namespace), so Pod Security Admission enforces the restricted
    // profile before any pod exists: a pod the chart renders that breaks it is refused, and the replicas never start.
    await kubectl(['create', 'namespace', releaseNamespace]);
    await kubectl(['label', 'namespace', releaseNamespace, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/enforce-version=v1.34']);
    await kubectl(['create', 'namespace', appNamespace]);
    await helm(['install', release, chartDir, '--namespace', releaseNamespace, '--values', valuesFile]);
  });

  after(async () => {
    await cluster?.stop();
  });

  const operatorPods = async (): Promise<V1Pod[]> =>
    (await core.listNamespacedPod({ namespace: releaseNamespace, labelSelector: 'app.kubernetes.io/component=operator' })).items;

  const leaseHolder = (): Promise<string | undefined> => operatorLeader(kc);

  const printerColumns = async (name: string): Promise<string[]> =>
    (await extensions.readCustomResourceDefinition({ name })).spec.versions.flatMap((v) => (v.additionalPrinterColumns ?? []).map((c) => c.name));

  it('runs two operator replicas as the chart\'s ServiceAccount', async () => {
    const pods = await eventually('two running operator pods', async () => {
      const running = (await operatorPods()).filter((p) => p.status?.phase === 'Running');
      return running.length === 2 ? running : undefined;
    }, 180_000, 500);
    for (const p of pods) {
      assert.equal(p.spec?.serviceAccountName, 'perennial');
      assert.equal(p.spec?.containers[0]?.image, imageTags.operator);
    }
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

  it('helm upgrade with a changed CRD changes it on the API server', async () => {
    assert.ok(!(await printerColumns(pipelineCrd)).includes(upgradeColumn), 'the installed CRD has no such column yet');
    await helm(['upgrade', release, chartWithChangedCrd(), '--namespace', releaseNamespace, '--values', valuesFile]);
    assert.ok((await printerColumns(pipelineCrd)).includes(upgradeColumn), 'the upgrade added the printer column');
    // The API server serves the new column: kubectl shows it for the existing pipeline.
    const table = await kubectl(['get', 'trainingpipelines', '--namespace', appNamespace, '--output', 'wide']);
    assert.match(table.split('\n')[0] ?? '', new RegExp(upgradeColumn.toUpperCase()), table);
    assert.match(table, /^weather\s/m);
  });

  it('helm uninstall leaves the CRDs and users\' TrainingPipelines and ModelDeployments', async () => {
    const out = await helm(['uninstall', release, '--namespace', releaseNamespace]);
    assert.match(out, /These resources were kept due to the resource policy/, out);
    for (const name of crdNames) assert.match(out, new RegExp(`\\[CustomResourceDefinition\\] ${name.replaceAll('.', '\\.')}`), out);
    // The release is gone: its operator Deployment too.
    assert.equal((await kubectl(['get', 'deployments', '--namespace', releaseNamespace, '--output', 'name'])).trim(), '');
    for (const name of crdNames) {
      const crd = await extensions.readCustomResourceDefinition({ name });
      assert.equal(crd.metadata?.deletionTimestamp, undefined, `${name} is not being deleted`);
      assert.equal(crd.metadata?.annotations?.['helm.sh/resource-policy'], 'keep');
    }
    assert.ok((await printerColumns(pipelineCrd)).includes(upgradeColumn), 'the CRD is the upgraded one, untouched');
    for (const plural of ['trainingpipelines', 'modeldeployments']) {
      const obj = (await custom.getNamespacedCustomObject({ group: 'perennial.dev', version: 'v1alpha1', namespace: appNamespace, plural, name: 'weather' })) as { metadata: { deletionTimestamp?: string } };
      assert.equal(obj.metadata.deletionTimestamp, undefined, `${plural}/weather is still there`);
    }
  });

  it('installing again under the same name takes the kept CRDs back', async () => {
    await helm(['install', release, chartDir, '--namespace', releaseNamespace, '--values', valuesFile]);
    const manifest = await helm(['get', 'manifest', release, '--namespace', releaseNamespace]);
    for (const name of crdNames) {
      assert.match(manifest, new RegExp(`^  name: ${name.replaceAll('.', '\\.')}$`, 'm'), `${name} is in the release again`);
      const crd = await extensions.readCustomResourceDefinition({ name });
      assert.equal(crd.metadata?.annotations?.['meta.helm.sh/release-name'], release);
    }
    // This chart's CRD again, without the column the upgraded copy added.
    assert.ok(!(await printerColumns(pipelineCrd)).includes(upgradeColumn), 'the CRD is the installed chart\'s');
  });
});
