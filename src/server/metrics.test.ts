import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { liveLogLoss, parsePrometheusText } from '../shared/server-metrics.js';
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
