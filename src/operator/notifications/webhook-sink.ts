// Delivers notifications to webhooks without ever holding up a reconcile: send() only queues. A bounded queue
// (beyond it a notification is dropped and counted, so a webhook that is down for hours cannot grow the operator's
// memory), a few deliveries in flight, and retries with exponential backoff and full jitter (src/shared/backoff.ts)
// for network failures, 429 and 5xx; any other 4xx is the receiver refusing the body and is not retried. Each
// notification keeps its id across retries, so a receiver that answered too late can drop the repeat.
// Every outcome is counted in perennial_notifications_total{result} and logged with the URL redacted.
import { Counter, type Registry } from 'prom-client';
import { backoffDelayMs, type Backoff } from '../../shared/backoff.js';
import type { Logger } from '../runtime/log.js';
import type { Destination } from './destinations.js';
import { redactUrl } from './redact.js';

export const notificationResults = ['delivered', 'retried', 'failed', 'refused', 'dropped'] as const;
export type NotificationResult = (typeof notificationResults)[number];

export interface WebhookSinkOptions {
  readonly registry: Registry;
  readonly logger: Logger;
  /** Notifications waiting (not in flight); default 1000. */
  readonly capacity?: number;
  /** Deliveries in flight at once; default 4. */
  readonly concurrency?: number;
  /** Calls per notification, the first included; default 8 (about 4 minutes of retries at the default backoff). */
  readonly attempts?: number;
  readonly backoff?: Backoff;
  /** One POST's timeout; default 10 s. */
  readonly timeoutMs?: number;
}

interface Pending {
  readonly destination: Destination;
  readonly body: string;
  readonly id: string;
  attempt: number;
}

/** What one POST's answer means: done, try again later, or give up. */
export function judgeStatus(status: number): 'delivered' | 'retry' | 'refused' {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'refused';
}

export class WebhookSink {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private waiting = 0; // retries scheduled on a timer
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly results: Counter<'result'>;
  private stopped = false;

  constructor(private readonly o: WebhookSinkOptions) {
    this.results = new Counter({
      name: 'perennial_notifications_total',
      help: 'Webhook notifications by result: delivered, retried (a failed attempt that will be tried again), failed (retries used up), refused (a 4xx answer), dropped (the queue was full).',
      labelNames: ['result'],
      registers: [o.registry],
    });
  }

  /** Queues one notification; never waits, never throws. */
  send(destination: Destination, body: unknown, id: string): void {
    if (this.stopped) return;
    if (this.queue.length >= (this.o.capacity ?? 1000)) {
      this.count('dropped', destination, id, { queued: this.queue.length });
      return;
    }
    this.queue.push({ destination, body: JSON.stringify(body), id, attempt: 0 });
    this.pump();
  }

  /** Resolves once nothing is queued, in flight or waiting to be retried (tests, a graceful stop). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops retrying and taking notifications; what is queued is abandoned. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.waiting = 0;
    this.queue.length = 0;
    this.settle();
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.inFlight === 0 && this.waiting === 0;
  }

  private settle(): void {
    if (!this.isIdle()) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private pump(): void {
    while (!this.stopped && this.inFlight < (this.o.concurrency ?? 4) && this.queue.length > 0) {
      const p = this.queue.shift() as Pending;
      this.inFlight++;
      void this.deliver(p).finally(() => {
        this.inFlight--;
        this.pump();
        this.settle();
      });
    }
  }

  private async deliver(p: Pending): Promise<void> {
    p.attempt++;
    let verdict: 'delivered' | 'retry' | 'refused';
    let detail: Record<string, unknown>;
    try {
      const res = await fetch(p.destination.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'perennial-operator' },
        body: p.body,
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
      });
      await res.arrayBuffer().catch(() => undefined); // drain, so the connection is reused
      verdict = judgeStatus(res.status);
      detail = { status: res.status };
    } catch (e: unknown) {
      // Only the error's kind and code: a fetch error's message may carry the URL.
      verdict = 'retry';
      detail = { errorType: e instanceof Error ? e.name : typeof e, code: causeCode(e) };
    }
    if (verdict === 'delivered' || verdict === 'refused') {
      this.count(verdict, p.destination, p.id, { attempt: p.attempt, ...detail });
      return;
    }
    if (this.stopped || p.attempt >= (this.o.attempts ?? 8)) {
      this.count('failed', p.destination, p.id, { attempt: p.attempt, ...detail });
      return;
    }
    this.count('retried', p.destination, p.id, { attempt: p.attempt, ...detail });
    const delay = backoffDelayMs(this.o.backoff ?? { baseMs: 1000, capMs: 60_000 }, p.attempt - 1);
    this.waiting++;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.waiting--;
      if (this.stopped) return;
      this.queue.unshift(p); // a retry goes ahead of newer notifications
      this.pump();
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }

  private count(result: NotificationResult, d: Destination, id: string, detail: Record<string, unknown>): void {
    this.results.inc({ result });
    const fields = { result, id, scope: d.scope, url: redactUrl(d.url), ...detail };
    if (result === 'delivered') this.o.logger.info('notification delivered', fields);
    else this.o.logger.warn(`notification ${result}`, fields);
  }
}

function causeCode(e: unknown): string | undefined {
  const cause = (e as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}
