// What the Kafka sink's sender thread sends with: the broker's address and credentials, and a kafkajs producer. Only
// the sender thread (kafka-worker.ts) loads this module, and with it kafkajs: the server's main thread never does.
import { Kafka, logLevel, type PartitionerArgs, type Producer, type SASLOptions } from 'kafkajs';
import { keyPartition } from './kafka-partitioner.js';

export type KafkaSaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/** Where and how the sink publishes (src/server/config.ts reads it from the pod contract). */
export interface KafkaSinkConfig {
  readonly brokers: readonly string[];
  readonly predictionsTopic: string;
  readonly feedbackTopic: string;
  readonly tls: boolean;
  /** From the ModelDeployment's Secret; undefined: no authentication. */
  readonly sasl: { readonly mechanism: KafkaSaslMechanism; readonly username: string; readonly password: string } | undefined;
  /** Events held while the broker is away, at most; more are dropped and counted. */
  readonly maxBufferedEvents: number;
}

/** One message: the prediction id as UTF-8 bytes (the key), the CloudEvent's JSON as UTF-8 bytes (the value). */
export interface KafkaMessage {
  readonly key: Buffer;
  readonly value: Buffer;
}

/** What one send carries: per topic, its messages in the order the broker receives them. */
export interface TopicMessages {
  readonly topic: string;
  readonly messages: KafkaMessage[];
}

/** The part of a kafkajs producer the sender uses (the unit tests drive it with their own). */
export interface MessageProducer {
  connect(): Promise<void>;
  /** One produce request for all of them; resolves once the broker acknowledged every one. */
  send(topics: readonly TopicMessages[]): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * A kafkajs producer: idempotent (no duplicates from its own retries, one request in flight per broker so order
 * holds), acknowledged by all in-sync replicas, its own logging off (the sink reports failures once per outage),
 * partitioning by key as kafkajs's default does, computed by kafka-partitioner.ts.
 */
export function kafkajsProducer(config: KafkaSinkConfig, clientId: string): () => MessageProducer {
  const kafka = new Kafka({
    clientId,
    brokers: [...config.brokers],
    ssl: config.tls,
    ...(config.sasl ? { sasl: config.sasl as SASLOptions } : {}),
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: logLevel.NOTHING,
  });
  const createPartitioner = () => ({ partitionMetadata, message }: PartitionerArgs): number =>
    keyPartition(typeof message.key === 'string' ? Buffer.from(message.key) : (message.key ?? Buffer.alloc(0)), partitionMetadata.length);
  return () => {
    const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner });
    return {
      connect: () => producer.connect(),
      send: async (topics) => {
        await producer.sendBatch({ acks: -1, topicMessages: topics.map((t) => ({ topic: t.topic, messages: t.messages })) });
      },
      disconnect: () => producer.disconnect(),
    };
  };
}
