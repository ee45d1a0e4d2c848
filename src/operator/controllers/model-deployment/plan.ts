// The pure plan of one ModelDeployment reconcile: from what was observed (observed.ts), the server Deployments and
// Services to have, the route to write, the next status, the events to emit right after it is written, and when
// to look again. No I/O here; the reconciler applies it.
//
// A flat chain of small named steps, each a pure function in a module named for it with its own table test (after
// argo-rollouts' rollout/canary.go). The state machine they move through is drawn whole in rollout-state.ts.
//
//   accepted?  spec-checks.ts, tenancy: Accepted=False and nothing else when not
//   store?     without an object store no server pod could load a model: wait
//   context    plan-context.ts: durations, steps, commands, the desired revision, the revisions status names
//   first      candidate.ts firstStable: the first version is served directly; none yet: wait
//   candidate  candidate.ts chooseCandidate: drop, roll back, hold an aborted one, start (or supersede), retry
//   commands   commands.ts abortOnRequest
//   deadline   progress-deadline.ts: abort a candidate whose pods did not become ready in time; tell a stuck stable
//   step       advance-step.ts: the current step's decision, its analysis, promotion once every pod is ready
//   window     rollback-window.ts: keep or let go the previous revision
//   children   children.ts: Deployments, scale, deletions, Services, route, feedback Secret
//   live       live-metrics.ts: status.liveMetrics of the stable version
//   status     rollout-status.ts: weights, readiness, conditions, phase, message
import { ConditionType, Reason } from '../../../api/conditions.js';
import type { ModelDeploymentStatus } from '../../../api/model-deployment.js';
import { type Condition, type ConditionInput, setCondition } from '../../runtime/conditions.js';
import { acceptedCondition, isAccepted, type Review } from '../acceptance.js';
import type { PlannedEvent } from '../planned-event.js';
import { advanceStep } from './advance-step.js';
import { chooseCandidate, firstStable } from './candidate.js';
import { childrenOf, withChildren, type Children } from './children.js';
import { abortOnRequest } from './commands.js';
import { withLiveMetrics } from './live-metrics.js';
import type { Observed } from './observed.js';
import { planContext, startOf, type PlanContext } from './plan-context.js';
import { rollbackWindow } from './rollback-window.js';
import { abortStuckCandidate, tellStuckStable } from './progress-deadline.js';
import { rolloutStatus } from './rollout-status.js';
import type { Start } from './rollout-state.js';
import type { TrafficRouter } from './routers/router.js';
import { reviewModelDeployment } from './spec-checks.js';

export interface ModelDeploymentPlan extends Omit<Children, 'routeHash' | 'settingsHash' | 'scaleStatus'> {
  readonly status: ModelDeploymentStatus;
  readonly events: readonly PlannedEvent[];
  readonly requeueAfterMs: number | undefined;
}

const noChildren: Omit<Children, 'routeHash' | 'settingsHash' | 'scaleStatus'> = {
  deployments: [], scale: [], deleteDeployments: [], services: [], route: undefined, grpcRoute: undefined, feedbackSecret: undefined, settings: undefined, autoscaler: { kind: 'none', hash: undefined },
};

/** Not accepted: Degraded with Accepted=False naming every problem, said once per generation; nothing else is done. */
function notAccepted(o: Observed, review: Review): ModelDeploymentPlan {
  const { md, nowMs } = o;
  const prev = md.status ?? {};
  const generation = md.metadata.generation ?? 0;
  const accepted = acceptedCondition(review, generation);
  const conditions = setCondition(prev.conditions as Condition[] | undefined, accepted, nowMs);
  const wasRejected = prev.conditions?.find((c) => c.type === ConditionType.Accepted)?.status === 'False' && prev.observedGeneration === generation;
  return {
    ...noChildren,
    status: { ...prev, observedGeneration: generation, phase: 'Degraded', conditions, message: accepted.message },
    events: wasRejected ? [] : [{ type: 'Warning', reason: accepted.reason, note: accepted.message }],
    requeueAfterMs: undefined,
  };
}

/** No object store: server pods could not load a model. What serves keeps serving; nothing changes until there is one. */
function withoutStore(o: Observed, accepted: ConditionInput): ModelDeploymentPlan {
  const { md, nowMs } = o;
  const prev = md.status ?? {};
  const generation = md.metadata.generation ?? 0;
  const message = 'The operator runs without an object store: server pods could not load a model.';
  const conditions = setCondition(setCondition(prev.conditions as Condition[] | undefined, accepted, nowMs),
    { type: ConditionType.Available, status: 'False', reason: Reason.WaitingForModel, message, observedGeneration: generation }, nowMs);
  const phase = prev.stableRevision ? prev.phase ?? 'Pending' : 'Pending';
  return { ...noChildren, status: { ...prev, observedGeneration: generation, phase, conditions, message }, events: [], requeueAfterMs: undefined };
}

/**
 * Nothing served yet and no version known: Pending, saying what it waits for. No timer: what it waits for (the
 * pipeline, its first champion) enqueues it through the pipeline watch.
 */
function waitingForModel(ctx: PlanContext, start: Start): ModelDeploymentPlan {
  const desired = ctx.observed.desired;
  const message = desired.kind === 'waiting' ? desired.message : 'waiting for a model';
  const conditions = [ConditionType.Available, ConditionType.Progressing].reduce<Condition[]>((list, type) =>
    setCondition(list, { type, status: 'False', reason: Reason.WaitingForModel, message, observedGeneration: ctx.generation }, ctx.nowMs), [...ctx.conditions]);
  return { ...noChildren, status: { ...start.status, phase: 'Pending', conditions, message }, events: start.events, requeueAfterMs: undefined };
}

export function planModelDeployment(o: Observed, router: TrafficRouter): ModelDeploymentPlan {
  const review = reviewModelDeployment(o.md, o.pipeline, o.tenancy);
  if (!isAccepted(review)) return notAccepted(o, review);
  const accepted = acceptedCondition(review, o.md.metadata.generation ?? 0);
  if (!o.store) return withoutStore(o, accepted);
  const ctx = planContext(o, o.store, router, accepted);
  const start = startOf(ctx);
  const first = firstStable(ctx, start);
  if (!first) return waitingForModel(ctx, start);
  const chosen = abortStuckCandidate(ctx, abortOnRequest(ctx, chooseCandidate(ctx, first)));
  const { draft: stepped, route } = advanceStep(ctx, tellStuckStable(ctx, chosen));
  const kept = rollbackWindow(ctx, stepped);
  const children = childrenOf(ctx, kept, route);
  const done = withLiveMetrics(ctx, withChildren(kept, children));
  const { routeHash: _inStatus, settingsHash: _alsoInStatus, scaleStatus: _inStatusToo, ...writes } = children;
  return {
    ...writes,
    status: rolloutStatus(ctx, done, route),
    events: done.events,
    requeueAfterMs: done.requeues.length === 0 ? undefined : Math.max(1, Math.min(...done.requeues)),
  };
}
