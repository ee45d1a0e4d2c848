// Client traffic for the local loop, whatever the dataset: request instances sent to a ModelDeployment's endpoints
// (round robin over what `endpoints` returns: the Service's ClusterIP, or its ready EndpointSlice addresses as
// kube-proxy spreads them), with the true label of every answered prediction that has one fed back through the
// deployment's feedback Service — to an endpoint picked at random, as kube-proxy would, never on purpose the pod that
// answered — with the token from its feedback Secret, as a label sender holding it would.
//   Traffic     one client sending in sequence until stopped (live traffic); its source may be switched meanwhile.
//   sendBatch   a batch: every sample once, predictions first, then the labels (batch scoring, labels known later).
// Shared by the e2e tests, `make demo`, `make dev` and the loop benchmarks.
import { setTimeout as sleep } from 'node:timers/promises';
import type { DiscoveryV1Api } from '@kubernetes/client-node';
import type { Sample, Value } from './dataset.js';

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

export function emptyCounts(): TrafficCounts {
  return { requests: 0, failed: 0, feedback: 0, feedbackFailed: 0, predictionIds: [], errors: [] };
}

/** Where labels go: the feedback Service's ready endpoints and the bearer token. */
export interface FeedbackTarget {
  readonly endpoints: () => Promise<string[]>;
  readonly token: () => Promise<string>;
}

/** Where a client sends: the serving endpoints and the feedback target of one ModelDeployment (its name in the URL). */
export interface TrafficTarget {
  /** The endpoints to spread requests over, asked before every request (an empty list waits). */
  readonly endpoints: () => Promise<string[]>;
  readonly feedback: FeedbackTarget;
  /** The model name in the URL (the ModelDeployment's name). */
  readonly model: string;
}

export interface TrafficOptions extends TrafficTarget {
  readonly source: Sample[];
  /** Samples per request (default 4). */
  readonly batch?: number;
  /** Pause between requests in ms (default 20). */
  readonly pauseMs?: number;
}

const errorText = (e: unknown): string => {
  if (!(e instanceof Error)) return String(e);
  const cause: unknown = e.cause;
  return cause instanceof Error ? `${e.message} ${cause.message}` : e.message;
};

/** Asks one endpoint for predictions of the instances; the prediction ids and values, or undefined after counting the failure. */
async function predict(target: TrafficTarget, ep: string, instances: readonly Record<string, Value>[], c: TrafficCounts, timeoutMs: number): Promise<{ ids: string[]; predictions: Value[] } | undefined> {
  c.requests++;
  try {
    const r = await fetch(`http://${ep}/v1/models/${target.model}:predict`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances }), signal: AbortSignal.timeout(timeoutMs),
    });
    if (!r.ok) {
      c.failed++;
      c.errors.push(`${ep}: HTTP ${r.status} ${(await r.text()).slice(0, 200)}`);
      return undefined;
    }
    const body = await r.json() as { prediction_ids: string[]; predictions?: Value[] };
    const ids = body.prediction_ids;
    c.predictionIds.push(...ids);
    return { ids, predictions: body.predictions ?? [] };
  } catch (e: unknown) {
    c.failed++;
    c.errors.push(`${ep}: ${errorText(e)}`);
    return undefined;
  }
}

/** Posts labels for prediction ids to a feedback endpoint picked at random; counts the post and its failure. */
async function feedBack(target: FeedbackTarget, labels: readonly { id: string; label: Value }[], c: TrafficCounts, timeoutMs: number): Promise<void> {
  if (labels.length === 0) return;
  c.feedback++;
  try {
    const eps = await target.endpoints();
    const ep = eps[Math.floor(Math.random() * eps.length)];
    if (ep === undefined) throw new Error('the feedback Service has no ready endpoint');
    const f = await fetch(`http://${ep}/v1/feedback`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await target.token()}` },
      body: JSON.stringify({ feedback: labels }), signal: AbortSignal.timeout(timeoutMs),
    });
    if (!f.ok) {
      c.feedbackFailed++;
      c.errors.push(`feedback ${ep}: HTTP ${f.status} ${(await f.text()).slice(0, 200)}`);
    }
  } catch (e: unknown) {
    c.feedbackFailed++;
    c.errors.push(`feedback: ${errorText(e)}`);
  }
}

/** The labelled ones of answered predictions, as feedback items. */
function labelled(ids: readonly string[], batch: readonly Sample[]): { id: string; label: Value }[] {
  return ids.flatMap((id, k) => {
    const label = batch[k]?.label;
    return label === undefined ? [] : [{ id, label }];
  });
}

/** One client sending requests in sequence until stopped, each answer's labels fed back at once. */
export class Traffic {
  source: Sample[];
  readonly counts: TrafficCounts = emptyCounts();
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(private readonly options: TrafficOptions) {
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
      const batch = Array.from({ length: size }, (_, k) => source[(i * size + k) % source.length]).filter((d): d is Sample => d !== undefined);
      i++;
      const ids = (await predict(this.options, ep, batch.map((d) => d.instance), this.counts, 5000))?.ids;
      if (ids !== undefined) await feedBack(this.options.feedback, labelled(ids, batch), this.counts, 5000);
      await sleep(this.options.pauseMs ?? 20);
    }
  }
}

export interface BatchOptions {
  /** Instances per predict request (default 100; the server takes up to 1000). */
  readonly perRequest?: number;
  /** Labels per feedback post (default 200). */
  readonly labelsPerPost?: number;
  /** Counts to add to (a fresh set by default). */
  readonly counts?: TrafficCounts;
}

export interface BatchResult {
  readonly counts: TrafficCounts;
  /** Predictions answered. */
  readonly predicted: number;
  /** Labels sent (answered predictions whose sample had a label). */
  readonly labelled: number;
  /**
   * What the server answered for each sample, in the samples' order (a number for regression, a class for
   * classification); undefined where its request failed. With the samples' labels, the exact error of the batch.
   */
  readonly predictions: (Value | undefined)[];
}

/**
 * A batch, as a scoring job sends one: every sample once, in requests of `perRequest` spread round robin over the
 * endpoints; then, once all predictions are in, the known labels through the feedback Service. Samples without a
 * label are predicted and never labelled.
 */
export async function sendBatch(target: TrafficTarget, samples: readonly Sample[], options: BatchOptions = {}): Promise<BatchResult> {
  const counts = options.counts ?? emptyCounts();
  const per = options.perRequest ?? 100;
  const toLabel: { id: string; label: Value }[] = [];
  const predictions: (Value | undefined)[] = new Array<Value | undefined>(samples.length).fill(undefined);
  let predicted = 0;
  for (let i = 0, n = 0; i < samples.length; i += per, n++) {
    const chunk = samples.slice(i, i + per);
    const eps = await target.endpoints();
    const ep = eps[n % Math.max(1, eps.length)];
    if (ep === undefined) throw new Error(`no endpoint to send the batch to (model ${target.model})`);
    const answer = await predict(target, ep, chunk.map((s) => s.instance), counts, 30_000);
    if (answer === undefined) continue;
    const { ids } = answer;
    answer.predictions.forEach((v, k) => { predictions[i + k] = v; });
    predicted += ids.length;
    toLabel.push(...labelled(ids, chunk));
  }
  const perPost = options.labelsPerPost ?? 200;
  for (let i = 0; i < toLabel.length; i += perPost) await feedBack(target.feedback, toLabel.slice(i, i + perPost), counts, 30_000);
  return { counts, predicted, labelled: toLabel.length, predictions };
}
