import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyMergePatch, createMergePatch, jsonEqual } from './json-diff.js';

describe('jsonEqual', () => {
  const table: Array<[string, unknown, unknown, boolean]> = [
    ['same scalars', 1, 1, true],
    ['different scalars', 1, '1', false],
    ['key order does not matter', { a: 1, b: { c: [1, 2], d: 'x' } }, { b: { d: 'x', c: [1, 2] }, a: 1 }, true],
    ['undefined members are absent', { a: 1, b: undefined }, { a: 1 }, true],
    ['array order matters', [1, 2], [2, 1], false],
    ['missing key', { a: 1 }, { a: 1, b: 2 }, false],
    ['null is not absent', { a: null }, {}, false],
    ['nested difference', { s: { conditions: [{ type: 'Ready', status: 'True' }] } }, { s: { conditions: [{ status: 'False', type: 'Ready' }] } }, false],
  ];
  for (const [name, a, b, want] of table) {
    it(name, () => {
      assert.equal(jsonEqual(a, b), want);
      assert.equal(jsonEqual(b, a), want);
    });
  }
});

describe('merge patches', () => {
  const table: Array<[string, unknown, unknown, unknown]> = [
    ['equal documents give no patch', { a: 1 }, { a: 1 }, undefined],
    ['changed member', { a: 1, b: 2 }, { a: 1, b: 3 }, { b: 3 }],
    ['removed member becomes null', { a: 1, b: 2 }, { a: 1 }, { b: null }],
    ['nested', { s: { x: 1, y: { z: 1 } } }, { s: { x: 1, y: { z: 2 } } }, { s: { y: { z: 2 } } }],
    ['arrays are replaced whole', { l: [1, 2] }, { l: [1, 2, 3] }, { l: [1, 2, 3] }],
    ['from nothing', undefined, { a: 1 }, { a: 1 }],
  ];
  for (const [name, from, to, want] of table) {
    it(name, () => {
      const patch = createMergePatch(from, to);
      assert.deepEqual(patch, want);
      if (patch !== undefined) assert.ok(jsonEqual(applyMergePatch(from, patch), to), 'applying the patch gives the target');
    });
  }
});
