// Records events in memory, for controller tests.
import type { EventRecorder, EventType } from '../events.js';
import type { KubeObject } from '../resource.js';

export class FakeEventRecorder implements EventRecorder {
  readonly events: Array<{ name: string; type: EventType; reason: string; note: string; action: string }> = [];

  event(obj: KubeObject, type: EventType, reason: string, note: string, action = reason): Promise<void> {
    this.events.push({ name: obj.metadata?.name ?? '', type, reason, note, action });
    return Promise.resolve();
  }
}
