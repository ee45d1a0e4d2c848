// Proves the local cluster is real: the API server stores, serves and watches objects, enforces RBAC,
// kube-controller-manager reconciles Deployments and Jobs and collects garbage, MinIO speaks S3.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  ApiException, AppsV1Api, BatchV1Api, CoreV1Api, RbacAuthorizationV1Api, Watch,
  type KubeConfig, type V1ConfigMap,
} from '@kubernetes/client-node';
import { kubeConfigFor, minioClientFor, sharedCluster, uniqueName } from '../../localcluster/test-cluster.js';
import type { ClusterInfo } from '../../localcluster/cluster.js';
import { eventually } from '../support/eventually.js';

describe('local cluster', () => {
  let info: ClusterInfo;
  let kc: KubeConfig;
  let core: CoreV1Api;
  const namespace = uniqueName('lc');

  before(async () => {
    info = await sharedCluster();
    kc = kubeConfigFor(info);
    core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  after(async () => {
    await core?.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('reports a real Kubernetes 1.34 version', async () => {
    const res = await fetchJson(info, '/version');
    assert.equal(res['major'], '1');
    assert.equal(res['minor'], '34');
    assert.match(String(res['gitVersion']), /^v1\.34\.\d+$/);
  });

  it('creates, reads, updates and watches objects', async () => {
    const seen: Array<{ phase: string; value: string | undefined }> = [];
    const watch = new Watch(kc);
    const controller = await watch.watch(
      `/api/v1/namespaces/${namespace}/configmaps`,
      // kube-controller-manager puts kube-root-ca.crt in every namespace; watch only ours.
      { fieldSelector: 'metadata.name=cm' },
      (phase: string, obj: V1ConfigMap) => seen.push({ phase, value: obj.data?.['k'] }),
      () => undefined,
    );
    try {
      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'cm' }, data: { k: 'v1' } } });
      const read = await core.readNamespacedConfigMap({ namespace, name: 'cm' });
      assert.equal(read.data?.['k'], 'v1');
      read.data = { k: 'v2' };
      await core.replaceNamespacedConfigMap({ namespace, name: 'cm', body: read });
      await core.deleteNamespacedConfigMap({ namespace, name: 'cm' });
      await eventually('three watch events', () => Promise.resolve(seen.length >= 3 ? true : undefined), 10_000);
      assert.deepEqual(seen, [
        { phase: 'ADDED', value: 'v1' },
        { phase: 'MODIFIED', value: 'v2' },
        { phase: 'DELETED', value: 'v2' },
      ]);
    } finally {
      controller.abort();
    }
  });

  it('rejects a conflicting update by resourceVersion', async () => {
    const created = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'rv' }, data: {} } });
    await core.replaceNamespacedConfigMap({ namespace, name: 'rv', body: { ...created, data: { a: '1' } } });
    const stale = core.replaceNamespacedConfigMap({ namespace, name: 'rv', body: { ...created, data: { a: '2' } } });
    await assert.rejects(stale, (e: unknown) => e instanceof ApiException && e.code === 409);
  });

  it('denies an unprivileged token by RBAC until a Role grants it', async () => {
    const alice = kubeConfigFor(info, info.unprivilegedToken, 'alice').makeApiClient(CoreV1Api);
    await assert.rejects(alice.listNamespacedPod({ namespace }), (e: unknown) => e instanceof ApiException && e.code === 403);
    await assert.rejects(alice.listNamespace(), (e: unknown) => e instanceof ApiException && e.code === 403);

    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace,
      body: { metadata: { name: 'pod-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'alice-reads-pods' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }],
      },
    });
    const pods = await eventually('alice may list pods', async () =>
      alice.listNamespacedPod({ namespace }).catch(() => undefined), 10_000);
    assert.deepEqual(pods.items, []);
    // Still nothing beyond what the Role grants.
    await assert.rejects(alice.listNamespacedSecret({ namespace }), (e: unknown) => e instanceof ApiException && e.code === 403);
  });

  it('kube-controller-manager turns a Deployment into a ReplicaSet and Pods, and collects them when it goes', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    const labels = { app: 'hello' };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'hello' },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'main', image: 'example.invalid/hello:1' }] } },
        },
      },
    });
    const rs = await eventually('a ReplicaSet', async () => {
      const list = await apps.listNamespacedReplicaSet({ namespace, labelSelector: 'app=hello' });
      return list.items[0];
    });
    assert.equal(rs.metadata?.ownerReferences?.[0]?.kind, 'Deployment');
    const pods = await eventually('two Pods', async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector: 'app=hello' });
      return list.items.length === 2 ? list.items : undefined;
    });
    assert.equal(pods[0]?.metadata?.ownerReferences?.[0]?.kind, 'ReplicaSet');

    await apps.deleteNamespacedDeployment({ namespace, name: 'hello', propagationPolicy: 'Background' });
    await eventually('garbage collection of the ReplicaSet and Pods', async () => {
      const rsList = await apps.listNamespacedReplicaSet({ namespace, labelSelector: 'app=hello' });
      const podList = await core.listNamespacedPod({ namespace, labelSelector: 'app=hello' });
      return rsList.items.length === 0 && podList.items.length === 0 ? true : undefined;
    });
  });

  it('kube-controller-manager turns a Job into a Pod', async () => {
    const batch = kc.makeApiClient(BatchV1Api);
    const job = await batch.createNamespacedJob({
      namespace,
      body: {
        metadata: { name: 'once' },
        spec: {
          backoffLimit: 0,
          template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'example.invalid/once:1' }] } },
        },
      },
    });
    const pod = await eventually('a Pod for the Job', async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector: `batch.kubernetes.io/job-name=once` });
      return list.items[0];
    });
    assert.equal(pod.metadata?.ownerReferences?.[0]?.uid, job.metadata?.uid);
  });

  it('MinIO round-trips objects, including a multipart upload over 5 MiB', async () => {
    const s3 = minioClientFor(info);
    const bucket = uniqueName('lc');
    await s3.makeBucket(bucket);
    await s3.putObject(bucket, 'small.txt', Buffer.from('hello'));
    const small = await streamToBuffer(await s3.getObject(bucket, 'small.txt'));
    assert.equal(small.toString(), 'hello');

    const big = randomBytes(12 * 1024 * 1024);
    const info12 = await s3.putObject(bucket, 'big.bin', Readable.from([big]), big.length, {});
    const multipart = await putMultipart(info, bucket, 'big-multipart.bin', big);
    assert.match(multipart, /-3$/, 'a 12 MiB object in 5 MiB parts has a 3-part ETag');
    for (const key of ['big.bin', 'big-multipart.bin']) {
      const back = await streamToBuffer(await s3.getObject(bucket, key));
      assert.equal(sha(back), sha(big), `${key} reads back byte for byte`);
    }
    assert.ok(info12.etag);
    const stat = await s3.statObject(bucket, 'big-multipart.bin');
    assert.equal(stat.size, big.length);
  });
});

/** A multipart upload done part by part with the S3 calls themselves, so the test knows it is one. */
async function putMultipart(info: ClusterInfo, bucket: string, key: string, body: Buffer): Promise<string> {
  const s3 = minioClientFor(info);
  const partSize = 5 * 1024 * 1024;
  const uploadId = await s3.initiateNewMultipartUpload(bucket, key, {});
  const etags: Array<{ part: number; etag: string }> = [];
  for (let offset = 0, part = 1; offset < body.length; offset += partSize, part++) {
    const res = await s3.uploadPart(
      { bucketName: bucket, objectName: key, uploadID: uploadId, partNumber: part, headers: {} },
      body.subarray(offset, offset + partSize),
    );
    etags.push({ part, etag: res.etag });
  }
  const done = await s3.completeMultipartUpload(bucket, key, uploadId, etags);
  return done.etag;
}

async function streamToBuffer(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

async function fetchJson(info: ClusterInfo, path: string): Promise<Record<string, unknown>> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(`${info.server}${path}`, {
      ca: info.caData,
      headers: { Authorization: `Bearer ${info.adminToken}` },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>));
    });
    req.on('error', reject);
    req.end();
  });
}
