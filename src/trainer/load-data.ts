// Reads the data sources and the feedback logs from the store, one object at a time and one line at a time.
// Only the columns the schema needs are kept per row; everything the validator needs to name offenders
// (object keys, line numbers, unparseable lines) is recorded on the way.
import type { Readable } from 'node:stream';
import { joinFeedback, parseLogRecord, type FeedbackRecord, type PredictionRecord } from '../shared/inference-log.js';
import { toCategory, toTime, type RawRow, type RawValue } from '../shared/preprocessing.js';
import { readCsv } from './csv-records.js';
import { readJsonl, readLines, type RecordItem } from './record-stream.js';
import type { TrainerConfig } from '../shared/trainer-config.js';
import type { ObjectInfo, ObjectStore } from '../storage/object-store.js';
import type { Row } from './rows.js';
import type { BadLine, ObjectSummary } from './validate.js';

export interface SourceObject {
  readonly bucket: string;
  readonly key: string;
  readonly etag: string;
  readonly size: number;
}

export interface LoadedData {
  readonly rows: Row[];
  readonly objects: ObjectSummary[];
  readonly badLines: BadLine[];
  /** Every object read, for lineage (data and feedback logs). */
  readonly sources: SourceObject[];
  readonly feedback: ReturnType<typeof joinFeedback>['stats'] | undefined;
  /** Rows dropped by the `where` filter. */
  readonly filteredOut: number;
}

export function neededColumns(config: TrainerConfig): string[] {
  const s = config.schema;
  return [...new Set([
    ...s.features.map((f) => f.name), s.label,
    ...(s.timestamp !== undefined ? [s.timestamp] : []),
    ...(s.rowId !== undefined ? [s.rowId] : []),
    ...(config.data.where ? [config.data.where.column] : []),
  ])];
}

function project(values: Readonly<Record<string, RawValue>>, columns: readonly string[]): RawRow {
  const out: Record<string, RawValue> = {};
  for (const c of columns) if (c in values) out[c] = values[c];
  return out;
}

async function listData(store: ObjectStore, bucket: string, prefix: string): Promise<ObjectInfo[]> {
  // "Folder" placeholder objects end in "/" and hold nothing.
  return (await store.list(bucket, prefix)).filter((o) => !o.key.endsWith('/'));
}

/** Streams every data object, keeping projected rows that pass the `where` filter. */
export async function loadData(store: ObjectStore, config: TrainerConfig, defaultBucket: string): Promise<LoadedData> {
  const columns = neededColumns(config);
  const rows: Row[] = [];
  const objects: ObjectSummary[] = [];
  const badLines: BadLine[] = [];
  const sources: SourceObject[] = [];
  const where = config.data.where;
  const ts = config.schema.timestamp;
  let filteredOut = 0;
  for (const source of config.data.sources) {
    const bucket = source.bucket ?? defaultBucket;
    for (const info of await listData(store, bucket, source.prefix)) {
      sources.push({ bucket, key: info.key, etag: info.etag, size: info.size });
      const seen = new Set<string>();
      let header: readonly string[] = [];
      let count = 0;
      let parsed = 0;
      const body: Readable = await store.get(bucket, info.key);
      const lines = readLines(body, config.validation.maxLineBytes);
      const records: AsyncGenerator<RecordItem> = source.format === 'csv'
        ? readCsv(lines, (h) => (header = h), { delimiter: source.delimiter, maxRecordBytes: config.validation.maxLineBytes })
        : readJsonl(lines);
      for await (const item of records) {
        if (item.kind === 'bad-line') {
          badLines.push({ object: info.key, line: item.line, reason: item.reason });
          continue;
        }
        parsed++;
        if (source.format === 'jsonl') for (const k of Object.keys(item.values)) seen.add(k);
        if (where && !where.in.includes(toCategory(item.values[where.column]) ?? '')) {
          filteredOut++;
          continue;
        }
        count++;
        const values = project(item.values, columns);
        rows.push({ values, ref: { object: info.key, line: item.line }, time: ts !== undefined ? toTime(values[ts]) : undefined });
      }
      objects.push({ key: info.key, etag: info.etag, size: info.size, records: parsed, rows: count, columns: source.format === 'csv' ? header : [...seen].sort() });
    }
  }
  let feedback: LoadedData['feedback'];
  if (config.data.feedback) {
    const fb = config.data.feedback;
    const bucket = fb.bucket ?? defaultBucket;
    const predictions: PredictionRecord[] = [];
    const labels: FeedbackRecord[] = [];
    for (const prefix of [fb.predictionsPrefix, fb.feedbackPrefix]) {
      for (const info of await listData(store, bucket, prefix)) {
        sources.push({ bucket, key: info.key, etag: info.etag, size: info.size });
        for await (const item of readLines(await store.get(bucket, info.key), config.validation.maxLineBytes)) {
          if (item.kind !== 'line' || item.text.trim() === '') continue;
          let rec: ReturnType<typeof parseLogRecord>;
          try {
            rec = parseLogRecord(JSON.parse(item.text));
          } catch {
            rec = undefined;
          }
          // Logs are the server's output, not user data: a torn or foreign line is skipped, not fatal.
          if (rec?.kind === 'prediction') predictions.push(rec);
          else if (rec?.kind === 'feedback') labels.push(rec);
        }
      }
    }
    // The timestamp column of a fed-back row holds its event time (the prediction time only when the request carried
    // none, counted in the stats), so windows, the holdout and the drift reference see it where its uploaded copy is.
    const joined = joinFeedback(predictions, labels, { labelColumn: config.schema.label, timestampColumn: ts, rowIdColumn: config.schema.rowId, modelVersion: fb.modelVersion });
    feedback = joined.stats;
    joined.joined.forEach(({ values, predictionTime, labelTime }, i) => {
      rows.push({
        values: project(values, columns), ref: { object: `feedback:${fb.feedbackPrefix}`, line: i + 1 }, time: ts !== undefined ? toTime(values[ts]) : undefined, fedBack: true,
        ...(Number.isFinite(predictionTime) ? { predictionTime } : {}),
        ...(Number.isFinite(labelTime) ? { labelTime } : {}),
      });
    });
  }
  return { rows, objects, badLines, sources, feedback, filteredOut };
}
