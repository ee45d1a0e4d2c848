// The `gatewayAPI` router: an HTTPRoute the operator owns splits traffic with exact weights between the stable
// Service (the stable revision only) and the canary Service, and mirrors requests to the candidate in the shadow
// phase (RequestMirror). Revisions keep their full pods while weights move, like Flagger's primary/canary. With a
// gRPC port, a GRPCRoute of the same name, parents and hostnames carries the same weights and mirror to the
// Services' gRPC port, so gRPC clients see the same split as REST clients.
import { createHash } from 'node:crypto';
import type { KubeObject } from '../../../runtime/resource.js';
import { canaryReplicas } from '../replica-split.js';
import { ownedLabels, serviceNames } from '../names.js';
import type { GatewayAPISettings, RouteInput, RoutePlan, TrafficRouter } from './router.js';

export const httpRouteApiVersion = 'gateway.networking.k8s.io/v1';
export const grpcRouteApiVersion = 'gateway.networking.k8s.io/v1';

export class GatewayAPIRouter implements TrafficRouter {
  constructor(private readonly settings: GatewayAPISettings) {}

  plan(input: RouteInput): RoutePlan {
    const { total, stable, canary } = input;
    let canaryWant = 0;
    let weight = 0;
    let mirror: number | undefined;
    if (canary && input.phase === 'canary') {
      canaryWant = canaryReplicas(total, Math.max(1, input.weight));
      weight = input.weight;
    } else if (canary && input.phase === 'shadow') {
      canaryWant = canaryReplicas(total, input.mirrorPercent);
      mirror = input.mirrorPercent;
    } else if (canary && input.phase === 'preview') {
      canaryWant = input.previewReplicas;
    }
    // No weight to a revision without ready pods: an unready candidate gets none, an unready stable gives way.
    if (!canary || canary.ready === 0) {
      weight = 0;
      mirror = undefined;
    } else if (stable.ready === 0 && weight > 0) {
      weight = 100;
    }
    const reached = !canary || input.phase === 'stable' || canary.ready >= canaryWant;
    const withCanary = canary !== undefined && input.phase !== 'stable' && input.phase !== 'preview';
    return {
      replicas: { stable: total, canary: canaryWant },
      stableServiceRevision: stable.hash,
      weight,
      reached,
      route: this.route(input, 'HTTPRoute', input.port, withCanary, weight, mirror),
      grpcRoute: input.grpcPort ? this.route(input, 'GRPCRoute', input.grpcPort, withCanary, weight, mirror) : undefined,
    };
  }

  /** The HTTPRoute (matching the path prefix) or the GRPCRoute (every method) to `port` of the Services. */
  private route(input: RouteInput, kind: 'HTTPRoute' | 'GRPCRoute', port: number, withCanary: boolean, weight: number, mirror: number | undefined): KubeObject {
    const backend = (name: string, w: number): Record<string, unknown> => ({ group: '', kind: 'Service', name, port, weight: w });
    const rule: Record<string, unknown> = {
      ...(kind === 'HTTPRoute' ? { matches: [{ path: { type: 'PathPrefix', value: this.settings.pathPrefix ?? '/' } }] } : {}),
      backendRefs: withCanary
        ? [backend(serviceNames.stable(input.md), 100 - weight), backend(serviceNames.canary(input.md), weight)]
        : [backend(serviceNames.stable(input.md), 100)],
      ...(mirror === undefined ? {} : {
        filters: [{
          type: 'RequestMirror',
          requestMirror: { backendRef: { group: '', kind: 'Service', name: serviceNames.canary(input.md), port }, percent: mirror },
        }],
      }),
    };
    const route = {
      apiVersion: kind === 'HTTPRoute' ? httpRouteApiVersion : grpcRouteApiVersion,
      kind,
      metadata: {
        name: input.md,
        namespace: input.namespace,
        labels: ownedLabels(input.md),
        ownerReferences: [input.owner],
      },
      spec: {
        parentRefs: this.settings.parentRefs.map((p) => ({
          group: 'gateway.networking.k8s.io', kind: 'Gateway', name: p.name,
          ...(p.namespace ? { namespace: p.namespace } : {}), ...(p.sectionName ? { sectionName: p.sectionName } : {}),
        })),
        ...(this.settings.hostnames && this.settings.hostnames.length > 0 ? { hostnames: [...this.settings.hostnames] } : {}),
        rules: [rule],
      },
    };
    return route;
  }
}

/**
 * A short hash of a route's spec, and of its GRPCRoute's when there is one: the reconciler writes the routes only when
 * it changes (status.routeHash). Without a GRPCRoute the hash is the HTTPRoute's alone, as before there were two.
 */
export function routeHash(route: KubeObject, grpcRoute?: KubeObject): string {
  const spec = (r: KubeObject): unknown => (r as { spec?: unknown }).spec ?? null;
  const hashed = grpcRoute === undefined ? spec(route) : [spec(route), spec(grpcRoute)];
  return createHash('sha256').update(JSON.stringify(hashed)).digest('hex').slice(0, 16);
}
