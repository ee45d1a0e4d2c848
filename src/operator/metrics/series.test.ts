import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aDeployment, aPipeline } from '../../api/testing/builders.js';
import { deploymentInfo, loopSeries, pipelineInfo } from './series.js';

describe('pipelineInfo: a TrainingPipeline as an info series', () => {
  const table: Array<[string, ReturnType<typeof aPipeline>, Record<string, string>]> = [
    ['before its first status: Pending, no champion', aPipeline('weather').inNamespace('ml'), { namespace: 'ml', name: 'weather', phase: 'Pending', champion_version: '', latest_version: '' }],
    ['running with a champion', aPipeline('weather').inNamespace('ml').withStatus({ phase: 'Running', championVersion: 'v3', latestVersion: 'v4' }),
      { namespace: 'ml', name: 'weather', phase: 'Running', champion_version: 'v3', latest_version: 'v4' }],
  ];
  for (const [name, b, want] of table) it(name, () => assert.deepEqual(pipelineInfo(b.build()), { labels: want, value: 1 }));
});

describe('deploymentInfo: a ModelDeployment as an info series', () => {
  it('phase, stable and canary', () => {
    const md = aDeployment('weather').inNamespace('ml').withStatus({ phase: 'Progressing', stableVersion: 'v1', canaryVersion: 'v2' }).build();
    assert.deepEqual(deploymentInfo(md).labels, { namespace: 'ml', name: 'weather', phase: 'Progressing', stable_version: 'v1', canary_version: 'v2' });
  });
  it('no canary: an empty label (one series per state, not a missing label)', () => {
    const md = aDeployment('weather').inNamespace('ml').withStatus({ phase: 'Healthy', stableVersion: 'v1' }).build();
    assert.equal(deploymentInfo(md).labels['canary_version'], '');
  });
});

describe('loopSeries: the caches → every series', () => {
  const live = aDeployment('weather').inNamespace('ml').withStatus({
    phase: 'Progressing', stableVersion: 'v1', canaryVersion: 'v2', canaryWeight: 25,
    liveMetrics: { version: 'v1', accuracy: 0.81, logLoss: 0.4, labelledSamples: 120, maxDriftPsi: 0.31, maxDriftEvidence: 4.2, estimatedAccuracy: 0.79 },
  }).build();
  const quiet = aDeployment('fresh').inNamespace('ml').build();
  const s = loopSeries([aPipeline('weather').inNamespace('ml').build()], [live, quiet]);
  const v1 = { namespace: 'ml', name: 'weather', version: 'v1' };
  it('one info series per object', () => {
    assert.equal(s.pipelineInfo.length, 1);
    assert.deepEqual(s.deploymentInfo.map((x) => x.labels['name']), ['weather', 'fresh']);
  });
  it('the canary weight of each deployment, 0 without a rollout', () => {
    assert.deepEqual(s.canaryWeight, [{ labels: { namespace: 'ml', name: 'weather' }, value: 25 }, { labels: { namespace: 'ml', name: 'fresh' }, value: 0 }]);
  });
  it('live figures labelled with the version they measure', () => {
    assert.deepEqual(s.liveAccuracy, [{ labels: v1, value: 0.81 }]);
    assert.deepEqual(s.liveLogLoss, [{ labels: v1, value: 0.4 }]);
    assert.deepEqual(s.liveLabelledSamples, [{ labels: v1, value: 120 }]);
    assert.deepEqual(s.liveDriftPsi, [{ labels: v1, value: 0.31 }]);
    assert.deepEqual(s.liveDriftEvidence, [{ labels: v1, value: 4.2 }]);
    assert.deepEqual(s.estimatedAccuracy, [{ labels: v1, value: 0.79 }]);
  });
  it('a figure a deployment has not measured gives no series (not a 0 a dashboard would plot)', () => {
    assert.deepEqual(s.liveRmse, []);
    assert.ok(![...s.liveAccuracy, ...s.liveDriftPsi].some((x) => x.labels['name'] === 'fresh'));
  });
  it('a deleted object (no longer in the cache) has no series', () => {
    const after = loopSeries([], [quiet]);
    assert.deepEqual([after.pipelineInfo.length, after.liveAccuracy.length, after.deploymentInfo.length], [0, 0, 1]);
  });
});
