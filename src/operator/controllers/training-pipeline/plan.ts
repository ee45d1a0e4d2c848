// The pure plan of one TrainingPipeline reconcile: from the observed pipeline, the next status and the events to
// emit after it is written. (This scope: acceptance of the spec. Triggers, runs and the model registry
// extend this plan.)
import { ConditionType, Reason } from '../../../api/conditions.js';
import type { TrainingPipeline, TrainingPipelineStatus } from '../../../api/training-pipeline.js';
import { type Condition, setCondition } from '../../runtime/conditions.js';
import { acceptedCondition } from '../acceptance.js';
import { checkTrainingPipelineSpec } from './spec-checks.js';

export interface PlannedEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly note: string;
}

export interface TrainingPipelinePlan {
  readonly status: TrainingPipelineStatus;
  readonly events: readonly PlannedEvent[];
}

export function planTrainingPipeline(tp: TrainingPipeline, nowMs: number): TrainingPipelinePlan {
  const generation = tp.metadata.generation ?? 0;
  const previous = tp.status ?? {};
  const problems = checkTrainingPipelineSpec(tp.spec);
  const accepted = acceptedCondition(problems, generation);
  let conditions: Condition[] = setCondition(previous.conditions as Condition[] | undefined, accepted, nowMs);
  const hasChampion = previous.championVersion !== undefined;
  conditions = setCondition(conditions, problems.length > 0
    ? { type: ConditionType.Ready, status: 'False', reason: Reason.InvalidSpec, message: accepted.message, observedGeneration: generation }
    : hasChampion
      ? { type: ConditionType.Ready, status: 'True', reason: Reason.ChampionServing, message: `Champion ${previous.championVersion ?? ''} is blessed.`, observedGeneration: generation }
      : { type: ConditionType.Ready, status: 'False', reason: Reason.NoChampionYet, message: 'No version has been blessed yet.', observedGeneration: generation },
  nowMs);
  const phase = problems.length > 0 ? 'Failed' : tp.spec.suspend ? 'Suspended' : 'Idle';
  const status: TrainingPipelineStatus = { ...previous, observedGeneration: generation, phase, conditions, message: accepted.message };
  const wasRejected = previous.conditions?.find((c) => c.type === ConditionType.Accepted)?.status === 'False'
    && previous.observedGeneration === generation;
  const events: PlannedEvent[] = problems.length > 0 && !wasRejected
    ? [{ type: 'Warning', reason: Reason.InvalidSpec, note: accepted.message }]
    : [];
  return { status, events };
}
