import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkLabel } from './label-check.js';
import type { LabelSpec } from './preprocessing.js';

const cls: LabelSpec = { task: 'classification', name: 'weather', classes: ['drizzle', 'rain', 'sun'] };
const reg: LabelSpec = { task: 'regression', name: 'price', mean: 10, std: 2, min: 0, max: 1000 };
const open: LabelSpec = { task: 'regression', name: 'price', mean: 10, std: 2 };

describe('checkLabel', () => {
  const cases: Array<[string, LabelSpec, unknown, string | number | RegExp]> = [
    ['a class', cls, 'rain', 'rain'],
    ['a class with spaces around', cls, ' sun ', 'sun'],
    ['a class the model does not know', cls, 'snow', /not a class of the model/],
    ['a forged class name of 25 letters', cls, 'x'.repeat(25), /not a class/],
    ['an empty label', cls, '', /must be a class name/],
    ['null', cls, null, /must be a class name/],
    ['an object', cls, { a: 1 }, /must be a class name/],
    ['a 1 MB label', cls, 'r'.repeat(1 << 20), /not a class/],
    ['a number in range', reg, 12.5, 12.5],
    ['numeric text', reg, '7', 7],
    ['the range bounds', reg, 1000, 1000],
    ['below the range', reg, -1, /outside the declared range \[0, 1000\]/],
    ['above the range', reg, 1e300, /outside/],
    ['NaN as text', reg, 'NaN', /finite number/],
    ['Infinity as text', reg, 'Infinity', /finite number/],
    ['a class name for regression', reg, 'rain', /finite number/],
    ['any finite number without a declared range', open, -1e12, -1e12],
    ['a boolean', open, true, /finite number/],
  ];
  for (const [name, spec, value, want] of cases) {
    it(name, () => {
      const r = checkLabel(spec, value);
      if (want instanceof RegExp) {
        assert.equal(r.ok, false);
        if (!r.ok) assert.match(r.reason, want);
      } else assert.deepEqual(r, { ok: true, value: want });
    });
  }
});
