// The Kafka sink's sender, in a thread of its own (kafka-worker.ts), so that the encoding of each record and the
// sends never take the server's event loop:
//   events from the sink ──► queued in arrival order (the sink bounds how many: it counts what it posted and
//                 was not yet acknowledged)
//   one send at a time ──► the oldest events, up to batchEvents and about maxSendChars, as CloudEvents (the
//                 record's JSON wrapped in the event's attributes) in one produce request per leader broker (acks
//                 from all in-sync replicas); events arriving meanwhile wait for the next; the sink lingers before
//                 it posts, so batches gather there
//   the broker acknowledged ──► they leave the queue; the sink is told how many of each stream (`sent`)
//   a send fails ──► they stay; the producer is rebuilt and the send retried with jittered backoff, oldest first;
//                 the first failure of an outage and the recovery are told to the sink (it logs them)
//   close ──► sends what is queued until the deadline, disconnects, answers `closed`
// Delivery is at least once: a send whose acknowledgement was lost is sent again on a new producer (the idempotent
// producer's sequence numbers hold within one producer only). Every event keeps its CloudEvent id and key.
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelayMs } from '../shared/backoff.js';
import { cloudEventWriter } from '../shared/cloudevents.js';
import type { KafkaMessage, MessageProducer, TopicMessages } from './kafka-producer.js';
import type { EventBatch, FromSender, SenderInit, ToSender } from './kafka-sender-messages.js';

export interface KafkaSenderOptions {
  readonly init: SenderInit;
  /** A new producer; called again after a failed send (a fresh producer id after a broker restart). */
  readonly producer: () => MessageProducer;
  /** Where the sender reports: `sent`, `failing`, `recovered` (the sink's port, in the thread). */
  readonly tell: (m: FromSender) => void;
}

/** Where the next send starts: the first queued batch not wholly sent, and the events of it already sent. */
interface Front {
  readonly batch: number;
  readonly offset: number;
}

/**
 * About how many bytes one send may carry: the records' JSON, keys and CloudEvent attributes, counted in characters
 * (what the queue holds; UTF-8 may be a little longer). Two reasons for a bound below the broker's limits: a broker
 * refuses a RecordBatch over its message.max.bytes (1 MB by default), which no retry would cure; and a Java broker
 * holds each request in one heap buffer, which from half a G1 region on (512 KB in a heap of up to 2 GB) is a
 * humongous allocation that starts a concurrent GC cycle: measured with bench/kafka-broker-cost.ts, requests of
 * 1.8 MB cost the broker more CPU per event than requests of 120 KB (docs/decisions/0019).
 */
export const maxSendChars = 384 * 1024;
/** The CloudEvent's attributes around a record's JSON, in characters, less the source and ids (counted apart). */
const envelopeChars = 160;

/**
 * How many events the next send takes from `from`: at most `maxEvents`, and no more than `maxChars` of keys, JSON
 * and attributes (`sourceChars`: the CloudEvent source's length), but always at least one (a single event larger
 * than the bound goes alone).
 */
export function sendSize(batches: readonly EventBatch[], from: Front, maxEvents: number, maxChars: number, sourceChars: number): number {
  let { batch, offset } = from;
  let n = 0;
  let chars = 0;
  while (n < maxEvents) {
    const b = batches[batch];
    if (b === undefined) break;
    const id = b.ids[offset] ?? '';
    chars += 2 * id.length + (b.data[offset]?.length ?? 0) + (b.times[offset]?.length ?? 0) + sourceChars + envelopeChars;
    if (n > 0 && chars > maxChars) break;
    n++;
    if (++offset === b.ids.length) {
      batch++;
      offset = 0;
    }
  }
  return n;
}

/** The position `n` events after `from` in `batches`, and how many of those n were predictions. */
export function advance(batches: readonly EventBatch[], from: Front, n: number): { to: Front; predictions: number } {
  let { batch, offset } = from;
  let predictions = 0;
  for (let left = n; left > 0;) {
    const b = batches[batch];
    if (b === undefined) break;
    const take = Math.min(left, b.ids.length - offset);
    for (let i = offset; i < offset + take; i++) if (b.kinds[i] === 'prediction') predictions++;
    left -= take;
    offset += take;
    if (offset === b.ids.length) {
      batch++;
      offset = 0;
    }
  }
  return { to: { batch, offset }, predictions };
}

export class KafkaSender {
  /** Batches as the sink posted them; events before `front` are sent. */
  private queue: EventBatch[] = [];
  private front: Front = { batch: 0, offset: 0 };
  private queued = 0;
  private producer: MessageProducer | undefined;
  private connected = false;
  private sending: Promise<void> | undefined;
  private failures = 0;
  private closed = false;
  private readonly event: ReturnType<typeof cloudEventWriter>;

  constructor(private readonly o: KafkaSenderOptions) {
    this.event = cloudEventWriter(o.init.source);
  }

  /** Events not yet acknowledged. */
  get waiting(): number {
    return this.queued;
  }

  take(batch: EventBatch): void {
    if (this.closed || batch.ids.length === 0) return;
    this.queue.push(batch);
    this.queued += batch.ids.length;
    this.sending ??= this.run().finally(() => {
      this.sending = undefined;
    });
  }

  /** Sends what is queued until `until` (epoch ms), then stops and disconnects; what is left stays unacknowledged. */
  async close(until: number): Promise<void> {
    while (this.queued > 0 && Date.now() < until) {
      this.sending ??= this.run().finally(() => {
        this.sending = undefined;
      });
      await Promise.race([this.sending, sleep(Math.max(0, until - Date.now()))]);
    }
    this.closed = true;
    const producer = this.producer;
    this.producer = undefined;
    await Promise.race([producer?.disconnect().catch(() => undefined), sleep(500)]);
  }

  /** The one send loop: a batch at a time, oldest first, until the queue is empty (or the sender closed). */
  private async run(): Promise<void> {
    while (this.queued > 0 && !this.closed) {
      const n = sendSize(this.queue, this.front, this.o.init.batchEvents, maxSendChars, this.o.init.source.length);
      try {
        this.producer ??= this.o.producer();
        if (!this.connected) await this.connect();
        await this.producer.send(this.encode(n));
      } catch (e: unknown) {
        await this.failed(e);
        continue;
      }
      if (this.closed) return; // the sink counts these as left; they may have arrived too (at least once)
      const { to, predictions } = advance(this.queue, this.front, n);
      this.queue = to.batch === 0 ? this.queue : this.queue.slice(to.batch);
      this.front = { batch: 0, offset: to.offset };
      this.queued -= n;
      this.o.tell({ type: 'sent', predictions, feedback: n - predictions });
      if (this.failures > 0) this.o.tell({ type: 'recovered', message: `the Kafka broker took the events again after ${this.failures} failed sends` });
      this.failures = 0;
    }
  }

  /** The next `n` events as messages: one list per topic, in queue order. */
  private encode(n: number): TopicMessages[] {
    const c = this.o.init.config;
    const predictions: KafkaMessage[] = [];
    const feedback: KafkaMessage[] = [];
    let { batch, offset } = this.front;
    for (let left = n; left > 0; left--) {
      const b = this.queue[batch];
      if (b === undefined) break;
      const kind = b.kinds[offset] ?? 'prediction';
      const id = b.ids[offset] ?? '';
      const m = { key: id, value: this.event(kind, id, b.times[offset] ?? '', b.data[offset] ?? 'null') };
      if (kind === 'prediction') predictions.push(m);
      else feedback.push(m);
      if (++offset === b.ids.length) {
        batch++;
        offset = 0;
      }
    }
    const topics: TopicMessages[] = [];
    if (predictions.length > 0) topics.push({ topic: c.predictionsTopic, messages: predictions });
    if (feedback.length > 0) topics.push({ topic: c.feedbackTopic, messages: feedback });
    return topics;
  }

  private async connect(): Promise<void> {
    this.connected = false;
    await this.producer?.connect();
    this.connected = true;
  }

  /** A failed send: told once per outage, the producer rebuilt, a jittered wait before the next try. */
  private async failed(e: unknown): Promise<void> {
    if (this.failures === 0) {
      this.o.tell({ type: 'failing', message: `the Kafka broker did not take ${this.queued} events; they stay buffered and are sent again`, error: e instanceof Error ? e.message : String(e) });
    }
    this.failures++;
    const old = this.producer;
    this.producer = undefined;
    this.connected = false;
    await old?.disconnect().catch(() => undefined);
    await sleep(backoffDelayMs(this.o.init.backoff, this.failures - 1));
  }
}

/** The part of a MessagePort the sender thread uses (parentPort in kafka-worker.ts). */
export interface SenderPort {
  postMessage(m: FromSender): void;
  on(event: 'message', listener: (m: ToSender) => void): unknown;
}

/** Runs a sender on `port`: batches in, reports out; on `close`, flushes until the deadline and answers `closed`. */
export function serveSender(port: SenderPort, init: SenderInit, producer: () => MessageProducer): KafkaSender {
  const sender = new KafkaSender({ init, producer, tell: (m) => port.postMessage(m) });
  port.on('message', (m) => {
    if (m.type === 'events') sender.take(m);
    else void sender.close(m.until).then(() => port.postMessage({ type: 'closed' }));
  });
  port.postMessage({ type: 'ready' });
  return sender;
}
