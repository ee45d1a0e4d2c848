import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelDeployment } from '../api/model-deployment.js';
import { pausePatch, undoPatch, UndoRefused } from './control.js';

const t = Date.parse('2026-11-01T10:00:00Z');
const md = (status: NonNullable<ModelDeployment['status']>, model: ModelDeployment['spec']['model'] = { fromPipeline: 'churn' }): ModelDeployment =>
  ({ apiVersion: 'perennial.dev/v1alpha1', kind: 'ModelDeployment', metadata: { name: 'web', namespace: 'ml' },
    spec: { model, rollout: { rollbackWindow: '1h' } } as ModelDeployment['spec'], status });

describe('pausePatch', () => {
  it('a deployment: spec.rollout.paused; a pipeline: spec.suspend', () => {
    assert.deepEqual(pausePatch('ModelDeployment', true), { spec: { rollout: { paused: true } } });
    assert.deepEqual(pausePatch('TrainingPipeline', false), { spec: { suspend: false } });
  });
});

describe('undoPatch', () => {
  const promoted = { stableVersion: 'v4', previousVersion: 'v3', previousRevision: 'web-aaa', promotedTime: '2026-11-01T09:30:00Z' };
  it('within the rollback window: pins spec.model.version to the previous version', () => {
    assert.deepEqual(undoPatch(md(promoted), t), { patch: { spec: { model: { version: 'v3' } } }, version: 'v3', from: 'v4' });
  });
  const refused: [string, ModelDeployment, RegExp][] = [
    ['no previous version kept', md({ stableVersion: 'v4' }), /keeps no previous version/],
    ['the window is over', md({ ...promoted, promotedTime: '2026-11-01T08:00:00Z' }), /rollback window of 1h after 2026-11-01T08:00:00Z is over/],
    ['a fixed model.uri', md(promoted, { uri: 's3://b/m/v4' }), /fixed model\.uri/],
    ['already pinned there', md(promoted, { fromPipeline: 'churn', version: 'v3' }), /already pins spec\.model\.version to v3/],
  ];
  for (const [name, obj, message] of refused) {
    it(`refuses: ${name}`, () => assert.throws(() => undoPatch(obj, t), (e: unknown) => e instanceof UndoRefused && message.test(e.message)));
  }
});
