import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BadRequestError } from '../requests.js';
import { decodeTensorBytes, encodeTensorBytes, halfToNumber } from './rest-binary.js';

function le(kind: 'f32' | 'f64' | 'i32' | 'u16', values: number[]): Buffer {
  const size = { f32: 4, f64: 8, i32: 4, u16: 2 }[kind];
  const b = Buffer.alloc(values.length * size);
  values.forEach((v, i) => {
    if (kind === 'f32') b.writeFloatLE(v, i * 4);
    else if (kind === 'f64') b.writeDoubleLE(v, i * 8);
    else if (kind === 'i32') b.writeInt32LE(v, i * 4);
    else b.writeUInt16LE(v, i * 2);
  });
  return b;
}

function bytesTensor(...items: (string | Buffer)[]): Buffer {
  return Buffer.concat(items.flatMap((x) => {
    const body = typeof x === 'string' ? Buffer.from(x, 'utf8') : x;
    const len = Buffer.alloc(4);
    len.writeUInt32LE(body.length);
    return [len, body];
  }));
}

describe('binary tensor data: decoding', () => {
  const good: [string, Buffer, string, number, unknown[]][] = [
    ['FP32', le('f32', [1.5, -2]), 'FP32', 2, [1.5, -2]],
    ['FP64', le('f64', [0.1, 1e300]), 'FP64', 2, [0.1, 1e300]],
    ['INT32', le('i32', [-7, 2 ** 31 - 1]), 'INT32', 2, [-7, 2 ** 31 - 1]],
    ['FP16: 1, -2, 0.5, 65504', le('u16', [0x3c00, 0xc000, 0x3800, 0x7bff]), 'FP16', 4, [1, -2, 0.5, 65504]],
    ['BOOL', Buffer.from([0, 1, 2]), 'BOOL', 3, [false, true, true]],
    ['INT8', Buffer.from([0xff, 1]), 'INT8', 2, [-1, 1]],
    ['INT64 within ±2^53', Buffer.from(new BigInt64Array([-5n, 2n ** 53n - 1n]).buffer), 'INT64', 2, [-5, 2 ** 53 - 1]],
    ['BYTES, UTF-8, empty strings too', bytesTensor('Seattle', '', 'Zürich'), 'BYTES', 3, ['Seattle', '', 'Zürich']],
    ['no elements', Buffer.alloc(0), 'FP32', 0, []],
  ];
  for (const [name, b, datatype, count, want] of good) it(name, () => assert.deepEqual(decodeTensorBytes(b, datatype, count, 't'), want));

  it('NaN and infinities decode as such (the feature check refuses them with a reason)', () => {
    const [nan, inf] = decodeTensorBytes(le('f32', [NaN, Infinity]), 'FP32', 2, 't');
    assert.ok(Number.isNaN(nan));
    assert.equal(inf, Infinity);
    assert.ok(Number.isNaN(halfToNumber(0x7e00)));
  });

  const hostile: [string, Buffer, string, number, RegExp][] = [
    ['FP32 size not a whole count', Buffer.alloc(7), 'FP32', 2, /^t: 7 bytes of FP32, its shape says 2 elements \(8 bytes\)/],
    ['more bytes than the shape', le('f64', [1, 2, 3]), 'FP64', 2, /24 bytes of FP64, its shape says 2 elements/],
    ['a huge shape on a few bytes', le('f32', [1]), 'FP32', 2 ** 50, /4 bytes of FP32, its shape says 1125899906842624 elements/],
    ['INT64 past 2^53', Buffer.from(new BigInt64Array([2n ** 60n]).buffer), 'INT64', 1, /element 0 \(1152921504606846976\) is outside ±2\^53/],
    ['UINT64 past 2^53', Buffer.from(new BigUint64Array([2n ** 64n - 1n]).buffer), 'UINT64', 1, /outside ±2\^53/],
    ['BYTES: truncated length prefix', Buffer.concat([bytesTensor('a'), Buffer.from([1, 0])]), 'BYTES', 2, /element 1 has a truncated length prefix \(2 of 4 bytes\)/],
    ['BYTES: length past the end', Buffer.from([10, 0, 0, 0, 65]), 'BYTES', 1, /element 0 says 10 bytes, only 1 remain/],
    ['BYTES: a length of 4 GB', Buffer.from([0xff, 0xff, 0xff, 0xff]), 'BYTES', 1, /element 0 says 4294967295 bytes, only 0 remain/],
    ['BYTES: fewer elements than the shape', bytesTensor('a'), 'BYTES', 2, /1 BYTES elements, its shape says 2/],
    ['BYTES: more elements than the shape', bytesTensor('a', 'b'), 'BYTES', 1, /5 bytes after the 1 elements its shape says/],
    ['BYTES: invalid UTF-8', bytesTensor(Buffer.from([0xc3, 0x28])), 'BYTES', 1, /element 0 is not valid UTF-8/],
  ];
  for (const [name, b, datatype, count, reason] of hostile) {
    it(`refuses: ${name}`, () => assert.throws(() => decodeTensorBytes(b, datatype, count, 't'), (e: unknown) => e instanceof BadRequestError && e.status === 400 && reason.test(e.message)));
  }
});

describe('binary tensor data: encoding', () => {
  it('round-trips every datatype an output has, and the rest', () => {
    const table: [string, unknown[]][] = [
      ['BYTES', ['rain', '', 'sun:0.9']], ['FP32', [0.25, -1]], ['FP64', [0.1, 1e-300]], ['BOOL', [true, false]],
      ['INT8', [-3, 4]], ['UINT16', [65535, 0]], ['INT32', [-1, 7]], ['INT64', [-(2 ** 53) + 1, 9]], ['UINT64', [2 ** 53 - 1, 0]],
    ];
    for (const [datatype, data] of table) {
      assert.deepEqual(decodeTensorBytes(encodeTensorBytes(datatype, data as (number | string | boolean)[]), datatype, data.length, 't'), data, datatype);
    }
  });
  it('BYTES elements are a 4-byte little-endian length and the UTF-8 bytes', () => {
    assert.deepEqual([...encodeTensorBytes('BYTES', ['é'])], [2, 0, 0, 0, 0xc3, 0xa9]);
  });
});
