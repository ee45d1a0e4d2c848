import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BadRequestError, type FeatureSignature, type ParsedRows } from '../requests.js';
import type { RowExtras } from '../row-extras.js';
import { rowsOfInputs, type ModelInputs } from './inputs.js';
import { decodeInferRequest } from './rest-json.js';

const features: FeatureSignature[] = [{ name: 'temp', kind: 'numeric' }, { name: 'city', kind: 'categorical' }, { name: 'day', kind: 'date' }];
const numericOnly: FeatureSignature[] = [{ name: 'a', kind: 'numeric' }, { name: 'b', kind: 'numeric' }, { name: 'when', kind: 'date' }];
const limits = { maxInstances: 10, maxStringBytes: 256 };

/** A JSON body through the REST decoder and the service's input check, as a request takes them. */
function rowsOf(body: unknown, m: ModelInputs = { features, extras: undefined }): ParsedRows & { id: string | undefined } {
  const request = decodeInferRequest(Buffer.from(JSON.stringify(body)), undefined, { modelName: 'm', modelVersion: undefined, mirror: false });
  return { id: request.id, ...rowsOfInputs(request.inputs, m, limits) };
}

function refused(reason: RegExp, status = 400): (e: unknown) => boolean {
  return (e: unknown) => e instanceof BadRequestError && e.status === status && reason.test(e.message) && e.message.length < 500;
}

describe('OIP inputs: one tensor per feature', () => {
  const body = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
    id: 'r1',
    inputs: [
      { name: 'temp', datatype: 'FP32', shape: [2, 1], data: [[1], [2]] },
      { name: 'city', datatype: 'BYTES', shape: [2], data: ['a', 'b'] },
      { name: 'day', datatype: 'BYTES', shape: [2], data: ['2015-01-01', null] },
    ],
    ...over,
  });
  it('turns named column tensors (flat or nested as their shape) into rows and keeps the id', () => {
    assert.deepEqual(rowsOf(body()), { id: 'r1', rows: [{ temp: 1, city: 'a', day: '2015-01-01' }, { temp: 2, city: 'b', day: null }], meta: undefined });
  });
  it('takes every integer and float datatype for a numeric feature, and dates as epoch milliseconds', () => {
    for (const datatype of ['FP16', 'FP64', 'INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64']) {
      const b = body({ inputs: [{ name: 'temp', datatype, shape: [2], data: [1, 2] }, { name: 'city', datatype: 'BYTES', shape: [2], data: ['a', 'b'] }, { name: 'day', datatype: 'INT64', shape: [2], data: [1.42e12, 1.43e12] }] });
      assert.deepEqual(rowsOf(b).rows.map((r) => r['temp']), [1, 2], datatype);
    }
  });
  const inputs = (body()['inputs'] as Record<string, unknown>[]);
  const bad: [string, unknown, RegExp, number?][] = [
    ['no inputs field', { id: 'x' }, /missing field "inputs"/],
    ['no inputs at all', { inputs: [] }, /no inputs: send one tensor per feature \(temp, city, day\) or a single \[n, 3\] tensor/],
    ['id not a string', body({ id: 3 }), /"id" must be a string/],
    ['missing input', body({ inputs: inputs.slice(0, 2) }), /missing input "day"/],
    ['unknown input', body({ inputs: [...inputs, { name: 'x', datatype: 'FP32', shape: [2], data: [1, 2] }] }), /unknown input "x"/],
    ['duplicate input', body({ inputs: [...inputs, inputs[0]] }), /given twice/],
    ['wrong datatype', body({ inputs: [{ ...inputs[0], datatype: 'BYTES', data: ['1', '2'] }, inputs[1], inputs[2]] }), /\(temp\): datatype "BYTES" for a numeric feature/],
    ['a datatype the protocol does not have', body({ inputs: [{ ...inputs[0], datatype: 'FLOAT' }, inputs[1], inputs[2]] }), /datatype must be one of BOOL, .*got "FLOAT"/],
    ['a 1 MB input name is not echoed whole', body({ inputs: [...inputs, { name: 'n'.repeat(1 << 20), datatype: 'FP32', shape: [2], data: [1, 2] }] }), /unknown input "n{64}"…/],
    ['a value past the cap', body({ inputs: [inputs[0], { ...inputs[1], data: ['a', 'b'.repeat(257)] }, inputs[2]] }), /\(city\)\.data\[1\]: a string longer than 256 bytes/],
    ['a [n, 2] tensor among others', body({ inputs: [{ ...inputs[0], shape: [1, 2] }, inputs[1], inputs[2]] }), /\(temp\): shape must be \[n\] or \[n, 1\]/],
    ['rows differ', body({ inputs: [inputs[0], { ...inputs[1], shape: [3], data: ['a', 'b', 'c'] }, inputs[2]] }), /\(city\): 3 rows, but other inputs have 2/],
    ['data length', body({ inputs: [{ ...inputs[0], data: [1] }, inputs[1], inputs[2]] }), /shape \[2, 1\] says 2 elements, data has 1/],
    ['data nested deeper than the shape', body({ inputs: [{ ...inputs[0], data: [[[1]], [[2]]] }, inputs[1], inputs[2]] }), /nested deeper than its shape's 2 dimensions/],
    ['element type', body({ inputs: [inputs[0], inputs[1], { ...inputs[2], data: ['2015-01-01', 'later'] }] }), /\(day\)\.data\[1\]: "later" is not a date/],
    ['a string for a number', body({ inputs: [{ ...inputs[0], data: [[1], ['2']] }, inputs[1], inputs[2]] }), /\(temp\)\.data\[1\]: expected a number, got string/],
    ['a fraction for an integer type', body({ inputs: [{ ...inputs[0], datatype: 'INT32', data: [[1], [2.5]] }, inputs[1], inputs[2]] }), /data\[1\]: 2\.5 is not an integer/],
    ['a negative unsigned', body({ inputs: [{ ...inputs[0], datatype: 'UINT8', data: [[1], [-2]] }, inputs[1], inputs[2]] }), /data\[1\]: -2 is negative/],
    ['a number past float32', body({ inputs: [{ ...inputs[0], data: [[1], [1e39]] }, inputs[1], inputs[2]] }), /\(temp\)\.data\[1\]: 1e\+39 is not a finite float32/],
    ['a negative dimension', body({ inputs: [{ ...inputs[0], shape: [-2, 1] }, inputs[1], inputs[2]] }), /shape \[-2, 1\] has a dimension that is not a non-negative integer/],
    ['a fractional dimension', body({ inputs: [{ ...inputs[0], shape: [1.5] }, inputs[1], inputs[2]] }), /shape \[1\.5\] has a dimension/],
    ['a huge shape', body({ inputs: [{ ...inputs[0], shape: [2 ** 40, 2 ** 40] }, inputs[1], inputs[2]] }), /is too large/, 413],
    ['a dimension past 2^53', body({ inputs: [{ ...inputs[0], shape: [1e300] }, inputs[1], inputs[2]] }), /is too large/, 413],
    ['a shape that is not numbers', body({ inputs: [{ ...inputs[0], shape: ['2'] }, inputs[1], inputs[2]] }), /shape must be an array of integers/],
    ['zero rows', body({ inputs: [{ ...inputs[0], shape: [0], data: [] }, inputs[1], inputs[2]] }), /no rows/],
    ['more rows than allowed', body({ inputs: [{ ...inputs[0], shape: [11], data: Array(11).fill(1) }] }), /11 rows, at most 10 per request/, 413],
    ['parameters not an object', body({ inputs: [{ ...inputs[0], parameters: [1] }, inputs[1], inputs[2]] }), /parameters must be an object, got array/],
    ['a parameter of another type', body({ parameters: { x: { y: 1 } } }), /request\.parameters\."x" must be a string, a number or a boolean, got object/],
    ['binary_data_size without binary data', body({ inputs: [{ ...inputs[0], data: undefined, parameters: { binary_data_size: 8 } }, inputs[1], inputs[2]] }), /binary_data_size without binary data/],
  ];
  for (const [name, b, reason, status] of bad) it(`refuses: ${name}`, () => assert.throws(() => rowsOf(b), refused(reason, status)));
});

describe('OIP inputs: a single [n, k] tensor', () => {
  it('a numeric [n, k] tensor for a model whose features all take numbers (dates as epoch milliseconds)', () => {
    const m = { features: numericOnly, extras: undefined };
    assert.deepEqual(rowsOf({ inputs: [{ name: 'input', datatype: 'FP64', shape: [2, 3], data: [[1, 2, 1.42e12], [3, 4, 1.43e12]] }] }, m).rows, [
      { a: 1, b: 2, when: 1.42e12 }, { a: 3, b: 4, when: 1.43e12 },
    ]);
    assert.deepEqual(rowsOf({ inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 3], data: [5, 6, 0] }] }, m).rows, [{ a: 5, b: 6, when: 0 }], 'any name, flat data');
  });
  it('a BYTES [n, k] tensor for a model with categorical features: numbers as decimal text, "" or null missing', () => {
    assert.deepEqual(rowsOf({ inputs: [{ name: 'input', datatype: 'BYTES', shape: [2, 3], data: [['12.5', 'Seattle', '2015-03-01'], ['', 'x', null]] }] }).rows, [
      { temp: 12.5, city: 'Seattle', day: '2015-03-01' }, { temp: null, city: 'x', day: null },
    ]);
  });
  it('the timestamp column, when a feature, gives each row its event time', () => {
    const m = { features, extras: { timestampColumn: 'day', rowIdColumn: 'rid' } };
    assert.deepEqual(rowsOf({ inputs: [{ name: 'input', datatype: 'BYTES', shape: [1, 3], data: ['1', 'a', '2015-03-01'] }] }, m).meta, [{ eventTime: '2015-03-01' }]);
  });
  const bad: [string, unknown, RegExp][] = [
    ['k not the feature count', { name: 'input', datatype: 'BYTES', shape: [1, 2], data: ['1', 'a'] }, /a single \[n, k\] tensor needs k = 3 columns \(temp, city, day\), got shape \[1, 2\]/],
    ['numeric for a model with a categorical feature', { name: 'input', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }, /feature "city" is categorical, so the \[n, k\] tensor must be BYTES/],
    ['BOOL', { name: 'input', datatype: 'BOOL', shape: [1, 3], data: [true, false, true] }, /a \[n, k\] tensor is BYTES or numeric/],
    ['text that is not a number', { name: 'input', datatype: 'BYTES', shape: [1, 3], data: ['warm', 'a', '2015-03-01'] }, /data\[0, 0\] \(temp\): "warm" is not a number/],
    ['NaN as text', { name: 'input', datatype: 'BYTES', shape: [1, 3], data: ['NaN', 'a', '2015-03-01'] }, /"NaN" is not a number/],
    ['a bad date', { name: 'input', datatype: 'BYTES', shape: [1, 3], data: ['1', 'a', 'soon'] }, /data\[0, 2\] \(day\): "soon" is not a date/],
    ['wrong count', { name: 'input', datatype: 'BYTES', shape: [2, 3], data: ['1', 'a', '2015-03-01'] }, /shape \[2, 3\] says 6 elements, data has 3/],
  ];
  for (const [name, t, reason] of bad) it(`refuses: ${name}`, () => assert.throws(() => rowsOf({ inputs: [t] }), refused(reason)));
});

describe('OIP inputs: event time and row id besides the features', () => {
  const extras: RowExtras = { timestampColumn: 'ts', rowIdColumn: 'rid' };
  const inputs = [
    { name: 'temp', datatype: 'FP64', shape: [2], data: [1, 2] },
    { name: 'city', datatype: 'BYTES', shape: [2], data: ['a', 'b'] },
    { name: 'day', datatype: 'BYTES', shape: [2], data: ['2015-01-01', null] },
  ];
  const v2 = (...more: Record<string, unknown>[]): unknown => ({ inputs: [...inputs, ...more] });
  const rows2 = [{ temp: 1, city: 'a', day: '2015-01-01' }, { temp: 2, city: 'b', day: null }];
  const m = { features, extras };
  it('inputs named like the columns, BYTES or numeric, give each row\'s meta', () => {
    assert.deepEqual(rowsOf(v2({ name: 'ts', datatype: 'BYTES', shape: [2], data: ['2021-05-01', null] }, { name: 'rid', datatype: 'INT64', shape: [2, 1], data: [[7], [8]] }), m), {
      id: undefined, rows: rows2, meta: [{ eventTime: '2021-05-01', rowId: '7' }, { rowId: '8' }],
    });
    assert.deepEqual(rowsOf(v2({ name: 'ts', datatype: 'INT64', shape: [2], data: [1.6e12, 1.7e12] }), m).meta, [{ eventTime: 1.6e12 }, { eventTime: 1.7e12 }]);
    assert.deepEqual(rowsOf(v2(), m).meta, [{}, {}], 'absent inputs: rows logged without');
    assert.deepEqual(rowsOf(v2(), { features, extras: { timestampColumn: 'day', rowIdColumn: undefined } }).meta, [{ eventTime: '2015-01-01' }, {}], 'a feature as the timestamp column');
  });
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['unreadable time', { name: 'ts', datatype: 'BYTES', shape: [2], data: ['2021-05-01', 'soon'] }, /^row 1: ts: "soon" is not an event time/],
    ['time as a nested object', { name: 'ts', datatype: 'BYTES', shape: [2], data: ['2021-05-01', { t: 1 }] }, /^inputs\[3\] \(ts\)\.data\[1\]: expected a string, got object/],
    ['id too long', { name: 'rid', datatype: 'BYTES', shape: [2], data: ['a', 'b'.repeat(300)] }, /^row 1: rid: a string longer than 256 bytes/],
    ['id a boolean', { name: 'rid', datatype: 'BOOL', shape: [2], data: [true, false] }, /\(rid\): datatype "BOOL" for this column, expected BYTES or a numeric type/],
    ['another batch size', { name: 'rid', datatype: 'BYTES', shape: [3], data: ['a', 'b', 'c'] }, /\(rid\): 3 rows, but other inputs have 2/],
    ['bad shape', { name: 'ts', datatype: 'BYTES', shape: [2, 2], data: ['a', 'b', 'c', 'd'] }, /\(ts\): shape must be \[n\] or \[n, 1\]/],
    ['data length', { name: 'ts', datatype: 'BYTES', shape: [2], data: ['2021-05-01'] }, /\(ts\): shape \[2\] says 2 elements, data has 1/],
  ];
  for (const [name, input, reason] of bad) it(`refuses with a 400 naming the row and the column: ${name}`, () => assert.throws(() => rowsOf(v2(input), m), refused(reason)));
  it('refuses the same column given twice, and an extra input when the model declares none', () => {
    const ts = { name: 'ts', datatype: 'BYTES', shape: [2], data: ['2021-05-01', '2021-05-02'] };
    assert.throws(() => rowsOf(v2(ts, ts), m), /\(ts\): given twice/);
    assert.throws(() => rowsOf(v2(ts)), /unknown input "ts" \(inputs: one tensor per feature, temp, city, day; or a single \[n, 3\] tensor\)/);
    assert.throws(() => rowsOf(v2({ ...ts, name: 'x' }), m), /unknown input "x" \(inputs: one tensor per feature, temp, city, day, ts, rid;/);
  });
});
