import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canaryReplicas, splitReached, splitReplicas, weightFromReadyPods } from './replica-split.js';

describe('canaryReplicas', () => {
  // [total, weight, want]
  const table: Array<[number, number, number]> = [
    [10, 0, 0], [10, 10, 1], [10, 15, 2], [10, 50, 5], [10, 99, 9], [10, 100, 10],
    [2, 20, 1], [2, 50, 1], [2, 90, 1], [1, 20, 1], [1, 100, 1], [3, 34, 2], [3, 33, 1], [4, 1, 1],
  ];
  for (const [total, weight, want] of table) it(`${weight}% of ${total} → ${want}`, () => assert.equal(canaryReplicas(total, weight), want));
});

describe('splitReplicas', () => {
  // [total, weight, canaryReady, want]
  const table: Array<[string, number, number, number, { stable: number; canary: number }]> = [
    ['no candidate pods ready: stable keeps all', 4, 50, 0, { stable: 4, canary: 2 }],
    ['one of two ready: stable gives up one', 4, 50, 1, { stable: 3, canary: 2 }],
    ['all ready: the split', 4, 50, 2, { stable: 2, canary: 2 }],
    ['one replica surges to two below 100%', 1, 20, 1, { stable: 1, canary: 1 }],
    ['100% with all ready: stable scaled to zero', 4, 100, 4, { stable: 0, canary: 4 }],
    ['100% with half ready: stable keeps the rest', 4, 100, 2, { stable: 2, canary: 4 }],
    ['weight 0: nothing for the candidate', 3, 0, 0, { stable: 3, canary: 0 }],
    ['more ready than wanted counts only the wanted', 10, 10, 3, { stable: 9, canary: 1 }],
  ];
  for (const [name, total, weight, ready, want] of table) it(name, () => assert.deepEqual(splitReplicas(total, weight, ready), want));
});

describe('weightFromReadyPods', () => {
  const table: Array<[number, number, number]> = [[0, 0, 0], [4, 0, 0], [0, 2, 100], [1, 1, 50], [2, 1, 33], [9, 1, 10], [3, 1, 25]];
  for (const [s, c, want] of table) it(`${s} stable, ${c} canary → ${want}%`, () => assert.equal(weightFromReadyPods(s, c), want));
});

describe('splitReached', () => {
  const table: Array<[string, [number, number, number, number], boolean]> = [
    ['candidate not ready yet', [4, 50, 3, 1], false],
    ['stable surplus still ready', [4, 50, 3, 2], false],
    ['reached', [4, 50, 2, 2], true],
    ['no stable pod ready below 100%', [4, 50, 0, 2], false],
    ['100% needs no stable pod', [2, 100, 0, 2], true],
  ];
  for (const [name, [total, weight, sr, cr], want] of table) {
    it(name, () => assert.equal(splitReached(total, weight, sr, cr), want));
  }
});
