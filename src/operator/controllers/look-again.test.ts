import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lookAgainAfterMs } from './look-again.js';

describe('lookAgainAfterMs', () => {
  const table: Array<[string, number | undefined, number, number]> = [
    ['just now (unknown since when): the first interval', undefined, 30_000, 30_000],
    ['for less than the first interval: the first interval', 10_000, 30_000, 30_000],
    ['for 4 minutes: 4 minutes more', 240_000, 30_000, 240_000],
    ['for an hour: 5 minutes', 3_600_000, 30_000, 300_000],
    ['a first interval longer than the cap: the first interval', 3_600_000, 600_000, 600_000],
    ['a clock that went back: the first interval', -60_000, 30_000, 30_000],
    ['a trainer pod waiting 40 s with a 10 s first look: 40 s', 40_000, 10_000, 40_000],
  ];
  const now = 10_000_000;
  for (const [name, ago, first, want] of table) it(name, () => assert.equal(lookAgainAfterMs(ago === undefined ? undefined : now - ago, now, first), want));
});
