// A tiny operator process for the sharding integration test (test/integration/operator-sharding.test.ts): a
// Manager with shard Leases and one controller on the ConfigMaps of a namespace. Each reconcile prints a start and
// an end line (with this replica's identity and the time) around a slow step, and copies data.v into the
// annotation perennial.dev/observed-v when they differ (one write per change: a second write of the same value
// would be a duplicate). SIGTERM stops it gracefully (shards drained and released); the test crashes it with
// SIGKILL. Arguments: <kubeconfig> <namespace> <lease group> <identity> <shards> <reconcile ms>.
import { KubeConfig } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../log.js';
import { Manager } from '../manager.js';
import type { KubeObject, ResourceRef } from '../resource.js';

const [kubeconfig, namespace, group, identity, shardsArg, reconcileMsArg] = process.argv.slice(2);
if (!kubeconfig || !namespace || !group || !identity || !shardsArg || !reconcileMsArg) {
  console.error('usage: shard-child.ts <kubeconfig> <namespace> <lease group> <identity> <shards> <reconcile ms>');
  process.exit(2);
}
const observedV = 'perennial.dev/observed-v';
const configMaps: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const say = (line: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ identity, t: Date.now(), ...line })}\n`);
};
const mgr = new Manager({
  kubeConfig: kc,
  namespace,
  sharding: { namespace, group, shards: Number(shardsArg), identity, leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 },
  logger: createLogger({ level: 'warn', fields: { identity } }),
});
const cache = mgr.informer<KubeObject & { data?: Record<string, string> }>(configMaps);
mgr.addController({
  name: 'configmaps',
  primary: configMaps,
  workers: 2,
  reconciler: {
    async reconcile(key) {
      say({ event: 'start', name: key.name });
      await sleep(Number(reconcileMsArg));
      const cm = cache.get(key.namespace, key.name);
      const v = cm?.data?.['v'];
      let wrote: string | undefined;
      if (cm && v !== undefined && cm.metadata?.annotations?.[observedV] !== v) {
        await mgr.kube.patch(configMaps, key, { metadata: { annotations: { [observedV]: v } } });
        wrote = v;
      }
      say({ event: 'end', name: key.name, ...(wrote === undefined ? {} : { wrote }) });
      return {};
    },
  },
});
process.on('SIGTERM', () => {
  void mgr.stop().then(() => {
    say({ event: 'stopped' });
    process.exit(0);
  });
});
await mgr.start();
say({ event: 'started' });
setInterval(() => say({ event: 'shards', shards: mgr.heldShards() }), 250).unref();
