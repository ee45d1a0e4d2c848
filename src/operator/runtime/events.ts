// Kubernetes Events (events.k8s.io/v1) about the objects we reconcile: what `kubectl describe` shows a user.
// Repeated identical events (same object, type, reason, action, note) are aggregated into the first Event's
// `series` (count, lastObservedTime) instead of creating a new object each time, as client-go's event
// broadcaster does; if that Event has gone (expired, deleted), a new one starts. Recording must never break a
// reconcile: failures are logged and swallowed.
import { randomBytes } from 'node:crypto';
import type { Clock } from './clock.js';
import { NotFoundError } from './errors.js';
import { type KubeHttp, PatchType } from './kube-http.js';
import { formatMicroTime } from './leader-election.js';
import { type Logger, errorFields } from './log.js';
import { type KubeObject, resourcePath, type ResourceRef } from './resource.js';

export const reportingController = 'perennial.dev/operator';

export const EventType = { Normal: 'Normal', Warning: 'Warning' } as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

const eventsRef: ResourceRef = { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true };

export interface EventRecorder {
  /** Records an event about obj. Never rejects. */
  event(obj: KubeObject, type: EventType, reason: string, note: string, action?: string): Promise<void>;
}

/**
 * Told every event as it is recorded, whether or not the API server takes it (notifications and the loop's counters
 * hang here: one hook where Events are emitted). Must not throw; a listener that does is logged and ignored.
 */
export type EventListener = (obj: KubeObject, type: EventType, reason: string, note: string) => void;

interface SeriesState {
  readonly name: string;
  readonly namespace: string;
  count: number;
}

/** Events older than this are not aggregated into (client-go uses a similar 6-minute window before a series). */
const seriesWindowMs = 30 * 60_000;
const maxTracked = 4096;

export class KubeEventRecorder implements EventRecorder {
  private readonly series = new Map<string, SeriesState & { lastMs: number }>();
  private readonly listeners: EventListener[] = [];

  constructor(
    private readonly http: KubeHttp,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** reportingInstance: this process (the leader-election identity). */
    private readonly instance: string,
  ) {}

  listen(listener: EventListener): void {
    this.listeners.push(listener);
  }

  async event(obj: KubeObject, type: EventType, reason: string, note: string, action = reason): Promise<void> {
    for (const l of this.listeners) {
      try {
        l(obj, type, reason, note);
      } catch (e: unknown) {
        this.logger.warn('event listener failed', { reason, ...errorFields(e) });
      }
    }
    const md = obj.metadata ?? {};
    const namespace = md.namespace || 'default';
    const key = JSON.stringify([md.uid ?? `${namespace}/${md.name ?? ''}`, type, reason, action, note]);
    const now = this.clock.now();
    try {
      const existing = this.series.get(key);
      if (existing && now - existing.lastMs < seriesWindowMs) {
        const count = existing.count + 1;
        try {
          await this.http.request('PATCH', resourcePath(eventsRef, existing.namespace, existing.name), {
            body: { series: { count, lastObservedTime: formatMicroTime(now) } },
            contentType: PatchType.merge,
          });
          existing.count = count;
          existing.lastMs = now;
          return;
        } catch (e: unknown) {
          if (!(e instanceof NotFoundError)) throw e;
          this.series.delete(key); // the Event expired: start a new one
        }
      }
      const name = `${md.name ?? 'object'}.${now.toString(16)}${randomBytes(2).toString('hex')}`;
      const body = {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name, namespace },
        eventTime: formatMicroTime(now),
        reportingController,
        reportingInstance: this.instance,
        action,
        reason,
        note: note.length > 1024 ? `${note.slice(0, 1021)}...` : note,
        type,
        regarding: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: md.name,
          namespace: md.namespace,
          uid: md.uid,
          resourceVersion: md.resourceVersion,
        },
      };
      await this.http.request('POST', resourcePath(eventsRef, namespace), { body });
      if (this.series.size >= maxTracked) this.series.clear();
      this.series.set(key, { name, namespace, count: 1, lastMs: now });
    } catch (e: unknown) {
      this.logger.warn('event not recorded', { reason, ...errorFields(e) });
    }
  }
}
