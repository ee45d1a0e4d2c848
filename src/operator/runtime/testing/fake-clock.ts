// A manual clock for unit tests: time moves only through advance(), which fires due timers in due-time order.
import type { Clock, TimerHandle } from '../clock.js';

interface Pending {
  readonly id: number;
  readonly due: number;
  readonly seq: number;
  readonly fn: () => void;
}

export class FakeClock implements Clock {
  private current: number;
  private nextId = 1;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.pending.set(id, { id, due: this.current + Math.max(0, ms), seq: this.seq++, fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending.delete(handle.id);
  }

  /** Number of timers not yet fired. */
  get timerCount(): number {
    return this.pending.size;
  }

  /** Moves time forward by ms, firing every timer that falls due (including ones those timers set). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let first: Pending | undefined;
      for (const p of this.pending.values()) {
        if (p.due <= target && (!first || p.due < first.due || (p.due === first.due && p.seq < first.seq))) first = p;
      }
      if (!first) break;
      this.pending.delete(first.id);
      this.current = Math.max(this.current, first.due);
      first.fn();
    }
    this.current = target;
  }
}
