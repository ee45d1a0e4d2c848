import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { PodsMetricProvider, type Fetch } from './pods.js';
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
  const fetchFn: Fetch = (url) => {
    const ip = new URL(url).hostname;
    const text = served.get(ip);
    if (text === undefined) return Promise.reject(new Error('connection refused'));
    return Promise.resolve({ ok: true, status: 200, text: () => Promise.resolve(text) });
  };
  const provider = new PodsMetricProvider(() => Promise.resolve(pods), fetchFn);
  const q = (windowStartMs: number, nowMs: number) => ({ namespace: 'ml', deployment: 'w', revisionHash: 'abc', version: 'v2', port: 8080, windowStartMs, nowMs });
  return { served, provider, q };
}

describe('PodsMetricProvider', () => {
  it('a pod started inside the window counts from zero; routes other than predict are not traffic', async () => {
    const h = setup([pod('a', '10.0.0.1', t0 + 1000)]);
    h.served.set('10.0.0.1', metrics(120, 3, 80, 20));
    const m = await h.provider.measure(h.q(t0, t0 + 60_000));
    assert.deepEqual([m.requests, m.errors, m.labelled, m.correct, m.driftRows], [120, 3, 100, 80, 50]);
    assert.deepEqual(m.drift, { wind: 0.02 });
    assert.deepEqual(m.predictedClasses, { sun: 120 });
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

  it('sums pods; unready pods are not asked; no ready pod is no values; no answer at all is a provider error', async () => {
    const h = setup([pod('a', '10.0.0.1', t0 + 1), pod('b', '10.0.0.2', t0 + 1), pod('c', '10.0.0.3', t0 + 1, false)]);
    h.served.set('10.0.0.1', metrics(10, 0, 0, 0));
    h.served.set('10.0.0.2', metrics(30, 1, 0, 0));
    h.served.set('10.0.0.3', metrics(1000, 1000, 0, 0));
    const m = await h.provider.measure(h.q(t0, t0 + 10_000));
    assert.deepEqual([m.requests, m.errors], [40, 1]);
    await assert.rejects(setup([pod('c', '10.0.0.3', t0, false)]).provider.measure(h.q(t0, t0 + 1)), NoValuesError);
    await assert.rejects(setup([pod('d', '10.0.0.4', t0 + 1)]).provider.measure(h.q(t0, t0 + 1)), ProviderError);
  });
});
