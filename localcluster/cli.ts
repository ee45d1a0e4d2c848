// `npm run cluster -- up`: starts the local cluster and prints how to use it with kubectl, until Ctrl-C.
// `npm run cluster -- build`: only builds (or finds in the cache) the server binaries.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalCluster, ensureServers, repoRoot } from './cluster.js';

async function up(): Promise<void> {
  const started = Date.now();
  const cluster = await LocalCluster.start({ name: 'cli' });
  const { info } = cluster;
  const kubeconfig = join(repoRoot, '.cache', 'kubeconfig');
  writeFileSync(kubeconfig, readFileSync(info.kubeconfigPath, 'utf8'), { mode: 0o600 });
  const kubectl = join(info.binDir, 'kubectl');
  console.log(`local cluster up in ${((Date.now() - started) / 1000).toFixed(1)} s

  API server   ${info.server}
  kubeconfig   ${kubeconfig}
  kubectl      ${kubectl}   (v1.34, built with the API server)
  MinIO (S3)   ${info.s3?.url ?? '-'}   access key ${info.s3?.accessKey ?? '-'}  secret key ${info.s3?.secretKey ?? '-'}
  logs         ${info.logDir}

Try:
  export KUBECONFIG=${kubeconfig}
  ${kubectl} get namespaces
  ${kubectl} create deployment hello --image=example.invalid/hello && ${kubectl} get replicasets,pods

A bare control plane: no node, CRDs or operator (pods stay Pending). For all of them, with a namespace ready for
your own data: make dev (docs/own-data.md).

Ctrl-C stops every server and removes the data.`);
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
}

const command = process.argv[2] ?? 'up';
if (command === 'up') {
  await up();
} else if (command === 'build') {
  console.log(await ensureServers());
} else {
  console.error(`usage: npm run cluster -- [up|build]   (unknown command "${command}")`);
  process.exit(2);
}
