// The Kafka sink (a ModelDeployment's spec.server.kafka): every record the inference log takes is also
// published as a CloudEvent (src/shared/cloudevents.ts) to the predictions or the feedback topic, keyed by its
// prediction id, so a prediction and its label meet in one partition.
//   publish() ──► the record is pushed on a bounded local buffer (in memory), nothing else on the request path
//                 ── full ──► the record is dropped and counted, never waited for
//   one sender at a time ──► waits up to lingerMs for a batch to fill (at once when batchEvents are waiting), then
//                 encodes the oldest events, up to a batch, and sends them in one produce request (acks from all
//                 in-sync replicas); events arriving meanwhile wait for the next batch
//   the broker acknowledged ──► they leave the buffer, counted as sent
//   a send fails ──► they stay; the producer is rebuilt and the send retried with jittered backoff, oldest first
//   close() ──► sends what is buffered until the deadline; what is left is counted as dropped
// Delivery is at least once: a send whose acknowledgement was lost is sent again (kafkajs's idempotent producer
// removes the duplicates of its own retries, but not of a send retried on a new producer). Every event keeps its
// CloudEvent id and key, so a consumer removes duplicates by (source, id). Predictions never wait for the broker.
// Why batches and a linger: the sink's cost is CPU per event on the server's one event loop (kafkajs encodes each
// record in JavaScript), and a produce request has a fixed cost on both sides; measured in docs/decisions/0017.
import { Kafka, logLevel, type PartitionerArgs, type Producer, type SASLOptions } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import { setTimeout as sleep } from 'node:timers/promises';
import { inferenceCloudEventJson } from '../shared/cloudevents.js';
import { backoffDelayMs, type Backoff } from '../shared/backoff.js';
import type { FeedbackRecord, PredictionRecord } from '../shared/inference-log.js';
import { serverMetricLabels as L, serverMetricNames as N } from '../shared/server-metrics.js';
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

/** The part of a kafkajs producer the sink uses (a unit test drives the buffer with its own). */
export interface MessageProducer {
  connect(): Promise<void>;
  /** One produce request for all of them; resolves once the broker acknowledged every one. */
  send(topics: readonly TopicMessages[]): Promise<void>;
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
  /** Longest wait for a batch to fill before it is sent anyway, from the start of the previous send (default 10 ms). */
  readonly lingerMs?: number;
  readonly backoff?: Backoff;
}

type Stream = 'predictions' | 'feedback';
type Event = PredictionRecord | FeedbackRecord;

const defaultBackoff: Backoff = { baseMs: 250, capMs: 10_000 };

/** What the sender knows when it decides to send. */
export interface SendMoment {
  /** Events in the buffer, not yet sent. */
  readonly waiting: number;
  readonly batchEvents: number;
  readonly lingerMs: number;
  /** Since the batch window opened: the first event into an idle sink, or the start of the previous send. */
  readonly sinceWindowMs: number;
  /** close() is waiting: nothing lingers. */
  readonly flushing: boolean;
}

/**
 * How long the sender waits before its next send: nothing when a full batch is waiting, the sink is closing or the
 * window is over; otherwise the rest of the window, so a batch collects what a few milliseconds of traffic bring
 * (one produce request, one acknowledgement for all of them) and no event waits much longer than lingerMs and one
 * send. While a send is in flight, new events wait for the next one anyway: under load the batches grow by themselves.
 */
export function sendDelayMs(m: SendMoment): number {
  if (m.waiting === 0) return 0;
  if (m.flushing || m.waiting >= m.batchEvents) return 0;
  return Math.max(0, m.lingerMs - m.sinceWindowMs);
}

/**
 * Whether the sent events at the front of the buffer (`head` of them, of `length`) are cut off now. Not after every
 * send: during a long backlog that would move the whole waiting buffer each time. Once they are all sent, or once
 * they are many and at least half of the array, the cut is cheap against what it frees.
 */
export function shouldCompact(head: number, length: number): boolean {
  return head > 0 && (head === length || (head >= 1024 && head * 2 >= length));
}

export class KafkaSink {
  /** Events in arrival order; those before `head` are sent and wait only to be cut off (shouldCompact). */
  private buffer: Event[] = [];
  private head = 0;
  private producer: MessageProducer | undefined;
  private sender: Promise<void> | undefined;
  /** Ends the sender's linger early: a full batch is waiting, or close() wants everything sent. */
  private wake: (() => void) | undefined;
  private windowStart = 0;
  private connected = false;
  private failures = 0;
  private flushing = false;
  private closed = false;
  private readonly batchEvents: number;
  private readonly lingerMs: number;

  constructor(private readonly o: KafkaSinkOptions) {
    this.batchEvents = o.batchEvents ?? 500;
    this.lingerMs = o.lingerMs ?? 10;
  }

  get buffered(): number {
    return this.buffer.length - this.head;
  }

  /** Takes one record of the inference log: a push on the buffer. Never waits: the send happens later, on its own. */
  publish(record: Event): void {
    if (this.closed || this.o.enabled?.() === false) return;
    if (this.buffered >= this.o.config.maxBufferedEvents) {
      this.o.onDropped?.(streamOf(record), 1);
      return;
    }
    this.buffer.push(record);
    if (this.sender === undefined) this.startSender();
    else if (this.wake !== undefined && this.buffered >= this.batchEvents) this.wake();
  }

  /** Sends what is buffered until `deadlineMs` from now, then stops; what is left is counted as dropped. */
  async close(deadlineMs: number): Promise<{ sent: boolean; left: number }> {
    const until = Date.now() + deadlineMs;
    this.flushing = true;
    this.wake?.();
    while (this.buffered > 0 && Date.now() < until) {
      if (this.sender === undefined) this.startSender();
      await Promise.race([this.sender, sleep(Math.max(0, until - Date.now()))]);
    }
    this.closed = true;
    this.wake?.();
    const left = this.buffer.slice(this.head);
    this.buffer = [];
    this.head = 0;
    this.count(left, 0, left.length, this.o.onDropped);
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
    return { sent: left.length === 0, left: left.length };
  }

  private startSender(): void {
    this.windowStart = Date.now();
    this.sender = this.send().finally(() => {
      this.sender = undefined;
      // An event pushed between the loop's last look at the buffer and this callback has no sender yet.
      if (this.buffered > 0 && !this.closed) this.startSender();
    });
  }

  /** The one sender: a batch at a time, oldest first, until the buffer is empty (or the sink closed). */
  private async send(): Promise<void> {
    while (this.buffered > 0 && !this.closed) {
      const wait = sendDelayMs({ waiting: this.buffered, batchEvents: this.batchEvents, lingerMs: this.lingerMs, sinceWindowMs: Date.now() - this.windowStart, flushing: this.flushing });
      if (wait > 0) await this.linger(wait);
      if (this.closed) return;
      const n = Math.min(this.buffered, this.batchEvents);
      this.windowStart = Date.now();
      try {
        this.producer ??= this.o.producer();
        if (!this.connected) await this.connect();
        await this.producer.send(this.encode(this.head, n));
      } catch (e: unknown) {
        await this.failed(e);
        continue;
      }
      if (this.closed) return; // close() counted these as left; they may have arrived too (at least once)
      this.count(this.buffer, this.head, n, this.o.onSent);
      this.head += n;
      if (shouldCompact(this.head, this.buffer.length)) {
        this.buffer = this.head === this.buffer.length ? [] : this.buffer.slice(this.head);
        this.head = 0;
      }
      if (this.failures > 0) this.o.onRecovered?.(`the Kafka broker took the events again after ${this.failures} failed sends`);
      this.failures = 0;
    }
  }

  private linger(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** The messages of buffer[from, from + n): one list per topic, in buffer order. */
  private encode(from: number, n: number): TopicMessages[] {
    const c = this.o.config;
    const predictions: KafkaMessage[] = [];
    const feedback: KafkaMessage[] = [];
    for (let i = from; i < from + n; i++) {
      const r = this.buffer[i];
      if (r === undefined) continue;
      const m = { key: Buffer.from(r.id), value: Buffer.from(inferenceCloudEventJson(this.o.source, r)) };
      if (r.kind === 'prediction') predictions.push(m);
      else feedback.push(m);
    }
    const topics: TopicMessages[] = [];
    if (predictions.length > 0) topics.push({ topic: c.predictionsTopic, messages: predictions });
    if (feedback.length > 0) topics.push({ topic: c.feedbackTopic, messages: feedback });
    return topics;
  }

  /** Tells `to` how many of events[from, from + n) were predictions and how many labels. */
  private count(events: readonly Event[], from: number, n: number, to: ((stream: Stream, n: number) => void) | undefined): void {
    let predictions = 0;
    for (let i = from; i < from + n; i++) if (events[i]?.kind === 'prediction') predictions++;
    if (predictions > 0) to?.('predictions', predictions);
    if (n - predictions > 0) to?.('feedback', n - predictions);
  }

  private async connect(): Promise<void> {
    this.connected = false;
    await this.producer?.connect();
    this.connected = true;
  }

  /** A failed send: told once per outage, the producer rebuilt, a jittered wait before the next try. */
  private async failed(e: unknown): Promise<void> {
    if (this.failures === 0) this.o.onError?.(`the Kafka broker did not take ${this.buffered} events; they stay buffered and are sent again`, e);
    this.failures++;
    const old = this.producer;
    this.producer = undefined;
    this.connected = false;
    await old?.disconnect().catch(() => undefined);
    await sleep(backoffDelayMs(this.o.backoff ?? defaultBackoff, this.failures - 1));
  }
}

function streamOf(r: Event): Stream {
  return r.kind === 'prediction' ? 'predictions' : 'feedback';
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

/** The sink's metrics on the server's registry: events sent and dropped per stream, and the buffer's size. */
export function kafkaSinkMetrics(registry: Registry, buffered: () => number): { events: Counter<string> } {
  const events = new Counter({ name: N.kafkaEvents, help: 'CloudEvents of the Kafka sink by stream and outcome (sent: acknowledged by the broker; dropped: the local buffer was full, or the server stopped first).', labelNames: [L.stream, L.outcome], registers: [registry] });
  new Gauge({ name: N.kafkaBuffered, help: 'Events waiting in the Kafka sink\'s local buffer.', registers: [registry], collect() { this.set(buffered()); } });
  return { events };
}
