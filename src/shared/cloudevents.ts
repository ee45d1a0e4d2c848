// The inference log's records as CloudEvents 1.0 in structured JSON mode: the whole event (its attributes and the
// record as `data`) is one JSON document, the Kafka message's value. A prediction and its label carry the same
// prediction id: it is the message key of both, so they land in one partition, in the order they were sent, and
// `subject` names it for consumers that read the event alone. `id` is unique per event and source, and stays the
// same when a message is sent again: a consumer drops duplicates by (source, id). Version 1.
import type { FeedbackRecord, PredictionRecord } from './inference-log.js';
import type { DeploymentRef } from './artifact-layout.js';

export const cloudEventTypes = {
  prediction: 'dev.perennial.prediction.v1',
  feedback: 'dev.perennial.feedback.v1',
} as const;

export interface InferenceCloudEvent {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: (typeof cloudEventTypes)[keyof typeof cloudEventTypes];
  readonly subject: string;
  readonly time: string;
  readonly datacontenttype: 'application/json';
  readonly data: PredictionRecord | FeedbackRecord;
}

/** The source every event of a deployment carries: `/perennial/<namespace>/<deployment>`. */
export function cloudEventSource(d: DeploymentRef): string {
  return `/perennial/${d.namespace}/${d.name}`;
}

/**
 * The event of one record. A prediction's id is its prediction id; a label's is the prediction id with `/feedback`
 * (the server takes one label per prediction id, so that is unique too).
 */
export function inferenceCloudEvent(source: string, record: PredictionRecord | FeedbackRecord): InferenceCloudEvent {
  return {
    specversion: '1.0',
    id: record.kind === 'prediction' ? record.id : `${record.id}/feedback`,
    source,
    type: cloudEventTypes[record.kind],
    subject: record.id,
    time: record.time,
    datacontenttype: 'application/json',
    data: record,
  };
}

/**
 * The event of one record as the JSON text of a Kafka message's value: the same document as
 * `JSON.stringify(inferenceCloudEvent(source, record))`, key for key, built by joining the attributes' JSON around
 * the record's instead of through an intermediate object (the Kafka sink writes one per prediction).
 */
export function inferenceCloudEventJson(source: string, record: PredictionRecord | FeedbackRecord): string {
  return cloudEventWriter(source)(record.kind, record.id, record.time, JSON.stringify(record));
}

/**
 * The events of one source as JSON text, from each record's parts: its kind, prediction id and time, and the
 * record's own JSON (`data`, as `JSON.stringify(record)` gives it). The Kafka sink's request path only turns the
 * record into JSON; its sender thread wraps it in the event's attributes with this (src/server/kafka-sender.ts).
 */
export function cloudEventWriter(source: string): (kind: 'prediction' | 'feedback', id: string, time: string, dataJson: string) => string {
  const sourceJson = JSON.stringify(source);
  return (kind, id, time, dataJson) => {
    const eventId = kind === 'prediction' ? id : `${id}/feedback`;
    return `{"specversion":"1.0","id":${JSON.stringify(eventId)},"source":${sourceJson},"type":"${cloudEventTypes[kind]}","subject":${JSON.stringify(id)},"time":${JSON.stringify(time)},"datacontenttype":"application/json","data":${dataJson}}`;
  };
}
