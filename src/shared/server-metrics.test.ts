import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  diffSamples, errorRate, featurePsi, latencyQuantile, liveAccuracy, liveRmse, parsePrometheusText, promql, requestClass, requestCounts, serverMetricNames as N,
} from './server-metrics.js';

const scrape = `
# HELP perennial_server_requests_total Answered requests.
# TYPE perennial_server_requests_total counter
perennial_server_requests_total{route="v1_predict",code="200",model_version="v2"} 90
perennial_server_requests_total{route="v2_infer",code="503",model_version="v2"} 10
perennial_server_requests_total{route="v1_predict",code="400",model_version="v2"} 50
perennial_server_requests_total{route="health",code="503",model_version="v2"} 1000
perennial_server_requests_total{route="v1_predict",code="500",model_version="v1"} 5
perennial_server_requests_total{route="v1_predict",code="502",model_version="v2"} 10
perennial_server_request_duration_seconds_bucket{le="0.01",route="v1_predict",model_version="v2"} 50
perennial_server_request_duration_seconds_bucket{le="0.1",route="v1_predict",model_version="v2"} 90
perennial_server_request_duration_seconds_bucket{le="1",route="v1_predict",model_version="v2"} 100
perennial_server_request_duration_seconds_bucket{le="+Inf",route="v1_predict",model_version="v2"} 100
perennial_server_feedback_total{outcome="correct",model_version="v2"} 30
perennial_server_feedback_total{outcome="incorrect",model_version="v2"} 10
perennial_server_feedback_total{outcome="scored",model_version="v3"} 4
perennial_server_feedback_squared_error_sum{model_version="v3"} 16
perennial_server_feature_psi{feature="temp",model_version="v2"} 0.3
perennial_server_feature_psi{feature="temp",model_version="v2",pod="b"} 0.05
perennial_server_feature_psi{feature="a \\"quoted\\" name",model_version="v2"} 0.01
`;

describe('server metrics contract', () => {
  const s = parsePrometheusText(scrape);

  it('parses the exposition format, escapes included', () => {
    assert.equal(s.length, 17);
    assert.deepEqual(s[0], { name: N.requests, labels: { route: 'v1_predict', code: '200', model_version: 'v2' }, value: 90 });
    assert.equal(s.find((x) => x.labels['le'] === '+Inf')?.value, 100);
    assert.ok(featurePsi(s, 'v2').has('a "quoted" name'));
  });

  it('sorts status codes into request classes: 503 is shedding, only other 5xx are faults', () => {
    const table: [number, string][] = [[200, 'ok'], [304, 'ok'], [400, 'client'], [404, 'client'], [408, 'client'], [413, 'client'], [415, 'client'], [431, 'client'], [499, 'client'], [500, 'fault'], [502, 'fault'], [503, 'shed'], [504, 'fault']];
    for (const [code, cls] of table) assert.equal(requestClass(code), cls, String(code));
  });

  it('error rate is faults over served predict requests of one version: client errors and shedding move it neither way', () => {
    assert.deepEqual(requestCounts(s, 'v2'), { ok: 90, client: 50, shed: 10, fault: 10 });
    assert.equal(errorRate(s, 'v2'), 10 / 100);
    assert.equal(errorRate(s, 'v1'), 1);
    assert.equal(errorRate(s, 'v9'), undefined);
    const flooded = parsePrometheusText(`${scrape}perennial_server_requests_total{route="v1_predict",code="404",model_version="v2"} 100000\n`);
    assert.equal(errorRate(flooded, 'v2'), 10 / 100, 'a client flooding 4xx neither raises nor dilutes it');
  });

  it('latency quantiles interpolate inside the bucket like histogram_quantile', () => {
    assert.equal(latencyQuantile(s, 'v2', 0.5), 0.01);
    assert.ok(Math.abs((latencyQuantile(s, 'v2', 0.7) ?? 0) - 0.055) < 1e-12);
    assert.ok(Math.abs((latencyQuantile(s, 'v2', 0.99) ?? 0) - 0.91) < 1e-12);
    assert.equal(latencyQuantile(s, 'v1', 0.99), undefined);
  });

  it('live accuracy and RMSE from the feedback counters, with a minimum count', () => {
    assert.equal(liveAccuracy(s, 'v2'), 0.75);
    assert.equal(liveAccuracy(s, 'v2', 41), undefined);
    assert.equal(liveRmse(s, 'v3'), 2);
  });

  it('PSI per feature is the maximum over pods', () => {
    assert.equal(featurePsi(s, 'v2').get('temp'), 0.3);
  });

  it('diffs two scrapes into a window (a counter reset counts from zero)', () => {
    const later = parsePrometheusText(scrape.replace('} 90', '} 120').replace('code="503",model_version="v2"} 10', 'code="503",model_version="v2"} 4'));
    const d = diffSamples(s, later);
    assert.equal(d[0]?.value, 30);
    assert.equal(d[1]?.value, 4);
  });

  it('offers the same quantities as PromQL', () => {
    const q = promql({ namespace: 'ml', deployment: 'weather', version: 'v2' });
    assert.match(q.p99, /histogram_quantile\(0\.99, sum by \(le\) \(rate\(perennial_server_request_duration_seconds_bucket\{namespace="ml",model_deployment="weather",model_version="v2",route=~"v2_infer\|v1_predict"\}\[5m\]\)\)\)/);
    assert.match(q.errorRate, /code=~"5\.\.",code!="503"/);
    assert.match(q.errorRate, /code!~"4\.\.",code!="503"/, 'the denominator is served requests');
  });
});
