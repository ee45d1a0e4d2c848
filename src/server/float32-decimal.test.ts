import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { shortestFloat32 } from './float32-decimal.js';

describe('shortestFloat32', () => {
  const cases: Array<[string, number, string]> = [
    ['a probability', Math.fround(0.0012), '0.0012'],
    ['another', Math.fround(0.712), '0.712'],
    ['one', 1, '1'],
    ['zero', 0, '0'],
    ['a small one', Math.fround(1e-7), '1e-7'],
    ['nine digits needed', Math.fround(0.123456789), '0.12345679'],
    ['a negative', Math.fround(-2.5e-3), '-0.0025'],
    ['a large one', Math.fround(123456.789), '123456.79'],
  ];
  for (const [name, x, text] of cases) {
    it(`${name}: ${x} → ${text}`, () => {
      assert.equal(String(shortestFloat32(x)), text);
      assert.equal(Math.fround(shortestFloat32(x)), x);
    });
  }

  it('leaves what is not a finite float32 as it is', () => {
    for (const x of [0.1, Number.NaN, Infinity, 1e-40, 3e38 * 10]) assert.ok(Object.is(shortestFloat32(x), x), String(x));
    const tiny = Math.fround(1e-30);
    assert.equal(shortestFloat32(tiny), tiny, 'below 1e-14 the scale is not exact: left as it is');
  });

  it('reads back as the same float32 and prints at most 9 significant digits, for 200,000 random float32s', () => {
    const f = new Float32Array(1);
    for (let i = 0; i < 200_000; i++) {
      f[0] = Math.random() ** 4;
      const x = f[0];
      const y = shortestFloat32(x);
      assert.equal(Math.fround(y), x);
      if (x >= 1e-14) {
        const digits = y.toExponential().split('e')[0]?.replace(/[.-]/g, '').replace(/^0+/, '') ?? '';
        assert.ok(digits.length <= 9, `${x} → ${y}`);
      }
    }
  });
});
