import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { readCsv } from './csv-records.js';
import { readJsonl, readLines, type LineItem, type RecordItem } from './record-stream.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function chunks(...parts: (string | Buffer)[]): AsyncIterable<Buffer> {
  return Readable.from(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
}

describe('record streams', () => {
  const lineCases: { name: string; parts: (string | Buffer)[]; want: string[] }[] = [
    { name: 'LF and CRLF', parts: ['a\r\nb\nc'], want: ['a', 'b', 'c'] },
    { name: 'line split across chunks', parts: ['ab', 'c\nd', 'e\n'], want: ['abc', 'de'] },
    { name: 'multi-byte character split across chunks', parts: [Buffer.from([0x68, 0xc3]), Buffer.from([0xa9, 0x0a])], want: ['hé'] },
    { name: 'blank lines kept for numbering', parts: ['a\n\nb\n'], want: ['a', '', 'b'] },
    { name: 'empty input', parts: [], want: [] },
  ];
  for (const c of lineCases) {
    it(`splits lines: ${c.name}`, async () => {
      const items = await collect(readLines(chunks(...c.parts), 1024));
      assert.deepEqual(items.map((i) => (i.kind === 'line' ? i.text : '<too long>')), c.want);
      assert.deepEqual(items.map((i) => i.line), c.want.map((_, i) => i + 1));
    });
  }

  it('skips a 5 MB line without holding it, and keeps counting lines', async () => {
    const big = 'x'.repeat(64 * 1024);
    // 5 MiB on one line, in 64 KiB chunks
    const source = (): AsyncIterable<string> => Readable.from(['a,b\n1,2\n', ...Array.from({ length: 80 }, () => big), '\n3,4\n'], { objectMode: true });
    const items: LineItem[] = await collect(readLines(source(), 1024 * 1024));
    assert.deepEqual(items.map((i) => i.kind), ['line', 'line', 'too-long', 'line']);
    const tooLong = items[2];
    assert.equal(tooLong?.kind === 'too-long' ? tooLong.bytes : 0, 80 * 64 * 1024);
    assert.equal(tooLong?.line, 3);
    const records: RecordItem[] = await collect(readCsv(readLines(source(), 1024 * 1024)));
    assert.deepEqual(records.map((r) => (r.kind === 'record' ? r.values : r.reason)), [{ a: '1', b: '2' }, 'line is 5242880 bytes, longer than the limit', { a: '3', b: '4' }]);
  });

  it('honours a configurable max line length', async () => {
    const items = await collect(readLines(chunks('short\n', 'much longer line\n'), 8));
    assert.deepEqual(items.map((i) => i.kind), ['line', 'too-long']);
  });

  const csv: { line: string; want: string[] | RegExp }[] = [
    { line: 'a,b,c', want: ['a', 'b', 'c'] },
    { line: 'a,,c,', want: ['a', '', 'c', ''] },
    { line: '"x,y","say ""hi""",z', want: ['x,y', 'say "hi"', 'z'] },
    { line: '"open', want: /unterminated/ },
    { line: 'a"b', want: /quote inside/ },
    { line: '"a"b', want: /after quoted field/ },
  ];
  /** The fields of one CSV line (read as the header), or why it could not be read. */
  async function parseCsvLine(line: string): Promise<string[] | string> {
    let fields: string[] | undefined;
    const items = await collect(readCsv(readLines(chunks(line), 100), (h) => (fields = [...h])));
    const bad = items.find((i) => i.kind === 'bad-line');
    return bad?.kind === 'bad-line' ? bad.reason : fields ?? [];
  }
  for (const c of csv) {
    it(`parses CSV ${JSON.stringify(c.line)}`, async () => {
      if (c.want instanceof RegExp) assert.match(String(await parseCsvLine(c.line)), c.want);
      else assert.deepEqual(await parseCsvLine(c.line), c.want);
    });
  }

  it('reports CSV lines whose field count differs from the header', async () => {
    const records = await collect(readCsv(readLines(chunks('\uFEFFa,b\n1,2\n1,2,3\n\n4,5\n'), 100)));
    assert.deepEqual(records, [
      { kind: 'record', line: 2, values: { a: '1', b: '2' } },
      { kind: 'bad-line', line: 3, reason: '3 fields, header has 2' },
      { kind: 'record', line: 5, values: { a: '4', b: '5' } },
    ]);
  });

  it('reads JSON Lines objects and reports the rest', async () => {
    const records = await collect(readJsonl(readLines(chunks('{"a":1,"b":"x","n":null}\n[1]\n{bad\n{"o":{"k":1}}\n'), 100)));
    assert.deepEqual(records, [
      { kind: 'record', line: 1, values: { a: 1, b: 'x', n: null } },
      { kind: 'bad-line', line: 2, reason: 'not a JSON object' },
      { kind: 'bad-line', line: 3, reason: 'not valid JSON' },
      { kind: 'record', line: 4, values: { o: '{"k":1}' } },
    ]);
  });
});
