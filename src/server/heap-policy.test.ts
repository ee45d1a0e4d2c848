// The heap policy's flag (its effect is measured in bench/server-throughput.ts and decision 0012, round ten).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { heapGrowingFlag } from './heap-policy.js';

describe('heapGrowingFlag', () => {
  it("names the growing factor, or nothing for V8's own choice", () => {
    const table: [number, string | undefined][] = [[0, undefined], [1, '--heap-growing-percent=1'], [300, '--heap-growing-percent=300']];
    for (const [percent, want] of table) assert.equal(heapGrowingFlag(percent), want, String(percent));
  });
  it('refuses what is not a whole number ≥ 0', () => {
    for (const bad of [-1, 1.5, Number.NaN]) assert.throws(() => heapGrowingFlag(bad), RangeError, String(bad));
  });
});
