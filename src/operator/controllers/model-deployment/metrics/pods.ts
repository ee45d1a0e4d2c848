// The `pods` metric provider (the default; no Prometheus needed): it lists the deployment's ready pods by label
// (one API call per measurement, instead of a cluster-wide pod cache) and scrapes each pod's /metrics at its IP:
// the revision's own pods for its traffic, latency, shadow comparisons and drift, and every pod for the feedback
// labels of the revision's version (outcomes, log loss, squared error) (labels reach any pod through the feedback Service). Counters are cumulative per process, so a
// window [start, now] is the difference between now and a scrape taken at (or just after) the window's start:
// every call keeps its scrape as a baseline for later windows. A window may grow (a step's window until a verdict,
// canary-steps.ts): its start's baseline stays pinned while it is asked for every interval. The label series may
// have a window of their own (labelsFromMs: liveMetrics' label window), with its own pinned baseline. A pod that started inside the window counts from
// zero. A pod with no baseline (the operator restarted mid-window) is left out; with no pod measurable the
// answer is NoValuesError, read as Inconclusive.
//
// Memory per served pod is bounded, and small: a kept scrape holds only the counter series a window reads
// (retainedForWindows: predict-route requests by code and latency buckets, feedback outcomes, log-loss and
// squared-error sums, shadow comparisons;
// the gauges are read from the latest scrape and never kept), about 50 series for the weather model instead of
// the ~225 of a full scrape with the process metrics, each kept as one seriesKey → value entry. Per pod at most
// `recentPerPod` latest scrapes (the sliding liveMetrics window, and the fallback of a window that starts after the
// last scrape) plus `pinnedPerPod` scrapes pinned as the baseline of a window start that was asked for, least
// recently used first out (a pod sees two or three window starts per interval, and a step window asks every
// interval, so its baseline stays). That is at most 4 + 8 = 12 scrapes per pod: pods.test.ts measures ~570 kept
// values and ~120 KiB of heap per pod, where 512 full scrapes took ~37 MiB. Pods that
// leave their revision's listing are forgotten at the next measurement of that revision, pods of revisions no
// longer measured after `keepMs`.
import type { V1Pod } from '@kubernetes/client-node';
import {
  diffSamples, featurePsi, latencyQuantile, parsePrometheusText, requestCounts, seriesKey, serverMetricLabels, serverMetricNames, predictRoutes, type Sample,
} from '../../../../shared/server-metrics.js';
import { Label } from '../../../../api/labels.js';
import { selectorLabels } from '../names.js';
import { NoValuesError, ProviderError, type Measurement, type MetricProvider, type MetricQuery } from './provider.js';

interface Snapshot {
  readonly atMs: number;
  /** The retained series only, compact: seriesKey → value. */
  readonly series: ReadonlyMap<string, number>;
}

interface PodMemory {
  /** `<namespace>/<deployment>/<revision hash>`: the listing the pod was found in. */
  readonly revision: string;
  /** Latest scrapes, oldest first, at most recentPerPod. */
  recent: Snapshot[];
  /** Window start → the scrape chosen as its baseline; Map order is least recently used first. */
  readonly pinned: Map<number, Snapshot>;
  lastMs: number;
}

/** Lists pods of a namespace matching equality labels (the API server's labelSelector). */
export type ListPods = (namespace: string, labels: Readonly<Record<string, string>>) => Promise<V1Pod[]>;

export type Fetch = (url: string, init: { signal: AbortSignal }) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

/** Pods not scraped for this long are forgotten (longer than any sensible analysis window). */
const keepMs = 6 * 3_600_000;
export const recentPerPod = 4;
export const pinnedPerPod = 8;

const retainedNames = new Set<string>([
  serverMetricNames.requests, `${serverMetricNames.latency}_bucket`, serverMetricNames.feedback, serverMetricNames.feedbackLogLossSum,
  serverMetricNames.feedbackLogLossCount, serverMetricNames.feedbackSquaredError, serverMetricNames.shadowComparisons,
]);

/** Series that count labels: read from every pod of the deployment, not only the revision's own. */
const labelNames = new Set<string>([serverMetricNames.feedback, serverMetricNames.feedbackLogLossSum, serverMetricNames.feedbackLogLossCount, serverMetricNames.feedbackSquaredError]);

/** The series summarize() reads from a window (counters); everything else in a scrape is not kept. */
export function retainedForWindows(s: Sample): boolean {
  if (!retainedNames.has(s.name)) return false;
  return s.name === serverMetricNames.requests || s.name.endsWith('_bucket') ? isPredict(s.labels) : true;
}

export class PodsMetricProvider implements MetricProvider {
  private readonly pods = new Map<string, PodMemory>();

  constructor(
    private readonly listPods: ListPods,
    private readonly fetchFn: Fetch = fetch,
    private readonly timeoutMs = 3000,
  ) {}

  async measure(q: MetricQuery): Promise<Measurement> {
    let listed: V1Pod[];
    try {
      // Every pod of the deployment: labels come in through the feedback Service to any pod of any revision, and
      // each pod counts them under the version that made the prediction.
      listed = await this.listPods(q.namespace, selectorLabels(q.deployment));
    } catch (e: unknown) {
      throw new ProviderError(`listing pods: ${e instanceof Error ? e.message : String(e)}`);
    }
    const revision = `${q.namespace}/${q.deployment}`;
    this.forget(revision, new Set(listed.map(podKey)), q.nowMs);
    const pods = listed.filter((p) => p.status?.podIP && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    const own = (p: V1Pod): boolean => p.metadata?.labels?.[Label.revision] === q.revisionHash;
    if (!pods.some(own)) throw new NoValuesError('no ready pods of the revision');
    const windows: Sample[][] = [];
    const latest: Sample[][] = [];
    let errors = 0;
    await Promise.all(pods.map(async (pod) => {
      let samples: Sample[];
      try {
        samples = await this.scrape(`http://${pod.status?.podIP ?? ''}:${q.port}/metrics`);
      } catch {
        errors++;
        return;
      }
      const started = Date.parse(pod.status?.startTime?.toString() ?? '');
      const memory = this.memoryOf(podKey(pod), revision);
      const labelsFrom = q.labelsFromMs ?? q.windowStartMs;
      const base = baselineFor(memory, q.windowStartMs, started);
      const labelBase = labelsFrom === q.windowStartMs ? base : baselineFor(memory, labelsFrom, started) ?? base;
      const window = samples.filter(retainedForWindows);
      const snap: Snapshot = { atMs: q.nowMs, series: new Map(window.map((s) => [seriesKey(s), s.value])) };
      remember(memory, snap);
      for (const start of new Set([q.windowStartMs, labelsFrom])) pinFirst(memory, start, started, snap);
      // Of another revision's pod only the labels count (its traffic, latency and drift are that revision's; it may
      // even serve the same version with another server template).
      const read = own(pod) ? window : window.filter((s) => labelNames.has(s.name));
      if (own(pod)) latest.push(samples);
      if (base === undefined) return;
      windows.push(labelBase === base ? diffSamples(base, read)
        : [...diffSamples(base, read.filter((s) => !labelNames.has(s.name))), ...diffSamples(labelBase ?? base, read.filter((s) => labelNames.has(s.name)))]);
    }));
    if (latest.length === 0) throw new ProviderError(`no pod answered /metrics (${errors} failed)`);
    if (windows.length === 0) throw new NoValuesError('no baseline scrape yet for this window (measuring from now on)');
    return summarize(windows.flat(), latest.flat(), q.version);
  }

  /** What is kept, for the bound's test: pods, scrapes and samples in all. */
  retained(): { pods: number; snapshots: number; samples: number } {
    let snapshots = 0;
    let samples = 0;
    for (const m of this.pods.values()) {
      const all = new Set([...m.recent, ...m.pinned.values()]);
      snapshots += all.size;
      for (const s of all) samples += s.series.size;
    }
    return { pods: this.pods.size, snapshots, samples };
  }

  private async scrape(url: string): Promise<Sample[]> {
    const res = await this.fetchFn(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    if (!res.ok) throw new ProviderError(`${url} answered ${res.status}`);
    return parsePrometheusText(await res.text());
  }

  private memoryOf(key: string, revision: string): PodMemory {
    let m = this.pods.get(key);
    if (m === undefined) {
      m = { revision, recent: [], pinned: new Map(), lastMs: 0 };
      this.pods.set(key, m);
    }
    return m;
  }

  /** Drops the revision's pods that are no longer listed, and every pod not scraped for keepMs. */
  private forget(revision: string, listed: ReadonlySet<string>, nowMs: number): void {
    for (const [k, m] of this.pods) {
      if ((m.revision === revision && !listed.has(k)) || m.lastMs < nowMs - keepMs) this.pods.delete(k);
    }
  }
}

function podKey(p: V1Pod): string {
  return p.metadata?.uid ?? p.metadata?.name ?? '';
}

/**
 * The baseline of a window: the scrape pinned for its start, else the first kept scrape at or after the start,
 * else the last one before it; undefined when none. A baseline found at or after the start is pinned.
 */
function baseline(m: PodMemory, startMs: number): ReadonlyMap<string, number> | readonly Sample[] | undefined {
  const pinned = m.pinned.get(startMs);
  if (pinned !== undefined) {
    pin(m, startMs, pinned);
    return pinned.series;
  }
  const kept = [...m.pinned.values(), ...m.recent].sort((a, b) => a.atMs - b.atMs);
  const after = kept.find((s) => s.atMs >= startMs);
  if (after !== undefined) {
    pin(m, startMs, after);
    return after.series;
  }
  return kept[kept.length - 1]?.series;
}

/** A window's baseline for a pod that started at `startedMs`: none to subtract when it started inside the window. */
function baselineFor(m: PodMemory, startMs: number, startedMs: number): ReadonlyMap<string, number> | readonly Sample[] | undefined {
  return Number.isFinite(startedMs) && startedMs >= startMs ? [] : baseline(m, startMs);
}

/** No scrape at or after the window's start existed: this one is the first, and stays its baseline. */
function pinFirst(m: PodMemory, startMs: number, startedMs: number, snap: Snapshot): void {
  const fromZero = Number.isFinite(startedMs) && startedMs >= startMs;
  if (!fromZero && !m.pinned.has(startMs) && snap.atMs >= startMs) pin(m, startMs, snap);
}

function pin(m: PodMemory, startMs: number, snap: Snapshot): void {
  m.pinned.delete(startMs);
  m.pinned.set(startMs, snap);
  while (m.pinned.size > pinnedPerPod) m.pinned.delete(m.pinned.keys().next().value as number);
}

function remember(m: PodMemory, snap: Snapshot): void {
  m.recent.push(snap);
  if (m.recent.length > recentPerPod) m.recent.splice(0, m.recent.length - recentPerPod);
  m.lastMs = snap.atMs;
}

const isPredict = (l: Readonly<Record<string, string>>): boolean => (predictRoutes as readonly string[]).includes(l[serverMetricLabels.route] ?? '');

function total(samples: readonly Sample[], name: string, version: string, where: (l: Readonly<Record<string, string>>) => boolean = () => true): number {
  return samples
    .filter((s) => s.name === name && s.labels[serverMetricLabels.modelVersion] === version && where(s.labels))
    .reduce((a, s) => a + s.value, 0);
}

/** Counts over the window (from `window`: differences) and gauges now (from `now`: the latest scrapes). */
export function summarize(window: readonly Sample[], now: readonly Sample[], version: string): Measurement {
  const outcome = (o: string) => (l: Readonly<Record<string, string>>): boolean => l[serverMetricLabels.outcome] === o;
  const counts = requestCounts(window, version);
  const correct = total(window, serverMetricNames.feedback, version, outcome('correct'));
  const incorrect = total(window, serverMetricNames.feedback, version, outcome('incorrect'));
  const p99 = latencyQuantile(window, version, 0.99);
  const compared = total(window, serverMetricNames.shadowComparisons, version);
  return {
    requests: counts.ok + counts.client + counts.shed + counts.fault,
    errors: counts.fault,
    clientErrors: counts.client,
    shed: counts.shed,
    latencyP99Ms: p99 === undefined ? undefined : p99 * 1000,
    labelled: correct + incorrect,
    correct,
    logLossLabels: total(window, serverMetricNames.feedbackLogLossCount, version),
    logLossSum: total(window, serverMetricNames.feedbackLogLossSum, version),
    scored: total(window, serverMetricNames.feedback, version, outcome('scored')),
    squaredError: total(window, serverMetricNames.feedbackSquaredError, version),
    drift: Object.fromEntries(featurePsi(now, version)),
    driftRows: total(now, serverMetricNames.driftWindowRows, version),
    compared,
    agreed: total(window, serverMetricNames.shadowComparisons, version, outcome('agree')),
  };
}
