// The status a plan writes: the weights actually in place, the revisions' readiness, the conditions (Available,
// Progressing, Degraded, Paused), the phase and a sentence. Pure, table-tested.
import { Annotation, ConditionType, Reason } from '../../../api/conditions.js';
import type { DeploymentPhase, ModelDeploymentStatus } from '../../../api/model-deployment.js';
import { type Condition, type ConditionInput, setCondition } from '../../runtime/conditions.js';
import { readyOf, type PlanContext } from './plan-context.js';
import { podCause, stuckStableMessage } from './progress-deadline.js';
import { omit, type Draft } from './rollout-state.js';
import type { RoutePlan } from './routers/router.js';

type Status = ModelDeploymentStatus;
type ConditionOf = Omit<ConditionInput, 'observedGeneration'>;

/** The candidate's version is the aborted one (still wanted): Degraded until a retry or a newer version. */
function abortedWanted(ctx: PlanContext, d: Draft): boolean {
  return d.status.abortedRevision !== undefined && ctx.desired?.name === d.status.abortedRevision;
}

function availableCondition(ctx: PlanContext, d: Draft): ConditionOf {
  const ready = readyOf(ctx, d.stable);
  const cause = podCause(ctx, d.stable);
  // A Secret missing from the namespace (the store credentials, the feedback Secret) is the user's to create: said
  // by its own reason, naming the Secret.
  const reason = ctx.observed.revisions.get(d.stable.name)?.podFault?.kind === 'configMissing' ? Reason.ConfigMissing : Reason.ReplicasUnavailable;
  return ready >= 1
    ? { type: ConditionType.Available, status: 'True', reason: Reason.ReplicasReady, message: `${ready}/${ctx.total} pods of ${d.stable.version} ready.` }
    : { type: ConditionType.Available, status: 'False', reason, message: cause === undefined ? `No ready pod of ${d.stable.version} yet.` : `No ready pod of ${d.stable.version}: ${cause}.` };
}

function progressingCondition(d: Draft): ConditionOf {
  return d.canary
    ? { type: ConditionType.Progressing, status: 'True', reason: Reason.RolloutProgressing, message: d.message || `Rolling out ${d.canary.version}.` }
    : { type: ConditionType.Progressing, status: 'False', reason: Reason.RolloutComplete, message: `${d.stable.version} is stable.` };
}

function degradedCondition(ctx: PlanContext, d: Draft): ConditionOf {
  const stuck = stuckStableMessage(ctx, d);
  if (stuck !== undefined) return { type: ConditionType.Degraded, status: 'True', reason: Reason.ProgressDeadlineExceeded, message: stuck };
  if (!abortedWanted(ctx, d)) {
    return { type: ConditionType.Degraded, status: 'False', reason: d.canary ? Reason.RolloutProgressing : Reason.RolloutComplete, message: 'Nothing needs attention.' };
  }
  const why = d.status.abortedMessage === undefined ? '' : ` (${d.status.abortedMessage})`;
  const message = `${d.status.abortedVersion ?? ''} was aborted${why} and rolled back; ${d.stable.version} serves. Retry with the ${Annotation.retry} annotation or spec.rollout.retry.`;
  return { type: ConditionType.Degraded, status: 'True', reason: Reason.RolloutAborted, message: message.slice(0, 4096) };
}

function pausedCondition(d: Draft): ConditionOf {
  return d.pausedReason
    ? { type: ConditionType.Paused, status: 'True', reason: d.pausedReason, message: d.message }
    : { type: ConditionType.Paused, status: 'False', reason: d.canary ? Reason.RolloutProgressing : Reason.RolloutComplete, message: 'Not paused.' };
}

export function conditionsOf(ctx: PlanContext, d: Draft): Condition[] {
  const inputs = [availableCondition(ctx, d), progressingCondition(d), degradedCondition(ctx, d), pausedCondition(d)];
  return inputs.reduce<Condition[]>((list, c) => setCondition(list, { ...c, observedGeneration: ctx.generation }, ctx.nowMs), [...ctx.conditions]);
}

export function phaseOf(ctx: PlanContext, d: Draft): DeploymentPhase {
  const ready = readyOf(ctx, d.stable);
  if (abortedWanted(ctx, d) || stuckStableMessage(ctx, d) !== undefined) return 'Degraded';
  if (d.pausedReason) return 'Paused';
  // Pending until a pod of the first stable version is ready; read from the previous phase as well as from the
  // previous stable revision, so the status written by the reconcile that chose the first version is a fixed point.
  if (d.canary || ready < 1) return ready < 1 && (!ctx.prev.stableRevision || ctx.prev.phase === 'Pending') ? 'Pending' : 'Progressing';
  return ready >= ctx.total ? 'Healthy' : 'Progressing';
}

function messageOf(ctx: PlanContext, d: Draft): string {
  const fallback = d.canary ? `Rolling out ${d.canary.version}.` : `${d.stable.version} serves ${readyOf(ctx, d.stable)}/${ctx.total} pods ready.`;
  return (d.message || fallback).slice(0, 4096);
}

/** Weights in place (0 to a candidate without ready pods: the router's figure) and readiness. */
function trafficStatus(ctx: PlanContext, d: Draft, route: RoutePlan): Status {
  const canaryWeight = d.canary ? route.weight : 0;
  const status: Status = { ...d.status, canaryWeight, stableWeight: 100 - canaryWeight, stableReadyReplicas: readyOf(ctx, d.stable) };
  return d.canary ? { ...status, canaryReadyReplicas: readyOf(ctx, d.canary) } : omit(status, 'canaryReadyReplicas');
}

export function rolloutStatus(ctx: PlanContext, d: Draft, route: RoutePlan): Status {
  return { ...trafficStatus(ctx, d, route), phase: phaseOf(ctx, d), conditions: conditionsOf(ctx, d), message: messageOf(ctx, d) };
}
