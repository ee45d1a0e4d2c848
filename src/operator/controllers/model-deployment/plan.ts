// The pure plan of one ModelDeployment reconcile: from the observed deployment, the next status and the events to
// emit after it is written. (This scope: acceptance of the spec. Serving and rollouts extend this plan.)
import { ConditionType, Reason } from '../../../api/conditions.js';
import type { ModelDeployment, ModelDeploymentStatus } from '../../../api/model-deployment.js';
import { type Condition, setCondition } from '../../runtime/conditions.js';
import { acceptedCondition } from '../acceptance.js';
import type { PlannedEvent } from '../training-pipeline/plan.js';
import { checkModelDeploymentSpec } from './spec-checks.js';

export interface ModelDeploymentPlan {
  readonly status: ModelDeploymentStatus;
  readonly events: readonly PlannedEvent[];
}

export function planModelDeployment(md: ModelDeployment, nowMs: number): ModelDeploymentPlan {
  const generation = md.metadata.generation ?? 0;
  const previous = md.status ?? {};
  const problems = checkModelDeploymentSpec(md.spec);
  const accepted = acceptedCondition(problems, generation);
  const conditions: Condition[] = setCondition(previous.conditions as Condition[] | undefined, accepted, nowMs);
  const phase = problems.length > 0 ? 'Degraded' : previous.phase ?? 'Pending';
  const status: ModelDeploymentStatus = { ...previous, observedGeneration: generation, phase, conditions, message: accepted.message };
  const wasRejected = previous.conditions?.find((c) => c.type === ConditionType.Accepted)?.status === 'False'
    && previous.observedGeneration === generation;
  const events: PlannedEvent[] = problems.length > 0 && !wasRejected
    ? [{ type: 'Warning', reason: Reason.InvalidSpec, note: accepted.message }]
    : [];
  return { status, events };
}
