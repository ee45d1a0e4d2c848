// CSV records as csv-parse reads them (RFC 4180: quoted fields, "" escapes, newlines inside quotes, a byte-order
// mark, a delimiter other than the comma), from the bounded lines of one object (readLines in record-stream.ts),
// each with the line it starts on for the validation report.
//
// csv-parse stops at the first syntax error of its input, and its skip mode swallows the good records after a
// stray quote; a bad line must cost only itself. So an object is read by a chain of parsers: when one fails, the
// record it was reading is reported at its first line and a new parser starts on the line after, given again the
// lines the failed one had already taken (at most one record's worth: csv-parse's max_record_size bounds a record
// as readLines bounds a line). Lines are written one at a time and csv-parse calls back while a line is written,
// so records and bad lines come out in line order.
import { Parser, type CsvError, type Info } from 'csv-parse';
import type { RawValue } from '../shared/preprocessing.js';
import { trainerDefaults } from '../shared/trainer-config.js';
import { tooLongReason, type LineItem, type RecordItem } from './record-stream.js';

export interface CsvOptions {
  /** The field separator (default ","). */
  readonly delimiter?: string;
  /** Longest record, in characters, a quoted field spanning lines included (default: the default maxLineBytes). */
  readonly maxRecordBytes?: number;
}

const batchBytesLimit = 64 * 1024;

/** Fields of one record, or why the record starting at `line` could not be read. */
type Parsed =
  | { readonly kind: 'fields'; readonly line: number; readonly fields: readonly string[] }
  | { readonly kind: 'bad-line'; readonly line: number; readonly reason: string };

interface Line {
  readonly line: number;
  readonly text: string;
}

/** The words of the validation report for csv-parse's errors. */
export function csvErrorReason(code: string): string {
  switch (code) {
    case 'CSV_QUOTE_NOT_CLOSED': return 'unterminated quoted field';
    case 'CSV_MAX_RECORD_SIZE': return 'unterminated quoted field (the record runs past the limit)';
    case 'INVALID_OPENING_QUOTE': return 'quote inside an unquoted field';
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE': return 'unexpected character after quoted field';
    default: return `malformed CSV (${code})`;
  }
}

/** Feeds lines to csv-parse, one parser after another (see the header). */
class ParserChain {
  private parser!: Parser;
  /** The line number of the current parser's first line: its own line numbers start at 1 there. */
  private base = 1;
  /**
   * Lines written to the current parser; those from index `next` on came after the last record ended (what a new
   * parser is given again when this one fails).
   */
  private taken: Line[] = [];
  private next = 0;
  private readonly out: Parsed[] = [];

  constructor(private readonly options: Required<CsvOptions>) {
    this.start(1, true);
  }

  /** Takes consecutive lines; returns what is complete so far. */
  write(lines: readonly Line[]): Parsed[] {
    this.feed(lines);
    return this.out.splice(0);
  }

  /** No more lines (the end of the object, or a line too long to read): the last record ends here. */
  end(nextLine: number): Parsed[] {
    for (;;) {
      this.parser.end();
      const again = this.failure();
      if (again === undefined) break;
      this.feed(again);
    }
    this.start(nextLine, false);
    return this.out.splice(0);
  }

  private start(base: number, first: boolean): void {
    this.base = base;
    this.taken = [];
    this.next = 0;
    this.parser = new Parser({
      bom: first,
      delimiter: this.options.delimiter,
      record_delimiter: '\n',
      relax_column_count: true,
      skip_empty_lines: true,
      max_record_size: this.options.maxRecordBytes,
      on_record: (fields: string[], context: Info) => {
        this.emit(fields, context.lines);
        return null;
      },
    });
    // Failures are read from `errored` right after each write; the event would only repeat them later.
    this.parser.on('error', () => undefined);
  }

  /** Writes the lines in one piece; when the parser fails, the new one is given the lines after the failed record. */
  private feed(lines: readonly Line[]): void {
    for (let batch = lines; batch.length > 0;) {
      this.taken = [...this.taken.slice(this.next), ...batch];
      this.next = 0;
      const text = batch.map((l) => l.text).join('\n');
      this.parser.write(batch[0]?.line === this.base ? text : `\n${text}`);
      batch = this.failure() ?? [];
    }
  }

  /** A record ended on `lines` (the parser's numbering): it started on the first non-empty line after the last. */
  private emit(fields: string[], lines: number): void {
    const end = this.base + lines - 1;
    const first = this.firstPending()?.line ?? end;
    while (this.next < this.taken.length && (this.taken[this.next]?.line ?? Infinity) <= end) this.next++;
    this.out.push({ kind: 'fields', line: first, fields });
  }

  /** The first line of the record being read: the first non-empty line after the last record (skipped past). */
  private firstPending(): Line | undefined {
    while (this.taken[this.next]?.text === '') this.next++;
    return this.taken[this.next];
  }

  /**
   * When the parser failed: reports the record it was reading at its first line, starts a new parser on the line
   * after and returns the lines to give it again.
   */
  private failure(): Line[] | undefined {
    const e = this.parser.errored as CsvError | null;
    if (e === null) return undefined;
    const first = this.firstPending()?.line ?? this.base + Number(e['lines'] ?? 1) - 1;
    this.out.push({ kind: 'bad-line', line: first, reason: csvErrorReason(e.code) });
    const again = this.taken.slice(this.next).filter((l) => l.line > first);
    this.start(first + 1, false);
    return again;
  }
}

/**
 * CSV records keyed by the header (the first record; names trimmed). A record whose field count differs from the
 * header's is a bad line; empty lines and blank ones are skipped. `header` receives the column names once read.
 */
export async function* readCsv(lines: AsyncIterable<LineItem>, header?: (columns: readonly string[]) => void, options: CsvOptions = {}): AsyncGenerator<RecordItem> {
  const chain = new ParserChain({ delimiter: options.delimiter ?? ',', maxRecordBytes: options.maxRecordBytes ?? trainerDefaults.maxLineBytes });
  let columns: string[] | undefined;
  let next = 1;
  // Lines go to the parser in batches of about batchBytes: one write per line would cost more than the parsing.
  let batch: Line[] = [];
  let batchBytes = 0;
  const records = function* (parsed: readonly Parsed[]): Generator<RecordItem> {
    for (const p of parsed) {
      if (p.kind === 'bad-line') {
        yield p;
      } else if (p.fields.length === 1 && p.fields[0]?.trim() === '') {
        continue;
      } else if (columns === undefined) {
        columns = p.fields.map((f) => f.trim());
        header?.(columns);
      } else if (p.fields.length !== columns.length) {
        yield { kind: 'bad-line', line: p.line, reason: `${p.fields.length} fields, header has ${columns.length}` };
      } else {
        const values: Record<string, RawValue> = {};
        columns.forEach((c, i) => (values[c] = p.fields[i]));
        yield { kind: 'record', line: p.line, values };
      }
    }
  };
  for await (const item of lines) {
    next = item.line + 1;
    if (item.kind === 'line') {
      batch.push(item);
      batchBytes += item.text.length;
      if (batchBytes < batchBytesLimit) continue;
      yield* records(chain.write(batch));
      [batch, batchBytes] = [[], 0];
      continue;
    }
    // A line too long to hold ends the record before it; the parser after it starts on the next line.
    yield* records(chain.write(batch));
    [batch, batchBytes] = [[], 0];
    yield* records(chain.end(item.line + 1));
    yield { kind: 'bad-line', line: item.line, reason: tooLongReason(item.bytes) };
  }
  yield* records(chain.write(batch));
  yield* records(chain.end(next));
}
