// What a bucket notification says, and which pipelines it concerns. Pure.
//
// MinIO (notify_webhook) and AWS S3 (through SQS/SNS/EventBridge) send the same S3 event records:
//   { "EventName": "s3:ObjectCreated:Put", "Key": "bucket/key", "Records": [ { "eventName": "...",
//     "s3": { "bucket": { "name": "bucket" }, "object": { "key": "url-encoded key", ... } } } ] }
// The object key is URL-encoded as a query value (a space is "+"). Only the bucket and key matter here: a
// notification only says "look again", and the listing that follows decides what is new.
import type { TrainingPipeline } from '../../api/training-pipeline.js';
import type { ObjectKey } from '../runtime/resource.js';

export interface ObjectChange {
  readonly bucket: string;
  readonly key: string;
}

export class NotificationFormatError extends Error {
  override readonly name = 'NotificationFormatError';
}

function decodeKey(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new NotificationFormatError('an object key is not URL-encoded');
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The objects an event document names. Throws NotificationFormatError when it is not an S3 event document. */
export function parseEvent(body: unknown): ObjectChange[] {
  if (!isObject(body)) throw new NotificationFormatError('the body is not a JSON object');
  const records = body['Records'];
  if (!Array.isArray(records)) throw new NotificationFormatError('the body has no Records list');
  return records.map((r: unknown, i): ObjectChange => {
    const s3 = isObject(r) ? r['s3'] : undefined;
    const bucket = isObject(s3) && isObject(s3['bucket']) ? s3['bucket']['name'] : undefined;
    const key = isObject(s3) && isObject(s3['object']) ? s3['object']['key'] : undefined;
    if (typeof bucket !== 'string' || bucket === '' || typeof key !== 'string') {
      throw new NotificationFormatError(`Records[${i}] has no s3.bucket.name and s3.object.key`);
    }
    return { bucket, key: decodeKey(key) };
  });
}

/**
 * The pipelines with a newData trigger that read an object that changed: a source in the same bucket (its own, or
 * the operator's default) whose prefix the key starts with.
 */
export function pipelinesReading(pipelines: readonly TrainingPipeline[], changes: readonly ObjectChange[], defaultBucket: string): ObjectKey[] {
  const out: ObjectKey[] = [];
  for (const tp of pipelines) {
    if (!tp.spec?.triggers?.newData) continue;
    const reads = tp.spec.data.sources.some((src) => {
      const bucket = src.bucket ?? tp.spec.storage?.bucket ?? defaultBucket;
      return changes.some((c) => c.bucket === bucket && c.key.startsWith(src.prefix));
    });
    if (reads) out.push({ namespace: tp.metadata.namespace ?? '', name: tp.metadata.name ?? '' });
  }
  return out;
}
