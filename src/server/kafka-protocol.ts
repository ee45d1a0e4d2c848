// The Kafka wire protocol as the sink's producer speaks it (https://kafka.apache.org/protocol): the primitive types,
// the request header, and the requests other than Produce (kafka-produce-request.ts) with their responses, as pure
// functions from values to bytes and back. Only non-flexible versions (no tagged fields), each one a Kafka 2.1 client
// sends too, so brokers from 2.1 to 4.x take them (Kafka 4.0 removed only versions older than that, KIP-896):
//   ApiVersions v2    which versions the broker takes (checked against these before anything else is sent)
//   SaslHandshake v1, SaslAuthenticate v0 or v1    SASL PLAIN and SCRAM (kafka-sasl.ts makes the messages)
//   Metadata v7       the brokers and each partition's leader of the two topics
//   InitProducerId v1 a producer id and epoch for the idempotent producer (no transactional id)
//   Produce v7        kafka-produce-request.ts
// A request on the wire: its size (int32), the header (api key, version, correlation id, client id) and its body.
// A response: its size, the correlation id, its body.

/** The API keys used here. */
export const apiKeys = { produce: 0, metadata: 3, apiVersions: 18, saslHandshake: 17, saslAuthenticate: 36, initProducerId: 22 } as const;
export type ApiKey = (typeof apiKeys)[keyof typeof apiKeys];

/** The version of each API this producer sends (SaslAuthenticate: v0 or v1, the same bytes for what is read here). */
export const apiVersionsUsed: ReadonlyArray<{ readonly key: ApiKey; readonly name: string; readonly versions: readonly number[] }> = [
  { key: apiKeys.apiVersions, name: 'ApiVersions', versions: [2] },
  { key: apiKeys.metadata, name: 'Metadata', versions: [7] },
  { key: apiKeys.initProducerId, name: 'InitProducerId', versions: [1] },
  { key: apiKeys.produce, name: 'Produce', versions: [7] },
  { key: apiKeys.saslHandshake, name: 'SaslHandshake', versions: [1] },
  { key: apiKeys.saslAuthenticate, name: 'SaslAuthenticate', versions: [1, 0] },
];

/** Names of the error codes a producer meets (the rest are shown by number). */
const errorNames: Record<number, string> = {
  [-1]: 'UNKNOWN_SERVER_ERROR', 1: 'OFFSET_OUT_OF_RANGE', 2: 'CORRUPT_MESSAGE', 3: 'UNKNOWN_TOPIC_OR_PARTITION', 5: 'LEADER_NOT_AVAILABLE',
  6: 'NOT_LEADER_OR_FOLLOWER', 7: 'REQUEST_TIMED_OUT', 10: 'MESSAGE_TOO_LARGE', 14: 'COORDINATOR_LOAD_IN_PROGRESS', 15: 'COORDINATOR_NOT_AVAILABLE', 19: 'NOT_ENOUGH_REPLICAS', 20: 'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  29: 'TOPIC_AUTHORIZATION_FAILED', 31: 'CLUSTER_AUTHORIZATION_FAILED', 33: 'UNSUPPORTED_SASL_MECHANISM', 34: 'ILLEGAL_SASL_STATE', 35: 'UNSUPPORTED_VERSION',
  45: 'OUT_OF_ORDER_SEQUENCE_NUMBER', 46: 'DUPLICATE_SEQUENCE_NUMBER', 47: 'INVALID_PRODUCER_EPOCH', 53: 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  58: 'SASL_AUTHENTICATION_FAILED', 59: 'UNKNOWN_PRODUCER_ID', 87: 'INVALID_RECORD',
};

/** A Kafka error code as a message: its name and number. */
export function errorName(code: number): string {
  return `${errorNames[code] ?? 'error'} (${code})`;
}

/** A broker's answer carried an error code: the producer gives up this connection (the sender retries anew). */
export class KafkaProtocolError extends Error {
  constructor(readonly api: string, readonly code: number, detail = '') {
    super(`${api}: ${errorName(code)}${detail ? `: ${detail}` : ''}`);
  }
}

/**
 * Bytes in the protocol's big-endian types, into a buffer that grows as needed. For the small requests; Produce
 * writes its one buffer itself, sized before it is filled.
 */
export class Writer {
  private buf = Buffer.allocUnsafe(256);
  private at = 0;

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }

  int8(v: number): this {
    this.room(1);
    this.buf.writeInt8(v, this.at);
    this.at += 1;
    return this;
  }

  int16(v: number): this {
    this.room(2);
    this.buf.writeInt16BE(v, this.at);
    this.at += 2;
    return this;
  }

  int32(v: number): this {
    this.room(4);
    this.buf.writeInt32BE(v, this.at);
    this.at += 4;
    return this;
  }

  int64(v: bigint): this {
    this.room(8);
    this.buf.writeBigInt64BE(v, this.at);
    this.at += 8;
    return this;
  }

  bool(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }

  /** STRING or NULLABLE_STRING: int16 length of the UTF-8 bytes (-1: null), the bytes. */
  string(v: string | null): this {
    if (v === null) return this.int16(-1);
    const n = Buffer.byteLength(v);
    this.int16(n);
    this.room(n);
    this.buf.write(v, this.at, 'utf8');
    this.at += n;
    return this;
  }

  /** BYTES: int32 length, the bytes. */
  bytes(v: Uint8Array): this {
    this.int32(v.length);
    this.room(v.length);
    this.buf.set(v, this.at);
    this.at += v.length;
    return this;
  }

  /** ARRAY: int32 count (-1: null), the items. */
  array<T>(items: readonly T[] | null, each: (w: this, item: T) => void): this {
    if (items === null) return this.int32(-1);
    this.int32(items.length);
    for (const item of items) each(this, item);
    return this;
  }

  /** What was written, as one buffer (a copy: the writer may be reused). */
  done(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.at));
  }
}

/** Reads the protocol's types from a response body; a read past the end throws (a truncated or misread answer). */
export class Reader {
  private at = 0;

  constructor(private readonly buf: Buffer) {}

  private need(n: number): number {
    const at = this.at;
    if (at + n > this.buf.length) throw new Error(`a Kafka response ended early (${n} bytes wanted at ${at} of ${this.buf.length})`);
    this.at += n;
    return at;
  }

  int8(): number {
    return this.buf.readInt8(this.need(1));
  }

  int16(): number {
    return this.buf.readInt16BE(this.need(2));
  }

  int32(): number {
    return this.buf.readInt32BE(this.need(4));
  }

  int64(): bigint {
    return this.buf.readBigInt64BE(this.need(8));
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  string(): string | null {
    const n = this.int16();
    if (n < 0) return null;
    const at = this.need(n);
    return this.buf.toString('utf8', at, at + n);
  }

  bytes(): Buffer | null {
    const n = this.int32();
    if (n < 0) return null;
    const at = this.need(n);
    return this.buf.subarray(at, at + n);
  }

  array<T>(each: (r: Reader) => T): T[] {
    const n = this.int32();
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(each(this));
    return out;
  }
}

/** The request header v1 (api key, version, correlation id, client id) for `body`, the whole prefixed by its size. */
export function frameRequest(key: ApiKey, version: number, correlationId: number, clientId: string, body: Buffer): Buffer {
  const header = new Writer().int32(0).int16(key).int16(version).int32(correlationId).string(clientId).done();
  header.writeInt32BE(header.length - 4 + body.length, 0);
  return Buffer.concat([header, body]);
}

// ApiVersions v2: an empty request; the answer lists each API key with the versions the broker takes.

export interface ApiVersionRange {
  readonly key: number;
  readonly min: number;
  readonly max: number;
}

export function decodeApiVersions(body: Buffer): ApiVersionRange[] {
  const r = new Reader(body);
  const code = r.int16();
  const ranges = r.array((a) => ({ key: a.int16(), min: a.int16(), max: a.int16() }));
  if (code !== 0) throw new KafkaProtocolError('ApiVersions', code);
  return ranges;
}

/**
 * The version to send of each API used here: the first of its versions (apiVersionsUsed) the broker takes. Throws
 * naming the APIs the broker takes none of (a broker older than 2.1, or a newer one that dropped them).
 */
export function chooseVersions(ranges: readonly ApiVersionRange[]): Map<ApiKey, number> {
  const chosen = new Map<ApiKey, number>();
  const missing: string[] = [];
  for (const api of apiVersionsUsed) {
    const range = ranges.find((x) => x.key === api.key);
    const v = api.versions.find((x) => range !== undefined && x >= range.min && x <= range.max);
    if (v === undefined) missing.push(`${api.name} v${api.versions.join('/')} (the broker takes ${range ? `v${range.min}-v${range.max}` : 'none'})`);
    else chosen.set(api.key, v);
  }
  if (missing.length > 0) throw new Error(`the Kafka broker does not take the versions this producer speaks: ${missing.join(', ')}`);
  return chosen;
}

// SaslHandshake v1: the mechanism; the answer is an error code and the mechanisms the broker has enabled.

export function encodeSaslHandshake(mechanism: string): Buffer {
  return new Writer().string(mechanism).done();
}

export function decodeSaslHandshake(body: Buffer, mechanism: string): void {
  const r = new Reader(body);
  const code = r.int16();
  const enabled = r.array((a) => a.string());
  if (code !== 0) throw new KafkaProtocolError('SaslHandshake', code, `${mechanism} asked; the broker has ${enabled.join(', ') || 'none'}`);
}

// SaslAuthenticate v0/v1: the mechanism's bytes; the answer is an error code, a message and the server's bytes (v1
// adds the session's lifetime after them, not read here).

export function encodeSaslAuthenticate(auth: Uint8Array): Buffer {
  return new Writer().bytes(auth).done();
}

export function decodeSaslAuthenticate(body: Buffer): Buffer {
  const r = new Reader(body);
  const code = r.int16();
  const message = r.string();
  const auth = r.bytes() ?? Buffer.alloc(0);
  if (code !== 0) throw new KafkaProtocolError('SaslAuthenticate', code, message ?? '');
  return auth;
}

// Metadata v7: the topics asked (never created here); the answer has the brokers and each partition's leader.

export function encodeMetadata(topics: readonly string[]): Buffer {
  return new Writer().array(topics, (w, t) => w.string(t)).bool(false).done();
}

export interface BrokerAddress {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

export interface TopicLeaders {
  readonly topic: string;
  /** leaders[p]: the node id of partition p's leader (-1: none now). */
  readonly leaders: number[];
}

export interface Metadata {
  readonly brokers: BrokerAddress[];
  readonly topics: TopicLeaders[];
}

/** The answer; a topic or partition error (a topic that does not exist, a partition without a leader) throws. */
export function decodeMetadata(body: Buffer): Metadata {
  const r = new Reader(body);
  r.int32(); // throttle time
  const brokers = r.array((b) => {
    const nodeId = b.int32();
    const host = b.string() ?? '';
    const port = b.int32();
    b.string(); // rack
    return { nodeId, host, port };
  });
  r.string(); // cluster id
  r.int32(); // controller id
  const topics = r.array((t) => {
    const code = t.int16();
    const topic = t.string() ?? '';
    t.bool(); // is internal
    const partitions = t.array((p) => {
      const partitionCode = p.int16();
      const index = p.int32();
      const leader = p.int32();
      p.int32(); // leader epoch
      p.array((x) => x.int32()); // replicas
      p.array((x) => x.int32()); // in-sync replicas
      p.array((x) => x.int32()); // offline replicas
      return { partitionCode, index, leader };
    });
    if (code !== 0) throw new KafkaProtocolError('Metadata', code, `topic ${topic}`);
    const leaders: number[] = Array.from({ length: partitions.length }, () => -1);
    for (const p of partitions) {
      if (p.partitionCode !== 0) throw new KafkaProtocolError('Metadata', p.partitionCode, `${topic} partition ${p.index}`);
      if (p.index < 0 || p.index >= partitions.length) throw new Error(`Metadata: ${topic} has partition ${p.index} of ${partitions.length}`);
      leaders[p.index] = p.leader;
    }
    return { topic, leaders };
  });
  return { brokers, topics };
}

// InitProducerId v1: no transactional id (an idempotent producer only), a transaction timeout the broker ignores
// then; the answer is the producer id and epoch that every batch carries.

export function encodeInitProducerId(): Buffer {
  return new Writer().string(null).int32(60_000).done();
}

export function decodeInitProducerId(body: Buffer): { producerId: bigint; producerEpoch: number } {
  const r = new Reader(body);
  r.int32(); // throttle time
  const code = r.int16();
  const producerId = r.int64();
  const producerEpoch = r.int16();
  if (code !== 0) throw new KafkaProtocolError('InitProducerId', code);
  return { producerId, producerEpoch };
}
