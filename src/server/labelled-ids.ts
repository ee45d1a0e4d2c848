// The prediction ids this replica has taken a label for: the first label of an id wins, a second is a duplicate.
// Bounded twice: by age (a label for a prediction older than the feedback age limit is refused anyway, so its id
// need not be remembered longer) and by count (the oldest go first). A Map iterates in insertion order, which
// here is label-arrival order, so eviction only ever looks at the head.
// Scope: one replica. Labels for the same id sent to two replicas through the Service are both scored live; the
// trainer's join keeps only the first (src/shared/inference-log.ts), so training counts every prediction once.

export class LabelledIds {
  private readonly seen = new Map<string, number>();

  constructor(private readonly maxAgeMs: number, private readonly maxIds: number) {}

  get size(): number {
    return this.seen.size;
  }

  /** True for the first label of `id`; false when this replica already took one. */
  first(id: string, nowMs: number): boolean {
    this.evict(nowMs);
    if (this.seen.has(id)) return false;
    this.seen.set(id, nowMs);
    if (this.seen.size > this.maxIds) this.evict(nowMs);
    return true;
  }

  private evict(nowMs: number): void {
    for (const [id, at] of this.seen) {
      if (this.seen.size > this.maxIds || nowMs - at > this.maxAgeMs) this.seen.delete(id);
      else break;
    }
  }
}
