// The `pods` metric provider (the default; no Prometheus needed): it lists the revision's ready pods by label
// (one API call per measurement, instead of a cluster-wide pod cache) and scrapes each pod's /metrics at its IP. Counters are cumulative per process, so a
// window [start, now] is the difference between now and a scrape taken at (or just after) the window's start:
// every call keeps its scrape as a baseline for later windows. A pod that started inside the window counts from
// zero. A pod with no baseline (the operator restarted mid-window) is left out; with no pod measurable the
// answer is NoValuesError, read as Inconclusive.
import type { V1Pod } from '@kubernetes/client-node';
import {
  diffSamples, featurePsi, latencyQuantile, parsePrometheusText, serverMetricLabels, serverMetricNames, predictRoutes, type Sample,
} from '../../../../shared/server-metrics.js';
import { mdLabels } from '../names.js';
import { NoValuesError, ProviderError, type Measurement, type MetricProvider, type MetricQuery } from './provider.js';

interface Snapshot {
  readonly atMs: number;
  readonly samples: readonly Sample[];
}

/** Lists pods of a namespace matching equality labels (the API server's labelSelector). */
export type ListPods = (namespace: string, labels: Readonly<Record<string, string>>) => Promise<V1Pod[]>;

export type Fetch = (url: string, init: { signal: AbortSignal }) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

/** Scrapes older than this are dropped (longer than any sensible analysis window). */
const keepMs = 6 * 3_600_000;
const maxSnapshotsPerPod = 512;

export class PodsMetricProvider implements MetricProvider {
  private readonly snapshots = new Map<string, Snapshot[]>();

  constructor(
    private readonly listPods: ListPods,
    private readonly fetchFn: Fetch = fetch,
    private readonly timeoutMs = 3000,
  ) {}

  async measure(q: MetricQuery): Promise<Measurement> {
    let listed: V1Pod[];
    try {
      listed = await this.listPods(q.namespace, { [mdLabels.deployment]: q.deployment, [mdLabels.revision]: q.revisionHash });
    } catch (e: unknown) {
      throw new ProviderError(`listing pods: ${e instanceof Error ? e.message : String(e)}`);
    }
    const pods = listed.filter((p) => p.status?.podIP && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    if (pods.length === 0) throw new NoValuesError('no ready pods of the revision');
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
      const uid = pod.metadata?.uid ?? pod.metadata?.name ?? '';
      const started = Date.parse(pod.status?.startTime?.toString() ?? '');
      const base = Number.isFinite(started) && started >= q.windowStartMs ? [] : this.baseline(uid, q.windowStartMs);
      this.remember(uid, { atMs: q.nowMs, samples });
      latest.push(samples);
      if (base !== undefined) windows.push(diffSamples(base, samples));
    }));
    if (latest.length === 0) throw new ProviderError(`no pod answered /metrics (${errors} failed)`);
    if (windows.length === 0) throw new NoValuesError('no baseline scrape yet for this window (measuring from now on)');
    return summarize(windows.flat(), latest.flat(), q.version);
  }

  private async scrape(url: string): Promise<Sample[]> {
    const res = await this.fetchFn(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    if (!res.ok) throw new ProviderError(`${url} answered ${res.status}`);
    return parsePrometheusText(await res.text());
  }

  /** The first scrape at or after the window's start, else the last one before it; undefined when none. */
  private baseline(uid: string, startMs: number): readonly Sample[] | undefined {
    const list = this.snapshots.get(uid) ?? [];
    const after = list.find((s) => s.atMs >= startMs);
    return (after ?? list[list.length - 1])?.samples;
  }

  private remember(uid: string, snap: Snapshot): void {
    const list = (this.snapshots.get(uid) ?? []).filter((s) => s.atMs >= snap.atMs - keepMs);
    list.push(snap);
    if (list.length > maxSnapshotsPerPod) list.splice(0, list.length - maxSnapshotsPerPod);
    this.snapshots.set(uid, list);
    // Forget pods not scraped for a long time (gone).
    for (const [k, v] of this.snapshots) if ((v[v.length - 1]?.atMs ?? 0) < snap.atMs - keepMs) this.snapshots.delete(k);
  }
}

const isPredict = (l: Readonly<Record<string, string>>): boolean => (predictRoutes as readonly string[]).includes(l[serverMetricLabels.route] ?? '');

function total(samples: readonly Sample[], name: string, version: string, where: (l: Readonly<Record<string, string>>) => boolean = () => true): number {
  return samples
    .filter((s) => s.name === name && s.labels[serverMetricLabels.modelVersion] === version && where(s.labels))
    .reduce((a, s) => a + s.value, 0);
}

function classCounts(samples: readonly Sample[], version: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== serverMetricNames.predictions || s.labels[serverMetricLabels.modelVersion] !== version) continue;
    const c = s.labels[serverMetricLabels.class] ?? '';
    out[c] = (out[c] ?? 0) + s.value;
  }
  return out;
}

/** Counts over the window (from `window`: differences) and gauges now (from `now`: the latest scrapes). */
export function summarize(window: readonly Sample[], now: readonly Sample[], version: string): Measurement {
  const outcome = (o: string) => (l: Readonly<Record<string, string>>): boolean => l[serverMetricLabels.outcome] === o;
  const requests = total(window, serverMetricNames.requests, version, isPredict);
  const errors = total(window, serverMetricNames.requests, version, (l) => isPredict(l) && (l[serverMetricLabels.code] ?? '').startsWith('5'));
  const correct = total(window, serverMetricNames.feedback, version, outcome('correct'));
  const incorrect = total(window, serverMetricNames.feedback, version, outcome('incorrect'));
  const p99 = latencyQuantile(window, version, 0.99);
  return {
    requests,
    errors,
    latencyP99Ms: p99 === undefined ? undefined : p99 * 1000,
    labelled: correct + incorrect,
    correct,
    drift: Object.fromEntries(featurePsi(now, version)),
    driftRows: total(now, serverMetricNames.driftWindowRows, version),
    predictedClasses: classCounts(window, version),
  };
}
