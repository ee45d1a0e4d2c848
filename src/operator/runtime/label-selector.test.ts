import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { matches, parseSelector } from './label-selector.js';

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'front', 'perennial.dev/pipeline': 'p1' };
  const table: Array<[string | Record<string, string>, boolean]> = [
    ['app=web', true],
    ['app==web', true],
    ['app=db', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['app=web,tier=front', true],
    ['app=web,tier=back', false],
    ['tier in (front, back)', true],
    ['tier notin (front)', false],
    ['perennial.dev/pipeline', true],
    ['!perennial.dev/pipeline', false],
    ['!other', true],
    ['app in (web),perennial.dev/pipeline=p1', true],
    [{ app: 'web', tier: 'front' }, true],
    [{ app: 'db' }, false],
    ['', true],
  ];
  for (const [selector, want] of table) {
    it(`${JSON.stringify(selector)} → ${want}`, () => {
      assert.equal(matches(parseSelector(selector), labels), want);
    });
  }
  it('rejects nonsense', () => {
    assert.throws(() => parseSelector('a b c'));
  });
});
