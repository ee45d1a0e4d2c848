// The MLflow export as the manager runs it (mlflow-export.ts): a controller of its own on TrainingPipelines, with
// its own work queue, so its retries and an MLflow that is slow to answer never hold up the TrainingPipeline
// controller. operator.ts registers it beside the two controllers.
import { Counter } from 'prom-client';
import type { TrainingPipeline } from '../../api/training-pipeline.js';
import { MinioStore } from '../../storage/minio-store.js';
import type { OperatorConfig } from '../config.js';
import { CredentialsError, PipelineStores, secretReader } from '../controllers/store-credentials.js';
import { trainingPipelines } from '../resources.js';
import type { Logger } from '../runtime/log.js';
import type { ControllerOptions, Manager } from '../runtime/manager.js';
import { MlflowExportReconciler } from './mlflow-export.js';

export function mlflowExportController(manager: Manager, config: OperatorConfig, name: string, logger: Logger): ControllerOptions {
  const configured = config.store;
  const build = (keys: { accessKey: string; secretKey: string }): MinioStore => {
    if (!configured) throw new CredentialsError('the operator has no object store configured');
    return new MinioStore({ endPoint: configured.endPoint, port: configured.port, useSSL: configured.useSSL, accessKey: keys.accessKey, secretKey: keys.secretKey, region: configured.region });
  };
  const own = configured && build(configured);
  const pipelineStores = new PipelineStores(secretReader(manager.http), build);
  const exports = new Counter({
    name: 'perennial_mlflow_exports_total',
    help: 'MLflow exports of training runs by outcome (exported: a run is in MLflow; failed: an export attempt failed and is retried).',
    labelNames: ['outcome'],
    registers: [manager.metrics.registry],
  });
  return {
    name,
    primary: trainingPipelines,
    workers: 1,
    reconciler: new MlflowExportReconciler({
      pipelines: manager.informer(trainingPipelines),
      statusWriter: manager.statusWriter(name),
      readSecret: secretReader(manager.http),
      // The pipeline's records are read with the credentials the pipeline's own controller uses for it.
      storeFor: async (tp: TrainingPipeline) => {
        if (!configured || !own) return undefined;
        const bucket = tp.spec.storage?.bucket ?? configured.bucket;
        const secret = tp.spec.storage?.credentialsSecret;
        return { store: secret === undefined ? own : await pipelineStores.forSecret(tp.metadata.namespace ?? '', secret), bucket };
      },
      clock: manager.clock,
      logger,
      count: (outcome, n = 1) => exports.inc({ outcome }, n),
    }),
  };
}
