// Notifications as the operator runs them: the event recorder's hook turns each Event that is a loop moment
// (loop-events.ts) into a notification for the install-time webhook and the namespace's.
import { secretReader } from '../controllers/store-credentials.js';
import type { Manager } from '../runtime/manager.js';
import type { Destination } from './destinations.js';
import { loopEvent } from './loop-events.js';
import { Notifier } from './notifier.js';
import { WebhookSink, type WebhookSinkOptions } from './webhook-sink.js';

/** Hooks notifications onto the manager's events; returns the sink (stopped with the manager by its caller). */
export function notifyLoop(manager: Manager, install: Destination | undefined, sinkOptions: Partial<WebhookSinkOptions> = {}): WebhookSink {
  const logger = manager.logger.child({ component: 'notifications' });
  const sink = new WebhookSink({ registry: manager.metrics.registry, logger, ...sinkOptions });
  const notifier = new Notifier({ sink, install, readSecret: secretReader(manager.http), clock: manager.clock, logger });
  manager.events.listen((obj, type, reason, note) => {
    const e = loopEvent(obj, type, reason, note, manager.clock.now());
    if (e) void notifier.notify(e);
  });
  return sink;
}
