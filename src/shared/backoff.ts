// Waits between retries of the loops outside the operator's work queue (the object-store client, the server's
// inference-log spill and model load): exponential growth with full jitter, a wait drawn uniformly below
// base · 2^n (at most cap). Clients that failed together (every pod when the store comes back) then spread their
// retries over the window instead of arriving at once. The operator's work queue and informer restarts keep their
// per-key rate limiter (src/operator/runtime/work-queue.ts), as client-go's does.

export interface Backoff {
  readonly baseMs: number;
  readonly capMs: number;
}

/** A source of numbers in [0, 1): Math.random, or a fixed sequence in tests. */
export type Random = () => number;

/** The longest wait before retry `n` (0 for the first): base · 2^n, at most cap. */
export function backoffCeilingMs(b: Backoff, n: number): number {
  // 2^n overflows to Infinity for large n, and Math.min handles that.
  return Math.min(b.capMs, b.baseMs * 2 ** Math.max(0, n));
}

/** The wait before retry `n`: uniform in [0, ceiling). */
export function backoffDelayMs(b: Backoff, n: number, random: Random = Math.random): number {
  return Math.floor(random() * backoffCeilingMs(b, n));
}

export interface RetryOptions {
  /** Calls in all, the first included. */
  readonly attempts: number;
  readonly backoff: Backoff;
  /** Whether a failure is worth another call; the others are thrown at once. */
  readonly retryable: (e: unknown) => boolean;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random?: Random;
}

/** Calls `attempt` until it succeeds, fails for good, or has been called `attempts` times; the last failure is thrown. */
export async function retry<T>(attempt: () => Promise<T>, o: RetryOptions): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (e: unknown) {
      if (n + 1 >= o.attempts || !o.retryable(e)) throw e;
      await o.sleep(backoffDelayMs(o.backoff, n, o.random));
    }
  }
}
