// Choose the candidate: which version the deployment rolls out, from the desired one and what status names
// (the transitions are rollout-state.ts's). Pure, table-tested.
import type { PlanContext } from './plan-context.js';
import { timeMs } from './plan-context.js';
import {
  dropCandidate, forgetAborted, holdAborted, rollBack, serveFirst, startRollout, type Draft, type Revision, type Start,
} from './rollout-state.js';
import { formatTime } from '../../runtime/conditions.js';

/**
 * With no stable version yet the first desired one is served directly: there is nothing to compare a candidate
 * against. Undefined while no version is known (the plan then waits, with no timer: the pipeline's watch brings
 * the champion).
 */
export function firstStable(ctx: PlanContext, start: Start): Draft | undefined {
  if (start.stable) return { ...start, stable: start.stable };
  return ctx.desired ? serveFirst(start, ctx.desired, ctx.nowMs) : undefined;
}

/** The previous version is wanted again while its pods still run (within rollbackWindow of the promotion). */
function withinRollbackWindow(ctx: PlanContext, d: Draft, desired: Revision): boolean {
  const promotedMs = timeMs(ctx.prev.promotedTime);
  return d.previous?.name === desired.name && promotedMs !== undefined && ctx.nowMs < promotedMs + ctx.rollbackWindowMs;
}

function towardsDesired(ctx: PlanContext, d: Draft, desired: Revision): Draft | undefined {
  if (desired.name === d.stable.name) return dropCandidate(d);
  if (withinRollbackWindow(ctx, d, desired)) return rollBack(d, desired, ctx.nowMs);
  if (desired.name === ctx.prev.abortedRevision && !ctx.commands.retry) return holdAborted(d, desired);
  if (d.canary?.name !== desired.name) return startRollout(d, desired, ctx.nowMs);
  return undefined;
}

/** A retry of a rollout paused by inconclusive analyses: its step's window starts again. */
function retryStep(ctx: PlanContext, d: Draft): Draft {
  if (!d.canary || !ctx.commands.retry || (d.status.inconclusiveCount ?? 0) === 0) return d;
  return { ...d, status: { ...d.status, inconclusiveCount: 0, stepStartTime: formatTime(ctx.nowMs) } };
}

export function chooseCandidate(ctx: PlanContext, d: Draft): Draft {
  const desired = ctx.desired;
  const chosen = (desired && towardsDesired(ctx, d, desired)) ?? retryStep(ctx, d);
  // A retry with no rollout of the aborted version to start forgets it: it may be rolled out again.
  const forget = ctx.commands.retry && chosen.canary === undefined && desired?.name !== ctx.prev.abortedRevision;
  return forget ? forgetAborted(chosen) : chosen;
}
