// The operator as users install it: `helm install charts/perennial` into a local cluster with a real node, running
// the operator image built from the Dockerfile (two replicas, leader election, the chart's RBAC, restricted pod
// security), pointed at the cluster's MinIO on the host. The loop stack's `operator: 'helm'` and `make demo` use it.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoordinationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { LocalCluster } from '../../localcluster/cluster.js';
import { imageTags } from '../../localcluster/node/images.js';
import { chartDir, runTool } from '../integration/chart-tools.js';
import { eventually } from './eventually.js';

export const operatorRelease = { name: 'perennial', namespace: 'perennial-system' } as const;

export interface OperatorChartOptions {
  readonly bucket: string;
  /** The store credentials Secret the chart makes in its namespace; pods use one of the same name in theirs. */
  readonly credentialsSecret: string;
  /** Extra values, merged over these (YAML-compatible JSON). */
  readonly values?: Record<string, unknown>;
}

/** Installs the chart and waits until both replicas run and one holds the Lease. Throws with helm's output. */
export async function installOperatorChart(cluster: LocalCluster, kc: KubeConfig, o: OperatorChartOptions): Promise<void> {
  const { s3, kubeconfigPath } = cluster.info;
  if (!s3) throw new Error('the chart needs the cluster\'s MinIO');
  const core = kc.makeApiClient(CoreV1Api);
  // The credentials as a Secret made beforehand (objectStore.credentials.existingSecret): no keys in values.
  await core.createNamespace({ body: { metadata: { name: operatorRelease.namespace, labels: {
    'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'v1.34',
  } } } });
  await core.createNamespacedSecret({ namespace: operatorRelease.namespace, body: {
    metadata: { name: o.credentialsSecret }, stringData: { AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey },
  } });
  const values = {
    image: operatorImageValues(),
    replicaCount: 2,
    logLevel: 'info',
    objectStore: {
      endpoint: s3.endPoint, port: s3.port, tls: false, region: s3.region, bucket: o.bucket,
      credentials: { existingSecret: o.credentialsSecret },
    },
    ...o.values,
  };
  const dir = mkdtempSync(join(tmpdir(), 'perennial-chart-values-'));
  try {
    const file = join(dir, 'values.json');
    writeFileSync(file, JSON.stringify(values), { mode: 0o600 });
    const r = await runTool('helm', ['install', operatorRelease.name, chartDir, '--namespace', operatorRelease.namespace, '--kubeconfig', kubeconfigPath, '--values', file]);
    if (r.code !== 0) throw new Error(`helm install failed (${r.code}): ${r.stderr || r.stdout}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await eventually('an operator replica holding the Lease', () => operatorLeader(kc), 180_000, 500);
}

/**
 * The chart's image values for the operator image imported into the node, which pulls from no registry: Never, so
 * a missing image fails at once instead of trying one.
 */
export function operatorImageValues(): { repository: string; tag: string; pullPolicy: 'Never' } {
  const colon = imageTags.operator.lastIndexOf(':');
  return { repository: imageTags.operator.slice(0, colon), tag: imageTags.operator.slice(colon + 1), pullPolicy: 'Never' };
}

/** The operator pod holding the leader Lease, if one does. */
export async function operatorLeader(kc: KubeConfig): Promise<string | undefined> {
  const lease = await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: 'perennial-operator', namespace: operatorRelease.namespace }).catch(() => undefined);
  return lease?.spec?.holderIdentity || undefined;
}

/** The operator pods' logs (both replicas), for a failing test's message or the demo's log folder. */
export async function operatorLogs(cluster: LocalCluster): Promise<string> {
  const { binDir, kubeconfigPath } = cluster.info;
  const { stdout } = await promisify(execFile)(join(binDir, 'kubectl'), [
    '--kubeconfig', kubeconfigPath, '-n', operatorRelease.namespace, 'logs', '-l', 'app.kubernetes.io/component=operator',
    '--prefix', '--tail=-1', '--max-log-requests=4',
  ], { maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}
