// The local node agent with the real kube-controller-manager: Deployments become running processes on their own
// loopback addresses, Jobs finish with the exit codes and termination messages of their
// processes (podFailurePolicy included), deleted pods stop, and GPU capacity is respected.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppsV1Api, BatchV1Api, CoreV1Api, DiscoveryV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { LocalCluster, repoRoot } from '../../localcluster/cluster.js';
import { NodeAgent } from '../../localcluster/node-agent/agent.js';
import { kubeConfigFor } from '../../localcluster/test-cluster.js';
import { eventually } from '../support/eventually.js';

async function get(url: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return { status: res.status, body: await res.text() };
  } catch {
    return undefined;
  }
}

describe('local node agent', () => {
  let cluster: LocalCluster;
  let agent: NodeAgent;
  let kc: KubeConfig;
  let core: CoreV1Api;
  const namespace = 'agent-test';

  before(async () => {
    cluster = await LocalCluster.start({ name: 'node-agent' });
    kc = kubeConfigFor(cluster.info);
    core = kc.makeApiClient(CoreV1Api);
    agent = await NodeAgent.start({
      kubeConfig: kc, server: cluster.info.server, caData: cluster.info.caData, repoRoot, logDir: cluster.logDir,
      capacity: { cpu: '2', memory: '24Gi', pods: 50, gpus: 1 },
    });
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await eventually('the default ServiceAccount', () => core.readNamespacedServiceAccount({ name: 'default', namespace }));
  });

  after(async () => {
    await agent?.stop();
    await cluster?.stop();
  });

  it('registers a Ready node with GPU capacity', async () => {
    const node = await core.readNode({ name: agent.nodeName });
    assert.equal(node.status?.capacity?.['nvidia.com/gpu'], '1');
    assert.equal(node.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  });

  it('runs a Deployment as processes on their own addresses, with env, volumes and readiness probes', async () => {
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'creds' }, stringData: { TOKEN: 's3cret' } } });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'cfg' }, data: { greeting: 'hello from a configmap' } } });
    const labels = { app: 'echo' };
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'echo' },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [{
                name: 'main',
                image: 'registry.example/perennial-testing/http-echo:1',
                ports: [{ name: 'http', containerPort: 8080 }],
                env: [
                  { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'TOKEN' } } },
                  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                  { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                  { name: 'GREETING_FILE', value: '/etc/cfg/greeting' },
                  // A loopback service named in the env is made reachable from the pod network.
                  { name: 'S3_URL', value: cluster.info.s3?.url ?? '' },
                ],
                volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg', readOnly: true }],
                readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1 },
              }],
              volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }],
            },
          },
        },
      },
    });
    await core.createNamespacedService({ namespace, body: { metadata: { name: 'echo' }, spec: { selector: labels, ports: [{ port: 80, targetPort: 'http' }] } } });

    const pods = await eventually('two ready pods', async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector: 'app=echo' });
      const ready = list.items.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return ready.length === 2 ? ready : undefined;
    });
    const ips = pods.map((p: V1Pod) => p.status?.podIP ?? '');
    assert.equal(new Set(ips).size, 2, 'each pod has its own address');
    for (const ip of ips) assert.match(ip, agent.networkMode === 'netns' ? /^10\.2\d\d\.\d+\.\d+$/ : /^127\.10\.\d+\.\d+$/);

    if (process.getuid?.() === 0) assert.equal(agent.networkMode, 'netns', 'as root, pods get real addresses');
    const pod = pods[0] as V1Pod;
    const env = JSON.parse((await get(`http://${pod.status?.podIP ?? ''}:8080/env`))?.body ?? '{}') as Record<string, string>;
    assert.equal(env['TOKEN'], 's3cret');
    assert.equal(env['POD_NAME'], pod.metadata?.name);
    assert.equal(env['POD_IP'], pod.status?.podIP);
    assert.ok(env['KUBECONFIG'], 'a service-account kubeconfig for the pod');
    const greeting = await get(`http://${pod.status?.podIP ?? ''}:8080/file?path=${encodeURIComponent(env['GREETING_FILE'] ?? '')}`);
    assert.equal(greeting?.body, 'hello from a configmap');

    if (agent.networkMode === 'netns') {
      const slice = await eventually('an EndpointSlice with both ready addresses', async () => {
        const list = await kc.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace, labelSelector: 'kubernetes.io/service-name=echo' });
        const ready = list.items.flatMap((sl) => (sl.endpoints ?? []).filter((e) => e.conditions?.ready).flatMap((e) => e.addresses));
        return ready.length === 2 ? ready : undefined;
      });
      assert.deepEqual([...slice].sort(), [...ips].sort());
      // Pods reach the cluster's servers at the host's own addresses, as processes on the host do.
      const target = encodeURIComponent(`${cluster.info.s3?.url ?? ''}/minio/health/live`);
      const fromPod = await get(`http://${pod.status?.podIP ?? ''}:8080/fetch?url=${target}`);
      assert.deepEqual(fromPod, { status: 200, body: '200' });
    }

    // Deleting a pod stops its process; the ReplicaSet replaces it.
    await core.deleteNamespacedPod({ namespace, name: pod.metadata?.name ?? '' });
    await eventually('the deleted pod\'s process to stop', async () => ((await get(`http://${pod.status?.podIP ?? ''}:8080/healthz`)) === undefined ? true : undefined));
    await eventually('a replacement pod', async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector: 'app=echo' });
      const ready = list.items.filter((p) => p.metadata?.uid !== pod.metadata?.uid && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return ready.length === 2 ? true : undefined;
    });
  });

  it('finishes Jobs with their exit codes and termination messages, honouring podFailurePolicy', async () => {
    const batch = kc.makeApiClient(BatchV1Api);
    const job = (name: string, exitCode: number, extra: object = {}) => batch.createNamespacedJob({
      namespace,
      body: {
        metadata: { name },
        spec: {
          backoffLimit: 3,
          ...extra,
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [{
                name: 'main',
                image: 'perennial-testing/exit',
                env: [{ name: 'EXIT_CODE', value: String(exitCode) }, { name: 'MESSAGE', value: `exited ${exitCode}` }],
              }],
            },
          },
        },
      },
    });
    await job('ok', 0);
    await job('invalid-data', 65, {
      podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [65, 78] } }] },
    });
    const ok = await eventually('the Job to complete', async () => {
      const j = await batch.readNamespacedJob({ namespace, name: 'ok' });
      return j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ? j : undefined;
    });
    assert.equal(ok.status?.succeeded, 1);
    const failed = await eventually('the Job to fail by its podFailurePolicy', async () => {
      const j = await batch.readNamespacedJob({ namespace, name: 'invalid-data' });
      return j.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True') ? j : undefined;
    });
    assert.equal(failed.status?.conditions?.find((c) => c.type === 'Failed')?.reason, 'PodFailurePolicy');
    assert.equal(failed.status?.failed, 1, 'not retried');
    const pods = await core.listNamespacedPod({ namespace, labelSelector: 'batch.kubernetes.io/job-name=invalid-data' });
    const terminated = pods.items[0]?.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(terminated?.exitCode, 65);
    assert.equal(terminated?.message, 'exited 65');
  });

  it('leaves a pod that wants more GPUs than the node has Pending, saying why', async () => {
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'greedy' },
        spec: { containers: [{ name: 'main', image: 'perennial-testing/exit', resources: { limits: { 'nvidia.com/gpu': '2' } } }] },
      },
    });
    const pod = await eventually('an Unschedulable condition', async () => {
      const p = await core.readNamespacedPod({ namespace, name: 'greedy' });
      return p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False') ? p : undefined;
    });
    assert.equal(pod.spec?.nodeName, undefined);
    assert.match(pod.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message ?? '', /Insufficient nvidia.com\/gpu/);
  });
});
