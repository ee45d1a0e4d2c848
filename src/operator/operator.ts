// The operator: one manager with both controllers registered (informers → queues → reconcilers). main.ts runs it;
// tests build it the same way against the local cluster.
import type { KubeConfig } from '@kubernetes/client-node';
import type { OperatorConfig } from './config.js';
import { ModelDeploymentReconciler } from './controllers/model-deployment/reconciler.js';
import { TrainingPipelineReconciler } from './controllers/training-pipeline/reconciler.js';
import { modelDeployments, trainingPipelines } from './resources.js';
import { createLogger, type LogLevel } from './runtime/log.js';
import { Manager } from './runtime/manager.js';

export const controllerNames = { trainingPipeline: 'trainingpipeline', modelDeployment: 'modeldeployment' } as const;

/** Builds the manager with both controllers registered; the caller starts and stops it. */
export function buildManager(config: OperatorConfig, kubeConfig: KubeConfig): Manager {
  const logger = createLogger({ level: config.logLevel as LogLevel });
  const manager = new Manager({
    kubeConfig,
    namespace: config.watchNamespace,
    leaderElection: config.leaderElection.enabled
      ? { namespace: config.leaderElection.namespace, name: config.leaderElection.name, identity: config.leaderElection.identity }
      : false,
    healthPort: config.healthPort,
    logger,
  });
  manager.addController({
    name: controllerNames.trainingPipeline,
    primary: trainingPipelines,
    workers: config.workers,
    reconciler: new TrainingPipelineReconciler({
      pipelines: manager.informer(trainingPipelines),
      statusWriter: manager.statusWriter(controllerNames.trainingPipeline),
      events: manager.events,
      clock: manager.clock,
      logger: logger.child({ controller: controllerNames.trainingPipeline }),
    }),
  });
  manager.addController({
    name: controllerNames.modelDeployment,
    primary: modelDeployments,
    workers: config.workers,
    reconciler: new ModelDeploymentReconciler({
      deployments: manager.informer(modelDeployments),
      statusWriter: manager.statusWriter(controllerNames.modelDeployment),
      events: manager.events,
      clock: manager.clock,
      logger: logger.child({ controller: controllerNames.modelDeployment }),
    }),
  });
  return manager;
}
