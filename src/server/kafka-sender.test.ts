import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EventBatch } from './kafka-sender-messages.js';
import { advance, sendSize } from './kafka-sender.js';

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

describe('sendSize: how many events the next send takes', () => {
  // Events of 172 characters each as the bound counts them: an id of 2 (counted twice: key and attributes), a time
  // of 6, data of 2, no source, and the envelope's 160.
  const event = (n: number): EventBatch => ({
    type: 'events', kinds: Array.from({ length: n }, () => 'prediction'), ids: Array.from({ length: n }, () => 'ab'), times: Array.from({ length: n }, () => 'tttttt'), data: Array.from({ length: n }, () => 'dd'),
  });
  const perEvent = 2 * 2 + 6 + 2 + 160; // 172 characters
  const queue = [event(3), event(4)];
  const cases: Array<{ name: string; from: [number, number]; maxEvents: number; maxChars: number; n: number }> = [
    { name: 'everything queued, within both bounds', from: [0, 0], maxEvents: 500, maxChars: 100 * perEvent, n: 7 },
    { name: 'at most maxEvents', from: [0, 0], maxEvents: 5, maxChars: 100 * perEvent, n: 5 },
    { name: 'no more characters than maxChars', from: [0, 0], maxEvents: 500, maxChars: 4 * perEvent + 1, n: 4 },
    { name: 'exactly maxChars', from: [0, 0], maxEvents: 500, maxChars: 4 * perEvent, n: 4 },
    { name: 'from inside a batch', from: [0, 2], maxEvents: 500, maxChars: 100 * perEvent, n: 5 },
    { name: 'one event larger than the bound goes alone', from: [1, 1], maxEvents: 500, maxChars: 10, n: 1 },
    { name: 'nothing queued past the position', from: [2, 0], maxEvents: 500, maxChars: 100 * perEvent, n: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(sendSize(queue, { batch: c.from[0], offset: c.from[1] }, c.maxEvents, c.maxChars, 0), c.n));
  }
});
