import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keyPartition } from './kafka-partitioner.js';
import type { TopicMessages } from './kafka-producer.js';
import { nextSequence, planSend } from './kafka-wire-producer.js';

describe('nextSequence: a partition\'s sequence number after a batch (int32, wrapping to 0 as Kafka\'s does)', () => {
  const cases: Array<[sequence: number, count: number, next: number]> = [
    [0, 1, 1], [0, 500, 500], [41, 2, 43], [0x7fffffff - 10, 10, 0x7fffffff], [0x7fffffff - 10, 11, 0], [0x7fffffff, 1, 0], [0x7fffffff - 1, 5, 3],
  ];
  for (const [sequence, count, next] of cases) it(`${sequence} + ${count} → ${next}`, () => assert.equal(nextSequence(sequence, count), next));
});

describe('planSend: each message to its key\'s partition, the partitions grouped by leader', () => {
  // Keys of known partitions out of 3 (kafka-partitioner.ts, tested against the Java client's murmur2).
  const keys = Array.from({ length: 40 }, (_, i) => `id-${i}`);
  const of = (p: number): string[] => keys.filter((k) => keyPartition(Buffer.from(k), 3) === p);
  const [p0, p1, p2] = [of(0), of(1), of(2)];
  const messages = (ks: readonly string[]) => ks.map((k) => ({ key: k, value: `v-${k}` }));
  const interleaved = [p0[0], p1[0], p0[1], p2[0], p0[2], p1[1]].filter((k): k is string => k !== undefined);
  const topics: TopicMessages[] = [{ topic: 'predictions', messages: messages(interleaved) }, { topic: 'feedback', messages: messages([p2[1] ?? '', p2[2] ?? '']) }];

  it('one leader for everything: one request, a batch per partition in the order of its messages, sequences where the partitions are', () => {
    const plan = planSend(topics, new Map([['predictions', [1, 1, 1]], ['feedback', [1, 1, 1]]]), new Map([['predictions/0', 7], ['feedback/2', 500]]));
    assert.deepEqual(plan.map((x) => [x.leader, x.batches.map((b) => [b.topic, b.partition, b.firstSequence, b.keys, b.values.length])]), [[1, [
      ['predictions', 0, 7, [p0[0], p0[1], p0[2]], 3],
      ['predictions', 1, 0, [p1[0], p1[1]], 2],
      ['predictions', 2, 0, [p2[0]], 1],
      ['feedback', 2, 500, [p2[1], p2[2]], 2],
    ]]]);
    assert.deepEqual(plan[0]?.batches[0]?.values, [`v-${p0[0]}`, `v-${p0[1]}`, `v-${p0[2]}`], 'each value with its key');
  });

  it('leaders on different brokers: one request each, with only their partitions', () => {
    const plan = planSend(topics, new Map([['predictions', [1, 2, 3]], ['feedback', [3, 3, 2]]]), new Map());
    assert.deepEqual(plan.map((x) => [x.leader, x.batches.map((b) => `${b.topic}/${b.partition}`)]), [[1, ['predictions/0']], [2, ['predictions/1', 'feedback/2']], [3, ['predictions/2']]]);
  });

  it('throws for a topic without metadata, or a partition without a leader now', () => {
    assert.throws(() => planSend(topics, new Map([['predictions', [1, 1, 1]]]), new Map()), /no metadata for topic feedback/);
    assert.throws(() => planSend(topics, new Map([['predictions', [1, -1, 1]], ['feedback', [1, 1, 1]]]), new Map()), /predictions partition 1 has no leader now/);
  });
});
