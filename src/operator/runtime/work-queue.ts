// A work queue with client-go's semantics (k8s.io/client-go/util/workqueue), the heart of level-triggered
// controllers:
//   - a key is queued at most once (dirty set): ten events for one object before a worker gets to it are one reconcile;
//   - a key is handed to at most one worker at a time (processing set); a key added while it is processed is
//     remembered and queued again when the worker calls done(), so the newest state is always reconciled;
//   - addRateLimited() delays a key by a per-key exponential backoff (base · 2^failures, capped) until forget();
//   - addAfter() delays a key; only the earliest pending due time for a key matters;
//   - shutDown() stops accepting keys and releases waiting workers; shutDownWithDrain() also waits for the keys
//     being processed. Keys still queued at shut down are dropped: the next leader lists everything anyway.
import type { Clock, TimerHandle } from './clock.js';

export interface RateLimiter {
  /** Delay before the key's next attempt; each call counts one more failure. */
  when(key: string): number;
  forget(key: string): void;
  retries(key: string): number;
}

/** Per-key exponential backoff: base, 2·base, 4·base, … up to cap (client-go's ItemExponentialFailureRateLimiter). */
export class ExponentialBackoff implements RateLimiter {
  private readonly failures = new Map<string, number>();

  constructor(readonly baseMs: number, readonly capMs: number) {
    if (baseMs <= 0 || capMs < baseMs) throw new RangeError('backoff needs 0 < base <= cap');
  }

  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    // 2^n overflows to Infinity for large n, and Math.min handles that.
    return Math.min(this.capMs, this.baseMs * 2 ** n);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

/** Hooks for metrics; the queue knows nothing about prom-client. */
export interface QueueObserver {
  onAdd?(): void;
  onRetry?(): void;
  onDepth?(depth: number): void;
}

export interface WorkQueueOptions {
  readonly clock: Clock;
  readonly rateLimiter?: RateLimiter;
  readonly observer?: QueueObserver;
}

export const defaultBackoff = { baseMs: 5, capMs: 5 * 60_000 } as const;

export class WorkQueue {
  private readonly queue: string[] = [];
  /** Keys that need processing: queued, or added again while being processed. */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly waiting = new Map<string, { due: number; timer: TimerHandle }>();
  private readonly getters: Array<(key: string | undefined) => void> = [];
  private readonly drainWaiters: Array<() => void> = [];
  private shuttingDown = false;
  private readonly clock: Clock;
  private readonly limiter: RateLimiter;
  private readonly observer: QueueObserver;

  constructor(options: WorkQueueOptions) {
    this.clock = options.clock;
    this.limiter = options.rateLimiter ?? new ExponentialBackoff(defaultBackoff.baseMs, defaultBackoff.capMs);
    this.observer = options.observer ?? {};
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    this.observer.onAdd?.();
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // queued again by done()
    const getter = this.getters.shift();
    if (getter) {
      this.hand(key);
      getter(key);
      return;
    }
    this.queue.push(key);
    this.reportDepth();
  }

  /** Adds the key after ms; if the key is already waiting with an earlier due time, that one stands. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const due = this.clock.now() + ms;
    const existing = this.waiting.get(key);
    if (existing && existing.due <= due) return;
    if (existing) this.clock.clearTimeout(existing.timer);
    const timer = this.clock.setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, ms);
    this.waiting.set(key, { due, timer });
  }

  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    this.observer.onRetry?.();
    this.addAfter(key, this.limiter.when(key));
  }

  /** Resets the key's backoff; call after a successful reconcile. */
  forget(key: string): void {
    this.limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.limiter.retries(key);
  }

  /** Next key to process, or undefined once the queue shuts down. Call done(key) when finished with it. */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.hand(key);
      this.reportDepth();
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) {
      const getter = this.getters.shift();
      if (getter) {
        this.hand(key);
        getter(key);
      } else {
        this.queue.push(key);
        this.reportDepth();
      }
    }
    if (this.processing.size === 0) for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  /** Keys waiting for a worker (the depth metric). */
  len(): number {
    return this.queue.length;
  }

  /** Keys waiting for a delay to pass. */
  delayedLen(): number {
    return this.waiting.size;
  }

  isProcessing(key: string): boolean {
    return this.processing.has(key);
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) this.clock.clearTimeout(timer);
    this.waiting.clear();
    this.queue.length = 0;
    this.dirty.clear();
    this.reportDepth();
    for (const getter of this.getters.splice(0)) getter(undefined);
    if (this.processing.size === 0) for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  /** Stops accepting keys and resolves once every key being processed is done. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private hand(key: string): void {
    this.dirty.delete(key);
    this.processing.add(key);
  }

  private reportDepth(): void {
    this.observer.onDepth?.(this.queue.length);
  }
}
