import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventTimeProblem, extrasOf, maxExtraBytes, rowIdProblem, rowMetaOf, withMeta, type RowExtras } from './row-extras.js';

describe('extrasOf', () => {
  it('is undefined when the spec declares neither column (specs written before them)', () => {
    assert.equal(extrasOf({}), undefined);
    assert.equal(extrasOf({ timestampColumn: '', rowIdColumn: '' }), undefined);
    assert.deepEqual(extrasOf({ timestampColumn: 'ts' }), { timestampColumn: 'ts', rowIdColumn: undefined });
    assert.deepEqual(extrasOf({ rowIdColumn: 'id' }), { timestampColumn: undefined, rowIdColumn: 'id' });
  });
});

describe('eventTimeProblem', () => {
  const table: [string, unknown, boolean][] = [
    ['ISO date', '2021-05-01', true], ['ISO time with zone', '2021-05-01T10:00:00.123+02:00', true], ['epoch ms', 1.6e12, true],
    ['epoch 0', 0, true], ['negative epoch ms (before 1970)', -1e12, true], ['absent', undefined, true], ['null', null, true],
    ['empty string (an empty CSV cell)', '', true], ['padded ISO (toTime trims)', ' 2021-05-01 ', true],
    ['words', 'soon', false], ['whitespace only', '   ', false], ['month 13', '2021-13-01', false], ['NaN as text', 'NaN', false],
    ['Infinity', Infinity, false], ['NaN', NaN, false], ['past a Date\'s range', 8.64e15 + 1, false], ['boolean', true, false],
    ['object', { t: 1 }, false], ['array', ['2021-05-01'], false], [`${maxExtraBytes + 1}-byte string`, '2021-05-01'.padEnd(maxExtraBytes + 1, ' '), false],
  ];
  for (const [name, v, ok] of table) it(`${ok ? 'takes' : 'refuses'}: ${name}`, () => assert.equal(eventTimeProblem(v) === undefined, ok, eventTimeProblem(v)));
  it('quotes a long unreadable value cut short', () => {
    assert.ok((eventTimeProblem('y'.repeat(200)) ?? '').length < 120);
  });
});

describe('rowIdProblem', () => {
  const table: [string, unknown, boolean][] = [
    ['string', 'a-1', true], ['integer', 42, true], ['float', 4.5, true], ['absent', undefined, true], ['null', null, true], ['empty', '', true],
    [`${maxExtraBytes} bytes`, 'x'.repeat(maxExtraBytes), true], [`${maxExtraBytes + 1} bytes`, 'x'.repeat(maxExtraBytes + 1), false],
    ['129 two-byte characters (258 bytes)', 'é'.repeat(129), false], ['Infinity', Infinity, false], ['NaN', NaN, false],
    ['boolean', false, false], ['object', {}, false], ['array', [1], false],
  ];
  for (const [name, v, ok] of table) it(`${ok ? 'takes' : 'refuses'}: ${name}`, () => assert.equal(rowIdProblem(v) === undefined, ok, rowIdProblem(v)));
});

describe('rowMetaOf', () => {
  const both: RowExtras = { timestampColumn: 'ts', rowIdColumn: 'rid' };
  const table: [string, RowExtras, unknown, unknown, ReturnType<typeof rowMetaOf>][] = [
    ['both, as sent; a numeric id as text', both, 1.6e12, 7, { meta: { eventTime: 1.6e12, rowId: '7' } }],
    ['a string time kept as sent (not normalised)', both, '2021-05-01 10:00', 'a', { meta: { eventTime: '2021-05-01 10:00', rowId: 'a' } }],
    ['neither present', both, undefined, null, { meta: {} }],
    ['only the id declared: a time value is not read', { timestampColumn: undefined, rowIdColumn: 'rid' }, 'junk', 'a', { meta: { rowId: 'a' } }],
    ['only the time declared: an id value is not read', { timestampColumn: 'ts', rowIdColumn: undefined }, 0, {}, { meta: { eventTime: 0 } }],
    ['a bad time names its column', both, 'soon', 'a', { problem: 'ts: "soon" is not an event time (ISO-8601 or epoch milliseconds)' }],
    ['a bad id names its column', both, 0, true, { problem: 'rid: expected a row id (a string or a number), got boolean' }],
  ];
  for (const [name, extras, time, id, want] of table) it(name, () => assert.deepEqual(rowMetaOf(extras, time, id), want));
});

describe('withMeta', () => {
  it('puts the meta back under the request\'s column names, leaving the row itself alone', () => {
    const row = { x: 1 };
    const extras: RowExtras = { timestampColumn: 'ts', rowIdColumn: 'rid' };
    assert.deepEqual(withMeta(row, extras, { eventTime: '2021-05-01', rowId: '7' }), { x: 1, ts: '2021-05-01', rid: '7' });
    assert.deepEqual(withMeta(row, extras, {}), { x: 1 });
    assert.equal(withMeta(row, extras, undefined), row);
    assert.deepEqual(row, { x: 1 });
  });
});
