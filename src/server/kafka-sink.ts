// The Kafka sink (a ModelDeployment's spec.server.kafka): every record the inference log takes is also
// published as a CloudEvent (src/shared/cloudevents.ts) to the predictions or the feedback topic, keyed by its
// prediction id, so a prediction and its label meet in one partition.
// Two threads. On the server's event loop (this module), per record only: its JSON and a push on the batch being
// gathered. Everything else (the CloudEvent's attributes, the produce requests' bytes, the sends, the retries) runs in the
// sender thread (kafka-worker.ts, kafka-sender.ts), which the main thread never waits for:
//   publish() ──► the record's JSON is pushed on the gathering batch
//                 ── the buffer is full ──► the record is dropped and counted, never waited for
//   the batch is posted to the sender thread (one message) lingerMs after its first event, at once when it holds
//                 batchEvents or the sink is closing; until the thread said it runs (started, restarted), it keeps
//                 gathering
//   the sender sends the oldest events in batches (kafka-sender.ts) and reports what the broker acknowledged: they
//                 leave the buffer, counted as sent
//   the buffer: events gathered plus events posted and not yet acknowledged, at most maxBufferedEvents, so a
//                 broker that is away (the sender holding everything) bounds the memory of both threads
//   the sender thread exits (a crash) ──► what it held is counted as dropped, the exit logged, the thread started
//                 again after a jittered backoff; predictions go on meanwhile
//   close() ──► the sender sends what is buffered until the deadline; what is left is counted as dropped
// Delivery is at least once (kafka-sender.ts); a consumer removes duplicates by (source, id).
// Why a thread: the sink's cost was CPU per event on the server's one event loop, the bound of its throughput
// (kafkajs, the producer then, encoded each record in JavaScript); measured in docs/decisions/0017.
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { Counter, Gauge, type Registry } from 'prom-client';
import { backoffDelayMs, type Backoff } from '../shared/backoff.js';
import type { FeedbackRecord, PredictionRecord } from '../shared/inference-log.js';
import { serverMetricLabels as L, serverMetricNames as N } from '../shared/server-metrics.js';
import type { KafkaSinkConfig } from './kafka-producer.js';
import type { EventBatch, FromSender, SenderInit, Stream } from './kafka-sender-messages.js';

export type { KafkaSaslMechanism, KafkaSinkConfig } from './kafka-producer.js';

export interface KafkaSinkOptions {
  readonly config: KafkaSinkConfig;
  /** The CloudEvents' source (cloudEventSource of the deployment). */
  readonly source: string;
  /** The Kafka client id the sender uses. */
  readonly clientId: string;
  /** Whether records are taken now (spec.server.logPredictions, as for the inference log). */
  readonly enabled?: () => boolean;
  readonly onSent?: (stream: Stream, n: number) => void;
  readonly onDropped?: (stream: Stream, n: number) => void;
  /** The broker failed (first failure of an outage) or came back. */
  readonly onError?: (message: string, error: unknown) => void;
  readonly onRecovered?: (message: string) => void;
  /** The sender thread exited while the sink was open (it is started again). */
  readonly onSenderExit?: (message: string, error: unknown) => void;
  /** Most events in one message to the sender and in one send (default 500). */
  readonly batchEvents?: number;
  /**
   * Longest wait of a gathered event before its batch goes to the sender (default 50 ms). Long enough that under
   * load a produce request carries a full batch (a broker's CPU per event falls with the events per request:
   * bench/kafka-broker-cost.ts, docs/decisions/0019); an audit log can wait that long.
   */
  readonly lingerMs?: number;
  /** Waits between failed sends (the sender's). */
  readonly backoff?: Backoff;
  /** Waits before the sender thread is started again after exits in a row. */
  readonly restartBackoff?: Backoff;
  /** Starts the sender thread (default: startSenderThread); the unit tests start one with a broker of their own. */
  readonly startSender?: (init: SenderInit) => Worker;
}

type Event = PredictionRecord | FeedbackRecord;

const defaultBackoff: Backoff = { baseMs: 250, capMs: 10_000 };
/** How long close() waits past its deadline for the sender's answer (its start, its disconnect), then stops it. */
const closeGraceMs = 1000;

/** What the sink knows when an event joined the gathering batch. */
export interface PostMoment {
  /** Events gathered, not yet posted to the sender. */
  readonly gathered: number;
  readonly batchEvents: number;
  /** close() is waiting: nothing lingers. */
  readonly closing: boolean;
  /** The sender thread said it runs (not starting, not exited and waiting to be started again). */
  readonly senderUp: boolean;
}

/**
 * What happens to the gathering batch: posted now when it is full or the sink is closing; held while there is no
 * sender thread to post to (the buffer bound still holds); otherwise posted when the linger that its first event
 * started is over. One message per batch keeps the main thread's share of the sink small: a few hundred events
 * cost one structured clone, not one message each.
 */
export function postWhen(m: PostMoment): 'now' | 'linger' | 'hold' {
  if (!m.senderUp) return 'hold';
  if (m.closing || m.gathered >= m.batchEvents) return 'now';
  return 'linger';
}

/**
 * Where the sender thread's entry is, beside this module: kafka-worker.js in the server bundle (this code is then
 * in main.js, and scripts/bundle.mjs puts kafka-worker.js beside it); kafka-worker.ts in the repository, run from
 * source through tsx (tests, development).
 */
export function senderEntry(moduleUrl: string): URL {
  return new URL(new URL(moduleUrl).pathname.endsWith('.ts') ? './kafka-worker.ts' : './kafka-worker.js', moduleUrl);
}

/**
 * A worker thread running `entry`. A .ts entry (from source) gets tsx's loader registered first: a worker does not
 * inherit the one `--import tsx` registered in this thread (Node 20).
 */
export function startWorker(entry: URL, options: WorkerOptions): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`, { ...options, eval: true });
}

/** The sender thread of the server: kafka-worker.{js,ts} with `init` as its workerData. */
export function startSenderThread(init: SenderInit): Worker {
  return startWorker(senderEntry(import.meta.url), { workerData: init });
}

function emptyBatch(): EventBatch {
  return { type: 'events', kinds: [], ids: [], times: [], data: [] };
}

export class KafkaSink {
  /** Events gathered on this thread, not yet posted to the sender. */
  private gathering = emptyBatch();
  private gatheredPredictions = 0;
  /** Events posted to the sender and not yet acknowledged, per stream. */
  private posted = { predictions: 0, feedback: 0 };
  private sender: Worker | undefined;
  /** The sender thread said it runs: batches are posted to it from then on (not to a thread that cannot start). */
  private senderReady = false;
  private lingerTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Sender exits since it last reported a send: the restart's backoff grows with them. */
  private exitsInARow = 0;
  private closeAnswered: (() => void) | undefined;
  private closing = false;
  private closed = false;
  private readonly init: SenderInit;
  private readonly batchEvents: number;
  private readonly lingerMs: number;

  constructor(private readonly o: KafkaSinkOptions) {
    this.batchEvents = o.batchEvents ?? 500;
    this.lingerMs = o.lingerMs ?? 50;
    this.init = { config: o.config, clientId: o.clientId, source: o.source, batchEvents: this.batchEvents, backoff: o.backoff ?? defaultBackoff };
    this.startSender();
  }

  /** Events gathered or with the sender, not yet acknowledged by the broker. */
  get buffered(): number {
    return this.gathering.ids.length + this.posted.predictions + this.posted.feedback;
  }

  /**
   * Takes one record of the inference log: its JSON joins the gathering batch. Never waits for the sender. `json`:
   * the record's JSON when the caller has it already (the inference log's line, `JSON.stringify(record)`).
   */
  publish(record: Event, json?: string): void {
    if (this.closed || this.o.enabled?.() === false) return;
    if (this.buffered >= this.o.config.maxBufferedEvents) {
      this.o.onDropped?.(record.kind === 'prediction' ? 'predictions' : 'feedback', 1);
      return;
    }
    const b = this.gathering;
    b.kinds.push(record.kind);
    b.ids.push(record.id);
    b.times.push(record.time);
    b.data.push(json ?? JSON.stringify(record));
    if (record.kind === 'prediction') this.gatheredPredictions++;
    const when = postWhen({ gathered: b.ids.length, batchEvents: this.batchEvents, closing: this.closing, senderUp: this.senderReady });
    if (when === 'now') this.post();
    else if (when === 'linger' && this.lingerTimer === undefined) this.lingerTimer = setTimeout(() => this.post(), this.lingerMs);
  }

  /** Has the sender send what is buffered until `deadlineMs` from now, then stops it; what is left is counted as dropped. */
  async close(deadlineMs: number): Promise<{ sent: boolean; left: number }> {
    if (this.closing) return { sent: true, left: 0 }; // closed, or being closed by an earlier call that counts what is left
    const until = Date.now() + deadlineMs;
    this.closing = true;
    if (this.sender === undefined) {
      // Exited and waiting for its restart: one more start, for the flush.
      clearTimeout(this.restartTimer);
      this.startSender();
    }
    this.post();
    const sender = this.sender;
    if (sender !== undefined) {
      sender.postMessage({ type: 'close', until });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, until - Date.now()) + closeGraceMs);
        this.closeAnswered = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.closed = true;
    this.closeAnswered = undefined;
    clearTimeout(this.lingerTimer);
    const left = this.buffered;
    this.drop(this.gatheredPredictions + this.posted.predictions, this.gathering.ids.length - this.gatheredPredictions + this.posted.feedback);
    this.gathering = emptyBatch();
    this.gatheredPredictions = 0;
    this.posted = { predictions: 0, feedback: 0 };
    this.sender = undefined; // before terminate(): its exit is not a crash
    await sender?.terminate();
    return { sent: left === 0, left };
  }

  /** The gathering batch to the sender, as one message (queued by the thread until it runs, if it does not yet). */
  private post(): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    const b = this.gathering;
    if (this.sender === undefined || b.ids.length === 0) return;
    this.sender.postMessage(b);
    this.posted.predictions += this.gatheredPredictions;
    this.posted.feedback += b.ids.length - this.gatheredPredictions;
    this.gathering = emptyBatch();
    this.gatheredPredictions = 0;
  }

  private startSender(): void {
    this.restartTimer = undefined;
    let error: unknown;
    let w: Worker;
    try {
      w = (this.o.startSender ?? startSenderThread)(this.init);
    } catch (e: unknown) {
      this.senderExited('it could not be started', e);
      return;
    }
    w.unref(); // the server's listeners keep the process; close() ends the thread
    w.on('message', (m: FromSender) => this.heard(m));
    w.on('error', (e) => (error = e));
    w.on('exit', (code) => {
      if (this.sender === w) this.senderExited(`exit code ${code}`, error);
    });
    this.sender = w;
  }

  private heard(m: FromSender): void {
    switch (m.type) {
      case 'ready':
        this.senderReady = true;
        this.post();
        return;
      case 'sent':
        this.posted.predictions -= m.predictions;
        this.posted.feedback -= m.feedback;
        if (m.predictions > 0) this.o.onSent?.('predictions', m.predictions);
        if (m.feedback > 0) this.o.onSent?.('feedback', m.feedback);
        this.exitsInARow = 0;
        return;
      case 'failing':
        this.o.onError?.(m.message, m.error);
        return;
      case 'recovered':
        this.o.onRecovered?.(m.message);
        return;
      case 'closed':
        this.closeAnswered?.();
        return;
    }
  }

  /** The sender thread is gone: what it held is dropped (and counted), and it is started again. */
  private senderExited(how: string, error: unknown): void {
    this.sender = undefined;
    this.senderReady = false;
    if (this.closing) {
      this.closeAnswered?.(); // close() counts what is left
      return;
    }
    const lost = this.posted.predictions + this.posted.feedback;
    this.drop(this.posted.predictions, this.posted.feedback);
    this.posted = { predictions: 0, feedback: 0 };
    const delay = backoffDelayMs(this.o.restartBackoff ?? defaultBackoff, this.exitsInARow);
    this.exitsInARow++;
    this.o.onSenderExit?.(`the Kafka sender thread stopped (${how}); the ${lost} events it held are counted as dropped; it starts again in ${delay} ms`, error);
    this.restartTimer = setTimeout(() => this.startSender(), delay);
  }

  private drop(predictions: number, feedback: number): void {
    if (predictions > 0) this.o.onDropped?.('predictions', predictions);
    if (feedback > 0) this.o.onDropped?.('feedback', feedback);
  }
}

/** The sink's metrics on the server's registry: events sent and dropped per stream, and the buffer's size. */
export function kafkaSinkMetrics(registry: Registry, buffered: () => number): { events: Counter<string>; senderExits: Counter<string> } {
  const senderExits = new Counter({ name: N.kafkaSenderExits, help: 'Exits of the Kafka sink\'s sender thread (a crash or a failed start), each followed by a restart with backoff; the events it held are counted as dropped.', registers: [registry] });
  const events = new Counter({ name: N.kafkaEvents, help: 'CloudEvents of the Kafka sink by stream and outcome (sent: acknowledged by the broker; dropped: the local buffer was full, the sender thread crashed holding them, or the server stopped first).', labelNames: [L.stream, L.outcome], registers: [registry] });
  new Gauge({ name: N.kafkaBuffered, help: 'Events waiting in the Kafka sink\'s local buffer.', registers: [registry], collect() { this.set(buffered()); } });
  return { events, senderExits };
}
