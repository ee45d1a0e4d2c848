import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LiveMetrics } from '../../../api/model-deployment.js';
import { at, deployment, t0 } from './fixtures.js';
import { defaultLiveSettings, labelsFrom, labelWindowCloses, liveSettingsOf, openLabelWindow } from './live-window.js';

const s = { minSamples: 100, maxWindowMs: 3_600_000 };
const live = (version: string, labelledUntil?: string): LiveMetrics => ({ time: at(t0), version, requestRate: 0, ...(labelledUntil === undefined ? {} : { labelledUntil }) });

describe('liveSettingsOf', () => {
  it('unset: 100 labels, at most 1h', () => assert.deepEqual(liveSettingsOf(deployment().buildSpec()), defaultLiveSettings));
  it('set', () => {
    const spec = deployment().buildSpec();
    assert.deepEqual(liveSettingsOf({ ...spec, liveMetrics: { minSamples: 30, maxWindow: '6h' } }), { minSamples: 30, maxWindowMs: 6 * 3_600_000 });
  });
});

describe('openLabelWindow and labelsFrom', () => {
  const table: Array<[string, LiveMetrics | undefined, number | undefined, number]> = [
    ['nothing published: none open, labels over the last maxWindow (its pods from their start)', undefined, undefined, t0 - 3_600_000],
    ['published for this version: open since it closed', live('v1', at(t0 - 600_000)), t0 - 600_000, t0 - 600_000],
    ['published for another version: none', live('v0', at(t0 - 600_000)), undefined, t0 - 3_600_000],
    ['published before label windows existed: none', live('v1'), undefined, t0 - 3_600_000],
    ['closed longer than maxWindow ago: open since maxWindow ago', live('v1', at(t0 - 7_200_000)), t0 - 3_600_000, t0 - 3_600_000],
    ['a clock that went back: never after now', live('v1', at(t0 + 60_000)), t0, t0],
  ];
  for (const [name, previous, open, from] of table) {
    it(name, () => {
      assert.equal(openLabelWindow(previous, 'v1', t0, s), open);
      assert.equal(labelsFrom(previous, 'v1', t0, s), from);
    });
  }
});

describe('labelWindowCloses', () => {
  const table: Array<[string, number | undefined, number, boolean]> = [
    ['the first window of a version', undefined, 0, true],
    ['minSamples reached', t0 - 60_000, 100, true],
    ['short of minSamples, below maxWindow', t0 - 60_000, 99, false],
    ['short of minSamples at maxWindow', t0 - 3_600_000, 0, true],
  ];
  for (const [name, open, labels, want] of table) it(name, () => assert.equal(labelWindowCloses(open, labels, t0, s), want));
});
