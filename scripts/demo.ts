// `make demo`: the local cluster with Perennial's CRDs installed and the examples applied, for a person to look
// around with kubectl. Ctrl-C stops everything and removes the data.
// (The full closed-loop scenario — train, serve, drift, retrain, canary, rollback — is the e2e issue's; this
// demo grows with the controllers.)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalCluster, repoRoot } from '../localcluster/cluster.js';
import { kubeConfigFor } from '../localcluster/test-cluster.js';
import { installCrds } from '../test/support/crds.js';

const started = Date.now();
console.log('starting the local cluster (etcd, kube-apiserver, kube-controller-manager, MinIO)...');
const cluster = await LocalCluster.start({ name: 'demo' });
let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping the local cluster');
  cluster.stop().then(() => process.exit(0), (e: unknown) => {
    console.error(e);
    process.exit(1);
  });
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const { info } = cluster;
await installCrds(kubeConfigFor(info));
const kubeconfig = join(repoRoot, '.cache', 'kubeconfig');
writeFileSync(kubeconfig, readFileSync(info.kubeconfigPath, 'utf8'), { mode: 0o600 });
const kubectl = join(info.binDir, 'kubectl');
console.log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s

  API server   ${info.server}
  MinIO (S3)   ${info.s3?.url ?? '-'}  (access key ${info.s3?.accessKey ?? '-'})
  logs         ${info.logDir}

In another terminal:
  export KUBECONFIG=${kubeconfig}
  alias kubectl=${kubectl}
  kubectl get crds
  kubectl explain trainingpipeline.spec.triggers
  kubectl apply -f examples/training-pipeline.yaml -f examples/model-deployment.yaml
  kubectl get perennial

Ctrl-C here stops everything.`);
