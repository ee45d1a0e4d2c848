// Live PSI per feature over a sliding window, cheap enough for every request, binned with the reference profile's
// frozen edges (never recomputed from live data). Two bounds:
//   - wall clock (PERENNIAL_SERVER_DRIFT_WINDOW_SECONDS): rows older than the duration leave the window;
//   - rows (PERENNIAL_SERVER_DRIFT_WINDOW_ROWS, 0: none): at most the newest N rows, so a high-traffic server
//     compares its newest N rows, and a batch followed by silence is judged on its newest N rows for as long as the
//     duration allows.
// Without a row bound the window is a ring of time slots, each holding bin counts per feature; with one it is a ring
// of the newest N rows' bin indices (N × features small integers) and running counts, expired by time from the oldest
// end. Adding a row is O(features · log bins) either way; a scrape is O(bins), memory is bounded by the slots or by N.
// Beside the window, every row also goes to the sequential detector (src/shared/drift-sequential.ts), which needs no
// window to fill: it signals once the rows since the change are evidence enough. Both start afresh with the model
// (a DriftWindow is made per loaded model), so a new version is never judged on rows sent to the previous one.
import { binCount, binIndex, psiFromCounts, type FeatureProfile, type ReferenceProfile } from '../shared/drift.js';
import { SequentialDetector, type SequentialState } from '../shared/drift-sequential.js';
import type { RawRow } from '../shared/preprocessing.js';

export interface DriftSnapshot {
  readonly rows: number;
  /** PSI per feature of the profile; absent while the window holds fewer rows than minDriftRows(feature). */
  readonly psi: ReadonlyMap<string, number>;
  /** The sequential detector since the model was loaded (its rows are every row, not the window's). */
  readonly sequential: SequentialState;
}

/** Rows binned once: row r's bin of feature k at r·features + k. */
interface Binned {
  readonly rows: number;
  readonly bins: Uint32Array;
}

/**
 * Rows a window needs before its PSI for a feature means anything: 10 per bin (the usual rule of thumb for PSI; with
 * fewer, sampling noise alone reads as drift — a pod that had answered 5 rows reported PSI 3.4 and could start a
 * drift retrain). Below it the server publishes no PSI for the feature, only the window's row count.
 */
export function minDriftRows(feature: FeatureProfile): number {
  return 10 * binCount(feature.binning);
}

export interface DriftWindowOptions {
  /** Time slots of the wall-clock ring (default 60: the window moves in steps of a sixtieth of its duration). */
  readonly slots?: number;
  /** The newest rows kept at most (0 or absent: no row bound). */
  readonly maxRows?: number;
}

/** The rows in the window, counted per feature and bin. */
interface Counter {
  add(binned: Binned, nowMs: number): void;
  /** Rows in the window at nowMs, and the bin counts of feature k. */
  totals(nowMs: number): { rows: number; counts: (k: number) => number[] };
}

interface Slot {
  index: number;
  rows: number;
  readonly counts: number[][];
}

/** The wall-clock window: a ring of time slots, each with bin counts per feature. */
class SlotRing implements Counter {
  private readonly slots: Slot[];
  private readonly slotMs: number;

  constructor(private readonly features: readonly FeatureProfile[], windowMs: number, slotCount: number) {
    this.slotMs = Math.max(1, Math.floor(windowMs / slotCount));
    this.slots = Array.from({ length: slotCount }, () => ({ index: -1, rows: 0, counts: features.map((f) => new Array<number>(binCount(f.binning)).fill(0)) }));
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

  add(binned: Binned, nowMs: number): void {
    const slot = this.slotFor(nowMs);
    slot.rows += binned.rows;
    const width = this.features.length;
    for (let k = 0; k < width; k++) {
      const counts = slot.counts[k] as number[];
      for (let r = 0; r < binned.rows; r++) {
        const b = binned.bins[r * width + k] as number;
        counts[b] = (counts[b] ?? 0) + 1;
      }
    }
  }

  totals(nowMs: number): { rows: number; counts: (k: number) => number[] } {
    const current = Math.floor(nowMs / this.slotMs);
    const live = this.slots.filter((s) => s.index > current - this.slots.length && s.index <= current);
    return {
      rows: live.reduce((a, s) => a + s.rows, 0),
      counts: (k) => {
        const total = new Array<number>(binCount((this.features[k] as FeatureProfile).binning)).fill(0);
        for (const s of live) (s.counts[k] ?? []).forEach((c, b) => (total[b] = (total[b] ?? 0) + c));
        return total;
      },
    };
  }
}

/**
 * The newest `capacity` rows that are also younger than the duration: per row its time and its bin per feature in a
 * ring, the bin counts of the rows in the ring kept running. A row leaves when a newer one needs its place or when it
 * grows older than the duration (checked from the oldest end, on every add and scrape).
 */
class RowRing implements Counter {
  private readonly width: number;
  private readonly bins: Uint16Array | Uint32Array;
  private readonly times: Float64Array;
  private readonly counts: Int32Array[];
  /** Slot of the oldest row, and how many rows the ring holds. */
  private head = 0;
  private size = 0;

  constructor(features: readonly FeatureProfile[], private readonly windowMs: number, private readonly capacity: number) {
    this.width = features.length;
    const most = features.reduce((a, f) => Math.max(a, binCount(f.binning)), 0);
    this.bins = most <= 0x10000 ? new Uint16Array(capacity * this.width) : new Uint32Array(capacity * this.width);
    this.times = new Float64Array(capacity);
    this.counts = features.map((f) => new Int32Array(binCount(f.binning)));
  }

  get rows(): number {
    return this.size;
  }

  private dropOldest(): void {
    const base = this.head * this.width;
    for (let k = 0; k < this.width; k++) {
      const counts = this.counts[k] as Int32Array;
      const b = this.bins[base + k] as number;
      counts[b] = (counts[b] as number) - 1;
    }
    this.head = (this.head + 1) % this.capacity;
    this.size -= 1;
  }

  /** Drops the rows whose age at nowMs is the duration or more. */
  expire(nowMs: number): void {
    const oldest = nowMs - this.windowMs;
    while (this.size > 0 && (this.times[this.head] as number) <= oldest) this.dropOldest();
  }

  add(binned: Binned, nowMs: number): void {
    this.expire(nowMs);
    // Of a request larger than the ring only its newest `capacity` rows could stay.
    for (let r = Math.max(0, binned.rows - this.capacity); r < binned.rows; r++) {
      if (this.size === this.capacity) this.dropOldest();
      const slot = (this.head + this.size) % this.capacity;
      const base = slot * this.width;
      for (let k = 0; k < this.width; k++) {
        const b = binned.bins[r * this.width + k] as number;
        this.bins[base + k] = b;
        const counts = this.counts[k] as Int32Array;
        counts[b] = (counts[b] as number) + 1;
      }
      this.times[slot] = nowMs;
      this.size += 1;
    }
  }

  totals(nowMs: number): { rows: number; counts: (k: number) => number[] } {
    this.expire(nowMs);
    return { rows: this.size, counts: (k) => Array.from(this.counts[k] ?? []) };
  }
}

/** Row r's bin of feature k at r·features + k, with the profile's frozen edges. */
export function binRows(features: readonly FeatureProfile[], rows: readonly RawRow[]): Uint32Array {
  const width = features.length;
  const bins = new Uint32Array(rows.length * width);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as RawRow;
    for (let k = 0; k < width; k++) {
      const f = features[k] as FeatureProfile;
      bins[r * width + k] = binIndex(f.binning, row[f.name]);
    }
  }
  return bins;
}

export class DriftWindow {
  private readonly counter: Counter;
  private readonly detector: SequentialDetector;

  /** `windowMs`: the wall-clock duration; `options.maxRows` > 0 also keeps at most that many of the newest rows. */
  constructor(private readonly features: readonly FeatureProfile[], windowMs: number, options: DriftWindowOptions = {}) {
    const maxRows = options.maxRows ?? 0;
    this.counter = maxRows > 0 ? new RowRing(features, windowMs, maxRows) : new SlotRing(features, windowMs, options.slots ?? 60);
    this.detector = new SequentialDetector(features);
  }

  /** Features per binned row. */
  get width(): number {
    return this.features.length;
  }

  static fromProfile(profile: ReferenceProfile, windowMs: number, maxRows = 0): DriftWindow {
    return new DriftWindow(profile.features, windowMs, { maxRows });
  }

  add(rows: readonly RawRow[], nowMs: number): void {
    this.addBinned(rows.length, binRows(this.features, rows), nowMs);
  }

  /**
   * `rows` rows binned elsewhere with the same profile (binRows: a serving worker bins its rows, the pod's one window
   * takes them; cluster-worker.ts): `bins` holds rows × features values.
   */
  addBinned(rows: number, bins: Uint32Array, nowMs: number): void {
    const width = this.features.length;
    if (bins.length !== rows * width) throw new RangeError(`${rows} binned rows of ${width} features expected, got ${bins.length} values`);
    for (let r = 0; r < rows; r++) this.detector.add(bins.subarray(r * width, (r + 1) * width), nowMs);
    this.counter.add({ rows, bins }, nowMs);
  }

  snapshot(nowMs: number): DriftSnapshot {
    const { rows, counts } = this.counter.totals(nowMs);
    const psi = new Map<string, number>();
    this.features.forEach((f, k) => {
      if (rows < minDriftRows(f)) return;
      psi.set(f.name, psiFromCounts(f, counts(k)));
    });
    return { rows, psi, sequential: this.detector.state() };
  }
}
