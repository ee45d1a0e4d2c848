import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BadRequestError, checkValue, parseFeedback, parseV1Predict, type FeatureSignature } from './requests.js';
import type { RowExtras } from './row-extras.js';

const features: FeatureSignature[] = [{ name: 'temp', kind: 'numeric' }, { name: 'city', kind: 'categorical' }, { name: 'day', kind: 'date' }];
const row = { temp: 12.5, city: 'Seattle', day: '2015-03-01' };

describe('checkValue', () => {
  const table: [string, FeatureSignature['kind'], unknown, boolean][] = [
    ['number', 'numeric', 1.5, true], ['null is missing', 'numeric', null, true], ['numeric string', 'numeric', '1.5', false],
    ['boolean as number', 'numeric', true, false], ['string category', 'categorical', 'x', true], ['number category', 'categorical', 7, true],
    ['object category', 'categorical', {}, false], ['ISO date', 'date', '2015-01-01', true], ['epoch ms', 'date', 1.4e12, true],
    ['bad date', 'date', 'soon', false], ['array date', 'date', [], false],
    ['largest float32', 'numeric', 3.4e38, true], ['1e300 is not float32', 'numeric', 1e300, false], ['-1e39', 'numeric', -1e39, false],
    ['Infinity (JSON 1e400)', 'numeric', Infinity, false], ['NaN spelled as a string', 'numeric', 'NaN', false], ['"Infinity" string', 'numeric', 'Infinity', false],
    ['Infinity as a category', 'categorical', Infinity, false], ['"NaN" is a category like any other', 'categorical', 'NaN', true],
    ['epoch ms out of a Date\'s range', 'date', 1e300, false], ['NaN date string', 'date', 'NaN', false], ['month 13', 'date', '2015-13-01', false],
    ['256-byte category', 'categorical', 'x'.repeat(256), true], ['257-byte category', 'categorical', 'x'.repeat(257), false],
    ['128 two-byte characters (256 bytes)', 'categorical', 'é'.repeat(128), true], ['129 two-byte characters (258 bytes)', 'categorical', 'é'.repeat(129), false],
    ['a 1 MB date string', 'date', '2015-01-01'.padEnd(1 << 20, ' '), false],
  ];
  for (const [name, kind, v, ok] of table) it(name, () => assert.equal(checkValue(kind, v, 256) === undefined, ok));

  it('names the problem: float32, length in bytes; 0 switches the string cap off', () => {
    assert.match(checkValue('numeric', 1e300) ?? '', /1e\+300 is not a finite float32 number/);
    assert.match(checkValue('categorical', 'é'.repeat(129), 256) ?? '', /a string of 258 bytes, longer than 256/);
    assert.match(checkValue('categorical', 'x'.repeat(1 << 20), 256) ?? '', /a string longer than 256 bytes/);
    assert.equal(checkValue('categorical', 'x'.repeat(1 << 20), 0), undefined);
  });
});

describe('parseV1Predict', () => {
  it('keeps only the model\'s features, as received', () => {
    assert.deepEqual(parseV1Predict({ instances: [{ ...row, weather: 'sun' }] }, features, 10), { rows: [row], meta: undefined });
  });
  const bad: [string, unknown, RegExp, number][] = [
    ['not an object', [], /JSON object/, 400],
    ['no instances', {}, /missing field "instances"/, 400],
    ['empty', { instances: [] }, /is empty/, 400],
    ['too many', { instances: [row, row, row] }, /3 instances, at most 2/, 413],
    ['instance not an object', { instances: [1] }, /instances\[0\] must be an object/, 400],
    ['missing feature', { instances: [row, { temp: 1, day: '2015-01-01' }] }, /instances\[1\]: missing feature "city"/, 400],
    ['wrong type', { instances: [{ ...row, temp: '12' }] }, /instances\[0\]\.temp: expected a number or null, got string/, 400],
    ['a string past the cap', { instances: [{ ...row, city: 'x'.repeat(300) }] }, /instances\[0\]\.city: a string longer than 256 bytes/, 400],
    ['a number past float32', { instances: [{ ...row, temp: 1e300 }] }, /instances\[0\]\.temp: 1e\+300 is not a finite float32 number/, 400],
  ];
  for (const [name, body, reason, status] of bad) {
    it(`rejects: ${name}`, () => {
      assert.throws(() => parseV1Predict(body, features, 2, 256), (e: unknown) => e instanceof BadRequestError && reason.test(e.message) && e.status === status);
    });
  }
  it('reads own properties only: a feature named like an Object.prototype member is still missing', () => {
    const proto: FeatureSignature[] = [{ name: 'toString', kind: 'numeric' }, { name: 'constructor', kind: 'categorical' }];
    assert.throws(() => parseV1Predict({ instances: [{}] }, proto, 2), /instances\[0\]: missing feature "toString"/);
    assert.deepEqual(parseV1Predict(JSON.parse('{"instances":[{"toString":1,"constructor":"a","__proto__":{"x":1}}]}'), proto, 2).rows, [{ toString: 1, constructor: 'a' }]);
  });
});

describe('event time and row id besides the features', () => {
  const extras: RowExtras = { timestampColumn: 'ts', rowIdColumn: 'rid' };
  it('v1: logs them per instance, never as features; numbers as ids become strings; absent, null or "" is no value', () => {
    const body = { instances: [{ ...row, ts: '2021-05-01T10:00:00Z', rid: 'a-1' }, { ...row, ts: 1.6e12, rid: 42 }, row, { ...row, ts: null, rid: '' }] };
    assert.deepEqual(parseV1Predict(body, features, 10, 256, extras), {
      rows: [row, row, row, row],
      meta: [{ eventTime: '2021-05-01T10:00:00Z', rowId: 'a-1' }, { eventTime: 1.6e12, rowId: '42' }, {}, {}],
    });
  });
  it('v1: a timestamp column that is also a feature is fed to the model and logged', () => {
    const p = parseV1Predict({ instances: [row] }, features, 10, 256, { timestampColumn: 'day', rowIdColumn: undefined });
    assert.deepEqual(p, { rows: [row], meta: [{ eventTime: '2015-03-01' }] });
  });
  it('v1: an own property only (a column named like an Object.prototype member)', () => {
    const p = parseV1Predict({ instances: [row] }, features, 10, 256, { timestampColumn: 'constructor', rowIdColumn: 'toString' });
    assert.deepEqual(p.meta, [{}]);
  });
  const v1Bad: [string, Record<string, unknown>, RegExp][] = [
    ['unreadable time', { ts: 'yesterday-ish' }, /^instances\[1\]\.ts: "yesterday-ish" is not an event time/],
    ['time as a boolean', { ts: true }, /^instances\[1\]\.ts: expected an event time .*got boolean/],
    ['time out of a Date\'s range', { ts: 1e300 }, /^instances\[1\]\.ts: 1e\+300 is not an event time/],
    ['a 1 MB time string', { ts: '2021-01-01'.padEnd(1 << 20, ' ') }, /^instances\[1\]\.ts: a string longer than 256 bytes/],
    ['id as an object', { rid: { a: 1 } }, /^instances\[1\]\.rid: expected a row id \(a string or a number\), got object/],
    ['id as an array', { rid: ['a'] }, /^instances\[1\]\.rid: .*got array/],
    ['id past 256 bytes', { rid: 'é'.repeat(129) }, /^instances\[1\]\.rid: a string of 258 bytes, longer than 256/],
    ['id a million characters', { rid: 'x'.repeat(1 << 20) }, /^instances\[1\]\.rid: a string longer than 256 bytes/],
  ];
  for (const [name, over, reason] of v1Bad) {
    it(`v1 rejects with a 400 naming the instance and the column: ${name}`, () => {
      assert.throws(() => parseV1Predict({ instances: [row, { ...row, ...over }] }, features, 10, 256, extras),
        (e: unknown) => e instanceof BadRequestError && e.status === 400 && reason.test(e.message) && e.message.length < 300);
    });
  }
  it('v1 without extras: the same fields are ignored, as any unknown field', () => {
    assert.deepEqual(parseV1Predict({ instances: [{ ...row, ts: 'junk', rid: {} }] }, features, 10, 256), { rows: [row], meta: undefined });
  });
});

describe('parseFeedback', () => {
  it('reads a single label and a batch, reporting malformed items by index', () => {
    assert.deepEqual(parseFeedback({ id: 'a', label: 'sun' }, 10), { items: [{ index: 0, id: 'a', label: 'sun' }], invalid: [] });
    assert.deepEqual(parseFeedback({ feedback: [{ id: 'a', label: 2.5 }, { id: 'b' }, 'x'] }, 10), {
      items: [{ index: 0, id: 'a', label: 2.5 }],
      invalid: [{ index: 1, reason: '"label" must be a string or a number' }, { index: 2, reason: 'not an object' }],
    });
  });
  it('rejects a body that is neither', () => {
    assert.throws(() => parseFeedback({ feedback: 'x' }, 10), /"feedback" must be an array/);
    assert.throws(() => parseFeedback([], 10), BadRequestError);
  });
});
