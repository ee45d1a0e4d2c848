import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LiveMetrics } from '../../../api/model-deployment.js';
import { at, contextOf, deployment, draftOf, healthy, observedOf, revisionName, revisions, serving, t0 } from './fixtures.js';
import { liveMetricsOf, nextLiveMetrics, sameMeasurement, withLiveMetrics } from './live-metrics.js';
import type { V1Pod } from '@kubernetes/client-node';
import { Label } from '../../../api/labels.js';
import { labelsFrom } from './live-window.js';
import { PodsMetricProvider } from './metrics/pods.js';
import type { Measurement } from './metrics/provider.js';

describe('liveMetricsOf (interval 30s)', () => {
  const table: Array<[string, Partial<Measurement>, Partial<LiveMetrics>]> = [
    ['traffic, no labels, no drift', {}, { requestRate: 16.667, errorRate: 0, latencyP99Ms: 4, labelledSamples: 0, driftSamples: 0 }],
    ['only client errors and shed: no error rate', { requests: 30, clientErrors: 20, shed: 10, latencyP99Ms: undefined }, { requestRate: 1, labelledSamples: 0, driftSamples: 0 }],
    ['labels give accuracy', { labelled: 40, correct: 30 }, { requestRate: 16.667, errorRate: 0, latencyP99Ms: 4, accuracy: 0.75, labelledSamples: 40, driftSamples: 0 }],
    ['labels with probabilities give the log loss too', { labelled: 40, correct: 30, logLossLabels: 40, logLossSum: 20 },
      { requestRate: 16.667, errorRate: 0, latencyP99Ms: 4, accuracy: 0.75, logLoss: 0.5, labelledSamples: 40, driftSamples: 0 }],
    ['regression labels give the RMSE', { scored: 25, squaredError: 100 }, { requestRate: 16.667, errorRate: 0, latencyP99Ms: 4, rmse: 2, labelledSamples: 25, driftSamples: 0 }],
    ['drift per feature and its largest', { drift: { wind: 0.3, temp_max: 0.1 }, driftRows: 200 },
      { requestRate: 16.667, errorRate: 0, latencyP99Ms: 4, labelledSamples: 0, drift: { wind: 0.3, temp_max: 0.1 }, maxDriftPsi: 0.3, driftSamples: 200 }],
    ['the confidence windows give the estimated accuracy without a single label', { confidenceRows: 200, confidenceSum: 150 },
      { requestRate: 16.667, errorRate: 0, latencyP99Ms: 4, labelledSamples: 0, driftSamples: 0, estimatedAccuracy: 0.75, estimatedSamples: 200 }],
    ['labels and the estimate side by side', { labelled: 40, correct: 20, confidenceRows: 40, confidenceSum: 36 },
      { requestRate: 16.667, errorRate: 0, latencyP99Ms: 4, accuracy: 0.5, labelledSamples: 40, driftSamples: 0, estimatedAccuracy: 0.9, estimatedSamples: 40 }],
  ];
  // The first window of a version reaches back maxWindow (1h by default) and closes at once.
  const firstWindow = { windowSeconds: 30, labelledSince: at(t0 - 3_600_000), labelledUntil: at(t0) };
  for (const [name, m, want] of table) {
    it(name, () => assert.deepEqual(liveMetricsOf({ ok: true, m: { ...healthy, ...m } }, 'v1', 30_000, t0), { time: at(t0), version: 'v1', ...firstWindow, ...want }));
  }
  it('nothing measured: nothing to write', () => {
    assert.equal(liveMetricsOf(undefined, 'v1', 30_000, t0), undefined);
    assert.equal(liveMetricsOf({ ok: false, reason: 'NoValuesError: no pods' }, 'v1', 30_000, t0), undefined);
  });
});

describe('liveMetricsOf: the label window (minSamples 100, maxWindow 1h, interval 30s)', () => {
  const settings = { minSamples: 100, maxWindowMs: 3_600_000 };
  const published = (over: { [K in keyof LiveMetrics]?: LiveMetrics[K] | undefined } = {}): LiveMetrics => {
    const all = {
      time: at(t0 - 600_000), version: 'v1', windowSeconds: 30, requestRate: 0, accuracy: 0.9, labelledSamples: 500,
      labelledSince: at(t0 - 630_000), labelledUntil: at(t0 - 600_000), driftSamples: 0, ...over,
    };
    return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
  };
  const quiet: Partial<Measurement> = { requests: 0, latencyP99Ms: undefined };
  type Quality = Pick<LiveMetrics, 'accuracy' | 'rmse' | 'labelledSamples' | 'labelledSince' | 'labelledUntil'>;
  const table: Array<[string, LiveMetrics | undefined, Partial<Measurement>, Quality]> = [
    ['a batch\'s labels, then nothing: its figures stay (the open window has too few)', published(), quiet,
      { accuracy: 0.9, labelledSamples: 500, labelledSince: at(t0 - 630_000), labelledUntil: at(t0 - 600_000) }],
    ['...a few labels since: still the batch\'s figures', published(), { ...quiet, labelled: 40, correct: 20 },
      { accuracy: 0.9, labelledSamples: 500, labelledSince: at(t0 - 630_000), labelledUntil: at(t0 - 600_000) }],
    ['the open window reaches minSamples: its figures replace them', published(), { labelled: 100, correct: 50 },
      { accuracy: 0.5, labelledSamples: 100, labelledSince: at(t0 - 600_000), labelledUntil: at(t0) }],
    ['steady traffic: every interval closes a window (as one interval\'s worth before)', published({ labelledUntil: at(t0 - 30_000) }), { labelled: 300, correct: 270 },
      { accuracy: 0.9, labelledSamples: 300, labelledSince: at(t0 - 30_000), labelledUntil: at(t0) }],
    ['an hour without enough labels: the window closes with what it has', published({ labelledUntil: at(t0 - 3_600_000) }), { ...quiet, labelled: 40, correct: 30 },
      { accuracy: 0.75, labelledSamples: 40, labelledSince: at(t0 - 3_600_000), labelledUntil: at(t0) }],
    ['...with none: the quality figures go', published({ labelledUntil: at(t0 - 3_600_000) }), quiet,
      { labelledSamples: 0, labelledSince: at(t0 - 3_600_000), labelledUntil: at(t0) }],
    ['the operator was away for hours: the window reaches back maxWindow only', published({ labelledUntil: at(t0 - 5 * 3_600_000) }), { labelled: 10, correct: 10 },
      { accuracy: 1, labelledSamples: 10, labelledSince: at(t0 - 3_600_000), labelledUntil: at(t0) }],
    ['figures of another version are never kept', published({ version: 'v0' }), quiet,
      { labelledSamples: 0, labelledSince: at(t0 - 3_600_000), labelledUntil: at(t0) }],
    ['figures from before label windows (no labelledUntil): a first window, back maxWindow, closed at once', published({ labelledUntil: undefined, labelledSince: undefined }), { labelled: 3, correct: 3 },
      { accuracy: 1, labelledSamples: 3, labelledSince: at(t0 - 3_600_000), labelledUntil: at(t0) }],
    ['regression: the RMSE the same way', published({ accuracy: undefined, rmse: 2 }), { ...quiet, scored: 5, squaredError: 5 },
      { rmse: 2, labelledSamples: 500, labelledSince: at(t0 - 630_000), labelledUntil: at(t0 - 600_000) }],
  ];
  for (const [name, previous, m, want] of table) {
    it(name, () => {
      const got = liveMetricsOf({ ok: true, m: { ...healthy, ...m } }, 'v1', 30_000, t0, previous, settings);
      const { accuracy, rmse, labelledSamples, labelledSince, labelledUntil } = got ?? {};
      const quality = Object.fromEntries(Object.entries({ accuracy, rmse, labelledSamples, labelledSince, labelledUntil }).filter(([, v]) => v !== undefined));
      assert.deepEqual(quality, want);
      assert.equal(got?.windowSeconds, 30, 'traffic figures are of the interval');
      assert.equal(got?.time, at(t0));
    });
  }
});

describe('sameMeasurement', () => {
  const a: LiveMetrics = { time: at(t0), version: 'v1', requestRate: 1 };
  const table: Array<[string, LiveMetrics | undefined, LiveMetrics, boolean]> = [
    ['none before', undefined, a, false],
    ['only the time differs', a, { ...a, time: at(t0 + 30_000) }, true],
    ['a value differs', a, { ...a, requestRate: 2 }, false],
    ['another version', a, { ...a, version: 'v2' }, false],
  ];
  for (const [name, before, now, want] of table) it(name, () => assert.equal(sameMeasurement(before, now), want));
});

describe('nextLiveMetrics: figures of one version only', () => {
  const of = (version: string, accuracy: number): LiveMetrics => ({ time: at(t0), version, requestRate: 1, accuracy });
  const table: Array<[string, LiveMetrics | undefined, LiveMetrics | undefined, string, LiveMetrics | undefined]> = [
    ['a new measurement of the stable version', of('v1', 0.8), of('v1', 0.7), 'v1', of('v1', 0.7)],
    ['nothing measured: the figures stay', of('v1', 0.8), undefined, 'v1', of('v1', 0.8)],
    ['promoted in this reconcile: the old version\'s fresh figures are not the new one\'s', of('v1', 0.8), of('v1', 0.7), 'v2', undefined],
    ['promoted earlier, nothing measured yet: the old figures go', of('v1', 0.8), undefined, 'v2', undefined],
    ['rolled back to v1: v2\'s figures go', of('v2', 0.6), undefined, 'v1', undefined],
    ['the new version measured', of('v1', 0.8), of('v2', 0.9), 'v2', of('v2', 0.9)],
  ];
  for (const [name, prev, measured, stable, want] of table) it(name, () => assert.deepEqual(nextLiveMetrics(prev, measured, stable), want));
});

describe('withLiveMetrics', () => {
  const v1 = revisionName('v1');
  it('a stable pod ready: measured, and looked at again every interval', () => {
    const ctx = contextOf(observedOf(deployment().withStatus(serving('v1')).build(), 'v1', { revisions: revisions({ [v1]: [2, 1] }), stableLive: { ok: true, m: healthy } }));
    const d = withLiveMetrics(ctx, draftOf(ctx));
    assert.equal(d.status.liveMetrics?.time, at(t0));
    assert.deepEqual(d.requeues, [30_000]);
  });
  it('the same values again keep the time they were first measured (no write for nothing)', () => {
    const first = liveMetricsOf({ ok: true, m: healthy }, 'v1', 30_000, t0 - 30_000);
    const md = deployment().withStatus(serving('v1', first ? { liveMetrics: first } : {})).build();
    const ctx = contextOf(observedOf(md, 'v1', { revisions: revisions({ [v1]: [2, 2] }), stableLive: { ok: true, m: healthy } }));
    assert.equal(withLiveMetrics(ctx, draftOf(ctx)).status.liveMetrics?.time, at(t0 - 30_000));
  });
  it('no ready pod: no timer (its readiness brings the next reconcile)', () => {
    const ctx = contextOf(observedOf(deployment().withStatus(serving('v1')).build(), 'v1', { revisions: revisions({ [v1]: [2, 0] }) }));
    const d = withLiveMetrics(ctx, draftOf(ctx));
    assert.equal(d.status.liveMetrics, undefined);
    assert.deepEqual(d.requeues, []);
  });
});

describe('liveMetricsOf: the sequential drift detector', () => {
  const base = { time: at(t0), version: 'v1', windowSeconds: 30, labelledSince: at(t0 - 3_600_000), labelledUntil: at(t0), requestRate: 16.667, errorRate: 0, latencyP99Ms: 4, labelledSamples: 0, driftSamples: 0 };
  const table: Array<[string, Partial<Measurement>, Partial<LiveMetrics>]> = [
    ['no detector in the measurement: no evidence fields', {}, {}],
    ['evidence per feature (to a hundredth of a nat) and its largest', { driftEvidence: { wind: 3.14159, temp_max: 21.5 } }, { driftEvidence: { wind: 3.14, temp_max: 21.5 }, maxDriftEvidence: 21.5 }],
    ['a detection carries its time', { driftEvidence: { wind: 30 }, driftDetectedAtMs: t0 - 5_000 }, { driftEvidence: { wind: 30 }, maxDriftEvidence: 30, driftDetectedTime: at(t0 - 5_000) }],
  ];
  for (const [name, m, want] of table) {
    it(name, () => assert.deepEqual(liveMetricsOf({ ok: true, m: { ...healthy, ...m } }, 'v1', 30_000, t0), { ...base, ...want }));
  }
});

describe('a version\'s first figures from its pods (the pods provider, minSamples 50, maxWindow 30s, interval 3s)', () => {
  const settings = { minSamples: 50, maxWindowMs: 30_000 };
  const intervalMs = 3000;
  /** A pod of revision abc that started at `startedMs` and has answered `requests` and taken labels. */
  const setup = (startedMs: number) => {
    let text = '';
    const pod: V1Pod = {
      metadata: { name: 'a', uid: 'uid-a', labels: { [Label.deployment]: 'w', [Label.revision]: 'abc' } },
      status: { podIP: '10.0.0.1', startTime: new Date(startedMs), conditions: [{ type: 'Ready', status: 'True' }] },
    };
    const provider = new PodsMetricProvider(() => Promise.resolve([pod]), () => Promise.resolve({ ok: true, status: 200, text: () => Promise.resolve(text) }));
    const serve = (requests: number, correct: number, incorrect: number): void => {
      text = [
        `perennial_server_requests_total{model_version="v1",route="v1_predict",code="200"} ${requests}`,
        `perennial_server_feedback_total{model_version="v1",outcome="correct"} ${correct}`,
        `perennial_server_feedback_total{model_version="v1",outcome="incorrect"} ${incorrect}`,
      ].join('\n');
    };
    /** One interval's reconcile: the query measurements-wanted.ts makes, and what liveMetrics says after it. */
    const reconcile = async (nowMs: number, previous: LiveMetrics | undefined): Promise<LiveMetrics | undefined> => {
      const q = { namespace: 'ml', deployment: 'w', revisionHash: 'abc', version: 'v1', port: 8080, windowStartMs: nowMs - intervalMs, labelsFromMs: labelsFrom(previous, 'v1', nowMs, settings), nowMs };
      const r = await provider.measure(q).then((m) => ({ ok: true as const, m }), (e: unknown) => ({ ok: false as const, reason: String(e) }));
      return nextLiveMetrics(previous, liveMetricsOf(r, 'v1', intervalMs, nowMs, previous, settings), 'v1');
    };
    return { serve, reconcile };
  };

  it('labels taken before the operator first reached the pod count: the first window reaches back maxWindow, a pod started in it from zero', async () => {
    // The container took 20 s to start; ready, it answered 400 requests and took 120 labels before the first scrape
    // (an operator busy elsewhere, or a first scrape that failed).
    const h = setup(t0 - 20_000);
    h.serve(400, 100, 20);
    let live = await h.reconcile(t0, undefined);
    assert.equal(live, undefined, 'no traffic baseline yet: nothing measured');
    h.serve(410, 100, 20);
    live = await h.reconcile(t0 + intervalMs, live);
    assert.deepEqual([live?.labelledSamples, live?.accuracy, live?.labelledSince, live?.labelledUntil], [120, 100 / 120, at(t0 + intervalMs - 30_000), at(t0 + intervalMs)]);
    assert.equal(live?.requestRate, 3.333, 'traffic over the last interval only (10 requests in 3 s)');
  });

  it('later windows as before: from where the last one closed, closed at minSamples', async () => {
    const h = setup(t0 - 20_000);
    h.serve(400, 100, 20);
    let live = await h.reconcile(t0, undefined);
    live = await h.reconcile(t0 + intervalMs, live);
    h.serve(500, 130, 20);
    live = await h.reconcile(t0 + 2 * intervalMs, live);
    assert.equal(live?.labelledSamples, 120, '30 new labels: the window stays open, the published figures stay');
    h.serve(600, 150, 30);
    live = await h.reconcile(t0 + 3 * intervalMs, live);
    assert.deepEqual([live?.labelledSamples, live?.accuracy, live?.labelledSince], [60, 50 / 60, at(t0 + intervalMs)]);
  });
});
