// The local cluster's real node (localcluster/node): Perennial's images, built from their Dockerfiles, run as
// containers under the real kubelet and containerd — restricted pods (non-root, read-only root, no capabilities),
// probes, limits and OOM kills, Service networking and cluster DNS from pods and from the host, `kubectl exec`
// and `logs` through the API server — and stopping the cluster leaves nothing of the node on the host.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchV1Api, CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { LocalCluster, repoRoot } from '../../localcluster/cluster.js';
import { kubeConfigFor } from '../../localcluster/test-cluster.js';
import { eventually } from '../support/eventually.js';
import { imageTags, startClusterWithNode } from '../support/node-cluster.js';

const ns = 'node-test';
const serverImage = imageTags.server;
const restricted = {
  runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
};

describe('the real node (kubelet, containerd, kube-proxy, CoreDNS) with the images built from the Dockerfiles', () => {
  let cluster: LocalCluster;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let batch: BatchV1Api;
  let kubectl: (...args: string[]) => string;

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the local node needs root: run the tests as root');
    cluster = await startClusterWithNode('real-node', (l) => console.log(`# ${l}`));
    kc = kubeConfigFor(cluster.info);
    core = kc.makeApiClient(CoreV1Api);
    batch = kc.makeApiClient(BatchV1Api);
    kubectl = (...args) => execFileSync(`${cluster.info.binDir}/kubectl`, ['--kubeconfig', cluster.info.kubeconfigPath, '-n', ns, ...args], { encoding: 'utf8' });
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await eventually('the default ServiceAccount', () => core.readNamespacedServiceAccount({ name: 'default', namespace: ns }));
  });
  after(async () => {
    await cluster?.stop();
  });

  const podUntil = (name: string, what: string, ok: (p: V1Pod) => boolean, timeoutMs = 90_000): Promise<V1Pod> =>
    eventually(what, async () => {
      const p = await core.readNamespacedPod({ name, namespace: ns });
      return ok(p) ? p : undefined;
    }, timeoutMs, 250);

  it('runs the server image as a restricted pod: non-root with its group, read-only root, probes, exec and logs', async () => {
    await core.createNamespacedPod({ namespace: ns, body: {
      metadata: { name: 'server', labels: { app: 'server' } },
      spec: {
        automountServiceAccountToken: false, enableServiceLinks: false,
        securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [{
          name: 'server', image: serverImage, imagePullPolicy: 'IfNotPresent',
          // No model to load: the server is live but not ready, and says why.
          env: [
            { name: 'PERENNIAL_SERVER_MODEL', value: 'ml/weather@v1' }, { name: 'PERENNIAL_SERVER_DEPLOYMENT', value: 'ml/weather' },
            { name: 'PERENNIAL_S3_ENDPOINT', value: cluster.info.s3?.endPoint ?? '' }, { name: 'PERENNIAL_S3_PORT', value: String(cluster.info.s3?.port) },
            { name: 'PERENNIAL_S3_TLS', value: 'false' }, { name: 'PERENNIAL_S3_BUCKET', value: 'nowhere' },
            { name: 'AWS_ACCESS_KEY_ID', value: 'x' }, { name: 'AWS_SECRET_ACCESS_KEY', value: 'y' },
            { name: 'PERENNIAL_SERVER_HOST', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          ],
          ports: [{ name: 'http', containerPort: 8080 }],
          readinessProbe: { httpGet: { path: '/v2/health/ready', port: 'http' }, periodSeconds: 1 },
          livenessProbe: { httpGet: { path: '/v2/health/live', port: 'http' }, periodSeconds: 2 },
          resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '512Mi' } },
          securityContext: restricted,
          volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
        }],
        volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
      },
    } });
    const pod = await podUntil('server', 'the server container running', (p) => p.status?.containerStatuses?.[0]?.state?.running !== undefined);
    const ip = pod.status?.podIP ?? '';
    assert.match(ip, /^10\.244\./, `a pod address on the node's range: ${ip}`);
    const live = await eventually('live from the host', async () => (await fetch(`http://${ip}:8080/v2/health/live`).catch(() => undefined))?.status === 200 || undefined, 30_000);
    assert.ok(live);
    const ready = await fetch(`http://${ip}:8080/v2/health/ready`);
    assert.equal(ready.status, 503, 'no model: not ready');
    assert.match(String(((await ready.json()) as { error?: string }).error), /model|store|bucket|ECONNREFUSED|connect/i);
    assert.equal((await core.readNamespacedPod({ name: 'server', namespace: ns })).status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
    assert.equal(kubectl('exec', 'server', '--', 'id').trim(), 'uid=65532 gid=65532 groups=65532', 'runAsGroup: not gid 0');
    assert.match(kubectl('exec', 'server', '--', 'sh', '-c', 'touch /app/x 2>&1 || true'), /Read-only file system/);
    assert.match(kubectl('logs', 'server'), /server listening/);
  });

  it('resolves Services by name and routes ClusterIPs, from pods and from the host', async () => {
    await core.createNamespacedService({ namespace: ns, body: {
      metadata: { name: 'server' }, spec: { selector: { app: 'server' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }], publishNotReadyAddresses: true },
    } });
    const svc = await core.readNamespacedService({ name: 'server', namespace: ns });
    const clusterIP = svc.spec?.clusterIP ?? '';
    assert.ok(clusterIP.startsWith('10.96.'), clusterIP);
    // publishNotReadyAddresses: the unready server still gets traffic, so the route can be checked.
    await eventually('the ClusterIP from the host', async () => (await fetch(`http://${clusterIP}/v2/health/live`).catch(() => undefined))?.status === 200 || undefined, 60_000);
    const probe = "fetch('http://server.node-test.svc.cluster.local/v2/health/live').then((r) => process.exit(r.status === 200 ? 0 : 1), (e) => { console.error(e); process.exit(2); })";
    await batch.createNamespacedJob({ namespace: ns, body: {
      metadata: { name: 'dns-probe' },
      spec: { backoffLimit: 0, template: { spec: {
        restartPolicy: 'Never', automountServiceAccountToken: false, enableServiceLinks: false,
        containers: [{ name: 'probe', image: serverImage, imagePullPolicy: 'IfNotPresent', command: ['/usr/local/bin/node', '-e', probe], securityContext: restricted }],
      } } },
    } });
    const job = await eventually('the DNS probe Job to finish', async () => {
      const j = await batch.readNamespacedJob({ name: 'dns-probe', namespace: ns });
      return j.status?.succeeded === 1 || j.status?.failed === 1 ? j : undefined;
    }, 120_000, 500);
    assert.equal(job.status?.succeeded, 1, `the pod reached server.node-test.svc.cluster.local: ${kubectl('logs', 'job/dns-probe')}`);
  });

  it('kills a container over its memory limit (OOMKilled) and reports an image that is not there', async () => {
    await core.createNamespacedPod({ namespace: ns, body: {
      metadata: { name: 'hog' },
      spec: {
        restartPolicy: 'Never', automountServiceAccountToken: false, enableServiceLinks: false,
        containers: [
          { name: 'hog', image: serverImage, command: ['/usr/local/bin/node', '-e', 'const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1));'],
            resources: { limits: { memory: '96Mi' } }, securityContext: restricted },
        ],
      },
    } });
    const hog = await podUntil('hog', 'the hog to be killed', (p) => p.status?.containerStatuses?.[0]?.state?.terminated !== undefined);
    const t = hog.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(t?.reason, 'OOMKilled', JSON.stringify(t));
    assert.equal(t?.exitCode, 137);
    await core.createNamespacedPod({ namespace: ns, body: {
      metadata: { name: 'missing' },
      spec: { automountServiceAccountToken: false, containers: [{ name: 'c', image: 'ghcr.io/perennial-dev/perennial-server:does-not-exist', imagePullPolicy: 'Never', securityContext: restricted }] },
    } });
    const missing = await podUntil('missing', 'the missing image reported', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImageNeverPull');
    assert.match(missing.status?.containerStatuses?.[0]?.state?.waiting?.message ?? '', /not present/);
  });

  it('leaves nothing of the node on the host when the cluster stops', async () => {
    const node = cluster.info.node;
    assert.ok(node);
    const index = node.name.split('-').pop() ?? '';
    await cluster.stop();
    await sleep(200);
    assert.ok(!execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).includes(node.name), 'the namespace is gone');
    assert.ok(!execFileSync('ip', ['route'], { encoding: 'utf8' }).includes(node.podCIDR), 'the pod route is gone');
    assert.ok(!existsSync(`/sys/fs/cgroup/memory/perennial-node-${index}`), 'the cgroups are gone');
    const nodeRoot = dirname(cluster.node?.dirs.containerd ?? '/nowhere');
    assert.deepEqual(mountsUnder(nodeRoot), [], 'no mount is left');
    assert.deepEqual(processesMentioning(nodeRoot), [], 'no process is left');
  });

  it('removes what a killed run left when the next node starts', async () => {
    // The child starts a cluster with a node and a pod, then is killed outright: no exit hook runs.
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/support/node-crash-child.ts')], {
      cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    const { containerdRoot, node } = JSON.parse(line) as { containerdRoot: string; node: string };
    const nodeRoot = dirname(containerdRoot);
    const dataDir = dirname(nodeRoot);
    assert.ok(mountsUnder(nodeRoot).length > 0, 'the pod has mounts on the node');
    child.kill('SIGKILL');
    await once(child, 'exit');
    // The control plane and the node's servers die with it (a parent-death signal); the pod's shim, container and
    // mounts outlive it, as they would a crashed kubelet.
    await eventually('the servers dead', () => processesMentioning(dataDir).every((l) => l.includes('containerd-shim')) || undefined, 10_000, 100);
    assert.ok(mountsUnder(nodeRoot).length > 0, 'the killed run left mounts');

    const next = await LocalCluster.start({ name: 'node-reclaim', node: true, minio: false });
    try {
      assert.equal(next.info.node?.name, node, 'the dead run\'s node index is taken over');
      assert.deepEqual(mountsUnder(nodeRoot), [], 'its mounts are gone');
      assert.deepEqual(processesMentioning(nodeRoot), [], 'its shims are gone');
      assert.ok(!existsSync(nodeRoot), 'its node folder is gone');
    } finally {
      await next.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

function mountsUnder(root: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(`${root}/`));
}

/** Command lines of the processes that name a path. */
function processesMentioning(path: string): string[] {
  return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(path));
}
