// One Kafka Produce request (v7, the same body as v3 to v8) for a send of the sink: per partition one RecordBatch v2
// (magic 2, no compression, CRC-32C), the records written straight from the queued strings into one buffer sized
// before it is filled: per record two byte counts, two string writes and a few varints, no object, no copy. That is
// the point of this module: kafkajs made a record object, a zero-filled 512-byte Buffer grown to 1,024 and about six
// copies of every batch through nested encoders, per record and per send (docs/decisions/0019).
//
// The request (https://kafka.apache.org/protocol#The_Messages_Produce):
//   size int32 | api key 0, version 7, correlation id, client id (header v1)
//   transactional id (null) | acks int16 | timeout int32 | [topic string | [partition int32 | records BYTES]]
// A RecordBatch v2 (https://kafka.apache.org/documentation/#recordbatch):
//   base offset int64 (0) | batch length int32 (the bytes after it) | partition leader epoch int32 (-1: unknown to
//   a producer) | magic int8 (2) | CRC-32C uint32 of everything after it | attributes int16 (0: no compression,
//   create time, not transactional) | last offset delta int32 | base timestamp int64 | max timestamp int64 |
//   producer id int64 | producer epoch int16 | base sequence int32 | record count int32 | the records
// A record: length varint | attributes int8 (0) | timestamp delta varlong | offset delta varint | key length
//   varint | key | value length varint | value | header count varint (0). Varints are zigzag-encoded, seven bits a
//   byte, least significant first.
// Every record of a send carries the batch's one timestamp (delta 0): the time it was sent, as before.
import { crc32c } from './kafka-crc32c.js';
import { apiKeys, errorName, KafkaProtocolError, Reader } from './kafka-protocol.js';

export const produceVersion = 7;

/** The records for one partition of one topic, keys and values as text (written as UTF-8). */
export interface PartitionBatch {
  readonly topic: string;
  readonly partition: number;
  /** The idempotent producer's sequence number of the first record (the partition's count of records sent so far). */
  readonly firstSequence: number;
  readonly keys: readonly string[];
  readonly values: readonly string[];
}

export interface ProduceRequest {
  readonly correlationId: number;
  readonly clientId: string;
  /** -1: acknowledged once all in-sync replicas have the records. */
  readonly acks: number;
  /** How long the broker waits for the replicas before it answers REQUEST_TIMED_OUT. */
  readonly timeoutMs: number;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  /** The records' timestamp (create time), epoch milliseconds. */
  readonly timestampMs: number;
  /** At most one per (topic, partition); the request groups them by topic, in the order of first appearance. */
  readonly batches: readonly PartitionBatch[];
}

/** Bytes of an unsigned varint of `u` (u < 2^31). */
function uvarintSize(u: number): number {
  return u < 0x80 ? 1 : u < 0x4000 ? 2 : u < 0x200000 ? 3 : u < 0x10000000 ? 4 : 5;
}

/** Writes `u` (unsigned, < 2^31) as a varint at `at`; the position after it. */
function writeUvarint(buf: Buffer, at: number, u: number): number {
  while (u >= 0x80) {
    buf[at++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[at++] = u;
  return at;
}

/** The fixed part of a RecordBatch v2, from its base offset to its record count. */
const batchHeaderSize = 61;
/** Where the CRC'd part of a batch begins, from the batch's start (after base offset, length, epoch, magic, CRC). */
const crcFrom = 21;

/** The whole request, size prefix included: ready to write to the broker's socket. */
export function encodeProduceRequest(q: ProduceRequest): Buffer {
  // Pass 1: every string's UTF-8 length and every record's size, so the buffer is allocated once, exactly.
  const topics: string[] = [];
  for (const b of q.batches) if (!topics.includes(b.topic)) topics.push(b.topic);
  const clientIdBytes = Buffer.byteLength(q.clientId);
  let size = 4 + 2 + 2 + 4 + 2 + clientIdBytes; // size, api key, version, correlation id, client id
  size += 2 + 2 + 4 + 4; // transactional id (null), acks, timeout, topic count
  for (const t of topics) size += 2 + Buffer.byteLength(t) + 4;
  const lengths: Int32Array[] = []; // per batch: key and value byte lengths, interleaved
  const recordsSizes: number[] = [];
  for (const b of q.batches) {
    const n = b.keys.length;
    const l = new Int32Array(2 * n);
    let records = 0;
    for (let i = 0; i < n; i++) {
      const k = Buffer.byteLength(b.keys[i] ?? '');
      const v = Buffer.byteLength(b.values[i] ?? '');
      l[2 * i] = k;
      l[2 * i + 1] = v;
      const body = 1 + 1 + uvarintSize(2 * i) + uvarintSize(2 * k) + k + uvarintSize(2 * v) + v + 1;
      records += uvarintSize(2 * body) + body;
    }
    lengths.push(l);
    recordsSizes.push(records);
    size += 4 + 4 + batchHeaderSize + records; // partition, records' length, the batch
  }

  // Pass 2: the bytes.
  const buf = Buffer.allocUnsafe(size);
  let at = buf.writeInt32BE(size - 4, 0);
  at = buf.writeInt16BE(apiKeys.produce, at);
  at = buf.writeInt16BE(produceVersion, at);
  at = buf.writeInt32BE(q.correlationId, at);
  at = buf.writeInt16BE(clientIdBytes, at);
  at += buf.write(q.clientId, at, 'utf8');
  at = buf.writeInt16BE(-1, at); // transactional id: null
  at = buf.writeInt16BE(q.acks, at);
  at = buf.writeInt32BE(q.timeoutMs, at);
  at = buf.writeInt32BE(topics.length, at);
  const timestamp = BigInt(q.timestampMs);
  for (const t of topics) {
    at = buf.writeInt16BE(Buffer.byteLength(t), at);
    at += buf.write(t, at, 'utf8');
    const ofTopic = q.batches.filter((b) => b.topic === t);
    at = buf.writeInt32BE(ofTopic.length, at);
    for (const b of ofTopic) {
      const bi = q.batches.indexOf(b);
      const l = lengths[bi] as Int32Array;
      const n = b.keys.length;
      at = buf.writeInt32BE(b.partition, at);
      at = buf.writeInt32BE(batchHeaderSize + (recordsSizes[bi] as number), at); // the records' BYTES length
      const start = at;
      at = buf.writeBigInt64BE(0n, at); // base offset
      at = buf.writeInt32BE(batchHeaderSize - 12 + (recordsSizes[bi] as number), at); // batch length: after this field
      at = buf.writeInt32BE(-1, at); // partition leader epoch
      at = buf.writeInt8(2, at); // magic
      at += 4; // the CRC, written last
      at = buf.writeInt16BE(0, at); // attributes
      at = buf.writeInt32BE(n - 1, at); // last offset delta
      at = buf.writeBigInt64BE(timestamp, at); // base timestamp
      at = buf.writeBigInt64BE(timestamp, at); // max timestamp
      at = buf.writeBigInt64BE(q.producerId, at);
      at = buf.writeInt16BE(q.producerEpoch, at);
      at = buf.writeInt32BE(b.firstSequence, at);
      at = buf.writeInt32BE(n, at);
      for (let i = 0; i < n; i++) {
        const k = l[2 * i] as number;
        const v = l[2 * i + 1] as number;
        const body = 1 + 1 + uvarintSize(2 * i) + uvarintSize(2 * k) + k + uvarintSize(2 * v) + v + 1;
        at = writeUvarint(buf, at, 2 * body);
        buf[at++] = 0; // attributes
        buf[at++] = 0; // timestamp delta
        at = writeUvarint(buf, at, 2 * i); // offset delta
        at = writeUvarint(buf, at, 2 * k);
        at += buf.write(b.keys[i] ?? '', at, 'utf8');
        at = writeUvarint(buf, at, 2 * v);
        at += buf.write(b.values[i] ?? '', at, 'utf8');
        buf[at++] = 0; // no headers
      }
      buf.writeUInt32BE(crc32c(buf, start + crcFrom, at), start + 17);
    }
  }
  if (at !== size) throw new Error(`produce request: ${at} bytes written, ${size} sized (a bug)`);
  return buf;
}

export interface PartitionAnswer {
  readonly topic: string;
  readonly partition: number;
  readonly code: number;
  readonly baseOffset: bigint;
}

/** A Produce v7 response body: per topic and partition, its error code and the offset of the batch's first record. */
export function decodeProduceResponse(body: Buffer): PartitionAnswer[] {
  const r = new Reader(body);
  const out: PartitionAnswer[] = [];
  r.array((t) => {
    const topic = t.string() ?? '';
    t.array((p) => {
      const partition = p.int32();
      const code = p.int16();
      const baseOffset = p.int64();
      p.int64(); // log append time
      p.int64(); // log start offset
      out.push({ topic, partition, code, baseOffset });
    });
  });
  r.int32(); // throttle time
  return out;
}

/** Throws when a partition in `answers` has an error, or a batch sent has no answer: the send did not succeed. */
export function checkProduceAnswers(sent: readonly PartitionBatch[], answers: readonly PartitionAnswer[]): void {
  const failed = answers.filter((a) => a.code !== 0);
  if (failed.length > 0) {
    throw new KafkaProtocolError('Produce', failed[0]?.code ?? -1, failed.map((a) => `${a.topic}/${a.partition} ${errorName(a.code)}`).join(', '));
  }
  for (const b of sent) {
    if (!answers.some((a) => a.topic === b.topic && a.partition === b.partition)) throw new Error(`Produce: no answer for ${b.topic}/${b.partition}`);
  }
}
