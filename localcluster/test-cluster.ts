// How tests reach a cluster. The test runner (scripts/run-tests.ts) starts one cluster for the whole
// integration tier and hands its ClusterInfo on through PERENNIAL_CLUSTER_INFO; a test file run on its own
// starts a private one instead. Tests that break the cluster on purpose (restart the API server, stop MinIO)
// start their own with LocalCluster.start().
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { Client as MinioClient } from 'minio';
import { LocalCluster, kubeconfigYaml, type ClusterInfo } from './cluster.js';

export const clusterInfoEnv = 'PERENNIAL_CLUSTER_INFO';

let shared: Promise<ClusterInfo> | undefined;

export function sharedCluster(): Promise<ClusterInfo> {
  shared ??= (async () => {
    const file = process.env[clusterInfoEnv];
    if (file) return JSON.parse(readFileSync(file, 'utf8')) as ClusterInfo;
    // Stopped by the harness's exit hook when this test process ends.
    const cluster = await LocalCluster.start({ name: 'private' });
    return cluster.info;
  })();
  return shared;
}

/** A KubeConfig for the cluster, as the admin unless another bearer token is given. */
export function kubeConfigFor(info: ClusterInfo, token = info.adminToken, user = 'admin'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(info.server, info.caData, token, user));
  return kc;
}

export function minioClientFor(info: ClusterInfo): MinioClient {
  if (!info.s3) throw new Error('this cluster runs no MinIO');
  const { endPoint, port, useSSL, accessKey, secretKey, region } = info.s3;
  return new MinioClient({ endPoint, port, useSSL, accessKey, secretKey, region });
}

/** A fresh name for a namespace or bucket, so tests sharing a cluster never meet. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
}
