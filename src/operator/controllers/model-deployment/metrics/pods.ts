// The `pods` metric provider (the default; no Prometheus needed): it lists the deployment's pods by label (one API
// call per measurement, instead of a cluster-wide pod cache) and scrapes each pod's /metrics at its IP: the
// revision's own pods for its traffic, latency, shadow comparisons and drift, and every pod for the feedback labels of
// the revision's version (outcomes, log loss, squared error) (labels reach any pod through the feedback Service).
// Counters are cumulative per process, so a window [start, now] is the difference between now and a scrape taken at
// (or just after) the window's start: every call keeps its scrape as a baseline for later windows. A window may grow
// (a step's window until a verdict, canary-steps.ts): its start's baseline stays pinned while it is asked for every
// interval. The label series may have a window of their own (labelsFromMs: liveMetrics' label window), with its own
// pinned baseline. A pod that started inside the window counts from zero. A pod with no baseline (the operator
// restarted mid-window) is left out; with no pod measurable the answer is NoValuesError, read as Inconclusive. The
// revision needs a ready pod to be measured at all, and its ready pods' gauges (drift) are the figures of now.
//
// Pods go away (the old stable at a canary's 100 % step, the previous revision at the end of the rollback window,
// node drains, crashes) and their counters with them. So the window counts never go backwards: every pod with an
// address is asked, ready or not (a terminating pod answers through its shutdown delay, labels taken until then
// count), and a pod not heard from now (gone from the listing, or not answering) counts with its LAST scrape, in
// every window that started before that scrape. What it took after its last scrape is lost to the live figures (at
// most one measurement interval; the inference log has the labels all the same). Departed pods are kept as they were
// (their kept scrapes), the latest `departedPerDeployment` departures per deployment, until keepMs.
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
// values and ~120 KiB of heap per pod, where 512 full scrapes took ~37 MiB (a departed pod no more).
// Pods not scraped for `keepMs` are forgotten.
import type { V1Pod } from '@kubernetes/client-node';
import {
  diffSamples, driftEvidence, featurePsi, latencyQuantile, parsePrometheusText, requestCounts, seriesKey, serverMetricLabels, serverMetricNames, predictRoutes, type Sample,
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
  /** `<namespace>/<deployment>`: the listing the pod was found in (every pod of the md). */
  readonly deployment: string;
  /** The pod's revision hash label: its own series count for that revision, only its label series for others. */
  readonly revisionHash: string | undefined;
  /** When the pod started (NaN when unknown): a window it started in counts it from zero. */
  startedMs: number;
  /** Latest scrapes, oldest first, at most recentPerPod. */
  recent: Snapshot[];
  /** Window start → the scrape chosen as its baseline; Map order is least recently used first. */
  readonly pinned: Map<number, Snapshot>;
  lastMs: number;
  /** When the pod was first missing from the listing: it has left, its last scrape stands for it. */
  departedMs: number | undefined;
}

/** Lists pods of a namespace matching equality labels (the API server's labelSelector). */
export type ListPods = (namespace: string, labels: Readonly<Record<string, string>>) => Promise<V1Pod[]>;

export type Fetch = (url: string, init: { signal: AbortSignal }) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

/** Pods not scraped for this long are forgotten (longer than any sensible analysis window). */
const keepMs = 6 * 3_600_000;
export const recentPerPod = 4;
export const pinnedPerPod = 8;
/** Pods that left a deployment's listing kept for their last counts, newest departures first (older ones forgotten). */
export const departedPerDeployment = 64;

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
    const deployment = `${q.namespace}/${q.deployment}`;
    this.forget(deployment, new Set(listed.map(podKey)), q.nowMs);
    const own = (p: V1Pod): boolean => p.metadata?.labels?.[Label.revision] === q.revisionHash;
    if (!listed.some((p) => isReady(p) && own(p))) throw new NoValuesError('no ready pods of the revision');
    const windows: Sample[][] = [];
    const latest: Sample[][] = [];
    const answered = new Set<string>();
    let errors = 0;
    // Every pod with an address is asked, ready or not: one on its way out (unready, terminating) still answers
    // through its shutdown delay, and the labels it took until then count.
    await Promise.all(listed.filter((p) => p.status?.podIP).map(async (pod) => {
      let samples: Sample[];
      try {
        samples = await this.scrape(`http://${pod.status?.podIP ?? ''}:${q.port}/metrics`);
      } catch {
        errors++;
        return;
      }
      const memory = this.memoryOf(pod, deployment);
      answered.add(podKey(pod));
      const window = samples.filter(retainedForWindows);
      const counts = countsOf(memory, q, window);
      const snap: Snapshot = { atMs: q.nowMs, series: new Map(window.map((s) => [seriesKey(s), s.value])) };
      remember(memory, snap);
      for (const start of new Set([q.windowStartMs, q.labelsFromMs ?? q.windowStartMs])) pinFirst(memory, start, memory.startedMs, snap);
      // Gauges (drift) are what the revision's serving pods hold now.
      if (own(pod) && isReady(pod)) latest.push(samples);
      if (counts !== undefined) windows.push(counts);
    }));
    if (latest.length === 0) throw new ProviderError(`no pod answered /metrics (${errors} failed)`);
    // A pod not heard from now (gone from the listing, or not answering) counts with its last scrape: counters of
    // the window never go backwards when a pod leaves; what it took after that scrape is lost.
    for (const [key, memory] of this.pods) {
      const last = memory.recent.at(-1);
      if (memory.deployment !== deployment || answered.has(key) || last === undefined) continue;
      const counts = countsOf(memory, q, samplesOf(last));
      if (counts !== undefined) windows.push(counts);
    }
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

  private memoryOf(pod: V1Pod, deployment: string): PodMemory {
    const key = podKey(pod);
    const startedMs = Date.parse(pod.status?.startTime?.toString() ?? '');
    let m = this.pods.get(key);
    if (m === undefined) {
      m = { deployment, revisionHash: pod.metadata?.labels?.[Label.revision], startedMs, recent: [], pinned: new Map(), lastMs: 0, departedMs: undefined };
      this.pods.set(key, m);
    } else {
      if (Number.isFinite(startedMs)) m.startedMs = startedMs;
      m.departedMs = undefined; // listed and answering again (a listing that lagged)
    }
    return m;
  }

  /**
   * The deployment's pods no longer listed are marked departed and kept for their last counts (at most
   * departedPerDeployment of them, the latest departures); every pod not scraped for keepMs is forgotten.
   */
  private forget(deployment: string, listed: ReadonlySet<string>, nowMs: number): void {
    const departed: Array<[string, number]> = [];
    for (const [k, m] of this.pods) {
      if (m.lastMs < nowMs - keepMs) {
        this.pods.delete(k);
        continue;
      }
      if (m.deployment !== deployment) continue;
      if (m.departedMs === undefined && !listed.has(k)) m.departedMs = nowMs;
      if (m.departedMs !== undefined) departed.push([k, m.departedMs]);
    }
    departed.sort((a, b) => b[1] - a[1]);
    for (const [k] of departed.slice(departedPerDeployment)) this.pods.delete(k);
  }
}

function isReady(p: V1Pod): boolean {
  return Boolean(p.status?.podIP) && (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
}

/**
 * A pod's counts over the query's windows from `window` (its retained series, now or at its last scrape): the
 * difference from the window's baseline (the label series from the label window's), of every series for the
 * revision's own pod and of the label series only for another revision's; undefined without a baseline.
 */
function countsOf(m: PodMemory, q: MetricQuery, window: readonly Sample[]): Sample[] | undefined {
  const labelsFrom = q.labelsFromMs ?? q.windowStartMs;
  const base = baselineFor(m, q.windowStartMs, m.startedMs);
  const labelBase = labelsFrom === q.windowStartMs ? base : baselineFor(m, labelsFrom, m.startedMs) ?? base;
  // Of another revision's pod only the labels count (its traffic, latency and drift are that revision's; it may
  // even serve the same version with another server template).
  const read = m.revisionHash === q.revisionHash ? window : window.filter((s) => labelNames.has(s.name));
  if (base === undefined) return undefined;
  return labelBase === base ? diffSamples(base, read)
    : [...diffSamples(base, read.filter((s) => !labelNames.has(s.name))), ...diffSamples(labelBase ?? base, read.filter((s) => labelNames.has(s.name)))];
}

/** A kept scrape as samples again (the series key holds the name and labels). */
function samplesOf(snap: Snapshot): Sample[] {
  return [...snap.series].map(([key, value]) => {
    const [name, labels] = JSON.parse(key) as [string, Array<[string, string]>];
    return { name, labels: Object.fromEntries(labels), value };
  });
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

/** The sequential detector's gauges now: evidence per feature (largest over pods), the earliest detection. */
function sequentialDrift(now: readonly Sample[], version: string): Pick<Measurement, 'driftEvidence' | 'driftDetectedAtMs'> {
  const evidence = driftEvidence(now, version);
  const times = now.filter((s) => s.name === serverMetricNames.driftDetectedTime && s.labels[serverMetricLabels.modelVersion] === version && Number.isFinite(s.value)).map((s) => s.value * 1000);
  return {
    ...(evidence.size > 0 ? { driftEvidence: Object.fromEntries(evidence) } : {}),
    ...(times.length > 0 ? { driftDetectedAtMs: Math.min(...times) } : {}),
  };
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
    ...sequentialDrift(now, version),
    drift: Object.fromEntries(featurePsi(now, version)),
    driftRows: total(now, serverMetricNames.driftWindowRows, version),
    confidenceRows: total(now, serverMetricNames.confidenceWindowRows, version),
    confidenceSum: total(now, serverMetricNames.confidenceWindowSum, version),
    compared,
    agreed: total(window, serverMetricNames.shadowComparisons, version, outcome('agree')),
  };
}
