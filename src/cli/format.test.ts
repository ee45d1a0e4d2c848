import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelDeployment } from '../api/model-deployment.js';
import type { TrainingPipeline } from '../api/training-pipeline.js';
import { readiness, runsTable, statusTable, table, versionsTable } from './format.js';

const tp = (name: string, status?: TrainingPipeline['status'], generation = 1): TrainingPipeline =>
  ({ apiVersion: 'perennial.dev/v1alpha1', kind: 'TrainingPipeline', metadata: { name, namespace: 'ml', generation }, spec: {} as TrainingPipeline['spec'], ...(status ? { status } : {}) });
const md = (name: string, status?: ModelDeployment['status'], generation = 1): ModelDeployment =>
  ({ apiVersion: 'perennial.dev/v1alpha1', kind: 'ModelDeployment', metadata: { name, namespace: 'ml', generation }, spec: {} as ModelDeployment['spec'], ...(status ? { status } : {}) });
const t = '2026-01-01T00:00:00Z';

describe('table', () => {
  it('pads columns to the widest cell, three spaces apart, without trailing blanks', () => {
    assert.equal(table(['A', 'BB'], [['xxx', 'y'], ['z', '']]), 'A     BB\nxxx   y\nz\n');
  });
});

describe('readiness', () => {
  const cases: [string, TrainingPipeline, string][] = [
    ['no status yet', tp('a'), 'Unknown (no status yet)'],
    ['status of an older generation', tp('a', { observedGeneration: 1 }, 2), 'Unknown (spec change not yet observed)'],
    ['a rejected spec wins', tp('a', { observedGeneration: 1, conditions: [
      { type: 'Accepted', status: 'False', reason: 'InvalidSpec', message: '', lastTransitionTime: t },
      { type: 'Ready', status: 'True', reason: 'ChampionServing', message: '', lastTransitionTime: t }] }), 'False (InvalidSpec)'],
    ['the condition with its reason', tp('a', { observedGeneration: 1, conditions: [
      { type: 'Ready', status: 'False', reason: 'NoChampionYet', message: '', lastTransitionTime: t }] }), 'False (NoChampionYet)'],
    ['no such condition', tp('a', { observedGeneration: 1, conditions: [] }), 'Unknown'],
  ];
  for (const [name, obj, want] of cases) it(name, () => assert.equal(readiness(obj, 'Ready'), want));
});

describe('statusTable', () => {
  it('says so when there is nothing', () => assert.equal(statusTable([], [], false), 'No TrainingPipelines or ModelDeployments found.\n'));

  it('lists pipelines and deployments with their model and what is in progress', () => {
    const out = statusTable(
      [tp('churn', { observedGeneration: 1, phase: 'Running', championVersion: 'v3', currentRun: 'churn-4', conditions: [
        { type: 'Ready', status: 'True', reason: 'ChampionServing', message: '', lastTransitionTime: t }] })],
      [md('web', { observedGeneration: 1, phase: 'Progressing', stableVersion: 'v3', canaryVersion: 'v4', canaryWeight: 20, currentStep: 1 })],
      true);
    assert.equal(out, [
      'NAMESPACE   KIND               NAME    PHASE         MODEL   IN PROGRESS                 READY',
      'ml          ModelDeployment    web     Progressing   v3      canary v4 at 20% (step 1)   Unknown',
      'ml          TrainingPipeline   churn   Running       v3      run churn-4                 True (ChampionServing)',
      '',
    ].join('\n'));
  });

  it('leaves the namespace out for one namespace', () => {
    assert.match(statusTable([tp('a')], [], false), /^KIND {15}NAME/);
  });
});

describe('runsTable and versionsTable', () => {
  const status: TrainingPipeline['status'] = {
    observedGeneration: 1, championVersion: 'v1', modelPrefix: 's3://b/ml/churn',
    runs: [
      { name: 'churn-3', version: 'v3', trigger: 'Manual', startTime: t, outcome: 'Running' },
      { name: 'churn-2', version: 'v2', trigger: 'Drift', startTime: t, completionTime: t, outcome: 'Rejected', metrics: { accuracy: 0.81234567 },
        gates: [{ name: 'champion', passed: false, message: '' }, { name: 'threshold:accuracy', passed: true, message: '' }] },
      { name: 'churn-1', version: 'v1', trigger: 'Initial', startTime: t, completionTime: t, outcome: 'Blessed', metrics: { accuracy: 0.9, logLoss: 0.3 },
        gates: [{ name: 'threshold:accuracy', passed: true, message: '' }] },
    ],
  };

  it('runs: newest first, failed gates named, metrics rounded', () => {
    const lines = runsTable(tp('churn', status)).split('\n');
    assert.match(lines[0] ?? '', /^RUN +VERSION +TRIGGER +OUTCOME +STARTED +COMPLETED +GATES +METRICS$/);
    assert.match(lines[1] ?? '', /^churn-3 +v3 +Manual +Running +2026-01-01T00:00:00Z +- +- +-$/);
    assert.match(lines[2] ?? '', /Rejected .* failed: champion +accuracy=0\.8123$/);
    assert.match(lines[3] ?? '', /Blessed .* all passed +accuracy=0\.9 logLoss=0\.3$/);
  });

  it('versions: published ones only, the champion marked, where they are stored', () => {
    const out = versionsTable(tp('churn', status));
    assert.doesNotMatch(out, /^v3/m, 'a running version is not published yet');
    assert.match(out, /^v2 +Rejected/m);
    assert.match(out, /^v1 +yes +Blessed +churn-1/m);
    assert.match(out, /Stored under s3:\/\/b\/ml\/churn\n$/);
  });

  it('versions: a champion older than the kept runs still shows', () => {
    assert.match(versionsTable(tp('churn', { championVersion: 'v0', championMetrics: { accuracy: 0.7 }, runs: [] })), /^v0 +yes +Blessed +- +- +accuracy=0\.7$/m);
  });

  describe('versions that exist', () => {
    const run = (n: number, outcome: 'Blessed' | 'Rejected' | 'Failed' | 'InvalidData') => ({ name: `churn-${n}`, version: `v${n}`, trigger: 'Drift' as const, startTime: t, completionTime: t, outcome });
    const runs = [run(6, 'Failed'), run(5, 'InvalidData'), run(4, 'Blessed'), run(3, 'Rejected'), run(2, 'Rejected'), run(1, 'Blessed')];

    it('only what the store holds (status.storedVersions): no failed, refused or deleted version', () => {
      const out = versionsTable(tp('churn', { championVersion: 'v1', runs, storedVersions: ['v1', 'v3', 'v4'], modelPrefix: 's3://b/ml/churn' }));
      assert.deepEqual(out.split('\n').slice(1, -2).map((l) => l.split(/ +/)[0]), ['v4', 'v3', 'v1']);
      assert.match(out, /^v1 +yes +Blessed +churn-1/m);
    });

    it('a champion rolled back by a deployment is marked so', () => {
      const out = versionsTable(tp('churn', {
        championVersion: 'v1', runs, storedVersions: ['v1', 'v4'],
        demotions: [{ version: 'v4', to: 'v1', deployment: 'web', time: t, reason: 'gate minAccuracy' }],
      }));
      assert.match(out, /^v4 +Blessed, rolled back by web +churn-4/m);
    });

    it('without storedVersions (not listed yet): only versions a run published, and it says the store was not checked', () => {
      const out = versionsTable(tp('churn', { championVersion: 'v1', runs }));
      assert.deepEqual(out.split('\n').slice(1, -2).map((l) => l.split(/ +/)[0]), ['v4', 'v3', 'v2', 'v1']);
      assert.match(out, /not checked against the store/);
    });
  });

  it('says so when nothing ran yet', () => {
    assert.equal(runsTable(tp('churn')), 'TrainingPipeline churn has no runs yet.\n');
    assert.equal(versionsTable(tp('churn')), 'TrainingPipeline churn has published no versions yet.\n');
  });
});
