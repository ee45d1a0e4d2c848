import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EnvReader } from './env-reader.js';

describe('EnvReader', () => {
  it('reads values and collects every problem at once', () => {
    const r = new EnvReader({ A: ' x ', BLANK: '  ', N: '12', BAD: '1.5', FRAC: '0.25', OFF: 'FALSE', T: 'canary', WRONG: 'blue' });
    const got = [
      r.text('A'), r.text('BLANK'), r.raw('A'), r.need('MISSING'),
      r.int('N', 0, 0, 100), r.int('BAD', 7, 0, 100), r.int('UNSET', 7, 0, 100), r.number('FRAC', 1, 0, 1), r.int('N', 3, 0, 10),
      r.flagDefaultOn('OFF'), r.flagDefaultOn('UNSET'),
      r.oneOf('T', ['stable', 'canary'], 'stable'), r.oneOf('WRONG', ['stable', 'canary'], 'stable'),
    ];
    assert.deepEqual(got, ['x', undefined, ' x ', '', 12, 7, 7, 0.25, 3, false, true, 'canary', 'stable']);
    assert.deepEqual(r.problems, [
      'environment variable MISSING is not set',
      'BAD must be an integer in [0, 100], got "1.5"',
      'N must be an integer in [0, 10], got "12"',
      'WRONG must be stable or canary',
    ]);
  });
});
