import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelDeploymentStatus } from '../../../api/model-deployment.js';
import { at, contextOf, deployment, draftOf, observedOf, revisionName, serving, t0 } from './fixtures.js';
import { rollbackWindow } from './rollback-window.js';

describe('rollbackWindow (rollbackWindow 10m)', () => {
  const previous = { previousRevision: revisionName('v1'), previousVersion: 'v1' };
  const table: Array<[string, ModelDeploymentStatus, string | undefined, readonly number[]]> = [
    ['no previous revision: nothing to keep', serving('v2'), undefined, []],
    ['promoted 4 minutes ago: kept, looked at again when the window ends', serving('v2', { ...previous, promotedTime: at(t0 - 4 * 60_000) }), 'v1', [6 * 60_000]],
    ['the window just ended: let go', serving('v2', { ...previous, promotedTime: at(t0 - 10 * 60_000) }), undefined, []],
    ['long over: let go', serving('v2', { ...previous, promotedTime: at(t0 - 3_600_000) }), undefined, []],
  ];
  for (const [name, status, kept, requeues] of table) {
    it(name, () => {
      const ctx = contextOf(observedOf(deployment().withStatus(status).build(), 'v2'));
      const d = rollbackWindow(ctx, draftOf(ctx));
      assert.equal(d.previous?.version, kept);
      assert.equal(d.status.previousVersion, kept);
      assert.deepEqual(d.requeues, requeues);
    });
  }
});
