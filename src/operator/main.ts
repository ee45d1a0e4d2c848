// The operator process: configuration from the environment, the manager with both controllers, leader election
// on a Lease, /healthz /readyz /metrics, and a graceful stop on SIGTERM (stop taking work, drain, release the Lease).
import { KubeConfig } from '@kubernetes/client-node';
import { loadConfig } from './config.js';
import { dashboardConfig, startDashboard } from './dashboard/wiring.js';
import { buildManager } from './operator.js';
import { errorFields } from './runtime/log.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault(); // in-cluster service account, or KUBECONFIG / ~/.kube/config
  const manager = buildManager(config, kubeConfig);
  // The read-only web dashboard, when the chart enables it (docs/dashboard-and-cli.md).
  const dashboardSettings = dashboardConfig(process.env);
  const dashboard = dashboardSettings ? await startDashboard(manager, dashboardSettings, config) : undefined;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    manager.logger.info('stopping', { signal });
    Promise.all([dashboard?.close(), manager.stop()]).then(() => process.exit(0), (e: unknown) => {
      manager.logger.error('stop failed', errorFields(e));
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await manager.start();
  manager.logger.info('operator started', { identity: manager.identity, namespace: config.watchNamespace || '(all)' });
}

main().catch((e: unknown) => {
  console.error(JSON.stringify({ level: 'error', message: 'operator failed to start', ...errorFields(e) }));
  process.exit(1);
});
