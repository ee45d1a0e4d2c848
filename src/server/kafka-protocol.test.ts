import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  apiKeys, chooseVersions, decodeApiVersions, decodeInitProducerId, decodeMetadata, decodeSaslAuthenticate, decodeSaslHandshake, encodeInitProducerId,
  encodeMetadata, frameRequest, Reader, Writer, type ApiVersionRange,
} from './kafka-protocol.js';

describe('Writer and Reader: the protocol\'s types', () => {
  it('golden bytes of each type, and read back', () => {
    const buf = new Writer().int8(-2).int16(-3).int32(0x01020304).int64(-1n).bool(true).string('hé').string(null).bytes(Buffer.from([9, 8])).array([1, 2], (w, x) => w.int16(x)).array(null, () => undefined).done();
    assert.equal(buf.toString('hex'), 'fe' + 'fffd' + '01020304' + 'ffffffffffffffff' + '01' + '0003' + '68c3a9' + 'ffff' + '00000002' + '0908' + '00000002' + '0001' + '0002' + 'ffffffff');
    const r = new Reader(buf);
    assert.deepEqual([r.int8(), r.int16(), r.int32(), r.int64(), r.bool(), r.string(), r.string(), [...(r.bytes() ?? [])], r.array((x) => x.int16()), r.int32()], [-2, -3, 0x01020304, -1n, true, 'hé', null, [9, 8], [1, 2], -1]);
    assert.throws(() => r.int8(), /ended early/);
  });

  it('grows past its first buffer', () => {
    const long = 'x'.repeat(1000);
    const r = new Reader(new Writer().string(long).string(long).done());
    assert.deepEqual([r.string(), r.string()], [long, long]);
  });

  it('frameRequest: size, header v1 (api key, version, correlation id, client id), body', () => {
    assert.equal(frameRequest(apiKeys.metadata, 7, 42, 'ab', Buffer.from([0xee])).toString('hex'), '0000000d' + '0003' + '0007' + '0000002a' + '0002' + '6162' + 'ee');
  });
});

describe('ApiVersions: the versions this producer sends', () => {
  const broker39: ApiVersionRange[] = [
    { key: 0, min: 0, max: 11 }, { key: 3, min: 0, max: 12 }, { key: 17, min: 0, max: 1 }, { key: 18, min: 0, max: 4 }, { key: 22, min: 0, max: 5 }, { key: 36, min: 0, max: 2 },
  ];
  const cases: Array<{ name: string; ranges: ApiVersionRange[]; chosen?: Array<[number, number]>; error?: RegExp }> = [
    { name: 'a 3.9 broker: every API, SaslAuthenticate v1', ranges: broker39, chosen: [[18, 2], [3, 7], [22, 1], [0, 7], [17, 1], [36, 1]] },
    { name: 'a broker with SaslAuthenticate v0 only', ranges: broker39.map((r) => (r.key === 36 ? { ...r, max: 0 } : r)), chosen: [[18, 2], [3, 7], [22, 1], [0, 7], [17, 1], [36, 0]] },
    { name: 'a broker past Produce v7 (min v8)', ranges: broker39.map((r) => (r.key === 0 ? { ...r, min: 8 } : r)), error: /Produce v7 \(the broker takes v8-v11\)/ },
    { name: 'a broker without InitProducerId', ranges: broker39.filter((r) => r.key !== 22), error: /InitProducerId v1 \(the broker takes none\)/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (c.error) assert.throws(() => chooseVersions(c.ranges), c.error);
      else assert.deepEqual([...chooseVersions(c.ranges)], c.chosen);
    });
  }

  it('decodes the answer; an error code throws', () => {
    const answer = (code: number) => new Writer().int16(code).array([[0, 3, 9]], (w, [k, a, b]) => w.int16(k ?? 0).int16(a ?? 0).int16(b ?? 0)).int32(0).done();
    assert.deepEqual(decodeApiVersions(answer(0)), [{ key: 0, min: 3, max: 9 }]);
    assert.throws(() => decodeApiVersions(answer(35)), /ApiVersions: UNSUPPORTED_VERSION \(35\)/);
  });
});

describe('Metadata v7', () => {
  it('asks for the two topics, never creating them', () => {
    assert.equal(encodeMetadata(['p', 'f']).toString('hex'), '00000002' + '000170' + '000166' + '00');
  });

  type Partition = [code: number, index: number, leader: number];
  const answer = (topics: Array<[code: number, name: string, partitions: Partition[]]>): Buffer => new Writer()
    .int32(0)
    .array([[1, 'b1', 9092], [2, 'b2', 9093]] as const, (w, [id, host, port]) => w.int32(id).string(host).int32(port).string(null))
    .string('cluster').int32(1)
    .array(topics, (w, [code, name, partitions]) => w.int16(code).string(name).bool(false).array(partitions, (x, [pc, index, leader]) => {
      x.int16(pc).int32(index).int32(leader).int32(0).array([leader], (y, n) => y.int32(n)).array([leader], (y, n) => y.int32(n)).array([], () => undefined);
    }))
    .done();

  it('the brokers and each partition\'s leader, in partition order whatever the answer\'s order', () => {
    assert.deepEqual(decodeMetadata(answer([[0, 'p', [[0, 2, 2], [0, 0, 1], [0, 1, 2]]], [0, 'f', [[0, 0, 1]]]])), {
      brokers: [{ nodeId: 1, host: 'b1', port: 9092 }, { nodeId: 2, host: 'b2', port: 9093 }],
      topics: [{ topic: 'p', leaders: [1, 2, 2] }, { topic: 'f', leaders: [1] }],
    });
  });

  const errors: Array<[string, Buffer, RegExp]> = [
    ['a topic that does not exist', answer([[3, 'p', []]]), /Metadata: UNKNOWN_TOPIC_OR_PARTITION \(3\): topic p/],
    ['a partition without a leader', answer([[0, 'p', [[0, 0, 1], [5, 1, -1]]]]), /LEADER_NOT_AVAILABLE \(5\): p partition 1/],
  ];
  for (const [name, body, error] of errors) it(`throws on ${name}`, () => assert.throws(() => decodeMetadata(body), error));
});

describe('InitProducerId v1, SASL', () => {
  it('InitProducerId: no transactional id; the answer\'s producer id and epoch, or its error', () => {
    assert.equal(encodeInitProducerId().toString('hex'), 'ffff' + '0000ea60');
    assert.deepEqual(decodeInitProducerId(new Writer().int32(0).int16(0).int64(77n).int16(2).done()), { producerId: 77n, producerEpoch: 2 });
    assert.throws(() => decodeInitProducerId(new Writer().int32(0).int16(31).int64(-1n).int16(-1).done()), /CLUSTER_AUTHORIZATION_FAILED \(31\)/);
  });

  it('SaslHandshake: a mechanism the broker has not enabled names those it has', () => {
    decodeSaslHandshake(new Writer().int16(0).array(['PLAIN'], (w, m) => w.string(m)).done(), 'PLAIN');
    assert.throws(() => decodeSaslHandshake(new Writer().int16(33).array(['PLAIN', 'SCRAM-SHA-256'], (w, m) => w.string(m)).done(), 'SCRAM-SHA-512'),
      /UNSUPPORTED_SASL_MECHANISM \(33\): SCRAM-SHA-512 asked; the broker has PLAIN, SCRAM-SHA-256/);
  });

  it('SaslAuthenticate: the server\'s bytes (v1\'s session lifetime after them ignored), or the broker\'s message', () => {
    assert.equal(decodeSaslAuthenticate(new Writer().int16(0).string(null).bytes(Buffer.from('v=sig')).int64(0n).done()).toString(), 'v=sig');
    assert.throws(() => decodeSaslAuthenticate(new Writer().int16(58).string('Authentication failed: Invalid username or password').bytes(Buffer.alloc(0)).done()),
      /SASL_AUTHENTICATION_FAILED \(58\): Authentication failed: Invalid username or password/);
  });
});
