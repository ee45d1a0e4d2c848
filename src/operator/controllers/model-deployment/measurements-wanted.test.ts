import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelDeployment } from '../../../api/model-deployment.js';
import { at, deployment, revisionName, rolling, serving, t0 } from './fixtures.js';
import { measurementsWanted, type MeasurementRequest } from './measurements-wanted.js';

const hash = (version: string): string => revisionName(version).slice('weather-'.length);
type Wanted = { [K in keyof MeasurementRequest]: [string, number] | undefined };
const compact = (r: MeasurementRequest): Wanted => ({
  candidate: r.candidate && [r.candidate.version, r.candidate.windowStartMs],
  stableWindow: r.stableWindow && [r.stableWindow.version, r.stableWindow.windowStartMs],
  stableLive: r.stableLive && [r.stableLive.version, r.stableLive.windowStartMs],
});

describe('measurementsWanted (interval 30s; steps setWeight 50, analysis 1m)', () => {
  const none: Wanted = { candidate: undefined, stableWindow: undefined, stableLive: undefined };
  const table: Array<[string, ModelDeployment, number, Partial<Wanted>]> = [
    ['nothing served yet: nothing', deployment().build(), 0, {}],
    ['stable, no ready pod: nothing (nothing serves it)', deployment().withStatus(serving('v1')).build(), 0, {}],
    ['stable with a ready pod: the last interval', deployment().withStatus(serving('v1')).build(), 1, { stableLive: ['v1', t0 - 30_000] }],
    ['measured less than an interval ago: not yet', deployment().withStatus(serving('v1', { liveMetrics: { time: at(t0 - 10_000), version: 'v1', requestRate: 1 } })).build(), 1, {}],
    ['a setWeight step judges nothing', deployment().withStatus(rolling('v1', 'v2', 0)).build(), 1, { stableLive: ['v1', t0 - 30_000] }],
    ['an analysis step: both versions over the step\'s window', deployment().withStatus(rolling('v1', 'v2', 1)).build(), 0,
      { candidate: ['v2', t0 - 60_000], stableWindow: ['v1', t0 - 60_000] }],
  ];
  for (const [name, md, ready, want] of table) it(name, () => assert.deepEqual(compact(measurementsWanted(md, t0, ready)), { ...none, ...want }));

  it('liveMetrics\' labels from the open label window (live-window.ts), the traffic over the last interval', () => {
    const open = deployment().withStatus(serving('v1', { liveMetrics: { time: at(t0 - 30_000), version: 'v1', requestRate: 1, labelledUntil: at(t0 - 600_000) } })).build();
    assert.deepEqual([measurementsWanted(open, t0, 1).stableLive?.windowStartMs, measurementsWanted(open, t0, 1).stableLive?.labelsFromMs], [t0 - 30_000, t0 - 600_000]);
    const first = deployment().withStatus(serving('v1')).build();
    assert.equal(measurementsWanted(first, t0, 1).stableLive?.labelsFromMs, t0 - 3_600_000, 'a version\'s first window: back maxWindow');
  });

  it('a step\'s window grows from the step\'s start, however long ago', () => {
    const md = deployment().withStatus(rolling('v1', 'v2', 1, { stepStartTime: at(t0 - 3_000_000) })).build();
    assert.equal(measurementsWanted(md, t0, 0).candidate?.windowStartMs, t0 - 3_000_000);
  });

  it('asks by revision hash', () => {
    const r = measurementsWanted(deployment().withStatus(rolling('v1', 'v2', 1)).build(), t0, 1);
    assert.deepEqual([r.candidate?.hash, r.stableWindow?.hash, r.stableLive?.hash], [hash('v2'), hash('v1'), hash('v1')]);
  });
});
