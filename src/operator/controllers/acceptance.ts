// The Accepted condition both controllers set first: True when the spec can be acted on, False with reason
// InvalidSpec and every problem named when it cannot. An invalid spec is not retried: the controller writes the
// condition once and waits for the next edit (a new generation).
import { ConditionType, Reason } from '../../api/conditions.js';
import type { ConditionInput } from '../runtime/conditions.js';

export function acceptedCondition(problems: readonly string[], generation: number): ConditionInput {
  if (problems.length === 0) {
    return { type: ConditionType.Accepted, status: 'True', reason: Reason.Accepted, message: 'The spec is valid.', observedGeneration: generation };
  }
  return {
    type: ConditionType.Accepted,
    status: 'False',
    reason: Reason.InvalidSpec,
    message: `The spec cannot be acted on: ${problems.join('; ')}.`,
    observedGeneration: generation,
  };
}
