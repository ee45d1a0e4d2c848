// The rollback window: after a promotion the previous revision keeps its pods for spec.rollout.rollbackWindow, so
// wanting it back switches at once (candidate.ts). When the window ends it is no longer kept (children.ts then
// deletes its Deployment); until then the deployment is looked at again when it ends. Pure, table-tested.
import { timeMs, type PlanContext } from './plan-context.js';
import { endRollbackWindow, type Draft } from './rollout-state.js';

export function rollbackWindow(ctx: PlanContext, d: Draft): Draft {
  const promoted = timeMs(d.status.promotedTime);
  if (!d.previous || promoted === undefined) return d;
  const ends = promoted + ctx.rollbackWindowMs;
  return ctx.nowMs >= ends ? endRollbackWindow(d) : { ...d, requeues: [...d.requeues, ends - ctx.nowMs] };
}
