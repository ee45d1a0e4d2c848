// The request path's own counts kept as plain numbers and handed to prom-client only when /metrics is scraped.
// prom-client checks and hashes the label set on every inc() and observe() (a closure, the label names validated,
// a key string built): per request that was three such calls, for series whose label values are a handful of routes,
// codes and classes. Here a request costs a map lookup or two and a few additions; the scrape reads the same series,
// names and buckets as before (metrics.test.ts compares the text with prom-client's own).
import type { Counter, Metric, Registry } from 'prom-client';

/**
 * Counts by label values, added to a prom-client counter at each scrape (its collect): `add` counts, `flush` moves
 * what was counted since the last scrape into the counter.
 */
export class CounterTally {
  private readonly pending = new Map<string, { readonly labels: Readonly<Record<string, string>>; n: number }>();

  /** `key` identifies the label set (made once per series by the caller's `labels`). */
  add(key: string, labels: () => Readonly<Record<string, string>>, n = 1): void {
    const entry = this.pending.get(key);
    if (entry !== undefined) entry.n += n;
    else this.pending.set(key, { labels: labels(), n });
  }

  flush(counter: Counter<string>): void {
    for (const entry of this.pending.values()) {
      if (entry.n === 0) continue;
      counter.inc(entry.labels, entry.n);
      entry.n = 0;
    }
  }
}

/** One line of a scrape as prom-client's registry formats it. */
export interface SampleValue {
  readonly metricName: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
}

interface Series {
  readonly value: string;
  /** Observations per bucket, not cumulative; the last one is +Inf's own. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/**
 * A histogram with one label, counted in plain arrays and read by the registry like prom-client's own Histogram
 * (the same `_bucket`, `_sum` and `_count` lines; a bucket holds the values ≤ its bound, as prom-client counts).
 */
export class LabelledHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private series = new Map<string, Series>();

  constructor(readonly name: string, readonly help: string, private readonly label: string, private readonly bounds: readonly number[], registry: Registry) {
    // The registry reads name, help, type, aggregator and get(); it has no interface for a metric of one's own.
    registry.registerMetric(this as unknown as Metric);
  }

  observe(value: string, x: number): void {
    let s = this.series.get(value);
    if (s === undefined) {
      s = { value, counts: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 };
      this.series.set(value, s);
    }
    let i = 0;
    while (i < this.bounds.length && x > (this.bounds[i] as number)) i++;
    s.counts[i] = (s.counts[i] as number) + 1;
    s.sum += x;
    s.count += 1;
  }

  reset(): void {
    this.series = new Map();
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: SampleValue[] } {
    const values: SampleValue[] = [];
    for (const s of this.series.values()) {
      let acc = 0;
      this.bounds.forEach((le, i) => {
        acc += s.counts[i] as number;
        values.push({ metricName: `${this.name}_bucket`, labels: { le, [this.label]: s.value }, value: acc });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', [this.label]: s.value }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: { [this.label]: s.value }, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: { [this.label]: s.value }, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
