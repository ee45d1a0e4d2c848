// The prometheus provider's failures, classified where they enter (an in-memory fetch; the real Prometheus answers
// in test/integration/model-deployment-rollout.test.ts): no series is NoValuesError (Inconclusive, quietly), a
// Prometheus that cannot be asked or answers nonsense is ProviderError (Inconclusive, logged at warn).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NoValuesError, ProviderError } from './provider.js';
import type { Fetch } from './pods.js';
import { PrometheusMetricProvider } from './prometheus.js';

const query = { namespace: 'ml', deployment: 'weather', revisionHash: 'abc', version: 'v2', port: 8080, windowStartMs: 0, nowMs: 60_000 };
const answer = (status: number, text: string): Fetch => () => Promise.resolve({ ok: status < 300, status, text: () => Promise.resolve(text) });
const empty = JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } });

describe('PrometheusMetricProvider failures', () => {
  const table: Array<[string, Fetch, new (m: string) => Error, RegExp]> = [
    ['no series for the version: no values', answer(200, empty), NoValuesError, /no perennial_server_requests_total series for version v2/],
    ['unreachable', () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), ProviderError, /Prometheus unreachable: connect ECONNREFUSED/],
    ['an error status', answer(503, 'overloaded'), ProviderError, /Prometheus answered 503: overloaded/],
    ['an answer that is not JSON (a proxy\'s page)', answer(200, '<html>login</html>'), ProviderError, /unexpected Prometheus answer: <html>/],
    ['JSON of another shape', answer(200, JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } })), ProviderError, /unexpected Prometheus answer/],
    ['a body cut off mid-read', () => Promise.resolve({ ok: true, status: 200, text: () => Promise.reject(new Error('terminated')) }), ProviderError, /Prometheus unreachable: terminated/],
  ];
  for (const [name, fetchFn, type, message] of table) {
    it(name, async () => {
      await assert.rejects(new PrometheusMetricProvider('http://prometheus:9090', fetchFn).measure(query), (e: unknown) => {
        assert.ok(e instanceof type, String(e));
        assert.match(e.message, message);
        return true;
      });
    });
  }
});

describe('PrometheusMetricProvider ranges', () => {
  const asked = (q: typeof query & { labelsFromMs?: number }): Promise<string[]> => {
    const queries: string[] = [];
    const one = JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [0, '1'] }] } });
    const fetchFn: Fetch = (url) => {
      queries.push(new URL(url).searchParams.get('query') ?? '');
      return Promise.resolve({ ok: true, status: 200, text: () => Promise.resolve(one) });
    };
    return new PrometheusMetricProvider('http://prometheus:9090', fetchFn).measure(q).then(() => queries);
  };
  it('a grown window is a longer range', async () => {
    const queries = await asked({ ...query, windowStartMs: 0, nowMs: 3_600_000 });
    assert.ok(queries.filter((x) => x.includes('increase(')).every((x) => x.includes('[3600s]')), queries.join('\n'));
  });
  it('labels over their own range (liveMetrics\' label window), traffic over the window', async () => {
    const queries = await asked({ ...query, windowStartMs: 30_000, nowMs: 60_000, labelsFromMs: -540_000 });
    const feedback = queries.filter((x) => x.includes('perennial_server_feedback'));
    assert.equal(feedback.length, 6);
    assert.ok(feedback.every((x) => x.includes('[600s]')), feedback.join('\n'));
    assert.ok(queries.filter((x) => x.includes('perennial_server_requests_total')).every((x) => x.includes('[30s]')));
  });
});

describe('PrometheusMetricProvider: the confidence windows (estimated accuracy)', () => {
  it('are the sums of the pods\' rows and sum gauges now, of this deployment\'s version', async () => {
    const answers: Record<string, string> = { perennial_server_confidence_window_rows: '300', perennial_server_confidence_window_sum: '240.5' };
    const fetchFn: Fetch = (url) => {
      const q = new URL(url).searchParams.get('query') ?? '';
      const hit = Object.keys(answers).find((name) => q === `sum(${name}{namespace="ml",model_deployment="weather",model_version="v2"})`);
      const value = hit === undefined ? '1' : answers[hit] ?? '1';
      return Promise.resolve({ ok: true, status: 200, text: () => Promise.resolve(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [0, value] }] } })) });
    };
    const m = await new PrometheusMetricProvider('http://prometheus:9090', fetchFn).measure(query);
    assert.deepEqual([m.confidenceRows, m.confidenceSum], [300, 240.5]);
  });
});

describe('PrometheusMetricProvider: the sequential drift detector', () => {
  /** Answers by query: evidence per feature and a detection time for the detector's queries, 1 for the rest. */
  const provider = (evidence: Array<[string, string]>, detected: string | undefined, queries: string[] = []): PrometheusMetricProvider => {
    const vector = (result: unknown[]): string => JSON.stringify({ status: 'success', data: { resultType: 'vector', result } });
    const fetchFn: Fetch = (url) => {
      const q = new URL(url).searchParams.get('query') ?? '';
      queries.push(q);
      let body = vector([{ metric: {}, value: [0, '1'] }]);
      if (q.includes('perennial_server_drift_evidence')) body = vector(evidence.map(([feature, v]) => ({ metric: { feature }, value: [0, v] })));
      else if (q.includes('perennial_server_drift_detected_time_seconds')) body = vector(detected === undefined ? [] : [{ metric: {}, value: [0, detected] }]);
      return Promise.resolve({ ok: true, status: 200, text: () => Promise.resolve(body) });
    };
    return new PrometheusMetricProvider('http://prometheus:9090', fetchFn);
  };
  it('asks the largest evidence per feature and the earliest detection, of this deployment\'s version', async () => {
    const queries: string[] = [];
    const m = await provider([['wind', '7.5'], ['temp_max', '25'], ['bad', 'NaN']], '1800000004', queries).measure(query);
    assert.deepEqual(m.driftEvidence, { wind: 7.5, temp_max: 25 });
    assert.equal(m.driftDetectedAtMs, 1_800_000_004_000);
    const asked = queries.filter((q) => q.includes('drift_evidence') || q.includes('drift_detected'));
    assert.deepEqual(asked.map((q) => q.split('(')[0]), ['max by ', 'min']);
    assert.ok(asked.every((q) => q.includes('model_version="v2"') && q.includes('model_deployment="weather"')), asked.join('\n'));
  });
  it('no detector series: no evidence, no detection', async () => {
    const m = await provider([], undefined).measure(query);
    assert.equal(m.driftEvidence, undefined);
    assert.equal(m.driftDetectedAtMs, undefined);
  });
});
