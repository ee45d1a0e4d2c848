// The TrainingPipeline controller as the manager runs it: its informers (the Jobs it owns, the ModelDeployments its
// triggers read or that serve its versions), the store clients it acts with and its reconciler, which tells
// onRunFinished (the loop's metrics) of each ended run. The same shape as model-deployment/wiring.ts; operator.ts registers both.
import type { ModelDeployment } from '../../../api/model-deployment.js';
import type { TrainingPipeline, TrainingRun } from '../../../api/training-pipeline.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { MinioStore } from '../../../storage/minio-store.js';
import type { ObjectStore } from '../../../storage/object-store.js';
import { CountedStore, storeRequestsCounter } from '../../counted-store.js';
import { storeNotifications } from '../../store-notifications/wiring.js';
import { DataPolls } from './data-polls.js';
import type { OperatorConfig } from '../../config.js';
import { jobs, modelDeployments, pods, trainingPipelines } from '../../resources.js';
import type { Logger } from '../../runtime/log.js';
import type { ControllerOptions, Manager } from '../../runtime/manager.js';
import { type KubeObject, type ObjectKey, resourcePath } from '../../runtime/resource.js';
import type { PodObject, ReadPods } from '../pod-faults.js';
import { storeSettings, type StoreConfig } from '../../store-settings.js';
import { CredentialsError, PipelineStores, secretReader, type StoreKeys } from '../store-credentials.js';
import type { TenancyPolicy } from '../tenancy.js';
import { TrainingPipelineReconciler } from './reconciler.js';

/** Keys of the pipelines (in the ModelDeployment's namespace) that read it in a trigger or that it serves. */
export function pipelinesReading(candidates: readonly KubeObject[], md: KubeObject): ObjectKey[] {
  const deployment = md as ModelDeployment;
  const name = deployment.metadata.name;
  return (candidates as readonly TrainingPipeline[])
    .filter((tp) => tp.spec.triggers.drift?.deployment === name || tp.spec.triggers.performance?.deployment === name ||
      deployment.spec?.model?.fromPipeline === tp.metadata.name)
    .map((tp) => ({ namespace: tp.metadata.namespace ?? '', name: tp.metadata.name ?? '' }));
}

/** A client of the configured store acting with these keys. */
function minioStore(store: StoreConfig, keys: StoreKeys): MinioStore {
  return new MinioStore({ endPoint: store.endPoint, port: store.port, useSSL: store.useSSL, accessKey: keys.accessKey, secretKey: keys.secretKey, region: store.region });
}

export function trainingPipelineController(
  manager: Manager, config: OperatorConfig, tenancy: TenancyPolicy, name: string, logger: Logger,
  onRunFinished: (tp: TrainingPipeline, run: TrainingRun) => void = () => undefined,
): ControllerOptions {
  const pipelines = manager.informer(trainingPipelines);
  const deploymentCache = manager.informer(modelDeployments);
  const configured = config.store;
  // A pipeline that names its own credentials is served by a client built from them, never by the operator's.
  const storeRequests = storeRequestsCounter(manager.metrics.registry);
  const counted = (store: ObjectStore): ObjectStore => new CountedStore(store, (op) => storeRequests.inc({ op }));
  const pipelineStores = new PipelineStores(secretReader(manager.http), (keys) => {
    if (!configured) throw new CredentialsError('the operator has no object store configured');
    return counted(minioStore(configured, keys));
  });
  // The kept data listings and the one listing budget; notifications mark pipelines to list at once.
  const dataPolls = new DataPolls({
    now: () => manager.clock.now(), sleep: (ms) => sleep(ms), listingsPerSecond: config.storeListingsPerSecond, burst: 2 * config.storeListingsPerSecond,
  });
  if (config.storeNotifications && configured) {
    manager.add(storeNotifications(manager, {
      ...config.storeNotifications, controller: name, pipelines, dataPolls, defaultBucket: configured.bucket, logger,
    }));
  }
  // The current run's Job pods, listed when a reconcile needs them (observe.ts says why no informer).
  const readPods: ReadPods = async (namespace, labels) => {
    const labelSelector = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
    const list = await manager.http.request<{ items?: PodObject[] }>('GET', resourcePath(pods, namespace), { query: { labelSelector } });
    return list.items ?? [];
  };
  return {
    name,
    primary: trainingPipelines,
    owns: [jobs],
    // A ModelDeployment matters to the pipelines whose triggers watch it and to the one it serves (retention).
    watches: [{ ref: modelDeployments, map: (md) => pipelinesReading(pipelines.list(md.metadata?.namespace ?? ''), md) }],
    workers: config.workers,
    reconciler: new TrainingPipelineReconciler({
      pipelines,
      jobs: manager.informer(jobs),
      deployments: deploymentCache,
      readPods,
      kube: manager.kube,
      statusWriter: manager.statusWriter(name),
      events: manager.events,
      clock: manager.clock,
      logger,
      store: configured && counted(minioStore(configured, configured)),
      storeSettings: configured && storeSettings(configured),
      storeForSecret: (namespace, secret) => pipelineStores.forSecret(namespace, secret),
      tenancy,
      onRunFinished,
      dataPollMs: config.dataPollMs,
      dataPolls,
      jobTtlSeconds: config.jobTtlSeconds,
    }),
  };
}
