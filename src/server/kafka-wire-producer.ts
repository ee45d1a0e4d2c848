// The sink's producer (the `MessageProducer` of kafka-producer.ts), on the Kafka protocol directly
// (kafka-protocol.ts, kafka-produce-request.ts over kafka-broker-connection.ts), in the sender thread only:
//   connect   to the first bootstrap broker that answers: ApiVersions, SASL (when configured), Metadata of the two
//             topics (their partitions' leaders, the brokers' addresses), InitProducerId (the idempotent producer's
//             id and epoch); connections to the leaders are opened when a send first needs them
//   send      each message to its key's partition (murmur2, kafka-partitioner.ts), the partitions grouped by their
//             leader, one Produce request per leader (acks from all in-sync replicas), each partition's records one
//             RecordBatch with the partition's next sequence number; resolves once every leader acknowledged all
//   failure   anything: an error code, a lost connection, a timeout, a leader that moved, throws; the producer is
//             done and the sender builds a new one (a new producer id: sequences from 0) and sends again
// Idempotent as Kafka defines it (KIP-98): the broker keeps the last sequence numbers of each producer id per
// partition and refuses a gap or takes a repeat once; with one request in flight per partition (the sender sends
// one batch at a time) the order of a partition is the order of sending. A send that is retried on a new producer
// after its acknowledgement was lost is a duplicate the broker cannot see: at least once (docs/integrations.md).
// Why not kafkajs: its per-record encoding was most of the sender thread's CPU (docs/decisions/0019).
import { setTimeout as sleep } from 'node:timers/promises';
import { BrokerConnection, parseAddress, type ConnectionOptions } from './kafka-broker-connection.js';
import { keyPartition } from './kafka-partitioner.js';
import { checkProduceAnswers, decodeProduceResponse, encodeProduceRequest, type PartitionBatch } from './kafka-produce-request.js';
import type { KafkaSinkConfig, MessageProducer, TopicMessages } from './kafka-producer.js';
import { apiKeys, decodeInitProducerId, decodeMetadata, encodeInitProducerId, encodeMetadata, KafkaProtocolError, type BrokerAddress, type Metadata } from './kafka-protocol.js';

/** The sequence number after `sequence` once `count` more records were sent: int32, wrapping to 0 as Kafka's does. */
export function nextSequence(sequence: number, count: number): number {
  return sequence > 0x7fffffff - count ? count - (0x7fffffff - sequence) - 1 : sequence + count;
}

/** One produce request's worth: the leader it goes to and its partitions' batches. */
export interface LeaderBatches {
  readonly leader: number;
  readonly batches: PartitionBatch[];
}

/**
 * Where each message of a send goes: its key's partition (per topic, of `leaders[topic].length`), the partition's
 * batch beginning at the partition's next sequence number (`sequences`, by "topic/partition", 0 when absent), the
 * batches grouped by the partition's leader. Messages keep their order within a partition. Throws when a topic is
 * unknown or a partition has no leader now.
 */
export function planSend(topics: readonly TopicMessages[], leaders: ReadonlyMap<string, readonly number[]>, sequences: ReadonlyMap<string, number>): LeaderBatches[] {
  const byLeader = new Map<number, PartitionBatch[]>();
  for (const t of topics) {
    const ls = leaders.get(t.topic);
    if (ls === undefined || ls.length === 0) throw new Error(`no metadata for topic ${t.topic}`);
    const parts: Array<{ keys: string[]; values: string[] } | undefined> = Array.from({ length: ls.length }, () => undefined);
    for (const m of t.messages) {
      const p = keyPartition(Buffer.from(m.key, 'utf8'), ls.length);
      const part = (parts[p] ??= { keys: [], values: [] });
      part.keys.push(m.key);
      part.values.push(m.value);
    }
    parts.forEach((part, partition) => {
      if (part === undefined) return;
      const leader = ls[partition] ?? -1;
      if (leader < 0) throw new Error(`${t.topic} partition ${partition} has no leader now`);
      const batch: PartitionBatch = { topic: t.topic, partition, firstSequence: sequences.get(`${t.topic}/${partition}`) ?? 0, keys: part.keys, values: part.values };
      const list = byLeader.get(leader);
      if (list === undefined) byLeader.set(leader, [batch]);
      else list.push(batch);
    });
  }
  return [...byLeader].map(([leader, batches]) => ({ leader, batches }));
}

/** Error codes of InitProducerId that say "ask again shortly": a broker that just started loads its coordinator. */
const coordinatorNotReady = new Set([14, 15]);

/**
 * A producer id and epoch from the broker on `c`, asking again (up to 5 s) while its transaction coordinator, which
 * hands out producer ids, is still loading: a broker that just started answers that for a few seconds.
 */
async function initProducerId(c: BrokerConnection): Promise<{ producerId: bigint; producerEpoch: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return decodeInitProducerId(await c.request(apiKeys.initProducerId, encodeInitProducerId()));
    } catch (e: unknown) {
      if (!(e instanceof KafkaProtocolError && coordinatorNotReady.has(e.code)) || attempt >= 50) throw e;
      await sleep(100);
    }
  }
}

/** How long the broker may wait for the in-sync replicas before it answers (the request's timeout). */
const produceTimeoutMs = 10_000;

class WireProducer implements MessageProducer {
  private metadata: Metadata | undefined;
  private leaders = new Map<string, number[]>();
  private producer = { producerId: -1n, producerEpoch: -1 };
  private readonly sequences = new Map<string, number>();
  private readonly connections = new Map<number, Promise<BrokerConnection>>();
  private closed = false;

  constructor(private readonly config: KafkaSinkConfig, private readonly clientId: string) {}

  private options(host: string, port: number): ConnectionOptions {
    return { host, port, tls: this.config.tls, sasl: this.config.sasl, clientId: this.clientId, connectTimeoutMs: 3000, requestTimeoutMs: produceTimeoutMs + 5000 };
  }

  async connect(): Promise<void> {
    const errors: string[] = [];
    for (const address of this.config.brokers) {
      const { host, port } = parseAddress(address);
      let c: BrokerConnection | undefined;
      try {
        c = await BrokerConnection.open(this.options(host, port));
        const metadata = decodeMetadata(await c.request(apiKeys.metadata, encodeMetadata([this.config.predictionsTopic, this.config.feedbackTopic])));
        this.producer = await initProducerId(c);
        this.metadata = metadata;
        this.leaders = new Map(metadata.topics.map((t) => [t.topic, t.leaders]));
        return;
      } catch (e: unknown) {
        errors.push(`${address}: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        c?.close(); // the leaders get connections of their own
      }
    }
    throw new Error(`could not connect to a Kafka broker: ${errors.join('; ')}`);
  }

  async send(topics: readonly TopicMessages[]): Promise<void> {
    if (this.closed || this.metadata === undefined) throw new Error('the Kafka producer is not connected');
    const plan = planSend(topics, this.leaders, this.sequences);
    const timestampMs = Date.now();
    await Promise.all(plan.map(async ({ leader, batches }) => {
      const c = await this.connection(leader);
      const correlationId = c.correlationId();
      const request = encodeProduceRequest({
        correlationId, clientId: this.clientId, acks: -1, timeoutMs: produceTimeoutMs, producerId: this.producer.producerId, producerEpoch: this.producer.producerEpoch, timestampMs, batches,
      });
      checkProduceAnswers(batches, decodeProduceResponse(await c.send(request, correlationId)));
    }));
    for (const { batches } of plan) {
      for (const b of batches) this.sequences.set(`${b.topic}/${b.partition}`, nextSequence(b.firstSequence, b.keys.length));
    }
  }

  disconnect(): Promise<void> {
    this.closed = true;
    for (const c of this.connections.values()) c.then((x) => x.close(), () => undefined);
    this.connections.clear();
    return Promise.resolve();
  }

  /** The connection to broker `nodeId`, opened on first use. */
  private connection(nodeId: number): Promise<BrokerConnection> {
    let c = this.connections.get(nodeId);
    if (c === undefined) {
      const broker: BrokerAddress | undefined = this.metadata?.brokers.find((b) => b.nodeId === nodeId);
      if (broker === undefined) return Promise.reject(new Error(`the Kafka broker ${nodeId} leads a partition but is not in the metadata`));
      c = BrokerConnection.open(this.options(broker.host, broker.port));
      this.connections.set(nodeId, c);
      c.catch(() => undefined); // a failed open fails the send that waits for it; the producer is then replaced
    }
    return c;
  }
}

/** New producers on the Kafka protocol for `config`, named `clientId` to the brokers. */
export function wireProducer(config: KafkaSinkConfig, clientId: string): () => MessageProducer {
  return () => new WireProducer(config, clientId);
}
