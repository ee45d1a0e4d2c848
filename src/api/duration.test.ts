import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { durationPattern } from './common.js';
import { durationBoundsProblem, InvalidDurationError, parseDuration } from './duration.js';

describe('parseDuration', () => {
  const table: Array<[string, number]> = [
    ['30s', 30_000], ['10m', 600_000], ['1h30m', 5_400_000], ['1.5h', 5_400_000], ['250ms', 250], ['1m500ms', 60_500], ['0s', 0],
  ];
  for (const [text, ms] of table) {
    it(`${text} → ${ms} ms`, () => {
      assert.equal(parseDuration(text), ms);
      assert.match(text, new RegExp(durationPattern), 'the CRD pattern admits what the parser reads');
    });
  }
  const bad = ['', '30', '1 minute', '1d', '-5s', '1h 30m', 's'];
  for (const text of bad) {
    it(`refuses ${JSON.stringify(text)}, as the CRD pattern does`, () => {
      assert.throws(() => parseDuration(text), InvalidDurationError);
      assert.doesNotMatch(text, new RegExp(durationPattern));
    });
  }
});

describe('durationBoundsProblem', () => {
  const table: Array<[string, string, { min?: string; max?: string }, string | undefined]> = [
    ['within', '30s', { min: '2s', max: '1h' }, undefined],
    ['at the floor', '2s', { min: '2s' }, undefined],
    ['below the floor', '1500ms', { min: '2s' }, 'f: 1500ms must be at least 2s'],
    ['above the ceiling', '192h', { min: '10s', max: '168h' }, 'f: 192h must be between 10s and 168h'],
    ['not a duration', '1 minute', { min: '2s' }, 'f: "1 minute" is not a duration such as 30s, 10m or 1h30m'],
  ];
  for (const [name, text, bounds, want] of table) it(name, () => assert.equal(durationBoundsProblem('f', text, bounds), want));
});
