import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EventBatch } from './kafka-sender-messages.js';
import { advance } from './kafka-sender.js';

function batch(kinds: string): EventBatch {
  const k = [...kinds].map((c): 'prediction' | 'feedback' => (c === 'p' ? 'prediction' : 'feedback'));
  return { type: 'events', kinds: k, ids: k.map((_, i) => `id${i}`), times: k.map(() => 't'), data: k.map(() => '{}') };
}

describe('advance: where the sender\'s queue stands after a send', () => {
  // Batches as the sink posted them (p: a prediction, f: a label); from a position, n events acknowledged.
  const queue = [batch('ppf'), batch('pp'), batch('fpp')];
  const cases: Array<{ name: string; from: [number, number]; n: number; to: [number, number]; predictions: number }> = [
    { name: 'part of the first batch', from: [0, 0], n: 2, to: [0, 2], predictions: 2 },
    { name: 'the first batch exactly: the next starts at its beginning', from: [0, 0], n: 3, to: [1, 0], predictions: 2 },
    { name: 'across batches, from inside one', from: [0, 1], n: 4, to: [2, 0], predictions: 3 },
    { name: 'into the middle of the third', from: [0, 2], n: 4, to: [2, 1], predictions: 2 },
    { name: 'everything: past the last batch', from: [0, 0], n: 8, to: [3, 0], predictions: 6 },
    { name: 'nothing', from: [1, 1], n: 0, to: [1, 1], predictions: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = advance(queue, { batch: c.from[0], offset: c.from[1] }, c.n);
      assert.deepEqual([[r.to.batch, r.to.offset], r.predictions], [c.to, c.predictions]);
    });
  }
});
