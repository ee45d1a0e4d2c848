// When to look again at pods that a watch will not tell us about: a waiting pod changes nothing the operator watches
// (no pod informer: observe.ts of each controller says why), so a run's trainer pod waiting for a node or a Secret,
// and a server revision whose pods do not say why none is ready, are looked at on a timer. At fleet scale a fixed
// short timer is a steady load on the API server for pods that may wait for hours (a GPU queue, a node pool
// scaling up), so it backs off: the first look after `firstMs`, then after as long as it has been so (the interval
// doubles), at most every lookAgainCapMs. Pure.

/** The longest wait between two looks. */
export const lookAgainCapMs = 5 * 60_000;

/**
 * When to look again at something unexplained since `sinceMs` (undefined: just now): after firstMs, then after as
 * long as it has been so, at most lookAgainCapMs (never less than firstMs).
 */
export function lookAgainAfterMs(sinceMs: number | undefined, nowMs: number, firstMs: number): number {
  const elapsedMs = sinceMs === undefined ? 0 : Math.max(0, nowMs - sinceMs);
  return Math.min(Math.max(firstMs, elapsedMs), Math.max(firstMs, lookAgainCapMs));
}
