import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { artifactKey, checkpointKeys, feedbackPrefix, isKeySegment, logBatchKey, parseManifest, predictionsPrefix, runValidationReportKey } from './artifact-layout.js';

const p = { namespace: 'ml', name: 'weather' };

describe('artifact layout', () => {
  const keys: [string, string][] = [
    [artifactKey(p, 'v3', 'modelJson'), 'pipelines/ml/weather/versions/v3/model/model.json'],
    [artifactKey(p, 'v3', 'manifest'), 'pipelines/ml/weather/versions/v3/manifest.json'],
    [runValidationReportKey(p, 'r1'), 'pipelines/ml/weather/runs/r1/validation-report.json'],
    [checkpointKeys(p, 'r1', 12).meta, 'pipelines/ml/weather/runs/r1/checkpoints/epoch-000012.json'],
    [predictionsPrefix({ namespace: 'ml', name: 'web' }), 'deployments/ml/web/predictions/'],
    [feedbackPrefix({ namespace: 'ml', name: 'web' }), 'deployments/ml/web/feedback/'],
    [logBatchKey('deployments/ml/web/predictions/', new Date('2026-01-02T03:04:05Z'), 'pod-1-0001'), 'deployments/ml/web/predictions/2026-01-02/pod-1-0001.jsonl'],
  ];
  for (const [got, want] of keys) it(`builds ${want}`, () => assert.equal(got, want));

  const segments: [string, boolean][] = [['v1', true], ['a.b_c-d', true], ['', false], ['a/b', false], ['..', false], ['.hidden', false]];
  for (const [s, ok] of segments) it(`${ok ? 'accepts' : 'rejects'} segment ${JSON.stringify(s)}`, () => assert.equal(isKeySegment(s), ok));

  it('refuses names that would escape their prefix', () => {
    assert.throws(() => artifactKey({ namespace: 'ml', name: '../x' }, 'v1', 'metrics'));
  });

  it('parses version-1 manifests only', () => {
    const m = { schemaVersion: 1, pipeline: p, version: 'v1', runId: 'r', createdAt: 't', task: 'regression', artifacts: [] };
    assert.equal(parseManifest(JSON.stringify(m)).version, 'v1');
    assert.throws(() => parseManifest(JSON.stringify({ ...m, schemaVersion: 2 })), /schemaVersion/);
    assert.throws(() => parseManifest(JSON.stringify({ schemaVersion: 1 })), /lacks/);
  });
});
