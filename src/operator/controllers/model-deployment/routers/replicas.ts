// The `replicas` router: no mesh. The stable Service `<md>` spreads requests over ready pods, so during canary
// steps it selects every revision of the md and the split follows ready replicas (rounded as replica-split.ts
// documents). Outside canary steps it selects the stable revision only, so a shadow candidate, a blue-green preview
// or a previous version kept for the rollback window gets no real traffic; switching back is a selector change.
import { splitReached, splitReplicas, weightFromReadyPods, canaryReplicas } from '../replica-split.js';
import type { RouteInput, RoutePlan, TrafficRouter } from './router.js';

export class ReplicasRouter implements TrafficRouter {
  plan(input: RouteInput): RoutePlan {
    const { total, stable, canary } = input;
    if (!canary || input.phase === 'stable') {
      return { replicas: { stable: total, canary: 0 }, stableServiceRevision: stable.hash, weight: 0, reached: true, route: undefined };
    }
    if (input.phase === 'shadow' || input.phase === 'preview') {
      const want = input.phase === 'preview' ? input.previewReplicas : canaryReplicas(total, input.mirrorPercent);
      return {
        replicas: { stable: total, canary: want },
        stableServiceRevision: stable.hash,
        weight: 0,
        reached: canary.ready >= want,
        route: undefined,
      };
    }
    const split = splitReplicas(total, input.weight, canary.ready);
    return {
      replicas: split,
      // Weight 0 keeps the candidate out of the Service even when it has pods.
      stableServiceRevision: input.weight > 0 ? undefined : stable.hash,
      weight: input.weight > 0 ? weightFromReadyPods(stable.ready, canary.ready) : 0,
      reached: splitReached(total, input.weight, stable.ready, canary.ready),
      route: undefined,
    };
  }
}
