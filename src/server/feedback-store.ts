// Recent predictions kept in memory so a label arriving later can be scored at once (live accuracy / RMSE).
// Bounded twice: by age (TTL) and by count (the oldest go first). A Map iterates in insertion order, which here
// is prediction-time order, so eviction only ever looks at the head.

export interface KeptPrediction {
  readonly prediction: string | number;
  readonly at: number;
  labelled: boolean;
}

export type LabelOutcome =
  | { readonly kind: 'accepted'; readonly prediction: string | number }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'duplicate' };

export class FeedbackStore {
  private readonly kept = new Map<string, KeptPrediction>();

  constructor(private readonly ttlMs: number, private readonly maxIds: number) {}

  get size(): number {
    return this.kept.size;
  }

  remember(id: string, prediction: string | number, nowMs: number): void {
    this.kept.set(id, { prediction, at: nowMs, labelled: false });
    this.evict(nowMs);
  }

  /** Accepts the first label of a known id; a second label, or an id never seen (or expired), is reported. */
  label(id: string, nowMs: number): LabelOutcome {
    this.evict(nowMs);
    const p = this.kept.get(id);
    if (!p) return { kind: 'unknown' };
    if (p.labelled) return { kind: 'duplicate' };
    p.labelled = true;
    return { kind: 'accepted', prediction: p.prediction };
  }

  private evict(nowMs: number): void {
    for (const [id, p] of this.kept) {
      if (this.kept.size > this.maxIds || nowMs - p.at > this.ttlMs) this.kept.delete(id);
      else break;
    }
  }
}
