// What the Kafka sink (the server's main thread, kafka-sink.ts) and its sender thread (kafka-worker.ts running
// kafka-sender.ts) tell each other. Plain data: each message crosses the thread boundary by structured clone.
import type { Backoff } from '../shared/backoff.js';
import type { KafkaSinkConfig } from './kafka-producer.js';

export type Stream = 'predictions' | 'feedback';

/**
 * Events for the sender, in arrival order: event i is column i of every array. The request path only turned each
 * record into JSON (`data`); the sender wraps it in the CloudEvent's attributes and makes the message's bytes.
 */
export interface EventBatch {
  readonly type: 'events';
  readonly kinds: Array<'prediction' | 'feedback'>;
  /** The prediction ids: the message keys (a label's too). */
  readonly ids: string[];
  readonly times: string[];
  /** Each record's JSON, as the CloudEvent's `data`. */
  readonly data: string[];
}

/** Send what is queued until `until` (epoch milliseconds), then disconnect and answer `closed`. */
export interface CloseRequest {
  readonly type: 'close';
  readonly until: number;
}

export type ToSender = EventBatch | CloseRequest;

export type FromSender =
  /** The thread runs: batches may come. */
  | { readonly type: 'ready' }
  /** The broker acknowledged the oldest events the sender held: this many of each stream. */
  | { readonly type: 'sent'; readonly predictions: number; readonly feedback: number }
  /** The first failed send of an outage (the events stay queued and are sent again). */
  | { readonly type: 'failing'; readonly message: string; readonly error: string }
  | { readonly type: 'recovered'; readonly message: string }
  /** The answer to `close`: nothing more is sent; what was not acknowledged is left. */
  | { readonly type: 'closed' };

/** The sender thread's workerData: where to send, and how. The config holds the SASL password: never logged. */
export interface SenderInit {
  readonly config: KafkaSinkConfig;
  readonly clientId: string;
  /** The CloudEvents' source. */
  readonly source: string;
  /** Most events in one produce request. */
  readonly batchEvents: number;
  /** Waits between failed sends. */
  readonly backoff: Backoff;
}
