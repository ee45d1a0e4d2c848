// Replica arithmetic of a rollout, after Argo Rollouts' utils/replicaset/canary.go. Pure, table-tested.
//
// Rounding (documented for users in the CRD): the candidate gets ceil(replicas × weight / 100) pods, so any
// weight above 0 gets at least one pod; below 100 % the stable version keeps at least one pod, so with one replica
// a canary step surges to two pods (an effective 50 %). The stable version shrinks only by candidate pods that are
// READY, so serving capacity never dips and no traffic goes to a revision with no ready pods.

export interface ReplicaSplit {
  readonly stable: number;
  readonly canary: number;
}

/** Candidate pods for a weight (0-100) out of `total`. */
export function canaryReplicas(total: number, weight: number): number {
  if (weight <= 0) return 0;
  if (weight >= 100) return total;
  const want = Math.ceil((total * weight) / 100);
  return Math.max(1, Math.min(want, total - 1));
}

/** Stable pods once the candidate has `canaryDesired` pods: the rest of `total`, at least one below 100 %. */
export function stableReplicasAtWeight(total: number, weight: number): number {
  if (weight >= 100) return 0;
  return Math.max(1, total - canaryReplicas(total, weight));
}

/**
 * Desired pods per revision for a canary weight, given the candidate's ready pods: the candidate is scaled to its
 * share at once; the stable version gives up only as many pods as the candidate has ready.
 */
export function splitReplicas(total: number, weight: number, canaryReady: number): ReplicaSplit {
  const canary = canaryReplicas(total, weight);
  const floor = stableReplicasAtWeight(total, weight);
  const stable = Math.max(floor, total - Math.min(canaryReady, canary));
  return { stable, canary };
}

/** The share (percent, rounded) of traffic the candidate gets when one Service spreads requests over ready pods. */
export function weightFromReadyPods(stableReady: number, canaryReady: number): number {
  const all = stableReady + canaryReady;
  return all === 0 ? 0 : Math.round((100 * canaryReady) / all);
}

/**
 * True when the ready pods are at the split of `weight`: the candidate's are all ready and the stable version is
 * down to its share (its surplus pods no longer ready), with at least one stable pod ready below 100 %.
 */
export function splitReached(total: number, weight: number, stableReady: number, canaryReady: number): boolean {
  return canaryReady >= canaryReplicas(total, weight) && stableReady <= stableReplicasAtWeight(total, weight) &&
    (weight >= 100 || stableReady >= 1);
}
