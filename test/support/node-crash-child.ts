// A run that dies without cleaning up: starts a cluster with a node, runs a pod on it (so the node has a sandbox,
// its network namespace, shm and rootfs mounts and a shim), prints where its data is, and waits to be killed with
// SIGKILL, which runs no exit hook. The real-node test then checks the next node start removes what it left.
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalCluster } from '../../localcluster/cluster.js';
import { pauseImage } from '../../localcluster/node/configs.js';

const cluster = await LocalCluster.start({ name: 'node-crash', node: true, minio: false });
const kubectl = (...args: string[]): string =>
  execFileSync(`${cluster.info.binDir}/kubectl`, ['--kubeconfig', cluster.info.kubeconfigPath, ...args], { encoding: 'utf8' });
for (let i = 0; ; i++) {
  try {
    kubectl('run', 'sleeper', `--image=${pauseImage}`, '--image-pull-policy=Never', '--restart=Never');
    break;
  } catch (e: unknown) {
    if (i > 120) throw e; // the default ServiceAccount comes a moment after the cluster
    await sleep(250);
  }
}
for (let i = 0; kubectl('get', 'pod', 'sleeper', '-o', 'jsonpath={.status.phase}') !== 'Running'; i++) {
  if (i > 240) throw new Error('the pod did not start');
  await sleep(250);
}
const containerdRoot = cluster.node?.dirs.containerd ?? '';
console.log(JSON.stringify({ containerdRoot, node: cluster.info.node?.name }));
await sleep(600_000);
