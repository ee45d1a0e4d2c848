// A tiny operator process for the leader-election integration test (test/integration/runtime-leader.test.ts):
// a Manager with leader election and one controller on the ConfigMaps of a namespace, whose reconciler prints
// one JSON line per reconcile on stdout. SIGTERM stops it gracefully (releasing the Lease); the test simulates a
// crash with SIGKILL. Losing the Lease triggers the manager's default reaction (exit 1). Arguments: <kubeconfig> <namespace> <lease name> <identity>.
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '../log.js';
import { Manager } from '../manager.js';
import type { ResourceRef } from '../resource.js';

const [kubeconfig, namespace, lease, identity] = process.argv.slice(2);
if (!kubeconfig || !namespace || !lease || !identity) {
  console.error('usage: leader-child.ts <kubeconfig> <namespace> <lease> <identity>');
  process.exit(2);
}
const configMaps: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const say = (line: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ identity, ...line })}\n`);
};
const mgr = new Manager({
  kubeConfig: kc,
  namespace,
  leaderElection: { namespace, name: lease, identity, leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 },
  logger: createLogger({ level: 'warn', fields: { identity } }),
  // onLeadershipLost left to the default: exit non-zero (the test checks it).
});
mgr.addController({
  name: 'configmaps',
  primary: configMaps,
  workers: 2,
  reconciler: {
    reconcile(key) {
      say({ event: 'reconcile', name: key.name });
      return Promise.resolve({});
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
