// The Accepted condition both controllers set first: True when the spec can be acted on, False with every problem
// named when it cannot: reason InvalidSpec when the spec itself is wrong, NotPermitted when it only asks for what
// the namespace may not have (tenancy.ts). An invalid spec is not retried: the controller writes the condition once
// and waits for the next edit (a new generation).
import { ConditionType, Reason } from '../../api/conditions.js';
import type { ConditionInput } from '../runtime/conditions.js';

/** What the controllers' checks found: problems with the spec, and what it asks for that is not permitted. */
export interface Review {
  readonly problems: readonly string[];
  readonly denied: readonly string[];
}

export function isAccepted(review: Review): boolean {
  return review.problems.length === 0 && review.denied.length === 0;
}

export function acceptedCondition(review: Review, generation: number): ConditionInput {
  const problems = [...review.problems, ...review.denied];
  if (problems.length === 0) {
    return { type: ConditionType.Accepted, status: 'True', reason: Reason.Accepted, message: 'The spec is valid.', observedGeneration: generation };
  }
  return {
    type: ConditionType.Accepted,
    status: 'False',
    reason: review.problems.length > 0 ? Reason.InvalidSpec : Reason.NotPermitted,
    message: `The spec cannot be acted on: ${problems.join('; ')}.`,
    observedGeneration: generation,
  };
}
