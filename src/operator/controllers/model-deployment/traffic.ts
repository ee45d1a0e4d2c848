// The traffic a step wants, from the router: which phase the candidate is in, its target weight or mirror share,
// and the revisions' readiness. Promotion gives the candidate every pod before the switch. Pure.
import { weightAt } from './canary-steps.js';
import { readyOf, replicasOf, type PlanContext } from './plan-context.js';
import type { Draft } from './rollout-state.js';
import type { RoutePlan, TrafficPhase } from './routers/router.js';

function phaseAt(ctx: PlanContext, d: Draft, index: number): TrafficPhase {
  if (!d.canary) return 'stable';
  const kind = ctx.steps[index]?.kind;
  return kind === 'shadow' ? 'shadow' : kind === 'preview' ? 'preview' : 'canary';
}

/** The route while step `index` runs; `forPromotion`: the candidate is being given every pod. */
export function trafficFor(ctx: PlanContext, d: Draft, index: number, forPromotion: boolean): RoutePlan {
  const step = ctx.steps[index];
  const phase = phaseAt(ctx, d, index);
  const plan = ctx.router.plan({
    namespace: ctx.namespace, md: ctx.name, owner: ctx.owner, port: ctx.spec.server.port, grpcPort: ctx.spec.server.grpcPort, total: ctx.total, phase,
    weight: forPromotion ? 100 : weightAt(ctx.steps, index),
    mirrorPercent: step?.kind === 'shadow' ? step.percent : 0,
    previewReplicas: ctx.spec.rollout.blueGreen?.previewReplicas ?? ctx.total,
    stable: { hash: d.stable.hash, ready: readyOf(ctx, d.stable), replicas: replicasOf(ctx, d.stable) },
    canary: d.canary ? { hash: d.canary.hash, ready: readyOf(ctx, d.canary) } : undefined,
  });
  // Shadow and preview promote like a canary at 100%: both revisions at full size until the candidate is ready.
  if (!forPromotion || phase === 'canary') return plan;
  return { ...plan, replicas: { stable: ctx.total, canary: ctx.total }, reached: readyOf(ctx, d.canary) >= ctx.total };
}
