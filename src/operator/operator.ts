// The operator: one manager with both controllers registered (informers → queues → reconcilers). main.ts runs it;
// tests build it the same way against the local cluster.
import type { KubeConfig } from '@kubernetes/client-node';
import { Counter } from 'prom-client';
import type { ModelDeployment } from '../api/model-deployment.js';
import type { TrainingPipeline } from '../api/training-pipeline.js';
import { MinioStore } from '../storage/minio-store.js';
import type { OperatorConfig } from './config.js';
import { modelDeploymentController } from './controllers/model-deployment/wiring.js';
import { CredentialsError, PipelineStores, secretReader, type StoreKeys } from './controllers/store-credentials.js';
import type { TenancyPolicy } from './controllers/tenancy.js';
import { TrainingPipelineReconciler } from './controllers/training-pipeline/reconciler.js';
import { jobs, modelDeployments, trainingPipelines } from './resources.js';
import { createLogger, type LogLevel } from './runtime/log.js';
import { storeSettings } from './store-settings.js';
import { Manager } from './runtime/manager.js';
import type { KubeObject, ObjectKey } from './runtime/resource.js';

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
    healthHost: config.healthHost,
    logger,
  });
  const storeWith = (keys: StoreKeys): MinioStore | undefined => config.store && new MinioStore({
    endPoint: config.store.endPoint, port: config.store.port, useSSL: config.store.useSSL,
    accessKey: keys.accessKey, secretKey: keys.secretKey, region: config.store.region,
  });
  const store = config.store && storeWith(config.store);
  // A pipeline that names its own credentials is served by a client built from them, never by the operator's.
  const pipelineStores = new PipelineStores(secretReader(manager.http), (keys) => {
    const client = storeWith(keys);
    if (!client) throw new CredentialsError('the operator has no object store configured');
    return client;
  });
  const tenancy = tenancyPolicy(config);
  const runsTotal = new Counter({
    name: 'perennial_training_runs_total',
    help: 'Training runs that ended, by outcome (Blessed, Rejected, Failed, InvalidData).',
    labelNames: ['outcome'],
    registers: [manager.metrics.registry],
  });
  const pipelines = manager.informer(trainingPipelines);
  const deploymentCache = manager.informer(modelDeployments);
  manager.addController({
    name: controllerNames.trainingPipeline,
    primary: trainingPipelines,
    owns: [jobs],
    // A ModelDeployment matters to the pipelines whose triggers watch it and to the one it serves (retention).
    watches: [{ ref: modelDeployments, map: (md) => pipelinesReading(pipelines.list(md.metadata?.namespace ?? ''), md) }],
    workers: config.workers,
    reconciler: new TrainingPipelineReconciler({
      pipelines,
      jobs: manager.informer(jobs),
      deployments: deploymentCache,
      kube: manager.kube,
      statusWriter: manager.statusWriter(controllerNames.trainingPipeline),
      events: manager.events,
      clock: manager.clock,
      logger: logger.child({ controller: controllerNames.trainingPipeline }),
      store,
      storeSettings: config.store && storeSettings(config.store),
      storeForSecret: (namespace, name) => pipelineStores.forSecret(namespace, name),
      tenancy,
      onRunFinished: (outcome) => runsTotal.inc({ outcome }),
      dataPollMs: config.dataPollMs,
      jobTtlSeconds: config.jobTtlSeconds,
    }),
  });
  manager.addController(modelDeploymentController(manager, config, tenancy, controllerNames.modelDeployment,
    logger.child({ controller: controllerNames.modelDeployment })));
  return manager;
}

/** The install-time tenancy configuration with the bucket a spec without one uses. */
export function tenancyPolicy(config: OperatorConfig): TenancyPolicy {
  return { ...config.tenancy, defaultBucket: config.store?.bucket ?? 'perennial' };
}

/** Keys of the pipelines (in the ModelDeployment's namespace) that read it in a trigger or that it serves. */
export function pipelinesReading(candidates: readonly KubeObject[], md: KubeObject): ObjectKey[] {
  const deployment = md as ModelDeployment;
  const name = deployment.metadata.name;
  return (candidates as readonly TrainingPipeline[])
    .filter((tp) => tp.spec.triggers.drift?.deployment === name || tp.spec.triggers.performance?.deployment === name ||
      deployment.spec?.model?.fromPipeline === tp.metadata.name)
    .map((tp) => ({ namespace: tp.metadata.namespace ?? '', name: tp.metadata.name ?? '' }));
}
