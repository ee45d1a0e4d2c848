// The operator: one manager with both controllers registered (informers → queues → reconcilers), each built by its
// controller's wiring.ts. main.ts runs it; tests build it the same way against the local cluster.
import type { KubeConfig } from '@kubernetes/client-node';
import { cacheShape } from './cache-shapes.js';
import type { OperatorConfig } from './config.js';
import { modelDeploymentController } from './controllers/model-deployment/wiring.js';
import type { TenancyPolicy } from './controllers/tenancy.js';
import { trainingPipelineController } from './controllers/training-pipeline/wiring.js';
import { mlflowExportController } from './integrations/mlflow-wiring.js';
import { feedbackLatencyMeter } from './metrics/feedback-latency.js';
import { measureLoop } from './metrics/wiring.js';
import { notifyLoop } from './notifications/wiring.js';
import { createLogger, type LogLevel } from './runtime/log.js';
import { Manager, type ShardingOptions } from './runtime/manager.js';

export const controllerNames = { trainingPipeline: 'trainingpipeline', modelDeployment: 'modeldeployment', mlflowExport: 'mlflowexport' } as const;

/** Builds the manager with both controllers registered; the caller starts and stops it. */
export function buildManager(config: OperatorConfig, kubeConfig: KubeConfig): Manager {
  const logger = createLogger({ level: config.logLevel as LogLevel });
  const manager = new Manager({
    kubeConfig,
    namespace: config.watchNamespace,
    leaderElection: config.leaderElection.enabled && config.shards === 0
      ? { namespace: config.leaderElection.namespace, name: config.leaderElection.name, identity: config.leaderElection.identity }
      : false,
    sharding: shardingOptions(config),
    healthPort: config.healthPort,
    healthHost: config.healthHost,
    logger,
    informerShape: cacheShape,
  });
  const tenancy = tenancyPolicy(config);
  // The loop's metrics and notifications hang on the event recorder's hook (docs/observability.md).
  const loop = measureLoop(manager, feedbackLatencyMeter(config.store, manager.logger));
  notifyLoop(manager, config.notifications);
  const tp = controllerNames.trainingPipeline;
  const md = controllerNames.modelDeployment;
  manager.addController(trainingPipelineController(manager, config, tenancy, tp, logger.child({ controller: tp }), loop.onRunFinished));
  manager.addController(modelDeploymentController(manager, config, tenancy, md, logger.child({ controller: md })));
  // The MLflow export of pipelines that ask for it (spec.integrations.mlflow): its own queue, so MLflow never holds up training.
  manager.addController(mlflowExportController(manager, config, controllerNames.mlflowExport, logger.child({ controller: controllerNames.mlflowExport })));
  return manager;
}

/** Shard Leases named after the leader Lease, in its namespace, when PERENNIAL_SHARDS asks for shards. */
export function shardingOptions(config: OperatorConfig): ShardingOptions | undefined {
  if (config.shards === 0) return undefined;
  const { namespace, name, identity } = config.leaderElection;
  return { namespace, group: name, shards: config.shards, identity };
}

/** The install-time tenancy configuration with the bucket a spec without one uses. */
export function tenancyPolicy(config: OperatorConfig): TenancyPolicy {
  return { ...config.tenancy, defaultBucket: config.store?.bucket ?? 'perennial' };
}
