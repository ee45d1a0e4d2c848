// What both controllers' reconcilers get from the manager besides their caches: the one status writer of the
// controller, the event recorder, the clock and a logger named for the controller. Each controller's wiring.ts
// builds them from the manager the same way.
import type { Clock } from '../runtime/clock.js';
import type { EventRecorder } from '../runtime/events.js';
import type { Logger } from '../runtime/log.js';
import type { StatusWriter } from '../runtime/status-writer.js';

export interface ReconcilerDeps {
  readonly statusWriter: StatusWriter;
  readonly events: EventRecorder;
  readonly clock: Clock;
  readonly logger: Logger;
}
