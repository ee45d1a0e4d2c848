// Whose HTTPRoute it is. A deployment with trafficRouting GatewayAPI writes an HTTPRoute of its own name; one that
// exists without this deployment as its controller owner (another team's route, a route written by hand, another
// tool's) is never overwritten: the deployment says so in a Degraded condition and writes the route once it is
// gone. Pure; the reconciler reads the route (get by name) only when it is about to write it.
import { ConditionType, Reason } from '../../../api/conditions.js';
import type { ModelDeploymentStatus } from '../../../api/model-deployment.js';
import { type Condition, setCondition } from '../../runtime/conditions.js';
import type { KubeObject } from '../../runtime/resource.js';

export type RouteOwnership = 'absent' | 'ours' | 'foreign';
/** The routes a deployment may own: the HTTPRoute, and its GRPCRoute when the servers have a gRPC port. */
export type RouteKind = 'HTTPRoute' | 'GRPCRoute';

export function routeOwnership(existing: KubeObject | undefined, uid: string | undefined): RouteOwnership {
  if (existing === undefined) return 'absent';
  const controlled = existing.metadata?.ownerReferences?.some((r) => r.controller === true && uid !== undefined && r.uid === uid) ?? false;
  return controlled ? 'ours' : 'foreign';
}

export function routeNotOwnedMessage(route: string, kind: RouteKind = 'HTTPRoute'): string {
  return `${kind} ${route} exists and is not controlled by this ModelDeployment: it is left alone, so this deployment's traffic split is not applied. Delete or rename that route, or rename this ModelDeployment.`;
}

/**
 * The planned status when the route is someone else's: Degraded with RouteNotOwned, and no routeHash (the route
 * was not written, so the next reconcile looks again and writes it once the name is free).
 */
export function withRouteNotOwned(status: ModelDeploymentStatus, route: string, generation: number, nowMs: number, kind: RouteKind = 'HTTPRoute'): ModelDeploymentStatus {
  const { routeHash: _unwritten, ...rest } = status;
  const message = routeNotOwnedMessage(route, kind);
  const conditions = setCondition(status.conditions as Condition[] | undefined, {
    type: ConditionType.Degraded, status: 'True', reason: Reason.RouteNotOwned, message, observedGeneration: generation,
  }, nowMs);
  return { ...rest, phase: 'Degraded', conditions, message };
}
