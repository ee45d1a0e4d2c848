// A revision whose server pods do not become ready (an image that cannot be pulled, a container that keeps
// crashing, a readiness probe that keeps failing): the Deployment's own Progressing condition says when to give up
// (ProgressDeadlineExceeded after spec.rollout.progressDeadline, set as its progressDeadlineSeconds), and its pods
// say why (pod-faults.ts). As Argo Rollouts does with progressDeadlineAbort:
//
//   the candidate's Deployment gave up → ABORTED: all traffic stays on the stable version, untouched; the
//                                        message names the cause (rollout-state.ts abortCandidate)
//   the stable Deployment gave up      → Degraded=True/ProgressDeadlineExceeded naming the cause, one Warning event;
//                                        what serves keeps serving (nothing to roll back to)
//   no pod of the stable version ready → Available=False names the cause (rollout-status.ts; a missing Secret with
//                                        reason ConfigMissing); looked at again until a pod says why: after the
//                                        analysis interval, then after as long as it has been unexplained, at most
//                                        every 5 minutes (look-again.ts)
//
// A Deployment reports the deadline only while it rolls its pods out, never after they were once all available
// (scaling is not progress): a stable version whose pods crash later is told by Available and its pods. When the
// pods become ready after all, the Deployment's condition turns back and so does Degraded. Pure, table-tested.
import { ConditionType, Reason } from '../../../api/conditions.js';
import { lookAgainAfterMs } from '../look-again.js';
import { describeFault } from '../pod-faults.js';
import { readyOf, replicasOf, timeMs, type PlanContext } from './plan-context.js';
import { abortCandidate, withEvent, type Draft } from './rollout-state.js';

/** What holds a revision's pods, in words, or undefined when its pods say nothing. */
export function podCause(ctx: PlanContext, r: { readonly name: string } | undefined): string | undefined {
  const fault = r === undefined ? undefined : ctx.observed.revisions.get(r.name)?.podFault;
  return fault === undefined ? undefined : describeFault(fault);
}

/** Why the revision's Deployment gave up, when it did: "did not become ready within ...", with what its pods say. */
export function deadlineExceeded(ctx: PlanContext, r: { readonly name: string } | undefined): string | undefined {
  if (r === undefined || ctx.observed.revisions.get(r.name)?.deadlineExceeded !== true) return undefined;
  const cause = podCause(ctx, r);
  return `did not become ready within spec.rollout.progressDeadline (${ctx.spec.rollout.progressDeadline})${cause === undefined ? '' : `: ${cause}`}`;
}

/** ROLLING → ABORTED when the candidate's Deployment gave up on its pods. */
export function abortStuckCandidate(ctx: PlanContext, d: Draft): Draft {
  const why = deadlineExceeded(ctx, d.canary);
  return why === undefined ? d : abortCandidate(d, `${Reason.ProgressDeadlineExceeded}: its pods ${why}`);
}

/** Since when no pod of the stable version is ready, as Available=False says (its lastTransitionTime). */
function unavailableSinceMs(ctx: PlanContext): number | undefined {
  const available = ctx.prev.conditions?.find((c) => c.type === ConditionType.Available);
  return available?.status === 'False' ? timeMs(available.lastTransitionTime) : undefined;
}

/**
 * No pod of the stable version ready and none says why yet (a pod the kubelet has not tried to start, e.g. before it
 * finds a Secret missing): looked at again (lookAgainAfterMs), since a waiting pod changes nothing the operator
 * watches, so Available names the cause well before the progress deadline.
 */
function lookAgainWhileUnexplained(ctx: PlanContext, d: Draft): Draft {
  const unexplained = replicasOf(ctx, d.stable) > 0 && readyOf(ctx, d.stable) === 0 && podCause(ctx, d.stable) === undefined;
  return unexplained ? { ...d, requeues: [...d.requeues, lookAgainAfterMs(unavailableSinceMs(ctx), ctx.nowMs, ctx.intervalMs)] } : d;
}

/** The Degraded message of a stable version whose Deployment gave up, or undefined. */
export function stuckStableMessage(ctx: PlanContext, d: Draft): string | undefined {
  const why = deadlineExceeded(ctx, d.stable);
  return why === undefined ? undefined : `The pods of ${d.stable.version} ${why}.`;
}

/**
 * The stable version's Deployment gave up: said once, as Degraded turns to it (rollout-status.ts keeps it said).
 * While its pods say nothing yet (an image pull still under way), it is looked at again (lookAgainAfterMs):
 * the Deployment, having given up, changes no more, and the cause would otherwise never be named.
 */
export function tellStuckStable(ctx: PlanContext, d: Draft): Draft {
  const message = stuckStableMessage(ctx, d);
  if (message === undefined) return lookAgainWhileUnexplained(ctx, d);
  const told = ctx.prev.conditions?.find((c) => c.type === 'Degraded')?.reason === Reason.ProgressDeadlineExceeded;
  const requeues = podCause(ctx, d.stable) === undefined ? [...d.requeues, lookAgainAfterMs(unavailableSinceMs(ctx), ctx.nowMs, ctx.intervalMs)] : d.requeues;
  const said: Draft = { ...d, message: d.message || message, requeues };
  return told ? said : withEvent(said, 'Warning', Reason.ProgressDeadlineExceeded, message);
}
