// The TrainingPipeline controller as the manager runs it: its informers (the Jobs it owns, the ModelDeployments its
// triggers read or that serve its versions), the store clients it acts with and its reconciler, which tells
// onRunFinished (the loop's metrics) of each ended run. The same shape as model-deployment/wiring.ts; operator.ts registers both.
import { Label } from '../../../api/labels.js';
import type { ModelDeployment } from '../../../api/model-deployment.js';
import type { TrainingPipeline, TrainingRun } from '../../../api/training-pipeline.js';
import { MinioStore } from '../../../storage/minio-store.js';
import type { ObjectStore } from '../../../storage/object-store.js';
import { CountedStore, storeRequestsCounter } from '../../counted-store.js';
import { storeNotifications } from '../../store-notifications/wiring.js';
import { DataPolls } from './data-polls.js';
import { Gauge, type Registry } from 'prom-client';
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
import { pipelinesUsedBy, usedPipelinesIndex } from './versions-in-use.js';

/** The deployments a pipeline's triggers read (drift, performance): the TrainingPipeline cache is indexed by them. */
export function deploymentsReadBy(tp: TrainingPipeline): string[] {
  const { drift, performance } = tp.spec.triggers;
  return [...new Set([drift?.deployment, performance?.deployment].filter((d): d is string => d !== undefined))];
}

/** The name of the TrainingPipeline cache's index by deploymentsReadBy. */
export const readDeploymentsIndex = 'perennial.dev/read-deployments';

/**
 * Keys of the pipelines a ModelDeployment event concerns, in its namespace: those whose triggers read it (`readers`,
 * from the index) and those whose versions it may use (retention keeps what it serves).
 */
export function pipelinesConcerned(md: KubeObject, readers: readonly KubeObject[]): ObjectKey[] {
  const namespace = md.metadata?.namespace ?? '';
  const names = new Set([...readers.map((tp) => tp.metadata?.name ?? ''), ...pipelinesUsedBy(md as ModelDeployment)]);
  return [...names].map((name) => ({ namespace, name }));
}

/** perennial_store_data_poll_stretch: by how much the poll intervals are stretched to fit the listing budget. */
function dataPollStretchGauge(registry: Registry, stretch: () => number): void {
  new Gauge({
    name: 'perennial_store_data_poll_stretch',
    help: 'By how much every newData poll interval is stretched so that the polls fit in 80% of the listing budget (PERENNIAL_STORE_LISTINGS_PER_SECOND); 1: not stretched.',
    registers: [registry],
    collect() {
      this.set(stretch());
    },
  });
}

/** A client of the configured store acting with these keys. */
function minioStore(store: StoreConfig, keys: StoreKeys): MinioStore {
  return new MinioStore({ endPoint: store.endPoint, port: store.port, useSSL: store.useSSL, accessKey: keys.accessKey, secretKey: keys.secretKey, region: store.region });
}

export function trainingPipelineController(
  manager: Manager, config: OperatorConfig, tenancy: TenancyPolicy, name: string, logger: Logger,
  onRunFinished: (tp: TrainingPipeline, run: TrainingRun) => void = () => undefined,
): ControllerOptions {
  const pipelines = manager.informer<TrainingPipeline>(trainingPipelines);
  pipelines.addIndex(readDeploymentsIndex, deploymentsReadBy);
  const deploymentCache = manager.informer<ModelDeployment>(modelDeployments);
  deploymentCache.addIndex(usedPipelinesIndex, pipelinesUsedBy);
  // Its Jobs are read by the pipeline's label (observe.ts): indexed, not scanned.
  const jobCache = manager.informer(jobs);
  jobCache.indexLabel(Label.pipeline);
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
    now: () => manager.clock.now(), listingsPerSecond: config.storeListingsPerSecond, burst: 2 * config.storeListingsPerSecond,
  });
  dataPollStretchGauge(manager.metrics.registry, () => dataPolls.stretch());
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
    // A ModelDeployment matters to the pipelines whose triggers watch it and to those it serves (retention).
    watches: [{ ref: modelDeployments, map: (md) => pipelinesConcerned(md, pipelines.byIndex(readDeploymentsIndex, md.metadata?.namespace ?? '', md.metadata?.name ?? '')) }],
    workers: config.workers,
    reconciler: new TrainingPipelineReconciler({
      pipelines,
      jobs: jobCache,
      deployments: deploymentCache,
      deploymentsUsing: (namespace, pipeline) => deploymentCache.byIndex(usedPipelinesIndex, namespace, pipeline),
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
