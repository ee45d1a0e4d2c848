// What csv-parse makes possible (quoted newlines, a byte-order mark, another delimiter) and what the parser chain
// keeps: a bad line costs only itself, every record keeps the line it starts on, a record is bounded.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { readCsv, type CsvOptions } from './csv-records.js';
import { readLines, type RecordItem } from './record-stream.js';

async function read(text: string, options: CsvOptions = {}, maxLineBytes = 1024): Promise<(string | Record<string, unknown>)[]> {
  const out: (string | Record<string, unknown>)[] = [];
  const items: RecordItem[] = [];
  for await (const item of readCsv(readLines(Readable.from([Buffer.from(text)]), maxLineBytes), undefined, options)) items.push(item);
  for (const i of items) out.push(i.kind === 'record' ? { line: i.line, ...i.values } : `${i.line}: ${i.reason}`);
  return out;
}

describe('CSV records', () => {
  const cases: { name: string; text: string; options?: CsvOptions; maxLineBytes?: number; want: (string | Record<string, unknown>)[] }[] = [
    {
      name: 'a quoted field with newlines is one value; the record keeps its first line',
      text: 'a,b\n"x\n\ny",1\n2,3\n',
      want: [{ line: 2, a: 'x\n\ny', b: '1' }, { line: 5, a: '2', b: '3' }],
    },
    {
      name: 'empty and blank lines are skipped, line numbers kept',
      text: 'a,b\n\n1,2\n  \n\n"p",3\n',
      want: [{ line: 3, a: '1', b: '2' }, { line: 6, a: 'p', b: '3' }],
    },
    { name: 'a byte-order mark before a quoted header', text: '\uFEFF"a",b\n1,2', want: [{ line: 2, a: '1', b: '2' }] },
    { name: 'semicolons', text: 'a;b\n"1;5";2\n', options: { delimiter: ';' }, want: [{ line: 2, a: '1;5', b: '2' }] },
    { name: 'tabs', text: 'a\tb\n1\t2\n', options: { delimiter: '\t' }, want: [{ line: 2, a: '1', b: '2' }] },
    {
      name: 'a stray quote costs only its line (csv-parse\'s skip mode would lose the records after it)',
      text: 'a,b\n1,2\n"c"d,3\n4,5\na"b,6\n7,8\n',
      want: [{ line: 2, a: '1', b: '2' }, '3: unexpected character after quoted field', { line: 4, a: '4', b: '5' }, '5: quote inside an unquoted field', { line: 6, a: '7', b: '8' }],
    },
    {
      name: 'an unterminated quote at the end reports its line and keeps the lines after it',
      text: 'a,b\n"x,1\n7,8\n',
      want: ['2: unterminated quoted field', { line: 3, a: '7', b: '8' }],
    },
    {
      name: 'an unterminated quote that runs past the record limit reports its line; the lines it swallowed are read again',
      text: `a,b\n"x,1\n${Array.from({ length: 8 }, (_, i) => `${i},${i}`).join('\n')}\n`,
      options: { maxRecordBytes: 12 },
      want: ['2: unterminated quoted field (the record runs past the limit)', ...Array.from({ length: 8 }, (_, i) => ({ line: i + 3, a: String(i), b: String(i) }))],
    },
    {
      name: 'a line too long to hold ends the quoted record it falls into',
      text: `a,b\n"x\n${'z'.repeat(40)}\ny",1\n2,3\n`,
      maxLineBytes: 16,
      want: ['2: unterminated quoted field', '3: line is 40 bytes, longer than the limit', '4: quote inside an unquoted field', { line: 5, a: '2', b: '3' }],
    },
    {
      name: 'a bad header line: the next good line is the header',
      text: 'a"x,b\nc,d\n1,2\n',
      want: ['1: quote inside an unquoted field', { line: 3, c: '1', d: '2' }],
    },
    { name: 'the last record without a newline', text: 'a,b\n1,"2"', want: [{ line: 2, a: '1', b: '2' }] },
  ];
  for (const c of cases) {
    it(c.name, async () => assert.deepEqual(await read(c.text, c.options, c.maxLineBytes), c.want));
  }

  it('reads 10,000 records split anywhere across chunks the same as in one piece', async () => {
    const text = `a,b\n${Array.from({ length: 10_000 }, (_, i) => (i % 7 === 0 ? `"q\n${i}",${i}` : `${i},"${i}"`)).join('\n')}\n`;
    const whole = await read(text);
    const bytes = Buffer.from(text);
    const pieces = Array.from({ length: Math.ceil(bytes.length / 997) }, (_, i) => bytes.subarray(i * 997, (i + 1) * 997));
    const items: RecordItem[] = [];
    for await (const item of readCsv(readLines(Readable.from(pieces), 1024))) items.push(item);
    assert.equal(whole.length, 10_000);
    assert.deepEqual(items.map((i) => (i.kind === 'record' ? { line: i.line, ...i.values } : i.reason)), whole);
  });
});
