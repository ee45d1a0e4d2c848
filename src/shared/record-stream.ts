// Streaming readers for data objects: bytes → lines (bounded) → records. An object is never held whole in
// memory, and neither is a line: a line longer than maxLineBytes is skipped up to its newline and reported as
// a `too-long` item, so a 5 MB line costs at most maxLineBytes of memory.
// CSV follows RFC 4180 within one line (quoted fields, "" escapes); a quoted field spanning lines is reported
// as malformed rather than silently joined.
import { StringDecoder } from 'node:string_decoder';
import type { RawValue } from './preprocessing.js';

export type LineItem =
  | { readonly kind: 'line'; readonly line: number; readonly text: string }
  | { readonly kind: 'too-long'; readonly line: number; readonly bytes: number };

/** Splits a byte stream into lines (LF or CRLF). Line numbers start at 1. */
export async function* readLines(source: AsyncIterable<Uint8Array | string>, maxLineBytes: number): AsyncGenerator<LineItem> {
  let parts: Buffer[] = [];
  let length = 0;
  let overflow = false;
  let line = 1;
  const finish = function* (): Generator<LineItem> {
    if (overflow) yield { kind: 'too-long', line, bytes: length };
    else {
      let buf = Buffer.concat(parts, length);
      if (buf.length > 0 && buf[buf.length - 1] === 0x0d) buf = buf.subarray(0, buf.length - 1);
      yield { kind: 'line', line, text: new StringDecoder('utf8').end(buf) };
    }
    parts = [];
    length = 0;
    overflow = false;
    line++;
  };
  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (;;) {
      const nl = bytes.indexOf(0x0a, start);
      const end = nl < 0 ? bytes.length : nl;
      const piece = bytes.subarray(start, end);
      length += piece.length;
      if (!overflow && length > maxLineBytes) {
        overflow = true;
        parts = [];
      }
      // Copy: the chunk's buffer may be reused by the stream after we yield.
      if (!overflow && piece.length > 0) parts.push(Buffer.from(piece));
      if (nl < 0) break;
      yield* finish();
      start = nl + 1;
    }
  }
  if (length > 0 || overflow) yield* finish();
}

export class CsvSyntaxError extends Error {
  override readonly name = 'CsvSyntaxError';
}

/** Splits one CSV line into fields. Throws CsvSyntaxError on an unterminated quote or stray quote. */
export function parseCsvLine(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let field = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new CsvSyntaxError('unterminated quoted field');
        field += text.slice(i, q);
        if (text[q + 1] === '"') {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(field);
      if (i === text.length) return out;
      if (text[i] !== ',') throw new CsvSyntaxError(`unexpected character after quoted field at ${i}`);
      i++;
    } else {
      const c = text.indexOf(',', i);
      const field = c < 0 ? text.slice(i) : text.slice(i, c);
      if (field.includes('"')) throw new CsvSyntaxError('quote inside an unquoted field');
      out.push(field);
      if (c < 0) return out;
      i = c + 1;
    }
  }
}

export type RecordItem =
  | { readonly kind: 'record'; readonly line: number; readonly values: Readonly<Record<string, RawValue>> }
  | { readonly kind: 'bad-line'; readonly line: number; readonly reason: string };

/**
 * CSV records keyed by the header line. A line whose field count differs from the header is a bad line.
 * Empty lines are skipped. `header` receives the column names once read.
 */
export async function* readCsv(lines: AsyncIterable<LineItem>, header?: (columns: readonly string[]) => void): AsyncGenerator<RecordItem> {
  let columns: string[] | undefined;
  for await (const item of lines) {
    if (item.kind === 'too-long') {
      yield { kind: 'bad-line', line: item.line, reason: `line is ${item.bytes} bytes, longer than the limit` };
      continue;
    }
    if (item.text.trim() === '') continue;
    let fields: string[];
    try {
      fields = parseCsvLine(item.text);
    } catch (e: unknown) {
      yield { kind: 'bad-line', line: item.line, reason: e instanceof Error ? e.message : String(e) };
      continue;
    }
    if (columns === undefined) {
      columns = fields.map((f, i) => (i === 0 ? f.replace(/^\uFEFF/, '') : f).trim());
      header?.(columns);
      continue;
    }
    if (fields.length !== columns.length) {
      yield { kind: 'bad-line', line: item.line, reason: `${fields.length} fields, header has ${columns.length}` };
      continue;
    }
    const values: Record<string, RawValue> = {};
    columns.forEach((c, i) => (values[c] = fields[i]));
    yield { kind: 'record', line: item.line, values };
  }
}

/** JSON Lines records: each non-empty line must be one JSON object (nested values are kept as JSON text). */
export async function* readJsonl(lines: AsyncIterable<LineItem>): AsyncGenerator<RecordItem> {
  for await (const item of lines) {
    if (item.kind === 'too-long') {
      yield { kind: 'bad-line', line: item.line, reason: `line is ${item.bytes} bytes, longer than the limit` };
      continue;
    }
    if (item.text.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(item.text);
    } catch {
      yield { kind: 'bad-line', line: item.line, reason: 'not valid JSON' };
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      yield { kind: 'bad-line', line: item.line, reason: 'not a JSON object' };
      continue;
    }
    const values: Record<string, RawValue> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      values[k] = x === null || typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean' ? x : JSON.stringify(x);
    }
    yield { kind: 'record', line: item.line, values };
  }
}
