// The `gatewayAPI` router: an HTTPRoute the operator owns splits traffic with exact weights between the stable
// Service (the stable revision only) and the canary Service, and mirrors requests to the candidate in the shadow
// phase (RequestMirror). Revisions keep their full pods while weights move, like Flagger's primary/canary.
import { createHash } from 'node:crypto';
import type { KubeObject } from '../../../runtime/resource.js';
import { canaryReplicas } from '../replica-split.js';
import { ownedLabels, serviceNames } from '../names.js';
import type { GatewayAPISettings, RouteInput, RoutePlan, TrafficRouter } from './router.js';

export const httpRouteApiVersion = 'gateway.networking.k8s.io/v1';

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
    return {
      replicas: { stable: total, canary: canaryWant },
      stableServiceRevision: stable.hash,
      weight,
      reached,
      route: this.route(input, canary !== undefined && input.phase !== 'stable' && input.phase !== 'preview', weight, mirror),
    };
  }

  private route(input: RouteInput, withCanary: boolean, weight: number, mirror: number | undefined): KubeObject {
    const backend = (name: string, w: number): Record<string, unknown> => ({ group: '', kind: 'Service', name, port: input.port, weight: w });
    const rule: Record<string, unknown> = {
      matches: [{ path: { type: 'PathPrefix', value: this.settings.pathPrefix ?? '/' } }],
      backendRefs: withCanary
        ? [backend(serviceNames.stable(input.md), 100 - weight), backend(serviceNames.canary(input.md), weight)]
        : [backend(serviceNames.stable(input.md), 100)],
      ...(mirror === undefined ? {} : {
        filters: [{
          type: 'RequestMirror',
          requestMirror: { backendRef: { group: '', kind: 'Service', name: serviceNames.canary(input.md), port: input.port }, percent: mirror },
        }],
      }),
    };
    const route = {
      apiVersion: httpRouteApiVersion,
      kind: 'HTTPRoute',
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

/** A short hash of a route's spec: the reconciler writes the route only when it changes (status.routeHash). */
export function routeHash(route: KubeObject): string {
  return createHash('sha256').update(JSON.stringify((route as { spec?: unknown }).spec ?? null)).digest('hex').slice(0, 16);
}
