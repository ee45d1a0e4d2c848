// The Kafka sink (a ModelDeployment's spec.server.kafka): every record the inference log takes is also
// published as a CloudEvent (src/shared/cloudevents.ts) to the predictions or the feedback topic, keyed by its
// prediction id, so a prediction and its label meet in one partition.
//   publish() ──► bounded local buffer (in memory) ── full ──► the record is dropped and counted, never waited for
//   one sender at a time ──► the oldest buffered events, up to a batch, to the broker (acks from all in-sync replicas)
//   the broker acknowledged ──► they leave the buffer, counted as sent
//   a send fails ──► they stay; the producer is rebuilt and the send retried with jittered backoff, oldest first
//   close() ──► sends what is buffered until the deadline; what is left is counted as dropped
// Delivery is at least once: a send whose acknowledgement was lost is sent again (kafkajs's idempotent producer
// removes the duplicates of its own retries, but not of a send retried on a new producer). Every event keeps its
// CloudEvent id and key, so a consumer removes duplicates by (source, id). Predictions never wait for the broker.
import { Kafka, logLevel, type Producer, type SASLOptions } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import { setTimeout as sleep } from 'node:timers/promises';
import { inferenceCloudEvent } from '../shared/cloudevents.js';
import { backoffDelayMs, type Backoff } from '../shared/backoff.js';
import type { FeedbackRecord, PredictionRecord } from '../shared/inference-log.js';
import { serverMetricLabels as L, serverMetricNames as N } from '../shared/server-metrics.js';

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

/** What the sink sends: one message, in the order the broker receives it. */
export interface KafkaMessage {
  readonly topic: string;
  readonly key: string;
  readonly value: string;
}

/** The part of a kafkajs producer the sink uses (a unit test drives the buffer with its own). */
export interface MessageProducer {
  connect(): Promise<void>;
  send(messages: readonly KafkaMessage[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface KafkaSinkOptions {
  readonly config: KafkaSinkConfig;
  /** The CloudEvents' source (cloudEventSource of the deployment). */
  readonly source: string;
  /** A new producer; called again after a failed send (a fresh producer id after a broker restart). */
  readonly producer: () => MessageProducer;
  /** Whether records are taken now (spec.server.logPredictions, as for the inference log). */
  readonly enabled?: () => boolean;
  readonly onSent?: (stream: Stream, n: number) => void;
  readonly onDropped?: (stream: Stream, n: number) => void;
  /** The broker failed (first failure of an outage) or came back. */
  readonly onError?: (message: string, error: unknown) => void;
  readonly onRecovered?: (message: string) => void;
  /** Most events in one send (default 500). */
  readonly batchEvents?: number;
  readonly backoff?: Backoff;
}

type Stream = 'predictions' | 'feedback';

interface Buffered {
  readonly stream: Stream;
  readonly record: PredictionRecord | FeedbackRecord;
}

const defaultBackoff: Backoff = { baseMs: 250, capMs: 10_000 };

export class KafkaSink {
  private readonly buffer: Buffered[] = [];
  private producer: MessageProducer | undefined;
  private sending: Promise<void> | undefined;
  private connected = false;
  private failures = 0;
  private closed = false;

  constructor(private readonly o: KafkaSinkOptions) {}

  get buffered(): number {
    return this.buffer.length;
  }

  /** Takes one record of the inference log. Never waits: the send happens later, on its own. */
  publish(record: PredictionRecord | FeedbackRecord): void {
    if (this.closed || this.o.enabled?.() === false) return;
    const stream: Stream = record.kind === 'prediction' ? 'predictions' : 'feedback';
    if (this.buffer.length >= this.o.config.maxBufferedEvents) {
      this.o.onDropped?.(stream, 1);
      return;
    }
    this.buffer.push({ stream, record });
    this.sending ??= this.drain().finally(() => (this.sending = undefined));
  }

  /** Sends what is buffered until `deadlineMs` from now, then stops; what is left is counted as dropped. */
  async close(deadlineMs: number): Promise<{ sent: boolean; left: number }> {
    const until = Date.now() + deadlineMs;
    while (this.buffer.length > 0 && Date.now() < until) {
      this.sending ??= this.drain().finally(() => (this.sending = undefined));
      await Promise.race([this.sending, sleep(Math.max(0, until - Date.now()))]);
    }
    this.closed = true;
    const left = this.buffer.splice(0);
    for (const stream of ['predictions', 'feedback'] as const) {
      const n = left.filter((b) => b.stream === stream).length;
      if (n > 0) this.o.onDropped?.(stream, n);
    }
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
    return { sent: left.length === 0, left: left.length };
  }

  /** One sender: the oldest events first, a batch at a time, until the buffer is empty (or the sink closed). */
  private async drain(): Promise<void> {
    while (this.buffer.length > 0 && !this.closed) {
      const batch = this.buffer.slice(0, this.o.batchEvents ?? 500);
      try {
        this.producer ??= this.o.producer();
        if (!this.connected) await this.connect();
        await this.producer.send(batch.map((b) => this.message(b)));
      } catch (e: unknown) {
        await this.failed(e);
        continue;
      }
      this.buffer.splice(0, batch.length);
      for (const stream of ['predictions', 'feedback'] as const) {
        const n = batch.filter((b) => b.stream === stream).length;
        if (n > 0) this.o.onSent?.(stream, n);
      }
      if (this.failures > 0) this.o.onRecovered?.(`the Kafka broker took the events again after ${this.failures} failed sends`);
      this.failures = 0;
    }
  }

  private async connect(): Promise<void> {
    this.connected = false;
    await this.producer?.connect();
    this.connected = true;
  }

  /** A failed send: told once per outage, the producer rebuilt, a jittered wait before the next try. */
  private async failed(e: unknown): Promise<void> {
    if (this.failures === 0) this.o.onError?.(`the Kafka broker did not take ${this.buffer.length} events; they stay buffered and are sent again`, e);
    this.failures++;
    const old = this.producer;
    this.producer = undefined;
    this.connected = false;
    await old?.disconnect().catch(() => undefined);
    await sleep(backoffDelayMs(this.o.backoff ?? defaultBackoff, this.failures - 1));
  }

  private message(b: Buffered): KafkaMessage {
    const c = this.o.config;
    return {
      topic: b.stream === 'predictions' ? c.predictionsTopic : c.feedbackTopic,
      key: b.record.id,
      value: JSON.stringify(inferenceCloudEvent(this.o.source, b.record)),
    };
  }
}

/**
 * A kafkajs producer: idempotent (no duplicates from its own retries, one request in flight per broker so order
 * holds), acknowledged by all in-sync replicas, its own logging off (the sink reports failures once per outage).
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
  return () => {
    const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    return {
      connect: () => producer.connect(),
      send: async (messages) => {
        const byTopic = new Map<string, Array<{ key: string; value: string }>>();
        for (const m of messages) {
          const list = byTopic.get(m.topic) ?? [];
          list.push({ key: m.key, value: m.value });
          byTopic.set(m.topic, list);
        }
        await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs })) });
      },
      disconnect: () => producer.disconnect(),
    };
  };
}

/** The sink's metrics on the server's registry: events sent and dropped per stream, and the buffer's size. */
export function kafkaSinkMetrics(registry: Registry, buffered: () => number): { events: Counter<string> } {
  const events = new Counter({ name: N.kafkaEvents, help: 'CloudEvents of the Kafka sink by stream and outcome (sent: acknowledged by the broker; dropped: the local buffer was full, or the server stopped first).', labelNames: [L.stream, L.outcome], registers: [registry] });
  new Gauge({ name: N.kafkaBuffered, help: 'Events waiting in the Kafka sink\'s local buffer.', registers: [registry], collect() { this.set(buffered()); } });
  return { events };
}
