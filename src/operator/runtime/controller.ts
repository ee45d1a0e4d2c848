// One controller: a work queue, N workers, and the reconcile loop around a Reconciler (argo-rollouts'
// utils/controller/controller.go, in TypeScript). Each key is processed by one worker at a time; each reconcile is
// timed, logged and metered; its error is classified in one place (errors.ts classify): retry with the per-key
// backoff, requeue after a delay, or drop. Success resets the backoff; requeueAfterMs becomes addAfter. A key whose
// cached object is older than our own last status write waits for the cache (WriteExpectations) instead of
// reconciling old state. The Manager wires informers to enqueue() and decides when workers run (only while
// leading).
import { performance } from 'node:perf_hooks';
import type { Clock } from './clock.js';
import { classify, toKubeError } from './errors.js';
import type { WriteExpectations } from './expectations.js';
import type { CacheReader, InformerEvent } from './informer.js';
import { type Logger, errorFields } from './log.js';
import type { RuntimeMetrics } from './metrics.js';
import { type KubeObject, type ObjectKey, keyOf, keyString, parseKey } from './resource.js';
import { ExponentialBackoff, WorkQueue, defaultBackoff } from './work-queue.js';

export interface ReconcileResult {
  /** Reconcile this key again after this delay (waiting is a computed requeue, never a timer per object). */
  readonly requeueAfterMs?: number;
}

export interface Reconciler {
  /**
   * Level-triggered: read the current state from the caches (never from an event), converge, return.
   * Must be idempotent: it runs again after any failure and on every change.
   */
  reconcile(key: ObjectKey): Promise<ReconcileResult>;
}

export interface ControllerDeps {
  readonly name: string;
  /** Cache of the primary resource (for the object's generation in logs and the stale-cache check). */
  readonly primary: CacheReader<KubeObject>;
  readonly reconciler: Reconciler;
  readonly workers: number;
  readonly expectations: WriteExpectations;
  readonly clock: Clock;
  readonly metrics: RuntimeMetrics;
  readonly logger: Logger;
  readonly backoff?: { readonly baseMs: number; readonly capMs: number };
}

export type ReconcileOutcome = 'success' | 'requeue' | 'error' | 'stale';

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly log: Logger;
  private workers: Array<Promise<void>> = [];

  constructor(private readonly deps: ControllerDeps) {
    this.name = deps.name;
    const labels = { controller: deps.name };
    this.log = deps.logger.child(labels);
    this.queue = new WorkQueue({
      clock: deps.clock,
      rateLimiter: new ExponentialBackoff(deps.backoff?.baseMs ?? defaultBackoff.baseMs, deps.backoff?.capMs ?? defaultBackoff.capMs),
      observer: {
        onAdd: () => deps.metrics.queueAdds.inc(labels),
        onRetry: () => deps.metrics.queueRetries.inc(labels),
        onDepth: (d) => deps.metrics.queueDepth.set(labels, d),
      },
    });
  }

  enqueue(key: ObjectKey): void {
    this.queue.add(keyString(key));
  }

  /** Handler for the primary informer: note delivered versions (write expectations), enqueue the key. */
  onPrimaryEvent(event: InformerEvent, obj: KubeObject): void {
    const key = keyOf(obj);
    this.deps.expectations.observe(keyString(key), obj.metadata?.resourceVersion, event === 'delete');
    this.enqueue(key);
  }

  /** Starts the workers (idempotent). */
  start(): void {
    if (this.workers.length > 0) return;
    const n = Math.max(1, this.deps.workers);
    for (let i = 0; i < n; i++) this.workers.push(this.worker());
    this.log.info('workers started', { workers: n });
  }

  /** Stops at once: idle workers exit, queued keys are dropped; in-flight reconciles finish on their own. */
  shutDown(): void {
    this.queue.shutDown();
  }

  /** Stops taking keys and resolves when every in-flight reconcile has finished. */
  async drain(): Promise<void> {
    await this.queue.shutDownWithDrain();
    await Promise.all(this.workers);
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.processKey(key);
      } catch (e: unknown) {
        // processKey handles reconcile errors; this would be a bug in the runtime itself. Keep the worker alive.
        this.log.error('worker failed', errorFields(e));
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** One pass of the loop for one key. Exposed for tests; workers call it. */
  async processKey(key: string): Promise<ReconcileOutcome> {
    const { metrics, expectations, reconciler } = this.deps;
    const controller = this.name;
    const objKey = parseKey(key);
    const cached = this.deps.primary.get(objKey.namespace, objKey.name);
    const wait = expectations.waitFor(key, cached?.metadata?.resourceVersion);
    if (wait > 0) {
      // The watch event of our own write will enqueue the key; the delay is the safety net if it never comes.
      this.queue.addAfter(key, wait);
      metrics.reconcileTotal.inc({ controller, result: 'stale' });
      return 'stale';
    }
    const generation = cached?.metadata?.generation;
    const log = this.log.child({ namespace: objKey.namespace, name: objKey.name, ...(generation === undefined ? {} : { generation }) });
    const started = performance.now();
    let outcome: ReconcileOutcome;
    try {
      const res = await reconciler.reconcile(objKey);
      this.queue.forget(key);
      if (res.requeueAfterMs !== undefined && res.requeueAfterMs >= 0) {
        this.queue.addAfter(key, res.requeueAfterMs);
        outcome = 'requeue';
      } else {
        outcome = 'success';
      }
    } catch (e: unknown) {
      const err = toKubeError(e);
      const { disposition, label } = classify(err);
      metrics.reconcileErrors.inc({ controller, error: label });
      switch (disposition.action) {
        case 'retry':
          this.queue.addRateLimited(key);
          outcome = 'error';
          break;
        case 'requeueAfter':
          this.queue.addAfter(key, disposition.ms);
          outcome = 'error';
          break;
      }
      // Conflicts are the normal price of optimistic concurrency, not failures to alert on.
      log.log(label === 'conflict' ? 'info' : 'error', 'reconcile failed', {
        ...errorFields(err), errorClass: label, action: disposition.action, retries: this.queue.numRequeues(key),
      });
    }
    const seconds = (performance.now() - started) / 1000;
    metrics.reconcileDuration.observe({ controller }, seconds);
    metrics.reconcileTotal.inc({ controller, result: outcome });
    log.debug('reconcile finished', { result: outcome, durationMs: Math.round(seconds * 1000) });
    return outcome;
  }
}
