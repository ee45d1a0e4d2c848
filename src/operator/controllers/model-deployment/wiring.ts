// The ModelDeployment controller as the manager runs it: its informers (server Deployments and Services it owns,
// TrainingPipelines whose champion it follows), its metric providers and its reconciler.
import type { V1Pod } from '@kubernetes/client-node';
import { Label } from '../../../api/labels.js';
import type { ModelDeployment } from '../../../api/model-deployment.js';
import type { OperatorConfig } from '../../config.js';
import { deployments, grpcRoutes, httpRoutes, modelDeployments, pods, services, trainingPipelines } from '../../resources.js';
import { NotFoundError } from '../../runtime/errors.js';
import type { Logger } from '../../runtime/log.js';
import type { ControllerOptions, Manager } from '../../runtime/manager.js';
import { type KubeObject, type ObjectKey, resourcePath } from '../../runtime/resource.js';
import { PodsMetricProvider } from './metrics/pods.js';
import type { PodObject } from '../pod-faults.js';
import { PrometheusMetricProvider } from './metrics/prometheus.js';
import type { MetricProvider } from './metrics/provider.js';
import { storeSettings } from '../../store-settings.js';
import type { TenancyPolicy } from '../tenancy.js';
import { ModelDeploymentReconciler } from './reconciler.js';
import { pipelinesUsedBy, usedPipelinesIndex } from '../training-pipeline/versions-in-use.js';
import type { RouteKind } from './route-ownership.js';

/** Keys of the ModelDeployments (in the pipeline's namespace) that follow this pipeline's champion. */
export function deploymentsFollowing(candidates: readonly KubeObject[], tp: KubeObject): ObjectKey[] {
  return (candidates as readonly ModelDeployment[])
    .filter((md) => md.spec?.model?.fromPipeline === tp.metadata?.name)
    .map((md) => ({ namespace: md.metadata.namespace ?? '', name: md.metadata.name ?? '' }));
}

export function modelDeploymentController(manager: Manager, config: OperatorConfig, tenancy: TenancyPolicy, name: string, logger: Logger): ControllerOptions {
  const cache = manager.informer<ModelDeployment>(modelDeployments);
  cache.addIndex(usedPipelinesIndex, pipelinesUsedBy);
  // Its server Deployments and Services are read by the deployment's label (observe.ts): indexed, not scanned.
  const serverDeployments = manager.informer(deployments);
  serverDeployments.indexLabel(Label.deployment);
  const serviceCache = manager.informer(services);
  serviceCache.indexLabel(Label.deployment);
  // Pods are listed by label when needed (the metrics of a revision, what holds a stuck revision's pods), never
  // watched: no pod cache, and RBAC `list` only.
  const listPods = async <T>(namespace: string, labels: Readonly<Record<string, string>>): Promise<T[]> => {
    const labelSelector = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
    const list = await manager.http.request<{ items?: T[] }>('GET', resourcePath(pods, namespace), { query: { labelSelector } });
    return list.items ?? [];
  };
  const podsProvider = new PodsMetricProvider((namespace, labels) => listPods<V1Pod>(namespace, labels));
  // One provider per Prometheus the install-time policy allows (the reconciler asks only for those).
  const prometheus = new Map<string, MetricProvider>();
  const metricProvider = (url: string | undefined): MetricProvider => {
    if (url === undefined) return podsProvider;
    let provider = prometheus.get(url);
    if (!provider) {
      provider = new PrometheusMetricProvider(url);
      prometheus.set(url, provider);
    }
    return provider;
  };
  const readRoute = async (namespace: string, routeName: string, kind: RouteKind = 'HTTPRoute'): Promise<KubeObject | undefined> => {
    try {
      return kind === 'GRPCRoute'
        ? await manager.http.request<KubeObject>('GET', resourcePath(grpcRoutes, namespace, routeName))
        : await manager.http.request<KubeObject>('GET', resourcePath(httpRoutes, namespace, routeName));
    } catch (e: unknown) {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    }
  };
  return {
    name,
    primary: modelDeployments,
    owns: [deployments, services],
    watches: [{ ref: trainingPipelines, map: (tp) => deploymentsFollowing(cache.byIndex(usedPipelinesIndex, tp.metadata?.namespace ?? '', tp.metadata?.name ?? ''), tp) }],
    workers: config.workers,
    reconciler: new ModelDeploymentReconciler({
      deployments: cache,
      pipelines: manager.informer(trainingPipelines),
      serverDeployments,
      services: serviceCache,
      readPods: (namespace, labels) => listPods<PodObject>(namespace, labels),
      kube: manager.kube,
      statusWriter: manager.statusWriter(name),
      events: manager.events,
      clock: manager.clock,
      logger,
      store: config.store && storeSettings(config.store),
      metricProvider,
      readRoute,
      tenancy,
    }),
  };
}
