import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainingPipelineStatus } from '../../../api/training-pipeline.js';
import { championNote, followProduction, type Follower } from './champion.js';
import { t0 } from './fixtures.js';

const blessed = (n: number) => ({ name: `weather-${n}`, version: `v${n}`, trigger: 'Drift' as const, startTime: '2026-11-21T08:00:00Z', outcome: 'Blessed' as const, metrics: { accuracy: (80 + n) / 100 } });
const status: TrainingPipelineStatus = { championVersion: 'v3', championMetrics: { accuracy: 0.83 }, runs: [blessed(3), blessed(2), blessed(1)] };
const follower = (over: Partial<Follower> = {}): Follower => ({ name: 'weather', stableVersion: 'v2', abortedVersion: 'v3', abortedMessage: 'gate minAccuracy failed', ...over });
const versions = ['v1', 'v2', 'v3'];

describe('followProduction', () => {
  // name, followers, pin, versions, status → champion, event reasons, pinned
  const table: Array<[string, Follower[], string | undefined, string[] | undefined, TrainingPipelineStatus, string | undefined, string[], string | undefined]> = [
    ['no follower: the champion stays', [], undefined, versions, status, 'v3', [], undefined],
    ['a follower serving it: stays', [follower({ abortedVersion: undefined, stableVersion: 'v3' })], undefined, versions, status, 'v3', [], undefined],
    ['a follower aborted it: demoted to its stable version', [follower()], undefined, versions, status, 'v2', ['ChampionDemoted'], undefined],
    ['an abort of an older version: nothing', [follower({ abortedVersion: 'v1' })], undefined, versions, status, 'v3', [], undefined],
    ['a new server template of the version it serves aborted: no model refused', [follower({ stableVersion: 'v3' })], undefined, versions, status, 'v3', [], undefined],
    ['its stable version is not in the store: the newest other blessed one', [follower({ stableVersion: 'x9' })], undefined, ['v1', 'v3'], status, 'v1', ['ChampionDemoted'], undefined],
    ['nothing to go back to: stays', [follower({ stableVersion: undefined })], undefined, ['v3'], status, 'v3', [], undefined],
    ['the store not listed: the stable version on trust', [follower()], undefined, undefined, status, 'v2', ['ChampionDemoted'], undefined],
    ['pinned to the aborted version: not demoted', [follower()], 'v3', versions, status, 'v3', [], 'v3'],
    ['a pin moves the champion once', [], 'v1', versions, status, 'v1', ['ChampionPinned'], 'v1'],
    ['a pin to a version not in the store is refused; the rollback demotes', [follower()], 'v9', versions, status, 'v2', ['ChampionPinRefused', 'ChampionDemoted'], undefined],
    ['a refused pin is told once', [], 'v9', versions, { ...status, lastChampionPin: 'v9' }, 'v3', [], undefined],
    ['a pin to the version of the run in progress is refused', [], 'v4', [...versions, 'v4'], { ...status, currentRun: 'weather-4', runs: [{ ...blessed(4), outcome: 'Running' }, ...(status.runs ?? [])] }, 'v3', ['ChampionPinRefused'], undefined],
  ];
  for (const [name, followers, pin, listed, st, champion, reasons, pinned] of table) {
    it(name, () => {
      const step = followProduction({ status: st, pin, followers, versions: listed, nowMs: t0 });
      assert.equal(step.status.championVersion, champion);
      assert.deepEqual(step.events.map((e) => e.reason), reasons);
      assert.equal(step.pinned, pinned);
      assert.equal(step.status.lastChampionPin, pin);
    });
  }

  it('a demotion records the version, where it went, the deployment and why; the metrics are the demoted-to version\'s', () => {
    const step = followProduction({ status, pin: undefined, followers: [follower()], versions, nowMs: t0 });
    assert.deepEqual(step.status.demotions, [{ version: 'v3', to: 'v2', deployment: 'weather', time: '2026-11-21T10:00:00Z', reason: 'gate minAccuracy failed' }]);
    assert.deepEqual(step.status.championMetrics, { accuracy: 0.82 });
    assert.match(step.events[0]?.note ?? '', /Champion v3 demoted to v2: ModelDeployment weather rolled it back \(gate minAccuracy failed\)/);
    assert.match(championNote(step.status, undefined) ?? '', /^Champion v2: v3 was demoted/);
  });

  it('a demoted-to version whose run status no longer lists has no metrics rather than another version\'s', () => {
    const step = followProduction({ status: { ...status, runs: [blessed(3)] }, pin: undefined, followers: [follower()], versions, nowMs: t0 });
    assert.equal(step.status.championVersion, 'v2');
    assert.equal(step.status.championMetrics, undefined);
  });

  it('the annotation removed: the record of it goes, the champion stays', () => {
    const step = followProduction({ status: { ...status, lastChampionPin: 'v3' }, pin: undefined, followers: [], versions, nowMs: t0 });
    assert.equal(step.status.lastChampionPin, undefined);
    assert.equal(step.status.championVersion, 'v3');
  });
});
