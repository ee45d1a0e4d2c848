import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelDeployment } from '../api/model-deployment.js';
import type { TrainingPipeline } from '../api/training-pipeline.js';
import { deploymentTree, pipelineTree, renderTree } from './tree.js';

const t = '2026-11-01T10:00:00Z';
const md = (status?: ModelDeployment['status'], spec: Partial<ModelDeployment['spec']> = {}): ModelDeployment =>
  ({ apiVersion: 'perennial.dev/v1alpha1', kind: 'ModelDeployment', metadata: { name: 'web', namespace: 'ml', generation: 1 },
    spec: { model: { fromPipeline: 'churn' }, ...spec } as ModelDeployment['spec'], ...(status ? { status } : {}) });
const tp = (status?: TrainingPipeline['status']): TrainingPipeline =>
  ({ apiVersion: 'perennial.dev/v1alpha1', kind: 'TrainingPipeline', metadata: { name: 'churn', namespace: 'ml', generation: 1 }, spec: {} as TrainingPipeline['spec'], ...(status ? { status } : {}) });

describe('renderTree', () => {
  it('draws branches, the last one closed, children indented under an open or closed branch', () => {
    assert.equal(renderTree({ text: 'root', children: [{ text: 'a', children: [{ text: 'a1' }] }, { text: 'b', children: [{ text: 'b1' }, { text: 'b2' }] }] }),
      'root\n├─ a\n│  └─ a1\n└─ b\n   ├─ b1\n   └─ b2\n');
  });
});

describe('deploymentTree', () => {
  it('a canary in progress: both revisions with weights and ready pods, every analysis with its message', () => {
    const out = deploymentTree(md({
      observedGeneration: 1, phase: 'Progressing', stableVersion: 'v3', stableRevision: 'web-aaa', stableWeight: 70, stableReadyReplicas: 3,
      canaryVersion: 'v4', canaryRevision: 'web-bbb', canaryWeight: 30, canaryReadyReplicas: 1, currentStep: 2, stepStartTime: t,
      analysis: [
        { time: '2026-11-01T10:01:00Z', version: 'v4', step: 2, verdict: 'Passed', measurements: { accuracy: 0.8512, samples: 120, clientErrors: 0 }, message: 'accuracy 0.85 >= 0.80' },
        { time: t, version: 'v4', step: 1, verdict: 'Inconclusive', message: 'too few labels (3 < 100)' },
      ],
      conditions: [{ type: 'Available', status: 'True', reason: 'ReplicasReady', message: '', lastTransitionTime: t }],
    }));
    assert.equal(out, [
      'ModelDeployment ml/web   Progressing   Available=True (ReplicasReady)',
      '├─ revisions',
      '│  ├─ stable v3   web-aaa   70%   3 ready',
      `│  └─ canary v4   web-bbb   30%   1 ready   step 2   since ${t}`,
      '└─ analyses (newest first)',
      '   ├─ 2026-11-01T10:01:00Z   v4   step 2   Passed   accuracy=0.8512 samples=120',
      '   │  └─ accuracy 0.85 >= 0.80',
      `   └─ ${t}   v4   step 1   Inconclusive`,
      '      └─ too few labels (3 < 100)',
      '',
    ].join('\n'));
  });

  it('after a promotion: the previous version kept for rollback, the live figures, paused by the spec', () => {
    const out = deploymentTree(md({ observedGeneration: 1, phase: 'Healthy', stableVersion: 'v4', stableReadyReplicas: 2, previousVersion: 'v3', previousRevision: 'web-aaa', promotedTime: t,
      liveMetrics: { version: 'v4', time: t, accuracy: 0.9, maxDriftPsi: 0.05 } }, { rollout: { paused: true, rollbackWindow: '30m' } as ModelDeployment['spec']['rollout'] }));
    assert.match(out, /^ModelDeployment ml\/web {3}Healthy {3}Available=Unknown {3}paused by spec\.rollout\.paused$/m);
    assert.match(out, /stable v4 {3}100% {3}2 ready/);
    assert.match(out, /previous v3 {3}web-aaa {3}kept for rollback \(spec\.rollout\.rollbackWindow 30m from 2026-11-01T10:00:00Z\)/);
    assert.match(out, /└─ live v4 {3}2026-11-01T10:00:00Z {3}accuracy=0\.9 maxDriftPsi=0\.05/);
    assert.match(out, /analyses: none/);
  });

  it('no status yet: says so and shows no revision', () => {
    assert.equal(deploymentTree(md()), 'ModelDeployment ml/web   no status yet   Available=Unknown (no status yet)\n├─ revisions: none yet\n└─ analyses: none\n');
  });
});

describe('pipelineTree', () => {
  it('runs with their trigger reasons, metrics against the champion and gates; the versions that exist', () => {
    const out = pipelineTree(tp({
      observedGeneration: 1, phase: 'Idle', championVersion: 'v2', storedVersions: ['v1', 'v2', 'v3'],
      runs: [
        { name: 'churn-3', version: 'v3', trigger: 'Drift', reason: 'feature temp PSI 0.31 > 0.2 for 10m', startTime: t, completionTime: t, outcome: 'Rejected',
          metrics: { accuracy: 0.7 }, championMetrics: { accuracy: 0.8 }, gates: [{ name: 'champion', passed: false, message: '0.70 < 0.80' }], message: 'failed the champion gate' },
        { name: 'churn-2', version: 'v2', trigger: 'Initial', startTime: t, completionTime: t, outcome: 'Blessed', metrics: { accuracy: 0.8 } },
      ],
    }));
    assert.match(out, /^TrainingPipeline ml\/churn {3}Idle {3}champion v2 {3}Ready=Unknown$/m);
    assert.match(out, /├─ churn-3 {3}v3 {3}Drift {3}Rejected/);
    assert.match(out, /│ {2}│ {2}├─ why: feature temp PSI 0\.31 > 0\.2 for 10m/);
    assert.match(out, /metrics accuracy=0\.7 {3}champion accuracy=0\.8/);
    assert.match(out, /gate champion {3}FAILED {3}0\.70 < 0\.80/);
    assert.match(out, /└─ versions\n {3}├─ v3 {3}Rejected\n {3}├─ v2 {3}champion {3}Blessed\n {3}└─ v1\n$/);
  });

  it('no runs, no versions', () => {
    assert.equal(pipelineTree(tp()), 'TrainingPipeline ml/churn   no status yet   champion -   Ready=Unknown (no status yet)\n├─ runs: none yet\n└─ versions: none published yet\n');
  });
});
