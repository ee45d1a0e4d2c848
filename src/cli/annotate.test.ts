import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { annotationFor, championPin, mergePatch } from './annotate.js';

describe('annotationFor', () => {
  const now = new Date('2026-01-02T03:04:05.000Z');
  const cases: [string, ReturnType<typeof annotationFor>, string, string, string][] = [
    ['trigger sets perennial.dev/trigger on the pipeline', annotationFor('trigger', now), 'TrainingPipeline', 'perennial.dev/trigger', '2026-01-02T03:04:05.000Z'],
    ['promote sets perennial.dev/promote', annotationFor('promote', now), 'ModelDeployment', 'perennial.dev/promote', '2026-01-02T03:04:05.000Z'],
    ['a full promote starts with "full"', annotationFor('promote', now, true), 'ModelDeployment', 'perennial.dev/promote', 'full-2026-01-02T03:04:05.000Z'],
    ['abort sets perennial.dev/abort', annotationFor('abort', now), 'ModelDeployment', 'perennial.dev/abort', '2026-01-02T03:04:05.000Z'],
    ['retry sets perennial.dev/retry', annotationFor('retry', now), 'ModelDeployment', 'perennial.dev/retry', '2026-01-02T03:04:05.000Z'],
  ];
  for (const [name, got, kind, key, value] of cases) {
    it(name, () => assert.deepEqual(got, { kind, key, value }));
  }

  it('gives a new value at each call, so the operator acts again', () => {
    assert.notEqual(annotationFor('trigger', now).value, annotationFor('trigger', new Date(now.getTime() + 1)).value);
  });

  it('patches only that annotation', () => {
    assert.deepEqual(mergePatch(annotationFor('abort', now)), { metadata: { annotations: { 'perennial.dev/abort': '2026-01-02T03:04:05.000Z' } } });
  });
});

describe('championPin', () => {
  it('sets perennial.dev/champion to the version on the pipeline', () => {
    assert.deepEqual(championPin('v3'), { kind: 'TrainingPipeline', key: 'perennial.dev/champion', value: 'v3' });
  });
  it('unpinning removes the annotation (null in a merge patch)', () => {
    const unpin = championPin(undefined);
    assert.deepEqual(unpin, { kind: 'TrainingPipeline', key: 'perennial.dev/champion', value: null });
    assert.deepEqual(mergePatch(unpin), { metadata: { annotations: { 'perennial.dev/champion': null } } });
  });
});
