// How the loop's time from drift onset to the new version at 100% divides (pure). The points are taken in the
// loop's order; each is clamped to be no earlier than the one before (separate watches deliver in their own
// order, and the objects' whole-second timestamps floor), so the segments tile the interval exactly and the
// categories add up to the total.
export type Category = 'training' | 'waits' | 'runtime' | 'operator' | 'detection';

export const categories: readonly Category[] = ['training', 'waits', 'runtime', 'operator', 'detection'];

export const categoryNames: Readonly<Record<Category, string>> = {
  training: '(a) training (trainer container run time)',
  waits: '(b) user-configured waits (for, analysis window)',
  runtime: '(c) runtime: Kubernetes controllers, pod startup',
  operator: '(d) operator overhead (ours)',
  detection: '(e) drift detection: servers → liveMetrics',
};

/** One point of the loop: the time it was reached (ms) and the category of the segment that ends there. */
export interface Point {
  readonly label: string;
  readonly atMs: number;
  readonly category: Category;
  /** What the segment ending here is (printed for the operator's transitions). */
  readonly segment: string;
}

export interface Segment {
  readonly from: string;
  readonly to: string;
  readonly what: string;
  readonly category: Category;
  readonly ms: number;
}

export interface Split {
  readonly totalMs: number;
  readonly segments: readonly Segment[];
  readonly byCategory: Readonly<Record<Category, number>>;
}

export function splitLoop(startLabel: string, startMs: number, points: readonly Point[]): Split {
  const segments: Segment[] = [];
  const byCategory: Record<Category, number> = { training: 0, waits: 0, runtime: 0, operator: 0, detection: 0 };
  let prevMs = startMs;
  let prevLabel = startLabel;
  for (const p of points) {
    const at = Math.max(prevMs, p.atMs);
    const ms = at - prevMs;
    segments.push({ from: prevLabel, to: p.label, what: p.segment, category: p.category, ms });
    byCategory[p.category] += ms;
    prevMs = at;
    prevLabel = p.label;
  }
  return { totalMs: prevMs - startMs, segments, byCategory };
}
