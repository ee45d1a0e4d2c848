// ModelDeployment reconcile: observe (caches, the desired model, live measurements) → plan (pure, plan.ts) →
// apply: server Deployments (created when missing, else only replicas patched), Services (selector patched when
// it differs), the HTTPRoute (written only when its hash changes) → ONE status write → Deployments no longer kept
// are deleted (after the status that stops referring to them) → events.
import { randomBytes } from 'node:crypto';
import { ConditionType, Reason } from '../../../api/conditions.js';
import { Label, managedBy } from '../../../api/labels.js';
import type { ModelDeployment } from '../../../api/model-deployment.js';
import type { TrainingPipeline } from '../../../api/training-pipeline.js';
import type { Clock } from '../../runtime/clock.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { CacheReader } from '../../runtime/informer.js';
import type { KubeClient } from '../../runtime/kube.js';
import type { Logger } from '../../runtime/log.js';
import type { ObjectKey, ReconcileResult, Reconciler } from '../../runtime/manager.js';
import type { KubeObject, ResourceRef } from '../../runtime/resource.js';
import type { StatusWriter } from '../../runtime/status-writer.js';
import { isAccepted } from '../acceptance.js';
import { metricSource, type TenancyPolicy } from '../tenancy.js';
import { deployments as deploymentRef, modelDeployments, secrets as secretRef, services as serviceRef } from '../../resources.js';
import { resolveDesiredModel, type DesiredModel } from './desired-model.js';
import { NoValuesError, ProviderError, type MetricProvider } from './metrics/provider.js';
import { feedbackSecretKeys, selectorLabels } from './names.js';
import type { MeasureResult, Observed, ObservedRevision, ObservedService } from './observed.js';
import { measurementsWanted, planModelDeployment, type MeasurementRequest, type ModelDeploymentPlan } from './plan.js';
import { routeNotOwnedMessage, routeOwnership, withRouteNotOwned } from './route-ownership.js';
import { GatewayAPIRouter } from './routers/gateway-api.js';
import { ReplicasRouter } from './routers/replicas.js';
import type { TrafficRouter } from './routers/router.js';
import type { StoreSettings } from '../../store-settings.js';
import { reviewModelDeployment } from './spec-checks.js';

type Rollout = ModelDeployment['spec']['rollout'];

export const httpRoutes: ResourceRef = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', kind: 'HTTPRoute', namespaced: true };

export interface ModelDeploymentDeps {
  readonly deployments: CacheReader<KubeObject>;
  readonly statusWriter: StatusWriter;
  readonly events: EventRecorder;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface ModelDeploymentReconcilerDeps extends ModelDeploymentDeps {
  readonly pipelines: CacheReader<KubeObject>;
  /** apps/v1 Deployments (the server revisions). */
  readonly serverDeployments: CacheReader<KubeObject>;
  readonly services: CacheReader<KubeObject>;
  readonly kube: KubeClient;
  /** How server pods reach the object store; undefined when the operator runs without one. */
  readonly store: StoreSettings | undefined;
  /** The metric provider: the pods, or the Prometheus at this URL (one the install-time policy allows). */
  readonly metricProvider: (prometheusURL: string | undefined) => MetricProvider;
  /** Reads the HTTPRoute of this name (get by name; undefined when there is none). */
  readonly readRoute: (namespace: string, name: string) => Promise<KubeObject | undefined>;
  readonly tenancy: TenancyPolicy;
  /** The traffic router for a deployment's trafficRouting; default replicas / gatewayAPI. */
  readonly router?: (routing: Rollout['trafficRouting']) => TrafficRouter;
}

export function defaultRouter(routing: Rollout['trafficRouting']): TrafficRouter {
  return routing.type === 'GatewayAPI' && routing.gatewayAPI ? new GatewayAPIRouter(routing.gatewayAPI) : new ReplicasRouter();
}

interface DeploymentObject extends KubeObject {
  readonly spec?: { readonly replicas?: number };
  readonly status?: { readonly readyReplicas?: number };
}

interface ServiceLike extends KubeObject {
  readonly spec?: { readonly selector?: Readonly<Record<string, string>> };
}

export class ModelDeploymentReconciler implements Reconciler {
  constructor(private readonly deps: ModelDeploymentReconcilerDeps) {}

  async reconcile(key: ObjectKey): Promise<ReconcileResult> {
    const md = this.deps.deployments.get(key.namespace, key.name) as ModelDeployment | undefined;
    if (!md || md.metadata.deletionTimestamp) return {}; // children go with it by garbage collection
    const observed = await this.observe(md);
    const plan = planModelDeployment(observed, (this.deps.router ?? defaultRouter)(md.spec.rollout.trafficRouting));
    const { kube, logger } = this.deps;
    const namespace = key.namespace;
    for (const d of plan.deployments) {
      const existing = observed.revisions.get(d.metadata.name);
      if (!existing) {
        const created = await kube.create(deploymentRef, d, { alreadyExistsOk: true });
        if (created.created) logger.info('server deployment created', { namespace, name: key.name, revision: d.metadata.name, replicas: d.spec.replicas });
      } else if (existing.replicas !== d.spec.replicas) {
        await kube.patch(deploymentRef, { namespace, name: d.metadata.name }, { spec: { replicas: d.spec.replicas } });
      }
    }
    for (const s of plan.scale) await kube.patch(deploymentRef, { namespace, name: s.name }, { spec: { replicas: s.replicas } });
    for (const svc of plan.services) {
      const existing = observed.services.get(svc.metadata.name);
      if (!existing) {
        await kube.create(serviceRef, svc, { alreadyExistsOk: true });
      } else if (!sameLabels(existing.selector, svc.spec.selector)) {
        const selector: Record<string, string | null> = { ...svc.spec.selector };
        for (const k of Object.keys(existing.selector)) if (!(k in svc.spec.selector)) selector[k] = null;
        await kube.patch(serviceRef, { namespace, name: svc.metadata.name }, { spec: { selector } });
      }
    }
    let status = plan.status;
    const events = [...plan.events];
    if (plan.route) {
      const routeName = plan.route.metadata?.name ?? '';
      const ownership = routeOwnership(await this.deps.readRoute(namespace, routeName), md.metadata.uid);
      if (ownership === 'foreign') {
        status = withRouteNotOwned(plan.status, routeName, md.metadata.generation ?? 0, this.deps.clock.now());
        const before = md.status?.conditions?.find((c) => c.type === ConditionType.Degraded)?.reason;
        if (before !== Reason.RouteNotOwned) events.push({ type: 'Warning', reason: Reason.RouteNotOwned, note: routeNotOwnedMessage(routeName) });
      } else if (ownership === 'absent') {
        // Created by someone else since the read: AlreadyExists fails this reconcile, and the next one reads it again.
        await kube.create(httpRoutes, plan.route);
      } else {
        const r = plan.route as { metadata?: { labels?: unknown }; spec?: unknown };
        await kube.patch(httpRoutes, { namespace, name: routeName }, { metadata: { labels: r.metadata?.labels }, spec: r.spec });
      }
    }
    if (plan.feedbackSecret) {
      const created = await kube.create(secretRef, feedbackSecret(plan.feedbackSecret), { alreadyExistsOk: true });
      if (created.created) logger.info('feedback secret created', { namespace, name: key.name, secret: plan.feedbackSecret.name });
    }
    await this.deps.statusWriter.write(modelDeployments, md, status);
    for (const d of plan.deleteDeployments) {
      await kube.delete(deploymentRef, { namespace, name: d.name }, { propagationPolicy: 'Background', uid: d.uid });
      logger.info('server deployment deleted', { namespace, name: key.name, revision: d.name });
    }
    for (const e of events) await this.deps.events.event(md, e.type, e.reason, e.note);
    return plan.requeueAfterMs === undefined ? {} : { requeueAfterMs: plan.requeueAfterMs };
  }

  private async observe(md: ModelDeployment): Promise<Observed> {
    const namespace = md.metadata.namespace ?? '';
    const name = md.metadata.name ?? '';
    const nowMs = this.deps.clock.now();
    const owned = (o: KubeObject): boolean => o.metadata?.ownerReferences?.some((r) => r.controller === true && r.uid === md.metadata.uid) ?? false;
    const selector = selectorLabels(name);
    const revisions = new Map<string, ObservedRevision>();
    for (const d of this.deps.serverDeployments.list(namespace, selector) as DeploymentObject[]) {
      if (!owned(d)) continue;
      revisions.set(d.metadata?.name ?? '', {
        name: d.metadata?.name ?? '', uid: d.metadata?.uid ?? '', replicas: d.spec?.replicas ?? 0, readyReplicas: d.status?.readyReplicas ?? 0,
      });
    }
    const services = new Map<string, ObservedService>();
    for (const s of this.deps.services.list(namespace, selector) as ServiceLike[]) {
      if (!owned(s)) continue;
      services.set(s.metadata?.name ?? '', { name: s.metadata?.name ?? '', selector: s.spec?.selector ?? {} });
    }
    const store = this.deps.store;
    const pipelineName = md.spec.model.fromPipeline;
    const pipeline = pipelineName === undefined ? undefined : this.deps.pipelines.get(namespace, pipelineName) as TrainingPipeline | undefined;
    const tenancy = this.deps.tenancy;
    const desired: DesiredModel = store ? resolveDesiredModel(md, pipeline, store.bucket) : { kind: 'waiting', message: 'no object store' };
    const base = { md, nowMs, store, pipeline, tenancy, desired, revisions, services, candidate: undefined, stableInWindow: undefined, stableLive: undefined };
    // A deployment that is not accepted is not measured: nothing is fetched for a spec the plan will not act on.
    const source = metricSource(tenancy, md.spec.rollout.analysis.provider);
    if (source.kind === 'denied' || !isAccepted(reviewModelDeployment(md, pipeline, tenancy))) return base;
    const stableRevision = md.status?.stableRevision;
    const wanted = measurementsWanted(md, nowMs, stableRevision === undefined ? 0 : revisions.get(stableRevision)?.readyReplicas ?? 0);
    const provider = this.deps.metricProvider(source.kind === 'prometheus' ? source.url : undefined);
    const measure = async (w: MeasurementRequest['candidate']): Promise<MeasureResult | undefined> => {
      if (!w) return undefined;
      try {
        const m = await provider.measure({
          namespace, deployment: name, revisionHash: w.hash, version: w.version, port: md.spec.server.port, windowStartMs: w.windowStartMs, nowMs,
        });
        return { ok: true, m };
      } catch (e: unknown) {
        const reason = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        this.deps.logger.debug('no measurement', { namespace, name, revision: w.hash, reason });
        return { ok: false, reason: measurementProblem(e, source.kind) };
      }
    };
    const [candidate, stableInWindow, stableLive] = await Promise.all([measure(wanted.candidate), measure(wanted.stableWindow), measure(wanted.stableLive)]);
    return { ...base, candidate, stableInWindow, stableLive };
  }
}

/** A new feedback Secret: a random token for label senders and a random key that signs prediction ids. */
function feedbackSecret(s: NonNullable<ModelDeploymentPlan['feedbackSecret']>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: s.name, namespace: s.namespace, labels: { [Label.managedBy]: managedBy }, ownerReferences: [s.owner] },
    type: 'Opaque',
    stringData: { [feedbackSecretKeys.token]: randomBytes(24).toString('base64url'), [feedbackSecretKeys.signingKey]: randomBytes(32).toString('base64url') },
  } as KubeObject;
}

/**
 * Why there is no measurement, as the analysis records say it (status and Events). A Prometheus's own answer is
 * never repeated there: its words stay in the operator's log. The pods provider's words are the operator's own
 * about the deployment's own pods.
 */
export function measurementProblem(e: unknown, source: 'pods' | 'prometheus'): string {
  if (e instanceof NoValuesError) return `${e.name}: ${e.message}`;
  if (e instanceof ProviderError && source === 'pods') return `${e.name}: ${e.message}`;
  return `${e instanceof Error ? e.name : 'Error'}: the ${source === 'pods' ? 'pods' : 'Prometheus'} metric provider could not be asked (details in the operator's log)`;
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
