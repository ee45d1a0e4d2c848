import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { crc32cBytewise } from './kafka-crc32c.js';
import { checkProduceAnswers, decodeProduceResponse, encodeProduceRequest, type PartitionBatch, type ProduceRequest } from './kafka-produce-request.js';
import { Reader, Writer } from './kafka-protocol.js';

// kafkajs's record batch decoder (what its consumer reads fetched batches with): a second implementation of the
// format to decode ours back with.
const require = createRequire(import.meta.url);
const KafkajsDecoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => unknown;
const kafkajsRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (d: unknown) => Promise<{
  firstOffset: string; partitionLeaderEpoch: number; lastOffsetDelta: number; firstTimestamp: string; maxTimestamp: string; producerId: string;
  producerEpoch: number; firstSequence: number; inTransaction: boolean; timestampType: number;
  records: Array<{ offset: string; timestamp: string; key: Buffer; value: Buffer; headers: Record<string, unknown> }>;
}>;

/** Bytes from lines of hex digits, each with an optional `# comment`. */
const hex = (s: string): Buffer => Buffer.from(s.split('\n').map((line) => line.split('#')[0] ?? '').join('').replace(/\s+/g, ''), 'hex');

describe('encodeProduceRequest: a Produce v7 request with one RecordBatch v2 per partition', () => {
  it('golden bytes: one record, keyed "k", value "v"', () => {
    const buf = encodeProduceRequest({
      correlationId: 7, clientId: 'c', acks: -1, timeoutMs: 1000, producerId: 5n, producerEpoch: 1, timestampMs: 1000,
      batches: [{ topic: 't', partition: 2, firstSequence: 9, keys: ['k'], values: ['v'] }],
    });
    const batchTail = hex(`
      0000                 # attributes: no compression, create time, not transactional
      00000000             # last offset delta
      00000000000003e8     # base timestamp
      00000000000003e8     # max timestamp
      0000000000000005     # producer id
      0001                 # producer epoch
      00000009             # base sequence
      00000001             # record count
      10 00 00 00 02 6b 02 76 00   # the record: length 8, attributes, timestamp delta 0, offset delta 0, key "k", value "v", no headers`);
    const expected = Buffer.concat([
      hex(`
        0000006c             # size: 108 bytes follow
        0000 0007 00000007   # api key Produce, version 7, correlation id 7
        0001 63              # client id "c"
        ffff                 # transactional id: null
        ffff                 # acks -1
        000003e8             # timeout 1000 ms
        00000001 0001 74     # one topic, "t"
        00000001 00000002    # one partition, 2
        00000046             # the records: 70 bytes
        0000000000000000     # base offset
        0000003a             # batch length: 58 bytes follow
        ffffffff             # partition leader epoch: unknown
        02                   # magic`),
      Buffer.from([0, 0, 0, 0]), // the CRC, written below
      batchTail,
    ]);
    expected.writeUInt32BE(crc32cBytewise(batchTail), expected.length - batchTail.length - 4);
    assert.equal(buf.toString('hex'), expected.toString('hex'));
  });

  it('decodes back (kafkajs\'s decoder) with every record, key, value, sequence and a valid CRC: two topics, many partitions, varint boundaries, UTF-8', async () => {
    const value = (n: number, c = 'x'): string => c.repeat(n);
    const batches: PartitionBatch[] = [
      { topic: 'predictions', partition: 0, firstSequence: 0, keys: ['a', 'b'], values: [value(63), value(64)] },
      // 200 records: offset deltas past 63 (two-byte varints); values around the two- and three-byte length varints.
      { topic: 'predictions', partition: 2, firstSequence: 2_147_483_000, keys: Array.from({ length: 200 }, (_, i) => `id-${i}`), values: Array.from({ length: 200 }, (_, i) => value([0, 1, 8191, 8192, 700][i % 5] ?? 0)) },
      { topic: 'feedback', partition: 1, firstSequence: 41, keys: ['ключ', 'é'], values: ['{"label":"ünïcödé ☀"}', ''] },
      { topic: 'predictions', partition: 1, firstSequence: 3, keys: ['c'], values: ['{}'] },
    ];
    const request: ProduceRequest = { correlationId: 123456, clientId: 'perennial-ml-weather', acks: -1, timeoutMs: 10_000, producerId: 4_000_000_001n, producerEpoch: 3, timestampMs: 1_780_000_000_123, batches };
    const buf = encodeProduceRequest(request);

    const r = new Reader(buf);
    assert.equal(r.int32(), buf.length - 4);
    assert.deepEqual([r.int16(), r.int16(), r.int32(), r.string(), r.string(), r.int16(), r.int32()], [0, 7, 123456, 'perennial-ml-weather', null, -1, 10_000]);
    const topics = r.array((t) => ({ topic: t.string(), partitions: t.array((p) => ({ partition: p.int32(), records: p.bytes() as Buffer })) }));
    assert.deepEqual(topics.map((t) => [t.topic, t.partitions.map((p) => p.partition)]), [['predictions', [0, 2, 1]], ['feedback', [1]]], 'grouped by topic in order of appearance');
    for (const t of topics) {
      for (const p of t.partitions) {
        const sent = batches.find((b) => b.topic === t.topic && b.partition === p.partition) as PartitionBatch;
        assert.equal(p.records.readInt8(16), 2, 'magic 2');
        assert.equal(p.records.readUInt32BE(17), crc32cBytewise(p.records.subarray(21)), 'the CRC-32C of attributes to the end');
        const decoded = await kafkajsRecordBatch(new KafkajsDecoder(p.records));
        assert.deepEqual(
          [decoded.firstOffset, decoded.partitionLeaderEpoch, decoded.lastOffsetDelta, decoded.firstTimestamp, decoded.maxTimestamp, decoded.producerId, decoded.producerEpoch, decoded.firstSequence, decoded.inTransaction],
          ['0', -1, sent.keys.length - 1, '1780000000123', '1780000000123', '4000000001', 3, sent.firstSequence, false]);
        assert.deepEqual(decoded.records.map((x) => [x.offset, x.timestamp, x.key.toString('utf8'), x.value.toString('utf8'), Object.keys(x.headers).length]),
          sent.keys.map((k, i) => [String(i), '1780000000123', k, sent.values[i], 0]));
      }
    }
    assert.throws(() => r.int8(), /ended early/, 'nothing after the last topic');
  });
});

describe('Produce v7 responses', () => {
  const response = (parts: Array<[string, number, number]>): Buffer => {
    const topics = [...new Set(parts.map((p) => p[0]))];
    return new Writer().array(topics, (w, t) => w.string(t).array(parts.filter((p) => p[0] === t), (x, [, partition, code]) => {
      x.int32(partition).int16(code).int64(100n).int64(-1n).int64(0n);
    })).int32(0).done();
  };
  const sent = (topic: string, partition: number): PartitionBatch => ({ topic, partition, firstSequence: 0, keys: ['k'], values: ['v'] });

  it('decodes each partition\'s error code and base offset', () => {
    assert.deepEqual(decodeProduceResponse(response([['p', 0, 0], ['p', 2, 6], ['f', 1, 0]])), [
      { topic: 'p', partition: 0, code: 0, baseOffset: 100n }, { topic: 'p', partition: 2, code: 6, baseOffset: 100n }, { topic: 'f', partition: 1, code: 0, baseOffset: 100n },
    ]);
  });

  const cases: Array<{ name: string; answers: Array<[string, number, number]>; error?: RegExp }> = [
    { name: 'all acknowledged', answers: [['p', 0, 0], ['f', 1, 0]] },
    { name: 'one partition\'s leader moved', answers: [['p', 0, 6], ['f', 1, 0]], error: /Produce: NOT_LEADER_OR_FOLLOWER \(6\): p\/0/ },
    { name: 'a sequence the broker did not expect', answers: [['p', 0, 0], ['f', 1, 45]], error: /OUT_OF_ORDER_SEQUENCE_NUMBER \(45\)/ },
    { name: 'a code without a name', answers: [['p', 0, 0], ['f', 1, 999]], error: /error \(999\)/ },
    { name: 'a partition without an answer', answers: [['p', 0, 0]], error: /no answer for f\/1/ },
  ];
  for (const c of cases) {
    it(`checkProduceAnswers: ${c.name}`, () => {
      const check = () => checkProduceAnswers([sent('p', 0), sent('f', 1)], decodeProduceResponse(response(c.answers)));
      if (c.error === undefined) check();
      else assert.throws(check, c.error);
    });
  }
});
