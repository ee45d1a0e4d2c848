// Live PSI per feature over a sliding time window, cheap enough for every request: a ring of time slots, each
// holding bin counts per feature, binned with the reference profile's frozen edges (never recomputed from live data). Adding a row is O(features · log bins); a scrape sums the live slots.
import { binCount, binIndex, psiFromCounts, type FeatureProfile, type ReferenceProfile } from '../shared/drift.js';
import type { RawRow } from '../shared/preprocessing.js';

interface Slot {
  index: number;
  rows: number;
  readonly counts: number[][];
}

export interface DriftSnapshot {
  readonly rows: number;
  /** PSI per feature of the profile; absent while the window holds fewer rows than minDriftRows(feature). */
  readonly psi: ReadonlyMap<string, number>;
}

/**
 * Rows a window needs before its PSI for a feature means anything: 10 per bin (the usual rule of thumb for PSI; with
 * fewer, sampling noise alone reads as drift — a pod that had answered 5 rows reported PSI 3.4 and could start a
 * drift retrain). Below it the server publishes no PSI for the feature, only the window's row count.
 */
export function minDriftRows(feature: FeatureProfile): number {
  return 10 * binCount(feature.binning);
}

export class DriftWindow {
  private readonly slots: Slot[];
  private readonly slotMs: number;

  constructor(private readonly features: readonly FeatureProfile[], windowMs: number, slotCount = 60) {
    this.slotMs = Math.max(1, Math.floor(windowMs / slotCount));
    this.slots = Array.from({ length: slotCount }, () => ({ index: -1, rows: 0, counts: features.map((f) => new Array<number>(binCount(f.binning)).fill(0)) }));
  }

  static fromProfile(profile: ReferenceProfile, windowMs: number): DriftWindow {
    return new DriftWindow(profile.features, windowMs);
  }

  private slotFor(nowMs: number): Slot {
    const index = Math.floor(nowMs / this.slotMs);
    const slot = this.slots[index % this.slots.length] as Slot;
    if (slot.index !== index) {
      slot.index = index;
      slot.rows = 0;
      for (const c of slot.counts) c.fill(0);
    }
    return slot;
  }

  add(rows: readonly RawRow[], nowMs: number): void {
    const slot = this.slotFor(nowMs);
    slot.rows += rows.length;
    this.features.forEach((f, k) => {
      const counts = slot.counts[k] as number[];
      for (const row of rows) {
        const b = binIndex(f.binning, row[f.name]);
        counts[b] = (counts[b] ?? 0) + 1;
      }
    });
  }

  snapshot(nowMs: number): DriftSnapshot {
    const current = Math.floor(nowMs / this.slotMs);
    const live = this.slots.filter((s) => s.index > current - this.slots.length && s.index <= current);
    const rows = live.reduce((a, s) => a + s.rows, 0);
    const psi = new Map<string, number>();
    this.features.forEach((f, k) => {
      if (rows < minDriftRows(f)) return;
      const total = new Array<number>(binCount(f.binning)).fill(0);
      for (const s of live) (s.counts[k] ?? []).forEach((c, b) => (total[b] = (total[b] ?? 0) + c));
      psi.set(f.name, psiFromCounts(f, total));
    });
    return { rows, psi };
  }
}
