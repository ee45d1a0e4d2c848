// An Event a plan asks for. Both reconcilers emit a plan's events right after the status write that records what
// they report (jobset's order), before any later write: a later write that fails (a Job or Deployment create, a
// delete) can then not lose them, and a status write that fails emits none (the retried reconcile plans them again).
import type { EventType } from '../runtime/events.js';

export interface PlannedEvent {
  readonly type: EventType;
  readonly reason: string;
  readonly note: string;
}
