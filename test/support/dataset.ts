// A dataset the local loop runs on, described once: its rows, which columns are features, label, event time and row
// id, how it is cut into periods for upload (a period is one CSV object, as a data pipeline would drop it), and how a
// row becomes a request instance. The loop harness (loop-stack.ts, traffic.ts), `make demo`, `make dev` and the e2e
// tests take a Dataset instead of knowing any one of them: weather (weather-loop.ts) and the FAA bird strikes
// (birdstrikes.ts) are two instances.
import { readFileSync } from 'node:fs';

/** One row as read from its CSV: every column as text ('' for an empty field). */
export type Row = Readonly<Record<string, string>>;
/** A value of a request instance. */
export type Value = string | number;

export interface DatasetFeature {
  readonly name: string;
  readonly type: 'numeric' | 'categorical';
  readonly min?: number;
}

export interface Dataset {
  /** Names the data prefix (data/<namespace>/<name>/) and the objects' keys; a key segment. */
  readonly name: string;
  /** The CSV header, in order. */
  readonly columns: readonly string[];
  /** Every row, in event-time order (or in the order it was recorded). */
  readonly rows: readonly Row[];
  readonly features: readonly DatasetFeature[];
  readonly label: { readonly name: string; readonly task: 'classification' | 'regression'; readonly min?: number; readonly max?: number };
  /** The column holding each row's event time (a TrainingPipeline's timestampColumn). */
  readonly timestampColumn?: string;
  /** The column holding each row's id (a TrainingPipeline's rowIdColumn). */
  readonly rowIdColumn?: string;
  /** The period (upload object) a row belongs to, such as "1993" or "seattle-2012"; undefined: never uploaded. */
  periodOf(row: Row): string | undefined;
  /** The request instance a client sends for a row: the features, and the event time and row id when declared. */
  instance(row: Row): Record<string, Value>;
}

/** A request instance with the true label a label sender feeds back (undefined: the label is not known). */
export interface Sample {
  readonly instance: Record<string, Value>;
  readonly label: Value | undefined;
}

/** The row's label as a client feeds it back (a number for regression), or undefined when the row has none. */
export function labelOf(ds: Dataset, row: Row): Value | undefined {
  const raw = row[ds.label.name] ?? '';
  if (raw.trim() === '') return undefined;
  if (ds.label.task === 'classification') return raw;
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
}

/** Where a dataset's objects land: the namespace's own data prefix (all a namespace may read without a grant). */
export function dataPrefix(namespace: string, ds: Pick<Dataset, 'name'>): string {
  return `data/${namespace}/${ds.name}/`;
}

/** The key of one period's object. */
export function periodKey(namespace: string, ds: Dataset, period: string): string {
  return `${dataPrefix(namespace, ds)}${period}.csv`;
}

/** The periods of a dataset, in the order their first row appears. */
export function periods(ds: Dataset): string[] {
  return [...new Set(ds.rows.map((r) => ds.periodOf(r)).filter((p): p is string => p !== undefined))];
}

export function rowsOf(ds: Dataset, period: string): Row[] {
  return ds.rows.filter((r) => ds.periodOf(r) === period);
}

/**
 * One period as the CSV object uploaded for it: the header and the period's rows that have a label (uploaded data
 * is labelled data; a row without its label is only ever traffic).
 */
export function periodCsv(ds: Dataset, period: string): string {
  return toCsv(ds.columns, rowsOf(ds, period).filter((r) => labelOf(ds, r) !== undefined));
}

/** A period's rows as request instances with their labels, in the dataset's order. */
export function periodSamples(ds: Dataset, period: string): Sample[] {
  return samplesOf(ds, rowsOf(ds, period));
}

export function samplesOf(ds: Dataset, rows: readonly Row[]): Sample[] {
  return rows.map((r) => ({ instance: ds.instance(r), label: labelOf(ds, r) }));
}

/** The `data.schema` of a TrainingPipeline for the dataset. */
export function pipelineSchema(ds: Dataset): Record<string, unknown> {
  const { min, max } = ds.label;
  return {
    features: ds.features.map((f) => ({ name: f.name, type: f.type, ...(f.min !== undefined ? { min: f.min } : {}) })),
    label: { name: ds.label.name, task: ds.label.task, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) },
    ...(ds.timestampColumn !== undefined ? { timestampColumn: ds.timestampColumn } : {}),
    ...(ds.rowIdColumn !== undefined ? { rowIdColumn: ds.rowIdColumn } : {}),
  };
}

// ---- CSV

function quoted(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** A CSV with a header row; fields quoted only when they need it. */
export function toCsv(columns: readonly string[], rows: readonly Row[]): string {
  return [columns.map(quoted).join(','), ...rows.map((r) => columns.map((c) => quoted(r[c] ?? '')).join(','))].join('\n') + '\n';
}

/** Parses CSV text with a header row (RFC 4180: quoted fields, doubled quotes, newlines inside quotes, a BOM). */
export function parseCsv(text: string): { columns: string[]; rows: Row[] } {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let inQuotes = false;
  const src = text.startsWith('\uFEFF') ? text.slice(1) : text;
  for (let i = 0; i < src.length; i++) {
    const ch = src[i];
    if (inQuotes) {
      if (ch === '"' && src[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') {
        inQuotes = false;
      } else {
        field += ch;
      }
    } else if (ch === '"') {
      inQuotes = true;
    } else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && src[i + 1] === '\n') i++;
      record.push(field);
      field = '';
      if (record.length > 1 || record[0] !== '') records.push(record);
      record = [];
    } else {
      field += ch;
    }
  }
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  const [columns = [], ...body] = records;
  return { columns, rows: body.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i] ?? '']))) };
}

export function readCsvFile(path: string): { columns: string[]; rows: Row[] } {
  return parseCsv(readFileSync(path, 'utf8'));
}

/** Fisher–Yates with a seeded generator (mulberry32): the same order in every run. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
