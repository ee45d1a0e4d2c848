// Client traffic for the weather loop: days of one location sent to a ModelDeployment's ready endpoints (round robin
// over the EndpointSlices, as kube-proxy spreads it), with the true label fed back for every answered prediction
// through the deployment's feedback Service — to a ready endpoint picked at random, as kube-proxy would, never on
// purpose the pod that answered — with the token from its feedback Secret, as a label sender holding it would.
// Shared by the closed-loop e2e test, `make demo` and the loop benchmarks.
import { setTimeout as sleep } from 'node:timers/promises';
import type { DiscoveryV1Api } from '@kubernetes/client-node';
import { weatherLines } from '../integration/trainer-harness.js';

export interface Day {
  readonly instance: Record<string, number | string>;
  readonly label: string;
}

/**
 * Every day of one location in the weather data, as a request instance and its true label, in a fixed shuffled
 * order: any stretch of the traffic is then a sample of all seasons, so live accuracies measured over different
 * stretches (v1's windows before a retrain, v2's after) compare like with like. In date order, a minute of traffic
 * covers part of a year, and the comparison would measure the seasons as much as the models.
 */
export function days(location: string): Day[] {
  const { header, rows } = weatherLines();
  const cols = header.split(',');
  const inDateOrder = rows.map((line) => Object.fromEntries(line.split(',').map((v, i) => [cols[i] ?? '', v])))
    .filter((r) => r['location'] === location)
    .map((r) => ({
      instance: { precipitation: Number(r['precipitation']), temp_max: Number(r['temp_max']), temp_min: Number(r['temp_min']), wind: Number(r['wind']), date: r['date'] ?? '' },
      label: r['weather'] ?? '',
    }));
  return shuffled(inDateOrder, location.length * 7919 + 17);
}

/** Fisher–Yates with a seeded generator (mulberry32): the same order in every run. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** The ready endpoints (`address:port`) of a Service, read from its EndpointSlices as kube-proxy reads them. */
export async function readyEndpoints(discovery: DiscoveryV1Api, namespace: string, service: string): Promise<string[]> {
  const slices = await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` });
  const out: string[] = [];
  for (const slice of slices.items) {
    const port = slice.ports?.[0]?.port ?? 8080;
    for (const e of slice.endpoints) {
      if (e.conditions?.ready !== true) continue;
      for (const a of e.addresses) out.push(`${a}:${port}`);
    }
  }
  return out;
}

/** Client-side counts: every request and every failure (a non-2xx answer or no answer), with the first errors. */
export interface TrafficCounts {
  requests: number;
  failed: number;
  feedback: number;
  feedbackFailed: number;
  /** Every prediction id answered, in order: what the inference log must hold. */
  readonly predictionIds: string[];
  readonly errors: string[];
}

/** Where labels go: the feedback Service's ready endpoints and the bearer token. */
export interface FeedbackTarget {
  readonly endpoints: () => Promise<string[]>;
  readonly token: () => Promise<string>;
}

export interface WeatherTrafficOptions {
  /** The endpoints to spread requests over, asked before every request (an empty list waits). */
  readonly endpoints: () => Promise<string[]>;
  readonly feedback: FeedbackTarget;
  /** The model name in the URL (the ModelDeployment's name). */
  readonly model: string;
  readonly source: Day[];
  /** Days per request (default 4). */
  readonly batch?: number;
  /** Pause between requests in ms (default 20). */
  readonly pauseMs?: number;
}

/** One client sending requests in sequence until stopped. `source` may be switched while it runs. */
export class WeatherTraffic {
  source: Day[];
  readonly counts: TrafficCounts = { requests: 0, failed: 0, feedback: 0, feedbackFailed: 0, predictionIds: [], errors: [] };
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(private readonly options: WeatherTrafficOptions) {
    this.source = options.source;
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async loop(): Promise<void> {
    const size = this.options.batch ?? 4;
    let i = 0;
    while (!this.stopped) {
      const eps = await this.options.endpoints().catch(() => []);
      const ep = eps[i % Math.max(1, eps.length)];
      if (ep === undefined) {
        await sleep(200);
        continue;
      }
      const source = this.source;
      const batch = Array.from({ length: size }, (_, k) => source[(i * size + k) % source.length]).filter((d): d is Day => d !== undefined);
      i++;
      await this.send(`http://${ep}`, ep, batch);
      await sleep(this.options.pauseMs ?? 20);
    }
  }

  private async send(base: string, ep: string, batch: Day[]): Promise<void> {
    const c = this.counts;
    c.requests++;
    let ids: string[];
    try {
      const r = await fetch(`${base}/v1/models/${this.options.model}:predict`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ instances: batch.map((d) => d.instance) }), signal: AbortSignal.timeout(5000),
      });
      if (!r.ok) {
        c.failed++;
        c.errors.push(`${ep}: HTTP ${r.status} ${(await r.text()).slice(0, 200)}`);
        return;
      }
      ids = (await r.json() as { prediction_ids: string[] }).prediction_ids;
      c.predictionIds.push(...ids);
    } catch (e: unknown) {
      c.failed++;
      c.errors.push(`${ep}: ${e instanceof Error ? `${e.message} ${String(e.cause)}` : String(e)}`);
      return;
    }
    try {
      const eps = await this.options.feedback.endpoints();
      const target = eps[Math.floor(Math.random() * eps.length)];
      if (target === undefined) throw new Error('the feedback Service has no ready endpoint');
      const f = await fetch(`http://${target}/v1/feedback`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await this.options.feedback.token()}` },
        body: JSON.stringify({ feedback: ids.map((id, k) => ({ id, label: batch[k]?.label })) }), signal: AbortSignal.timeout(5000),
      });
      c.feedback++;
      if (!f.ok) {
        c.feedbackFailed++;
        c.errors.push(`feedback ${target}: HTTP ${f.status} ${(await f.text()).slice(0, 200)}`);
      }
    } catch (e: unknown) {
      c.feedback++;
      c.feedbackFailed++;
      c.errors.push(`feedback: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
