import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { storedVersions, versionsToDelete } from './retention.js';

describe('versionsToDelete', () => {
  const table: Array<[string, string[], number, string[], string[]]> = [
    ['nothing beyond the count', ['v1', 'v2'], 3, [], []],
    ['the oldest beyond the count, oldest first', ['v3', 'v1', 'v10', 'v2'], 2, [], ['v1', 'v2']],
    ['numbers, not text order (v10 is newer than v9)', ['v9', 'v10', 'v11'], 2, [], ['v9']],
    ['never a protected version (champion, served)', ['v1', 'v2', 'v3', 'v4'], 1, ['v1', 'v3'], ['v2']],
    ['never a name it did not make', ['v1', 'v2', 'old-model'], 1, [], ['v1']],
  ];
  for (const [name, versions, keep, protect, want] of table) it(name, () => assert.deepEqual(versionsToDelete(versions, keep, new Set(protect)), want));
});

describe('storedVersions', () => {
  const table: Array<[string, string[], string[], string | undefined, string[]]> = [
    ['what is left, oldest first by number', ['v10', 'v2', 'v9'], [], undefined, ['v2', 'v9', 'v10']],
    ['not what retention deletes', ['v1', 'v2', 'v3'], ['v1'], undefined, ['v2', 'v3']],
    ['not the version a run is still writing', ['v1', 'v2'], [], 'v2', ['v1']],
    ['not a name the pipeline did not make', ['v1', 'old-model'], [], undefined, ['v1']],
  ];
  for (const [name, versions, deleted, running, want] of table) it(name, () => assert.deepEqual(storedVersions(versions, deleted, running), want));
});
