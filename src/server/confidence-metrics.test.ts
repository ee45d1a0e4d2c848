// The estimated accuracy on /metrics: per pod a gauge of the estimate with the rows and sum behind it, combined over
// pods by the contract's reader (src/shared/server-metrics.ts estimatedAccuracy) as Σ sum / Σ rows.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { estimatedAccuracy, parsePrometheusText, serverMetricNames as N, type Sample } from '../shared/server-metrics.js';
import { ConfidenceWindow } from './confidence-window.js';
import { ServerMetrics } from './metrics.js';

const hour = 3_600_000;

async function scrape(task: 'classification' | 'regression', w: ConfidenceWindow): Promise<Sample[]> {
  const m = new ServerMetrics({ namespace: 'ml', deployment: 'weather', version: 'v2' }, () => undefined, () => ({}), () => task, () => w.snapshot(Date.now()));
  return parsePrometheusText(await m.registry.metrics());
}

const rows = (n: number, top: number): { probabilities: number[] }[] => Array.from({ length: n }, () => ({ probabilities: [top, 1 - top] }));
const named = (s: readonly Sample[], name: string): Sample[] => s.filter((x) => x.name === name);

describe('estimated accuracy on /metrics', () => {
  it('a classification pod exports the estimate, its rows and their sum under its version', async () => {
    const w = new ConfidenceWindow(hour);
    w.add([...rows(3, 0.9), ...rows(1, 0.5)], Date.now());
    const s = await scrape('classification', w);
    const [est] = named(s, N.estimatedAccuracy);
    assert.equal(est?.labels['model_version'], 'v2');
    assert.ok(Math.abs((est?.value ?? NaN) - 0.8) < 1e-9);
    assert.equal(named(s, N.confidenceWindowRows)[0]?.value, 4);
    assert.ok(Math.abs((named(s, N.confidenceWindowSum)[0]?.value ?? NaN) - 3.2) < 1e-9);
    assert.deepEqual(estimatedAccuracy(s, 'v2'), { rows: 4, accuracy: (named(s, N.confidenceWindowSum)[0]?.value ?? NaN) / 4 });
  });

  const silent: Array<[string, 'classification' | 'regression', number]> = [
    ['an empty window exports no estimate (absent, not 0)', 'classification', 0],
    ['a regression model exports none', 'regression', 5],
  ];
  for (const [name, task, n] of silent) {
    it(name, async () => {
      const w = new ConfidenceWindow(hour);
      w.add(rows(n, 0.9), Date.now());
      const s = await scrape(task, w);
      for (const metric of [N.estimatedAccuracy, N.confidenceWindowRows, N.confidenceWindowSum]) assert.deepEqual(named(s, metric), [], metric);
      assert.deepEqual(estimatedAccuracy(s, 'v2'), { rows: 0, accuracy: undefined });
    });
  }

  it('pods combine weighted by their rows: a quiet unsure pod moves the estimate little', async () => {
    const busy = new ConfidenceWindow(hour);
    busy.add(rows(90, 0.9), Date.now());
    const quiet = new ConfidenceWindow(hour);
    quiet.add(rows(10, 0.4), Date.now());
    const both = [...(await scrape('classification', busy)), ...(await scrape('classification', quiet))];
    const got = estimatedAccuracy(both, 'v2');
    assert.equal(got.rows, 100);
    assert.ok(Math.abs((got.accuracy ?? NaN) - (90 * 0.9 + 10 * 0.6) / 100) < 1e-9, `${String(got.accuracy)}`);
    assert.deepEqual(estimatedAccuracy(both, 'v1'), { rows: 0, accuracy: undefined }, 'another version\'s series are not read');
  });
});
