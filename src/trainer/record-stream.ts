// Streaming readers for data objects: bytes → lines (bounded) → records. An object is never held whole in
// memory, and neither is a line: a line longer than maxLineBytes is skipped up to its newline and reported as
// a `too-long` item, so a 5 MB line costs at most maxLineBytes of memory. JSON Lines records are here; CSV
// records (csv-parse) are in csv-records.ts, read from the same bounded lines.
import { StringDecoder } from 'node:string_decoder';
import type { RawValue } from '../shared/preprocessing.js';

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

export type RecordItem =
  | { readonly kind: 'record'; readonly line: number; readonly values: Readonly<Record<string, RawValue>> }
  | { readonly kind: 'bad-line'; readonly line: number; readonly reason: string };

/** The reason a line over the limit is a bad line (the same words for CSV and JSON Lines). */
export function tooLongReason(bytes: number): string {
  return `line is ${bytes} bytes, longer than the limit`;
}

/** JSON Lines records: each non-empty line must be one JSON object (nested values are kept as JSON text). */
export async function* readJsonl(lines: AsyncIterable<LineItem>): AsyncGenerator<RecordItem> {
  for await (const item of lines) {
    if (item.kind === 'too-long') {
      yield { kind: 'bad-line', line: item.line, reason: tooLongReason(item.bytes) };
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
