// ModelDeployment reconcile: observe (observe.ts) → plan (pure, plan.ts) → apply: the server settings ConfigMap
// (created, else patched, when its hash changed) → server Deployments (created when
// missing, else only replicas and progressDeadlineSeconds patched), Services (selector patched when it differs), the HTTPRoute (written only
// when its hash changes, and only when it is this deployment's), the feedback Secret once → ONE status write →
// the plan's events, right after it (jobset's order: a later write that fails cannot lose them) → Deployments no
// longer kept are deleted (after the status that stops referring to them).
import { randomBytes } from 'node:crypto';
import { ConditionType, Reason } from '../../../api/conditions.js';
import { Label, managedBy } from '../../../api/labels.js';
import type { ModelDeployment, ModelDeploymentStatus } from '../../../api/model-deployment.js';
import { NotFoundError } from '../../runtime/errors.js';
import type { CacheReader } from '../../runtime/informer.js';
import type { KubeClient } from '../../runtime/kube.js';
import type { ObjectKey, ReconcileResult, Reconciler } from '../../runtime/manager.js';
import type { KubeObject } from '../../runtime/resource.js';
import { configMaps, deployments as deploymentRef, grpcRoutes, horizontalPodAutoscalers, httpRoutes, modelDeployments, secrets as secretRef, services as serviceRef } from '../../resources.js';
import type { PlannedEvent } from '../planned-event.js';
import type { ReconcilerDeps } from '../reconciler-deps.js';
import { feedbackSecretKeys } from './names.js';
import { observe, type ObserveDeps } from './observe.js';
import type { Observed } from './observed.js';
import { planModelDeployment, type ModelDeploymentPlan } from './plan.js';
import { routeNotOwnedMessage, routeOwnership, withRouteNotOwned, type RouteKind } from './route-ownership.js';
import { samePorts } from './server-deployment.js';
import { GatewayAPIRouter } from './routers/gateway-api.js';
import { ReplicasRouter } from './routers/replicas.js';
import type { TrafficRouter } from './routers/router.js';

type Rollout = ModelDeployment['spec']['rollout'];

export interface ModelDeploymentReconcilerDeps extends ReconcilerDeps, ObserveDeps {
  /** The ModelDeployments' cache. */
  readonly deployments: CacheReader<KubeObject>;
  readonly kube: KubeClient;
  /** Reads the HTTPRoute (or the GRPCRoute) of this name (get by name; undefined when there is none). */
  readonly readRoute: (namespace: string, name: string, kind?: RouteKind) => Promise<KubeObject | undefined>;
  /** The traffic router for a deployment's trafficRouting; default replicas / gatewayAPI. */
  readonly router?: (routing: Rollout['trafficRouting']) => TrafficRouter;
}

export function defaultRouter(routing: Rollout['trafficRouting']): TrafficRouter {
  return routing.type === 'GatewayAPI' && routing.gatewayAPI ? new GatewayAPIRouter(routing.gatewayAPI) : new ReplicasRouter();
}

/** The status and events to write once the route has been dealt with. */
interface Outcome {
  readonly status: ModelDeploymentStatus;
  readonly events: readonly PlannedEvent[];
}

export class ModelDeploymentReconciler implements Reconciler {
  constructor(private readonly deps: ModelDeploymentReconcilerDeps) {}

  async reconcile(key: ObjectKey): Promise<ReconcileResult> {
    const md = this.deps.deployments.get(key.namespace, key.name) as ModelDeployment | undefined;
    if (!md || md.metadata.deletionTimestamp) return {}; // children go with it by garbage collection
    const observed = await observe(this.deps, md, this.deps.clock.now());
    const plan = planModelDeployment(observed, (this.deps.router ?? defaultRouter)(md.spec.rollout.trafficRouting));
    await this.applySettings(md, plan);
    await this.applyDeployments(md, observed, plan);
    await this.applyServices(md, observed, plan);
    await this.applyAutoscaler(md, plan);
    const outcome = await this.applyRoute(md, plan);
    await this.createFeedbackSecret(md, plan);
    await this.deps.statusWriter.write(modelDeployments, md, outcome.status);
    for (const e of outcome.events) await this.deps.events.event(md, e.type, e.reason, e.note);
    await this.deleteRevisions(md, plan);
    return plan.requeueAfterMs === undefined ? {} : { requeueAfterMs: plan.requeueAfterMs };
  }

  private async applyDeployments(md: ModelDeployment, observed: Observed, plan: ModelDeploymentPlan): Promise<void> {
    const { kube, logger } = this.deps;
    const namespace = md.metadata.namespace ?? '';
    for (const d of plan.deployments) {
      const existing = observed.revisions.get(d.metadata.name);
      if (!existing) {
        const created = await kube.create(deploymentRef, d, { alreadyExistsOk: true });
        if (created.created) logger.info('server deployment created', { namespace, name: md.metadata.name, revision: d.metadata.name, replicas: d.spec.replicas });
      } else if (existing.replicas !== d.spec.replicas || existing.progressDeadlineSeconds !== d.spec.progressDeadlineSeconds) {
        await kube.patch(deploymentRef, { namespace, name: d.metadata.name }, { spec: { replicas: d.spec.replicas, progressDeadlineSeconds: d.spec.progressDeadlineSeconds } });
      }
    }
    for (const s of plan.scale) await kube.patch(deploymentRef, { namespace, name: s.name }, { spec: { replicas: s.replicas } });
  }

  /**
   * The server settings ConfigMap, before the Deployments (a new revision's pods read it at start): patched when
   * status says it was written before (created if it is gone), else created (patched if it already exists).
   */
  private async applySettings(md: ModelDeployment, plan: ModelDeploymentPlan): Promise<void> {
    const settings = plan.settings;
    if (!settings) return;
    const { kube } = this.deps;
    const patch = (): Promise<unknown> => kube.patch(configMaps, { namespace: md.metadata.namespace ?? '', name: settings.metadata.name }, { data: settings.data });
    if (md.status?.settingsHash !== undefined) {
      try {
        await patch();
        return;
      } catch (e: unknown) {
        if (!(e instanceof NotFoundError)) throw e;
      }
    }
    if (!(await kube.create(configMaps, settings, { alreadyExistsOk: true })).created) await patch();
  }

  private async applyServices(md: ModelDeployment, observed: Observed, plan: ModelDeploymentPlan): Promise<void> {
    const namespace = md.metadata.namespace ?? '';
    for (const svc of plan.services) {
      const existing = observed.services.get(svc.metadata.name);
      if (!existing) {
        await this.deps.kube.create(serviceRef, svc, { alreadyExistsOk: true });
      } else if (!sameLabels(existing.selector, svc.spec.selector)) {
        const selector: Record<string, string | null> = { ...svc.spec.selector };
        for (const k of Object.keys(existing.selector)) if (!(k in svc.spec.selector)) selector[k] = null;
        await this.deps.kube.patch(serviceRef, { namespace, name: svc.metadata.name }, { spec: { selector } });
      }
      // Ports follow the spec (server.port, server.grpcPort): a Service made before the gRPC port existed gets it.
      if (existing?.ports !== undefined && !samePorts(existing.ports, svc.spec.ports)) {
        await this.deps.kube.patch(serviceRef, { namespace, name: svc.metadata.name }, { spec: { ports: svc.spec.ports } });
      }
    }
  }

  /** The HorizontalPodAutoscaler: patched when status says it was written before (created if it is gone), else created. */
  private async applyAutoscaler(md: ModelDeployment, plan: ModelDeploymentPlan): Promise<void> {
    const { kube } = this.deps;
    const namespace = md.metadata.namespace ?? '';
    const a = plan.autoscaler;
    if (a.kind === 'delete') {
      await kube.delete(horizontalPodAutoscalers, { namespace, name: a.name });
      return;
    }
    if (a.kind !== 'write') return;
    const name = a.object.metadata?.name ?? '';
    const patch = (): Promise<unknown> => kube.patch(horizontalPodAutoscalers, { namespace, name }, { metadata: { labels: a.object.metadata?.labels }, spec: (a.object as { spec?: unknown }).spec });
    if (md.status?.autoscalerHash !== undefined) {
      try {
        await patch();
        return;
      } catch (e: unknown) {
        if (!(e instanceof NotFoundError)) throw e;
      }
    }
    if (!(await kube.create(horizontalPodAutoscalers, a.object, { alreadyExistsOk: true })).created) await patch();
  }

  /**
   * Writes the routes (the HTTPRoute, then its GRPCRoute) when they are this deployment's (or nobody's); a foreign one
   * is left alone and said so, once.
   */
  private async applyRoute(md: ModelDeployment, plan: ModelDeploymentPlan): Promise<Outcome> {
    const planned = { status: plan.status, events: plan.events };
    const routes = [['HTTPRoute', plan.route], ['GRPCRoute', plan.grpcRoute]] as const;
    for (const [kind, route] of routes) {
      if (!route || (await this.writeRoute(md, kind, route)) === 'written') continue;
      const routeName = route.metadata?.name ?? '';
      const status = withRouteNotOwned(plan.status, routeName, md.metadata.generation ?? 0, this.deps.clock.now(), kind);
      const before = md.status?.conditions?.find((c) => c.type === ConditionType.Degraded)?.reason;
      const told = before === Reason.RouteNotOwned;
      return { status, events: told ? plan.events : [...plan.events, { type: 'Warning', reason: Reason.RouteNotOwned, note: routeNotOwnedMessage(routeName, kind) }] };
    }
    return planned;
  }

  /** Creates or patches one route of this deployment; 'foreign' when a route of that name is someone else's. */
  private async writeRoute(md: ModelDeployment, kind: RouteKind, route: KubeObject): Promise<'written' | 'foreign'> {
    const { kube } = this.deps;
    const namespace = md.metadata.namespace ?? '';
    const routeName = route.metadata?.name ?? '';
    const ownership = routeOwnership(await this.deps.readRoute(namespace, routeName, kind), md.metadata.uid);
    if (ownership === 'foreign') return 'foreign';
    if (ownership === 'ours') {
      const r = route as { metadata?: { labels?: unknown }; spec?: unknown };
      const body = { metadata: { labels: r.metadata?.labels }, spec: r.spec };
      await (kind === 'GRPCRoute' ? kube.patch(grpcRoutes, { namespace, name: routeName }, body) : kube.patch(httpRoutes, { namespace, name: routeName }, body));
      return 'written';
    }
    try {
      // Created by someone else since the read: AlreadyExists fails this reconcile, and the next one reads it again.
      await (kind === 'GRPCRoute' ? kube.create(grpcRoutes, route) : kube.create(httpRoutes, route));
    } catch (e: unknown) {
      // A cluster whose Gateway API predates GRPCRoute (v1.1): HTTP is routed, gRPC is not; said in the log.
      if (!(e instanceof NotFoundError && kind === 'GRPCRoute')) throw e;
      this.deps.logger.warn('GRPCRoute not written: the cluster serves no grpcroutes.gateway.networking.k8s.io (Gateway API v1.1 or later)', { namespace, name: md.metadata.name });
    }
    return 'written';
  }

  private async createFeedbackSecret(md: ModelDeployment, plan: ModelDeploymentPlan): Promise<void> {
    if (!plan.feedbackSecret) return;
    const created = await this.deps.kube.create(secretRef, feedbackSecret(plan.feedbackSecret), { alreadyExistsOk: true });
    if (created.created) this.deps.logger.info('feedback secret created', { namespace: md.metadata.namespace, name: md.metadata.name, secret: plan.feedbackSecret.name });
  }

  private async deleteRevisions(md: ModelDeployment, plan: ModelDeploymentPlan): Promise<void> {
    const namespace = md.metadata.namespace ?? '';
    for (const d of plan.deleteDeployments) {
      await this.deps.kube.delete(deploymentRef, { namespace, name: d.name }, { propagationPolicy: 'Background', uid: d.uid });
      this.deps.logger.info('server deployment deleted', { namespace, name: md.metadata.name, revision: d.name });
    }
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

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}
