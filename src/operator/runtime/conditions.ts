// Conditions as in cert-manager's pkg/api/util/conditions.go and metav1.Condition: one pure helper sets a
// condition; lastTransitionTime moves only when the status flips, so "how long has this been Ready" stays true
// across reconciles; every condition carries the generation it was computed from. Reasons are constants
// (`as const` objects) defined by each controller in src/api, paired with message templates.

export const ConditionStatus = { True: 'True', False: 'False', Unknown: 'Unknown' } as const;
export type ConditionStatus = (typeof ConditionStatus)[keyof typeof ConditionStatus];

export interface Condition {
  readonly type: string;
  readonly status: ConditionStatus;
  /** CamelCase, from a constant. */
  readonly reason: string;
  readonly message: string;
  /** RFC 3339 with second precision, as metav1.Time serialises. */
  readonly lastTransitionTime: string;
  readonly observedGeneration: number;
}

export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

/** metav1.Time: RFC 3339, UTC, whole seconds. */
export function formatTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * Returns a new list with the condition set. An existing condition of the same type keeps its position and, when
 * the status is unchanged, its lastTransitionTime; reason, message and observedGeneration always follow the input.
 */
export function setCondition(conditions: readonly Condition[] | undefined, input: ConditionInput, nowMs: number): Condition[] {
  const list = conditions ?? [];
  const i = list.findIndex((c) => c.type === input.type);
  const existing = i >= 0 ? list[i] : undefined;
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message: input.message,
    lastTransitionTime: existing && existing.status === input.status ? existing.lastTransitionTime : formatTime(nowMs),
    observedGeneration: input.observedGeneration,
  };
  if (i < 0) return [...list, next];
  return list.map((c, j) => (j === i ? next : c));
}

export function getCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** True only for a True condition computed from the given generation (a stale True does not count). */
export function isTrueFor(conditions: readonly Condition[] | undefined, type: string, generation: number): boolean {
  const c = getCondition(conditions, type);
  return c?.status === ConditionStatus.True && c.observedGeneration === generation;
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}
