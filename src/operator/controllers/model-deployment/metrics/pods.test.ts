import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { V1Pod } from '@kubernetes/client-node';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { latencyBuckets, parsePrometheusText, serverMetricNames as N, serverRoutes } from '../../../../shared/server-metrics.js';
import { PodsMetricProvider, departedPerDeployment, pinnedPerPod, recentPerPod, retainedForWindows, type Fetch } from './pods.js';
import { NoValuesError, ProviderError } from './provider.js';

const t0 = Date.UTC(2026, 10, 21, 10, 0, 0);

function pod(name: string, ip: string, startedMs: number, ready = true): V1Pod {
  return {
    metadata: { name, uid: `uid-${name}`, labels: { 'perennial.dev/deployment': 'w', 'perennial.dev/revision': 'abc' } },
    status: { podIP: ip, startTime: new Date(startedMs), conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

/** /metrics text of a server that answered `requests` predictions (`errors` of them 5xx) and got feedback. */
function metrics(requests: number, errors: number, correct: number, incorrect: number): string {
  return [
    `perennial_server_requests_total{model_version="v2",route="v1_predict",code="200"} ${requests - errors}`,
    `perennial_server_requests_total{model_version="v2",route="v1_predict",code="500"} ${errors}`,
    `perennial_server_requests_total{model_version="v2",route="metrics",code="200"} 999`,
    `perennial_server_feedback_total{model_version="v2",outcome="correct"} ${correct}`,
    `perennial_server_feedback_total{model_version="v2",outcome="incorrect"} ${incorrect}`,
    `perennial_server_request_duration_seconds_bucket{model_version="v2",route="v1_predict",le="0.01"} ${requests}`,
    `perennial_server_request_duration_seconds_bucket{model_version="v2",route="v1_predict",le="+Inf"} ${requests}`,
    `perennial_server_predictions_total{model_version="v2",class="sun"} ${requests}`,
    'perennial_server_feature_psi{model_version="v2",feature="wind"} 0.02',
    'perennial_server_drift_window_rows{model_version="v2"} 50',
  ].join('\n');
}

function setup(pods: V1Pod[]) {
  const served = new Map<string, string>();
  const listed = pods;
  const fetchFn: Fetch = (url) => {
    const ip = new URL(url).hostname;
    const text = served.get(ip);
    if (text === undefined) return Promise.reject(new Error('connection refused'));
    return Promise.resolve({ ok: true, status: 200, text: () => Promise.resolve(text) });
  };
  const provider = new PodsMetricProvider(() => Promise.resolve(listed), fetchFn);
  const q = (windowStartMs: number, nowMs: number) => ({ namespace: 'ml', deployment: 'w', revisionHash: 'abc', version: 'v2', port: 8080, windowStartMs, nowMs });
  return { served, provider, q, listed };
}

describe('PodsMetricProvider', () => {
  it('a pod started inside the window counts from zero; routes other than predict are not traffic', async () => {
    const h = setup([pod('a', '10.0.0.1', t0 + 1000)]);
    h.served.set('10.0.0.1', metrics(120, 3, 80, 20));
    const m = await h.provider.measure(h.q(t0, t0 + 60_000));
    assert.deepEqual([m.requests, m.errors, m.clientErrors, m.shed, m.labelled, m.correct, m.driftRows], [120, 3, 0, 0, 100, 80, 50]);
    assert.deepEqual(m.drift, { wind: 0.02 });
    assert.deepEqual([m.compared, m.agreed, m.scored, m.logLossLabels], [0, 0, 0, 0]);
    assert.ok(Math.abs((m.latencyP99Ms ?? 0) - 9.9) < 1e-9, 'interpolated inside the 10 ms bucket');
  });

  it('an older pod is measured from the first scrape in the window; before one exists there are no values', async () => {
    const h = setup([pod('a', '10.0.0.1', t0 - 3_600_000)]);
    h.served.set('10.0.0.1', metrics(1000, 0, 500, 0));
    await assert.rejects(h.provider.measure(h.q(t0, t0)), NoValuesError, 'no baseline: absent, not zero');
    h.served.set('10.0.0.1', metrics(1100, 10, 530, 20));
    const m = await h.provider.measure(h.q(t0, t0 + 30_000));
    assert.deepEqual([m.requests, m.errors, m.labelled, m.correct], [100, 10, 50, 30]);
  });

  it('a window that grows (a step short of samples) keeps its start\'s baseline: a batch and its labels later count together', async () => {
    const h = setup([pod('a', '10.0.0.1', t0 - 3_600_000)]);
    h.served.set('10.0.0.1', metrics(1000, 0, 500, 0));
    await assert.rejects(h.provider.measure(h.q(t0, t0)), NoValuesError);
    h.served.set('10.0.0.1', metrics(1200, 0, 500, 0)); // a batch of 200 predictions
    for (let i = 1; i <= 20; i++) {
      // Every interval: the step's window (still short of labels) and liveMetrics' window of the last interval.
      const now = t0 + i * 30_000;
      assert.equal((await h.provider.measure(h.q(t0, now))).labelled, 0);
      await h.provider.measure({ ...h.q(now - 30_000, now), labelsFromMs: t0 });
    }
    h.served.set('10.0.0.1', metrics(1200, 0, 650, 50)); // their labels, ten minutes later
    const m = await h.provider.measure(h.q(t0, t0 + 630_000));
    assert.deepEqual([m.requests, m.labelled, m.correct], [200, 200, 150]);
  });

  it('labels over a window of their own (labelsFromMs): traffic of the interval, labels since the label window opened', async () => {
    const h = setup([pod('a', '10.0.0.1', t0 - 3_600_000)]);
    h.served.set('10.0.0.1', metrics(1000, 0, 500, 0));
    await assert.rejects(h.provider.measure({ ...h.q(t0 - 30_000, t0), labelsFromMs: t0 }), NoValuesError);
    h.served.set('10.0.0.1', metrics(1100, 0, 800, 100)); // a batch and its 400 labels
    const batch = await h.provider.measure({ ...h.q(t0, t0 + 30_000), labelsFromMs: t0 });
    assert.deepEqual([batch.requests, batch.labelled, batch.correct], [100, 400, 300]);
    h.served.set('10.0.0.1', metrics(1110, 0, 810, 100));
    const next = await h.provider.measure({ ...h.q(t0 + 30_000, t0 + 60_000), labelsFromMs: t0 + 30_000 });
    assert.deepEqual([next.requests, next.labelled], [10, 10], 'the next label window opens where the last closed');
    h.served.set('10.0.0.1', metrics(1120, 0, 830, 100));
    const grown = await h.provider.measure({ ...h.q(t0 + 60_000, t0 + 90_000), labelsFromMs: t0 + 30_000 });
    assert.deepEqual([grown.requests, grown.labelled], [10, 30], 'a label window that stays open keeps its baseline');
  });

  it('counts labels for the version wherever they landed: a pod of another revision adds its labels, nothing else', async () => {
    const stablePod: V1Pod = { ...pod('s', '10.0.0.9', t0 + 1), metadata: { name: 's', uid: 'uid-s', labels: { 'perennial.dev/deployment': 'w', 'perennial.dev/revision': 'old' } } };
    const h = setup([pod('a', '10.0.0.1', t0 + 1), stablePod]);
    h.served.set('10.0.0.1', metrics(100, 0, 10, 5));
    // The stable pod answered its own traffic (v1) and took 40 labels for v2's predictions through the feedback Service.
    h.served.set('10.0.0.9', [
      metrics(500, 50, 30, 10).replaceAll('model_version="v2"', 'model_version="v1"'),
      'perennial_server_feedback_total{model_version="v2",outcome="correct"} 30',
      'perennial_server_feedback_total{model_version="v2",outcome="incorrect"} 10',
    ].join('\n'));
    const m = await h.provider.measure(h.q(t0, t0 + 10_000));
    assert.deepEqual([m.requests, m.errors, m.labelled, m.correct], [100, 0, 55, 40], 'traffic of v2\'s own pod; labels from both pods');
    assert.equal(m.driftRows, 50, 'drift of the revision\'s own pods only');
    await assert.rejects(setup([stablePod]).provider.measure(h.q(t0, t0 + 1)), NoValuesError, 'no pod of the revision: no values');
  });

  it('reads the log loss and squared error of labels from every pod, and shadow comparisons from the revision\'s own', async () => {
    const stablePod: V1Pod = { ...pod('s', '10.0.0.9', t0 + 1), metadata: { name: 's', uid: 'uid-s', labels: { 'perennial.dev/deployment': 'w', 'perennial.dev/revision': 'old' } } };
    const h = setup([pod('a', '10.0.0.1', t0 + 1), stablePod]);
    h.served.set('10.0.0.1', [
      metrics(100, 0, 0, 0),
      'perennial_server_feedback_total{model_version="v2",outcome="scored"} 4',
      'perennial_server_feedback_squared_error_sum{model_version="v2"} 16',
      'perennial_server_feedback_log_loss_sum{model_version="v2"} 2.5',
      'perennial_server_feedback_log_loss_count{model_version="v2"} 5',
      'perennial_server_shadow_comparisons_total{model_version="v2",outcome="agree"} 90',
      'perennial_server_shadow_comparisons_total{model_version="v2",outcome="disagree"} 10',
    ].join('\n'));
    h.served.set('10.0.0.9', [
      metrics(500, 0, 0, 0).replaceAll('model_version="v2"', 'model_version="v1"'),
      'perennial_server_feedback_total{model_version="v2",outcome="scored"} 6',
      'perennial_server_feedback_squared_error_sum{model_version="v2"} 34',
      'perennial_server_feedback_log_loss_sum{model_version="v2"} 1.5',
      'perennial_server_feedback_log_loss_count{model_version="v2"} 3',
      'perennial_server_shadow_comparisons_total{model_version="v2",outcome="agree"} 1000',
    ].join('\n'));
    const m = await h.provider.measure(h.q(t0, t0 + 10_000));
    assert.deepEqual([m.scored, m.squaredError, m.logLossLabels, m.logLossSum], [10, 50, 8, 4]);
    assert.deepEqual([m.compared, m.agreed], [100, 90], 'comparisons are counted by the candidate\'s own pods');
  });

  it('sums pods; unready pods are asked for their counts, not their gauges; no ready pod is no values; no answer at all is a provider error', async () => {
    const h = setup([pod('a', '10.0.0.1', t0 + 1), pod('b', '10.0.0.2', t0 + 1), pod('c', '10.0.0.3', t0 + 1, false)]);
    h.served.set('10.0.0.1', metrics(10, 0, 0, 0));
    h.served.set('10.0.0.2', metrics(30, 1, 0, 0));
    // c went unready (or is on its way out) after answering requests: they were served, so they count.
    h.served.set('10.0.0.3', metrics(1000, 1000, 0, 0));
    const m = await h.provider.measure(h.q(t0, t0 + 10_000));
    assert.deepEqual([m.requests, m.errors, m.driftRows], [1040, 1001, 100], 'drift rows of the ready pods only');
    await assert.rejects(setup([pod('c', '10.0.0.3', t0, false)]).provider.measure(h.q(t0, t0 + 1)), NoValuesError);
    await assert.rejects(setup([pod('d', '10.0.0.4', t0 + 1)]).provider.measure(h.q(t0, t0 + 1)), ProviderError);
  });

  it('counts faults, client errors and shed requests apart', async () => {
    const h = setup([pod('a', '10.0.0.1', t0 + 1000)]);
    h.served.set('10.0.0.1', [
      metrics(100, 2, 0, 0),
      'perennial_server_requests_total{model_version="v2",route="v1_predict",code="400"} 40',
      'perennial_server_requests_total{model_version="v2",route="v2_infer",code="415"} 7',
      'perennial_server_requests_total{model_version="v2",route="v1_predict",code="503"} 9',
      'perennial_server_requests_total{model_version="v2",route="other",code="400"} 1000',
    ].join('\n'));
    const m = await h.provider.measure(h.q(t0, t0 + 60_000));
    assert.deepEqual([m.requests, m.errors, m.clientErrors, m.shed], [156, 2, 47, 9]);
  });

  // A pod that goes away (the old stable at a canary's 100 % step, the previous revision at the end of the rollback
  // window, a node drain) takes its counters with it: the window's counts must not go backwards. Pod a serves v2
  // (the measured revision), pod s another revision and takes labels for v2's predictions through the feedback Service.
  type Step = {
    readonly at: number; readonly pods: readonly V1Pod[]; readonly served: Readonly<Record<string, string>>;
    readonly start?: number; readonly labelsFrom?: number; readonly want: readonly [requests: number, labelled: number] | 'none';
  };
  const old = (name: string, ip: string, startedMs: number, ready = true): V1Pod => {
    const p = pod(name, ip, startedMs, ready);
    return { ...p, metadata: { ...p.metadata, labels: { 'perennial.dev/deployment': 'w', 'perennial.dev/revision': 'old' } } };
  };
  const labels = (n: number): string => [
    `perennial_server_feedback_total{model_version="v2",outcome="correct"} ${n}`,
    'perennial_server_requests_total{model_version="v1",route="v1_predict",code="200"} 1000',
  ].join('\n');
  const [a, s, s2] = [pod('a', '10.0.0.1', t0 - 3_600_000), old('s', '10.0.0.9', t0 - 3_600_000), pod('a2', '10.0.0.2', t0 - 3_600_000)];
  const before: Step[] = [
    { at: t0, pods: [a, s], served: { '10.0.0.1': metrics(100, 0, 0, 0), '10.0.0.9': labels(0) }, want: 'none' },
    { at: t0 + 5000, pods: [a, s], served: { '10.0.0.1': metrics(100, 0, 0, 0), '10.0.0.9': labels(9) }, want: [0, 9] },
  ];
  const departures: Array<[string, Step[]]> = [
    ['a pod that left the listing counts with its last scrape; a window opened after it left does not count it', [...before,
      { at: t0 + 10_000, pods: [a], served: { '10.0.0.1': metrics(100, 0, 0, 0) }, want: [0, 9] },
      { at: t0 + 15_000, pods: [a], served: { '10.0.0.1': metrics(100, 0, 0, 0) }, want: [0, 9] },
      { at: t0 + 20_000, pods: [a], served: { '10.0.0.1': metrics(100, 0, 0, 0) }, start: t0 - 30_000, labelsFrom: t0 + 10_000, want: [0, 0] }]],
    ['a listed pod that does not answer counts with its last scrape', [...before,
      { at: t0 + 10_000, pods: [a, s], served: { '10.0.0.1': metrics(100, 0, 0, 0) }, want: [0, 9] }]],
    ['a terminating pod (unready) still answering: the labels it took on its way out count, and stay once it is gone', [...before,
      { at: t0 + 10_000, pods: [a, old('s', '10.0.0.9', t0 - 3_600_000, false)], served: { '10.0.0.1': metrics(100, 0, 0, 0), '10.0.0.9': labels(12) }, want: [0, 12] },
      { at: t0 + 15_000, pods: [a], served: { '10.0.0.1': metrics(100, 0, 0, 0) }, want: [0, 12] }]],
    ['labels a pod took after its last scrape are lost (at most one interval)', [...before,
      { at: t0 + 10_000, pods: [a], served: { '10.0.0.1': metrics(100, 0, 0, 0), '10.0.0.9': labels(12) }, want: [0, 9] }]],
    ['a pod that started inside the window and left counts from zero to its last scrape', [
      { at: t0, pods: [a], served: { '10.0.0.1': metrics(100, 0, 0, 0) }, want: 'none' },
      { at: t0 + 5000, pods: [a, old('s', '10.0.0.9', t0 + 1000)], served: { '10.0.0.1': metrics(100, 0, 0, 0), '10.0.0.9': labels(9) }, want: [0, 9] },
      { at: t0 + 10_000, pods: [a], served: { '10.0.0.1': metrics(100, 0, 0, 0) }, want: [0, 9] }]],
    ['the revision\'s own pod that left keeps its traffic and labels', [
      { at: t0, pods: [a, s2], served: { '10.0.0.1': metrics(100, 0, 0, 0), '10.0.0.2': metrics(50, 0, 5, 0) }, want: 'none' },
      { at: t0 + 5000, pods: [a, s2], served: { '10.0.0.1': metrics(110, 0, 0, 0), '10.0.0.2': metrics(70, 2, 8, 1) }, want: [30, 4] },
      { at: t0 + 10_000, pods: [a], served: { '10.0.0.1': metrics(120, 0, 0, 0) }, want: [40, 4] }]],
  ];
  for (const [name, steps] of departures) {
    it(`a pod that goes away: ${name}`, async () => {
      let listed: readonly V1Pod[] = [];
      let served: Readonly<Record<string, string>> = {};
      const fetchFn: Fetch = (url) => {
        const text = served[new URL(url).hostname];
        return text === undefined ? Promise.reject(new Error('connection refused')) : Promise.resolve({ ok: true, status: 200, text: () => Promise.resolve(text) });
      };
      const provider = new PodsMetricProvider(() => Promise.resolve([...listed]), fetchFn);
      for (const [i, step] of steps.entries()) {
        ({ pods: listed, served } = step);
        const q = { namespace: 'ml', deployment: 'w', revisionHash: 'abc', version: 'v2', port: 8080, windowStartMs: step.start ?? t0, nowMs: step.at, labelsFromMs: step.labelsFrom ?? t0 };
        const got = await provider.measure(q).then((m) => [m.requests, m.labelled] as const, (e: unknown) => {
          if (e instanceof NoValuesError) return 'none' as const;
          throw e;
        });
        assert.deepEqual(got, step.want, `step ${i} at +${(step.at - t0) / 1000} s`);
      }
    });
  }

  it('a pod that left is kept for its last counts until keepMs, the latest departedPerDeployment departures', async () => {
    const h = setup([pod('a', '10.0.0.1', t0 - 60_000), pod('b', '10.0.0.2', t0 - 60_000)]);
    h.served.set('10.0.0.1', metrics(10, 0, 0, 0));
    h.served.set('10.0.0.2', metrics(10, 0, 0, 0));
    await assert.rejects(h.provider.measure(h.q(t0, t0)), NoValuesError);
    h.listed.splice(1, 1);
    await h.provider.measure(h.q(t0, t0 + 30_000));
    assert.deepEqual(h.provider.retained(), { pods: 2, snapshots: 3, samples: 3 * 6 }, 'b, gone, with its scrape');
    await h.provider.measure(h.q(t0 + 7 * 3_600_000, t0 + 7 * 3_600_000)).catch(() => undefined);
    assert.equal(h.provider.retained().pods, 1, 'not scraped for keepMs: forgotten');
    const churn = setup([pod('a', '10.0.0.1', t0 - 60_000)]);
    churn.served.set('10.0.0.1', metrics(10, 0, 0, 0));
    for (let i = 0; i < departedPerDeployment + 10; i++) {
      const p = pod(`p${i}`, `10.0.1.${i}`, t0 - 60_000);
      churn.served.set(`10.0.1.${i}`, metrics(10, 0, 0, 0));
      churn.listed.push(p);
      await churn.provider.measure(churn.q(t0, t0 + 2 * i * 1000)).catch(() => undefined);
      churn.listed.pop();
    }
    await churn.provider.measure(churn.q(t0, t0 + 1_000_000)).catch(() => undefined);
    assert.equal(churn.provider.retained().pods, 1 + departedPerDeployment);
  });

  it('keeps a bounded number of scrapes per pod, of the series windows read only, and still measures a long step from its start', async (t) => {
    const text = await fullScrape();
    const parsed = parsePrometheusText(text('0'));
    const kept = parsed.filter(retainedForWindows).length;
    assert.ok(kept < parsed.length / 3, `${kept} of ${parsed.length} series kept`);
    const h = setup([pod('a', '10.0.0.1', t0 - 3_600_000)]);
    const stepStart = t0;
    const interval = 30_000;
    let m = undefined as Awaited<ReturnType<typeof h.provider.measure>> | undefined;
    // Two hours of a 30 s interval: every call measures the step window and the sliding liveMetrics window.
    for (let i = 0; i <= 240; i++) {
      const now = t0 + i * interval;
      h.served.set('10.0.0.1', text(String(i * 10)));
      m = await h.provider.measure(h.q(stepStart, now)).catch(() => undefined);
      await h.provider.measure(h.q(now - interval, now + 1)).catch(() => undefined);
      const r = h.provider.retained();
      assert.ok(r.snapshots <= recentPerPod + pinnedPerPod, `${r.snapshots} scrapes kept`);
      assert.ok(r.samples <= (recentPerPod + pinnedPerPod) * kept, `${r.samples} samples kept`);
    }
    assert.equal(m?.requests, 2400, 'the step window still counts from its first scrape, two hours back');
    const perPod = await retainedHeapBytes(() => setup([pod('a', '10.0.0.1', t0 - 3_600_000)]), async (p) => {
      for (let i = 0; i <= 60; i++) {
        p.served.set('10.0.0.1', text(String(i * 10)));
        await p.provider.measure(p.q(t0, t0 + i * interval)).catch(() => undefined);
        await p.provider.measure(p.q(t0 + (i - 1) * interval, t0 + i * interval + 1)).catch(() => undefined);
      }
    });
    const fullScrapeBytes = await retainedHeapBytes(() => [] as unknown[], (list) => {
      for (let i = 0; i < 50; i++) list.push(parsePrometheusText(text(String(i))));
      return Promise.resolve();
    }) / 50;
    t.diagnostic(`per pod: ${h.provider.retained().samples} samples in ${h.provider.retained().snapshots} scrapes (${kept} of ${parsed.length} series each); ` +
      `heap ~${(perPod / 1024).toFixed(0)} KiB per pod, where 512 full scrapes took ~${((512 * fullScrapeBytes) / 1048576).toFixed(1)} MiB`);
    assert.ok(perPod < 256 * 1024, `${perPod} bytes per pod`);
  });
});

/** A /metrics text like a real server's (prom-client's process metrics, every route and a few codes), counters at `n`. */
async function fullScrape(): Promise<(n: string) => string> {
  const r = new Registry();
  r.setDefaultLabels({ model_version: 'v2' });
  collectDefaultMetrics({ register: r, prefix: 'perennial_server_' });
  const requests = new Counter({ name: N.requests, help: 'h', labelNames: ['route', 'code'], registers: [r] });
  const latency = new Histogram({ name: N.latency, help: 'h', labelNames: ['route'], buckets: [...latencyBuckets], registers: [r] });
  const feedback = new Counter({ name: N.feedback, help: 'h', labelNames: ['outcome'], registers: [r] });
  const predictions = new Counter({ name: N.predictions, help: 'h', labelNames: ['class'], registers: [r] });
  for (const route of Object.values(serverRoutes)) {
    for (const code of ['200', '400', '404', '413', '415', '500', '503']) requests.inc({ route, code });
    latency.observe({ route }, 0.003);
  }
  for (const outcome of ['correct', 'incorrect', 'unknown', 'duplicate', 'invalid']) feedback.inc({ outcome });
  for (const c of ['sun', 'rain', 'fog', 'drizzle', 'snow']) predictions.inc({ class: c });
  const text = await r.metrics();
  return (n) => text.replace(/^(perennial_server_requests_total\{[^}]*route="v1_predict"[^}]*code="200"[^}]*\}) \d+$/m, `$1 ${n}`);
}

/** Heap bytes held by `make()`'s value once `fill` ran: the heap with it minus the heap once it is dropped (full GCs). */
async function retainedHeapBytes<T>(make: () => T, fill: (x: T) => Promise<void>): Promise<number> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const holder: { x: T | undefined } = { x: make() };
  await fill(holder.x as T);
  gc();
  const held = process.memoryUsage().heapUsed;
  holder.x = undefined;
  gc();
  return Math.max(0, held - process.memoryUsage().heapUsed);
}

describe('PodsMetricProvider: the confidence windows (estimated accuracy)', () => {
  const confidence = (rows: number, sum: number, version = 'v2'): string =>
    `perennial_server_confidence_window_rows{model_version="${version}"} ${rows}\nperennial_server_confidence_window_sum{model_version="${version}"} ${sum}`;
  it('are gauges of now, summed over the revision\'s ready pods; another revision\'s pod adds nothing', async () => {
    const other: V1Pod = { ...pod('s', '10.0.0.9', t0 + 1), metadata: { name: 's', uid: 'uid-s', labels: { 'perennial.dev/deployment': 'w', 'perennial.dev/revision': 'old' } } };
    const h = setup([pod('a', '10.0.0.1', t0 + 1), pod('b', '10.0.0.2', t0 + 1), other]);
    h.served.set('10.0.0.1', `${metrics(100, 0, 0, 0)}\n${confidence(90, 81)}`);
    h.served.set('10.0.0.2', `${metrics(10, 0, 0, 0)}\n${confidence(10, 6)}`);
    h.served.set('10.0.0.9', `${metrics(10, 0, 0, 0)}\n${confidence(1000, 100)}`);
    const m = await h.provider.measure(h.q(t0, t0 + 30_000));
    assert.deepEqual([m.confidenceRows, m.confidenceSum], [100, 87]);
  });
});

describe('PodsMetricProvider: the sequential drift detector', () => {
  const detector = (evidence: Record<string, number>, detectedSeconds?: number, version = 'v2'): string => [
    ...Object.entries(evidence).map(([f, x]) => `perennial_server_drift_evidence{model_version="${version}",feature="${f}"} ${x}`),
    ...(detectedSeconds === undefined ? [] : [`perennial_server_drift_detected_time_seconds{model_version="${version}"} ${detectedSeconds}`]),
  ].join('\n');
  it('takes each feature\'s largest evidence over the revision\'s pods and the earliest detection', async () => {
    const h = setup([pod('a', '10.0.0.1', t0 + 1), pod('b', '10.0.0.2', t0 + 1)]);
    h.served.set('10.0.0.1', `${metrics(100, 0, 0, 0)}\n${detector({ wind: 3, temp_max: 25 }, 1_800_000_010)}`);
    h.served.set('10.0.0.2', `${metrics(10, 0, 0, 0)}\n${detector({ wind: 7, temp_max: 21 }, 1_800_000_004)}`);
    const m = await h.provider.measure(h.q(t0, t0 + 30_000));
    assert.deepEqual(m.driftEvidence, { wind: 7, temp_max: 25 });
    assert.equal(m.driftDetectedAtMs, 1_800_000_004_000);
  });
  it('says nothing of a detector the servers do not export', async () => {
    const h = setup([pod('a', '10.0.0.1', t0 + 1)]);
    h.served.set('10.0.0.1', metrics(100, 0, 0, 0));
    const m = await h.provider.measure(h.q(t0, t0 + 30_000));
    assert.equal(m.driftEvidence, undefined);
    assert.equal(m.driftDetectedAtMs, undefined);
  });
});
