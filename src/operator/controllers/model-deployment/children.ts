// The children to have: the server Deployments of the revisions kept (stable; the candidate while a rollout runs;
// the previous stable one for the rollback window, at full size and never re-created), with the replicas the
// traffic wants; every other Deployment the md controls is deleted. The Services `<md>`, `<md>-canary`,
// `<md>-preview` (blue-green) and `<md>-feedback`; the HTTPRoute when its hash changed; the server settings
// ConfigMap `<md>-server` when it changed (server-settings.ts); the feedback Secret once. Pure, table-tested.
import type { KubeObject, OwnerReference } from '../../runtime/resource.js';
import { autoscalerWrite, scaleStatus, type AutoscalerWrite } from './autoscaler.js';
import { feedbackSecretName, serviceNames } from './names.js';
import type { PlanContext } from './plan-context.js';
import { omit, type Draft, type Revision } from './rollout-state.js';
import { routeHash } from './routers/gateway-api.js';
import type { RoutePlan } from './routers/router.js';
import { buildServerDeployment, buildService, type ServerDeployment, type ServiceObject } from './server-deployment.js';
import { settingsConfigMap, type ConfigMapObject } from './server-settings.js';

export interface Children {
  /**
   * Deployments to have: created when missing, else only spec.replicas and spec.progressDeadlineSeconds are patched
   * (a revision's pods never change).
   */
  readonly deployments: readonly ServerDeployment[];
  /** Existing Deployments whose replicas change (the previous revision, kept for rollbackWindow). */
  readonly scale: ReadonlyArray<{ readonly name: string; readonly replicas: number }>;
  readonly deleteDeployments: ReadonlyArray<{ readonly name: string; readonly uid: string }>;
  /** Services to have: created when missing, else their selector is patched when it differs. */
  readonly services: readonly ServiceObject[];
  /** The HTTPRoute to write (only when its hash differs from status.routeHash). */
  readonly route: KubeObject | undefined;
  /** The GRPCRoute to write with it (server.grpcPort set). */
  readonly grpcRoute: KubeObject | undefined;
  /** The hash of the route the router owns (undefined: it owns none). */
  readonly routeHash: string | undefined;
  /**
   * The feedback Secret to create with fresh random values, once (status.feedbackSecret records it); never when the
   * spec names its own Secret. AlreadyExists is success: an existing Secret is never read or overwritten.
   */
  readonly feedbackSecret: { readonly name: string; readonly namespace: string; readonly owner: OwnerReference } | undefined;
  /** The server settings ConfigMap to write (only when its hash differs from status.settingsHash), before the Deployments. */
  readonly settings: ConfigMapObject | undefined;
  /** The hash of the settings the servers should read now. */
  readonly settingsHash: string;
  /** The HorizontalPodAutoscaler to write or delete (server.autoscaling; written only when its hash changed). */
  readonly autoscaler: AutoscalerWrite;
  /** The scale subresource's status: pods wanted across the revisions taking traffic, and their selector. */
  readonly scaleStatus: { readonly replicas: number; readonly selector: string };
}

function deploymentsOf(ctx: PlanContext, d: Draft, route: RoutePlan): ServerDeployment[] {
  const revision = (r: Revision, replicas: number): ServerDeployment => buildServerDeployment({
    namespace: ctx.namespace, md: ctx.name, owner: ctx.owner, hash: r.hash, model: r.model, server: ctx.spec.server, store: ctx.store, replicas,
    progressDeadlineSeconds: Math.round(ctx.progressDeadlineMs / 1000),
  });
  return [revision(d.stable, route.replicas.stable), ...(d.canary ? [revision(d.canary, route.replicas.canary)] : [])];
}

function servicesOf(ctx: PlanContext, d: Draft, route: RoutePlan): ServiceObject[] {
  const { namespace, name, owner, spec } = ctx;
  const service = (serviceName: string, revisionHash: string | undefined): ServiceObject =>
    buildService({ namespace, md: name, name: serviceName, owner, port: spec.server.port, grpcPort: spec.server.grpcPort, revisionHash });
  const candidateHash = d.canary?.hash ?? d.stable.hash;
  return [
    service(serviceNames.stable(name), route.stableServiceRevision),
    service(serviceNames.canary(name), candidateHash),
    ...(spec.rollout.strategy === 'BlueGreen' ? [service(serviceNames.preview(name), candidateHash)] : []),
    buildService({ namespace, md: name, name: serviceNames.feedback(name), owner, port: spec.server.feedback.port, revisionHash: undefined, portName: 'feedback' }),
  ];
}

export function childrenOf(ctx: PlanContext, d: Draft, route: RoutePlan): Children {
  const { observed, total } = ctx;
  const keep = new Set([d.stable.name, d.canary?.name, d.previous?.name].filter((n): n is string => n !== undefined));
  // The previous revision keeps its pods (an instant rollback needs them ready); it is never re-created.
  const previous = d.previous === undefined ? undefined : observed.revisions.get(d.previous.name);
  const secretName = feedbackSecretName(ctx.name, ctx.spec.server);
  const hash = route.route ? routeHash(route.route, route.grpcRoute) : undefined;
  const settings = settingsConfigMap(ctx, d);
  return {
    deployments: deploymentsOf(ctx, d, route),
    scale: previous && previous.replicas !== total ? [{ name: previous.name, replicas: total }] : [],
    deleteDeployments: [...observed.revisions.values()].filter((r) => !keep.has(r.name)).map((r) => ({ name: r.name, uid: r.uid })),
    services: servicesOf(ctx, d, route),
    route: hash !== undefined && hash !== ctx.prev.routeHash ? route.route : undefined,
    grpcRoute: hash !== undefined && hash !== ctx.prev.routeHash ? route.grpcRoute : undefined,
    routeHash: hash,
    feedbackSecret: ctx.spec.server.feedback.secretName === undefined && ctx.prev.feedbackSecret !== secretName
      ? { name: secretName, namespace: ctx.namespace, owner: ctx.owner } : undefined,
    settings: settings.hash === ctx.prev.settingsHash ? undefined : settings.configMap,
    settingsHash: settings.hash,
    autoscaler: autoscalerWrite({ namespace: ctx.namespace, md: ctx.name, owner: ctx.owner, autoscaling: ctx.spec.server.autoscaling }, ctx.prev.autoscalerHash),
    scaleStatus: scaleStatus(ctx.name, [
      { hash: d.stable.hash, replicas: route.replicas.stable },
      ...(d.canary ? [{ hash: d.canary.hash, replicas: route.replicas.canary }] : []),
    ]),
  };
}

/**
 * Status records the route written (status.routeHash), the server settings written (status.settingsHash), the
 * HorizontalPodAutoscaler written (status.autoscalerHash), the scale subresource's replicas and selector, and the
 * feedback Secret created (status.feedbackSecret).
 */
export function withChildren(d: Draft, c: Children): Draft {
  const hpa = c.autoscaler.kind === 'delete' ? undefined : c.autoscaler.hash;
  const base = c.routeHash === undefined ? omit(d.status, 'routeHash') : { ...d.status, routeHash: c.routeHash };
  const scaled = hpa === undefined ? omit(base, 'autoscalerHash') : { ...base, autoscalerHash: hpa };
  const routed = { ...scaled, ...c.scaleStatus, settingsHash: c.settingsHash };
  return { ...d, status: c.feedbackSecret ? { ...routed, feedbackSecret: c.feedbackSecret.name } : routed };
}
