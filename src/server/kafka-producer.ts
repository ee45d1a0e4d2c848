// The Kafka sink's seam to the broker: where and how it publishes (the config), and the producer the sender thread
// sends with (`MessageProducer`). The producer itself is kafka-wire-producer.ts (the Kafka protocol over node:net or
// node:tls); the unit tests put producers of their own behind the same seam (kafka-test-sender.ts).
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

/**
 * One message: the prediction id (the key) and the CloudEvent's JSON (the value), as text; the producer writes them
 * as UTF-8 straight into its request.
 */
export interface KafkaMessage {
  readonly key: string;
  readonly value: string;
}

/** What one send carries: per topic, its messages in the order the broker receives them. */
export interface TopicMessages {
  readonly topic: string;
  readonly messages: KafkaMessage[];
}

/** What the sender sends with: a producer that is connected, sends, and is dropped after a failure. */
export interface MessageProducer {
  connect(): Promise<void>;
  /** One produce request for all of them; resolves once the broker acknowledged every one. */
  send(topics: readonly TopicMessages[]): Promise<void>;
  disconnect(): Promise<void>;
}
