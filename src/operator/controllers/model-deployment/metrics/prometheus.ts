// The `prometheus` metric provider: PromQL against a Prometheus server that scrapes the server pods (any scrape
// config that keeps the pods' own `model_version` label). Counts over the window come from increase() over a
// range of the window's length (a step's window grows until a verdict, so its range grows with it; the label
// series over their own range when labelsFromMs asks); an empty answer is "no values" (absent is not zero), read
// as Inconclusive.
import { codeMatchers, serverMetricLabels, serverMetricNames, predictRoutes, seriesMatchers } from '../../../../shared/server-metrics.js';
import type { Fetch } from './pods.js';
import { NoValuesError, ProviderError, type Measurement, type MetricProvider, type MetricQuery } from './provider.js';

interface VectorResult {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: readonly [number, string];
}

interface Answer {
  readonly status?: string;
  readonly data?: { readonly resultType?: string; readonly result?: VectorResult[] };
}

/** The answer's JSON, or undefined when it is none (a proxy's HTML page, a cut-off body): the provider's problem. */
function parseAnswer(text: string): Answer | undefined {
  try {
    return JSON.parse(text) as Answer;
  } catch {
    return undefined;
  }
}

export class PrometheusMetricProvider implements MetricProvider {
  constructor(
    private readonly baseURL: string,
    private readonly fetchFn: Fetch = fetch,
    private readonly timeoutMs = 5000,
  ) {}

  async measure(q: MetricQuery): Promise<Measurement> {
    const rangeFrom = (startMs: number): string => `${Math.max(1, Math.round((q.nowMs - startMs) / 1000))}s`;
    const range = rangeFrom(q.windowStartMs);
    // The label series over their own window when asked (liveMetrics' label window), else over the window.
    const labelRange = rangeFrom(q.labelsFromMs ?? q.windowStartMs);
    const at = q.nowMs / 1000;
    // This deployment's series only: version names repeat across deployments and namespaces.
    const v = seriesMatchers({ namespace: q.namespace, deployment: q.deployment, version: q.version });
    const routes = `${serverMetricLabels.route}=~"${predictRoutes.join('|')}"`;
    const inc = (name: string, extra = '', over = range): string => `sum(increase(${name}{${v}${extra}}[${over}]))`;
    const labels = (name: string, extra = ''): string => inc(name, extra, labelRange);
    // Faults, client errors and shed requests apart (requestClass): only faults count against maxErrorRate.
    const [requests, errors, clientErrors, shed, p99, correct, incorrect, psi, rows, lossN, lossSum, scored, squared, compared, agreed, confRows, confSum] = await Promise.all([
      this.query(inc(serverMetricNames.requests, `,${routes}`), at),
      this.query(inc(serverMetricNames.requests, `,${routes},${codeMatchers.fault}`), at),
      this.query(inc(serverMetricNames.requests, `,${routes},${codeMatchers.client}`), at),
      this.query(inc(serverMetricNames.requests, `,${routes},${codeMatchers.shed}`), at),
      this.query(`histogram_quantile(0.99, sum by (le) (increase(${serverMetricNames.latency}_bucket{${v},${routes}}[${range}])))`, at),
      this.query(labels(serverMetricNames.feedback, `,${serverMetricLabels.outcome}="correct"`), at),
      this.query(labels(serverMetricNames.feedback, `,${serverMetricLabels.outcome}="incorrect"`), at),
      this.query(`max by (${serverMetricLabels.feature}) (${serverMetricNames.featurePsi}{${v}})`, at),
      this.query(`sum(${serverMetricNames.driftWindowRows}{${v}})`, at),
      this.query(labels(serverMetricNames.feedbackLogLossCount), at),
      this.query(labels(serverMetricNames.feedbackLogLossSum), at),
      this.query(labels(serverMetricNames.feedback, `,${serverMetricLabels.outcome}="scored"`), at),
      this.query(labels(serverMetricNames.feedbackSquaredError), at),
      this.query(inc(serverMetricNames.shadowComparisons), at),
      this.query(inc(serverMetricNames.shadowComparisons, `,${serverMetricLabels.outcome}="agree"`), at),
      this.query(`sum(${serverMetricNames.confidenceWindowRows}{${v}})`, at),
      this.query(`sum(${serverMetricNames.confidenceWindowSum}{${v}})`, at),
    ]);
    // The sequential drift detector's gauges (max over pods; the earliest detection).
    const [evidence, detectedAt] = await Promise.all([
      this.query(`max by (${serverMetricLabels.feature}) (${serverMetricNames.driftEvidence}{${v}})`, at),
      this.query(`min(${serverMetricNames.driftDetectedTime}{${v}})`, at),
    ]);
    const one = (r: readonly VectorResult[]): number | undefined => {
      const x = Number(r[0]?.value[1]);
      return r.length === 0 || !Number.isFinite(x) ? undefined : x;
    };
    const n = one(requests);
    if (n === undefined) throw new NoValuesError(`Prometheus has no ${serverMetricNames.requests} series for version ${q.version}`);
    const c = Math.round(one(correct) ?? 0);
    const i = Math.round(one(incorrect) ?? 0);
    const latency = one(p99);
    const evidenceEntries = evidence.map((r): [string, number] => [r.metric[serverMetricLabels.feature] ?? '', Number(r.value[1])]).filter((e) => Number.isFinite(e[1]));
    const detectedSeconds = one(detectedAt);
    return {
      ...(evidenceEntries.length > 0 ? { driftEvidence: Object.fromEntries(evidenceEntries) } : {}),
      ...(detectedSeconds === undefined ? {} : { driftDetectedAtMs: detectedSeconds * 1000 }),
      requests: Math.round(n),
      errors: Math.round(one(errors) ?? 0),
      clientErrors: Math.round(one(clientErrors) ?? 0),
      shed: Math.round(one(shed) ?? 0),
      latencyP99Ms: latency === undefined ? undefined : latency * 1000,
      labelled: c + i,
      correct: c,
      logLossLabels: Math.round(one(lossN) ?? 0),
      logLossSum: one(lossSum) ?? 0,
      scored: Math.round(one(scored) ?? 0),
      squaredError: one(squared) ?? 0,
      drift: Object.fromEntries(psi.map((r): [string, number] => [r.metric[serverMetricLabels.feature] ?? '', Number(r.value[1])]).filter((e) => Number.isFinite(e[1]))),
      driftRows: Math.round(one(rows) ?? 0),
      confidenceRows: Math.round(one(confRows) ?? 0),
      confidenceSum: one(confSum) ?? 0,
      compared: Math.round(one(compared) ?? 0),
      agreed: Math.round(one(agreed) ?? 0),
    };
  }

  private async query(promql: string, at: number): Promise<VectorResult[]> {
    const url = `${this.baseURL.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(promql)}&time=${at}`;
    let res: Awaited<ReturnType<Fetch>>;
    let text: string;
    try {
      res = await this.fetchFn(url, { signal: AbortSignal.timeout(this.timeoutMs) });
      text = await res.text();
    } catch (e: unknown) {
      throw new ProviderError(`Prometheus unreachable: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!res.ok) throw new ProviderError(`Prometheus answered ${res.status}: ${text.slice(0, 200)}`);
    const body = parseAnswer(text);
    if (body?.status !== 'success' || body.data?.resultType !== 'vector') throw new ProviderError(`unexpected Prometheus answer: ${text.slice(0, 200)}`);
    // NaN (0/0) results count as absent.
    return (body.data.result ?? []).filter((r) => r.value[1] !== 'NaN');
  }
}
