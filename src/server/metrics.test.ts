import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Histogram, Registry } from 'prom-client';
import { latencyBuckets, liveLogLoss, parsePrometheusText, serverMetricNames } from '../shared/server-metrics.js';
import { labelLogLoss, ServerMetrics } from './metrics.js';

describe('server metrics: live log loss', () => {
  const classes = ['rain', 'sun', 'fog'];
  const table: Array<[string, readonly number[] | undefined, string, number | undefined]> = [
    ['the true class\'s probability', [0.5, 0.25, 0.25], 'sun', -Math.log(0.25)],
    ['a certain right answer', [1, 0, 0], 'rain', 0],
    ['a zero probability, clipped at one in a million', [1, 0, 0], 'fog', -Math.log(1e-6)],
    ['no probabilities in the id', undefined, 'rain', undefined],
    ['probabilities of another class list', [0.5, 0.5], 'rain', undefined],
    ['a label that is no class', [0.5, 0.25, 0.25], 'hail', undefined],
  ];
  for (const [name, p, label, want] of table) {
    it(name, () => assert.equal(labelLogLoss(p, classes, label), want));
  }

  it('labels are scored under the version of their prediction, and the scrape gives the log loss of each', async () => {
    const m = new ServerMetrics({ namespace: 'ml', deployment: 'weather', version: 'v2' }, () => undefined, () => ({}), () => 'classification');
    m.scoreFeedback('v1', { prediction: 'rain', probabilities: [0.5, 0.25, 0.25] }, 'rain', classes);
    m.scoreFeedback('v1', { prediction: 'rain', probabilities: [0.5, 0.25, 0.25] }, 'sun', classes);
    m.scoreFeedback('v1', { prediction: 'rain' }, 'sun', classes);
    const samples = parsePrometheusText(await m.registry.metrics());
    const want = (-Math.log(0.5) - Math.log(0.25)) / 2;
    assert.ok(Math.abs((liveLogLoss(samples, 'v1') ?? NaN) - want) < 1e-9);
    assert.equal(liveLogLoss(samples, 'v2'), undefined);
  });
});

describe('server metrics: the request path\'s tallies read as prom-client\'s own series', () => {
  const requests: Array<[string, number, number]> = [
    ['v1_predict', 200, 0.0004], ['v1_predict', 200, 0.001], ['v1_predict', 200, 0.0031], ['v2_infer', 200, 0.7],
    ['v1_predict', 400, 0.0002], ['v2_infer', 503, 0.0001], ['v1_predict', 500, 12], ['health', 200, 0.00001],
  ];

  /** The lines of one metric family from a scrape, sorted (label order within a line is the registry's). */
  function family(text: string, name: string): string[] {
    return text.split('\n').filter((l) => l.startsWith(name)).map((l) => {
      const m = /^([^{ ]+)(?:\{([^}]*)\})? (.+)$/.exec(l);
      const labels = (m?.[2] ?? '').split(',').filter((x) => x !== '').sort().join(',');
      return `${m?.[1] ?? ''}{${labels}} ${m?.[3] ?? ''}`;
    }).sort();
  }

  it('requests, errors, latency and predicted classes, over two scrapes', async () => {
    const m = new ServerMetrics({ namespace: 'ml', deployment: 'weather', version: 'v1' }, () => undefined, () => ({}), () => 'classification');
    const ref = new Registry();
    ref.setDefaultLabels({ model_version: 'v1', namespace: 'ml', model_deployment: 'weather' });
    const counter = (name: string, labelNames: string[]) => new Counter({ name, help: 'h', labelNames, registers: [ref] });
    const refRequests = counter(serverMetricNames.requests, ['route', 'code']);
    const refErrors = counter(serverMetricNames.errors, ['route', 'code']);
    const refPredictions = counter(serverMetricNames.predictions, ['class']);
    const refLatency = new Histogram({ name: serverMetricNames.latency, help: 'h', labelNames: ['route'], buckets: [...latencyBuckets], registers: [ref] });
    const both = (route: string, code: number, seconds: number, label: string): void => {
      m.observeRequest(route, code, seconds);
      m.countPrediction(label);
      refRequests.inc({ route, code: String(code) });
      if (code >= 400) refErrors.inc({ route, code: String(code) });
      if (code < 400 || (code >= 500 && code !== 503)) refLatency.observe({ route }, seconds);
      refPredictions.inc({ class: label });
    };
    for (const round of [0, 1]) {
      requests.forEach(([route, code, seconds], i) => both(route, code, seconds * (round + 1), i % 3 === 0 ? 'rain' : 'sun'));
      const [ours, theirs] = [await m.registry.metrics(), await ref.metrics()];
      for (const name of [serverMetricNames.requests, serverMetricNames.errors, serverMetricNames.latency, serverMetricNames.predictions]) {
        const want = family(theirs, name);
        assert.ok(want.length > 0, name);
        assert.deepEqual(family(ours, name), want, `${name}, scrape ${round + 1}`);
      }
    }
  });
});
