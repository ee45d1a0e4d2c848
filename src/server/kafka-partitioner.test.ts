import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { keyPartition, murmur2 } from './kafka-partitioner.js';

// kafkajs's own murmur2 (the one its default partitioner uses): ours must agree with it on every key, or a key's
// events would move to another partition than the ones already in the topic.
const kafkajsMurmur2 = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: string | Buffer) => number;

describe('murmur2', () => {
  // The Java client's own test vectors (org.apache.kafka.common.utils.UtilsTest.testMurmur2).
  const java: Array<[string, number]> = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [key, hash] of java) it(`${JSON.stringify(key)} as the Java client hashes it`, () => assert.equal(murmur2(Buffer.from(key)), hash));

  it('agrees with kafkajs on keys of every length modulo 4, non-ASCII and prediction-id-like keys', () => {
    const keys = ['', 'a', 'ab', 'abc', 'abcd', 'abcde', 'Zürich', '€€€', 'AQABAAAAAAAAAAAAAAAAAGZ2MXN0YWJsZQ.c2lnbmF0dXJl'];
    for (let i = 0; i < 200; i++) keys.push(`id-${i}-${'x'.repeat(i % 7)}`);
    for (const k of keys) assert.equal(murmur2(Buffer.from(k)), kafkajsMurmur2(k), k);
  });
});

describe('keyPartition', () => {
  const cases: Array<{ key: string; partitions: number; want: number }> = [
    // toPositive(-973932308) % 3: the sign bit is masked, not negated, as in the Java client
    { key: '21', partitions: 3, want: ((-973932308 & 0x7fffffff) % 3) },
    { key: 'abc', partitions: 3, want: 479470107 % 3 },
    { key: 'abc', partitions: 1, want: 0 },
    { key: 'foobar', partitions: 12, want: ((-790332482 & 0x7fffffff) % 12) },
  ];
  for (const c of cases) it(`${c.key} of ${c.partitions}`, () => assert.equal(keyPartition(Buffer.from(c.key), c.partitions), c.want));
});
