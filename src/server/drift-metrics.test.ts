// The drift series of /metrics: PSI of the window beside the sequential detector's evidence, its detected flag and
// time, read back with the contract's readers as the operator reads them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { profileFeature } from '../shared/drift.js';
import { detectionThreshold } from '../shared/drift-sequential.js';
import type { RawRow } from '../shared/preprocessing.js';
import { driftEvidence, parsePrometheusText, serverMetricNames as N, type Sample } from '../shared/server-metrics.js';
import { DriftWindow } from './drift-window.js';
import { ServerMetrics } from './metrics.js';

const ref: RawRow[] = Array.from({ length: 1000 }, (_, i) => ({ x: (i * 37) % 100 }));
const profiles = [profileFeature('x', 'numeric', ref.map((r) => r['x'] ?? null))];
const one = (samples: readonly Sample[], name: string): number | undefined => samples.find((s) => s.name === name)?.value;

async function scrape(w: DriftWindow, nowMs: number): Promise<Sample[]> {
  const m = new ServerMetrics({ namespace: 'ml', deployment: 'weather', version: 'v1' }, () => w.snapshot(nowMs), () => ({}), () => 'classification');
  return parsePrometheusText(await m.registry.metrics());
}

describe('server metrics: sequential drift detection', () => {
  it('reference-like rows: evidence per feature below the threshold, not detected, no time', async () => {
    const w = new DriftWindow(profiles, 60_000);
    w.add(ref, 1000);
    const samples = await scrape(w, 2000);
    const evidence = driftEvidence(samples, 'v1');
    assert.deepEqual([...evidence.keys()], ['x']);
    assert.ok((evidence.get('x') ?? Infinity) < detectionThreshold(1));
    assert.equal(one(samples, N.driftDetected), 0);
    assert.equal(one(samples, N.driftDetectedTime), undefined);
    assert.equal(one(samples, N.driftDetectorRows), 1000);
  });

  it('shifted rows: detected, at the time of the request that crossed, evidence over the threshold', async () => {
    const w = new DriftWindow(profiles, 60_000);
    w.add(ref, 1000);
    w.add(ref.map((r) => ({ x: Number(r['x']) + 200 })).slice(0, 100), 5000);
    const samples = await scrape(w, 6000);
    assert.equal(one(samples, N.driftDetected), 1);
    assert.equal(one(samples, N.driftDetectedTime), 5);
    assert.ok((driftEvidence(samples, 'v1').get('x') ?? 0) >= detectionThreshold(1));
    assert.equal(driftEvidence(samples, 'v2').size, 0, 'another version\'s series are not this one\'s');
  });

  it('no model loaded: no evidence series, not detected', async () => {
    const m = new ServerMetrics({ namespace: 'ml', deployment: 'weather', version: 'v1' }, () => undefined, () => ({}), () => undefined);
    const samples = parsePrometheusText(await m.registry.metrics());
    assert.equal(driftEvidence(samples, 'v1').size, 0);
    assert.equal(one(samples, N.driftDetected), 0);
  });
});
