import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Annotation } from '../../../api/conditions.js';
import type { ModelDeploymentStatus } from '../../../api/model-deployment.js';
import { abortOnRequest, readCommands, type Commands } from './commands.js';
import { contextOf, deployment, draftOf, observedOf, rolling, serving } from './fixtures.js';

type Given = { annotations?: Record<string, string>; promote?: string; retry?: string; abort?: boolean; paused?: boolean; status?: ModelDeploymentStatus };

function commandsOf(g: Given): Omit<Commands, 'consumed'> {
  const md = deployment()
    .withAnnotations(g.annotations ?? {})
    .withRollout({ ...(g.promote === undefined ? {} : { promote: g.promote }), ...(g.retry === undefined ? {} : { retry: g.retry }), abort: g.abort ?? false, paused: g.paused ?? false })
    .withStatus(g.status ?? {})
    .build();
  const { consumed: _consumed, ...rest } = readCommands(md);
  return rest;
}

const none: Omit<Commands, 'consumed'> = { promote: 'none', retry: false, abort: undefined, paused: false };

describe('readCommands', () => {
  const table: Array<[string, Given, Partial<Commands>]> = [
    ['nothing asked', {}, {}],
    ['a promote annotation: one step', { annotations: { [Annotation.promote]: 'go' } }, { promote: 'promoteStep' }],
    ['a promote annotation starting "full": all the way', { annotations: { [Annotation.promote]: 'full-1' } }, { promote: 'promoteFull' }],
    ['the value already acted on is no command', { annotations: { [Annotation.promote]: 'go' }, status: { lastPromote: 'go' } }, {}],
    ['spec.rollout.promote', { promote: '1' }, { promote: 'promoteStep' }],
    ['spec.rollout.promote acted on', { promote: '1', status: { lastSpecPromote: '1' } }, {}],
    ['a full promote by annotation wins over a step by spec', { annotations: { [Annotation.promote]: 'full' }, promote: '1' }, { promote: 'promoteFull' }],
    ['a full promote by spec wins over a step by annotation', { annotations: { [Annotation.promote]: 'go' }, promote: 'full' }, { promote: 'promoteFull' }],
    ['a retry annotation', { annotations: { [Annotation.retry]: '1' } }, { retry: true }],
    ['a retry annotation acted on', { annotations: { [Annotation.retry]: '1' }, status: { lastRetry: '1' } }, {}],
    ['spec.rollout.retry', { retry: 'a' }, { retry: true }],
    ['spec.rollout.abort', { abort: true }, { abort: 'spec.rollout.abort is set' }],
    ['an abort annotation', { annotations: { [Annotation.abort]: 'x' } }, { abort: `the ${Annotation.abort} annotation` }],
    ['an abort annotation acted on', { annotations: { [Annotation.abort]: 'x' }, status: { lastAbort: 'x' } }, {}],
    ['spec.rollout.paused', { paused: true }, { paused: true }],
  ];
  for (const [name, given, want] of table) it(name, () => assert.deepEqual(commandsOf(given), { ...none, ...want }));

  it('records every value seen, so each acts once', () => {
    const md = deployment()
      .withAnnotations({ [Annotation.promote]: 'p', [Annotation.retry]: 'r', [Annotation.abort]: 'a' })
      .withRollout({ promote: 'sp', retry: 'sr' })
      .build();
    assert.deepEqual(readCommands(md).consumed, { lastPromote: 'p', lastSpecPromote: 'sp', lastRetry: 'r', lastSpecRetry: 'sr', lastAbort: 'a' });
  });
});

describe('abortOnRequest', () => {
  it('aborts a running rollout, naming who asked', () => {
    const md = deployment().withRollout({ abort: true }).withStatus(rolling('v1', 'v2', 1)).build();
    const ctx = contextOf(observedOf(md, 'v2'));
    const d = abortOnRequest(ctx, draftOf(ctx));
    assert.equal(d.canary, undefined);
    assert.equal(d.status.abortedVersion, 'v2');
    assert.equal(d.message, 'Rollout of v2 aborted: spec.rollout.abort is set.');
  });
  it('leaves a deployment with no rollout alone', () => {
    const md = deployment().withRollout({ abort: true }).withStatus(serving('v1')).build();
    const ctx = contextOf(observedOf(md, 'v1'));
    assert.deepEqual(abortOnRequest(ctx, draftOf(ctx)), draftOf(ctx));
  });
});
