import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeInferRequest, decodeRawContents, decodeShape, decodeTypedContents, encodeInferResponse, encodeParameters, halfToNumber, type GrpcInferRequest } from './grpc-codec.js';
import { OipError } from './types.js';

function f32(...xs: number[]): Buffer {
  const b = Buffer.alloc(xs.length * 4);
  xs.forEach((x, i) => b.writeFloatLE(x, i * 4));
  return b;
}

function bytesRaw(...xs: string[]): Buffer {
  return Buffer.concat(xs.flatMap((x) => {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(Buffer.byteLength(x));
    return [len, Buffer.from(x)];
  }));
}

function refused(fn: () => unknown, reason: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof OipError && e.status === 400 && reason.test(e.message));
}

describe('decodeShape', () => {
  const cases: [string, (string | number)[], number[] | RegExp, number?][] = [
    ['a matrix', ['2', '3'], [2, 3], 6],
    ['numbers too', [1, 4], [1, 4], 4],
    ['a zero dimension', ['0', '4'], [0, 4], 0],
    ['negative', ['-1', '4'], /shape dimension -1/],
    ['empty', [], /shape is empty/],
    ['past 2^53', ['9007199254740993'], /shape dimension/],
    ['too many elements', ['100000', '100000'], /more elements/],
  ];
  for (const [name, shape, want, elements] of cases) {
    it(name, () => {
      if (want instanceof RegExp) return refused(() => decodeShape(shape, 'input "x"'), want);
      assert.deepEqual(decodeShape(shape, 'input "x"'), { dims: want, elements });
    });
  }
});

describe('decodeTypedContents', () => {
  const cases: [string, string, Parameters<typeof decodeTypedContents>[1], number, unknown[] | RegExp][] = [
    ['FP32', 'FP32', { fp32_contents: [1.5, 2] }, 2, [1.5, 2]],
    ['FP64', 'FP64', { fp64_contents: [0.1] }, 1, [0.1]],
    ['INT64 strings within 2^53', 'INT64', { int64_contents: ['-5', '9007199254740991'] }, 2, [-5, 9007199254740991]],
    ['INT64 past 2^53', 'INT64', { int64_contents: ['9007199254740993'] }, 1, /not an integer within/],
    ['INT8 in range', 'INT8', { int_contents: [-128, 127] }, 2, [-128, 127]],
    ['INT8 out of range', 'INT8', { int_contents: [128] }, 1, /outside INT8's range/],
    ['UINT16', 'UINT16', { uint_contents: [65535] }, 1, [65535]],
    ['BOOL', 'BOOL', { bool_contents: [true, false] }, 2, [true, false]],
    ['BYTES as UTF-8', 'BYTES', { bytes_contents: [Buffer.from('Seattle'), Buffer.from('ü')] }, 2, ['Seattle', 'ü']],
    ['BYTES not UTF-8', 'BYTES', { bytes_contents: [Buffer.from([0xff, 0xfe])] }, 1, /not UTF-8/],
    ['fewer elements than the shape', 'FP32', { fp32_contents: [1] }, 2, /holds 2 elements, 1 were sent/],
    ['more elements than the shape', 'FP32', { fp32_contents: [1, 2, 3] }, 2, /holds 2 elements, 3 were sent/],
    ['the wrong field', 'FP32', { fp64_contents: [1] }, 1, /FP32 elements go in contents.fp32_contents, not contents.fp64_contents/],
    ['an unknown datatype', 'FLOAT', { fp32_contents: [1] }, 1, /unknown datatype "FLOAT"/],
    ['FP16 typed', 'FP16', { fp32_contents: [1] }, 1, /FP16 elements go in raw_input_contents/],
    ['no contents at all', 'FP32', null, 1, /holds 1 elements, 0 were sent/],
  ];
  for (const [name, datatype, contents, elements, want] of cases) {
    it(name, () => {
      if (want instanceof RegExp) return refused(() => decodeTypedContents(datatype, contents, elements, 'input "x"'), want);
      assert.deepEqual(decodeTypedContents(datatype, contents, elements, 'input "x"'), want);
    });
  }
});

describe('decodeRawContents', () => {
  const i64 = Buffer.alloc(16);
  i64.writeBigInt64LE(-3n, 0);
  i64.writeBigInt64LE(42n, 8);
  const big = Buffer.alloc(8);
  big.writeBigInt64LE(2n ** 60n, 0);
  const cases: [string, string, Buffer, number, unknown[] | RegExp][] = [
    ['FP32 little-endian', 'FP32', f32(1.5, -2.25), 2, [1.5, -2.25]],
    ['FP32 one byte short', 'FP32', f32(1.5).subarray(0, 3), 1, /1 FP32 elements take 4 raw bytes, 3 were sent/],
    ['FP32 more than the shape', 'FP32', f32(1, 2), 1, /take 4 raw bytes, 8 were sent/],
    ['INT64', 'INT64', i64, 2, [-3, 42]],
    ['INT64 past 2^53', 'INT64', big, 1, /not an integer within/],
    ['FP16', 'FP16', Buffer.from([0x00, 0x3c, 0x00, 0xc0]), 2, [1, -2]],
    ['BOOL bytes', 'BOOL', Buffer.from([1, 0]), 2, [true, false]],
    ['BOOL byte 2', 'BOOL', Buffer.from([2]), 1, /neither 0 nor 1/],
    ['BYTES length-prefixed', 'BYTES', bytesRaw('rain', ''), 2, ['rain', '']],
    ['BYTES fewer than the shape', 'BYTES', bytesRaw('rain'), 2, /holds 2 elements, the raw BYTES contents hold 1/],
    ['BYTES more than the shape', 'BYTES', bytesRaw('a', 'b', 'c'), 2, /hold 3 or more/],
    ['BYTES a length past the end', 'BYTES', Buffer.from([10, 0, 0, 0, 65]), 1, /says 10 bytes, 1 remain/],
    ['BYTES a truncated length', 'BYTES', Buffer.from([1, 0]), 1, /truncated 4-byte length/],
    ['an unknown datatype', 'COMPLEX64', f32(1), 1, /unknown datatype "COMPLEX64"/],
  ];
  for (const [name, datatype, raw, elements, want] of cases) {
    it(name, () => {
      if (want instanceof RegExp) return refused(() => decodeRawContents(datatype, raw, elements, 'input "x"'), want);
      assert.deepEqual(decodeRawContents(datatype, raw, elements, 'input "x"'), want);
    });
  }
});

describe('halfToNumber', () => {
  it('decodes normal, subnormal and special halves', () => {
    assert.equal(halfToNumber(0x3c00), 1);
    assert.equal(halfToNumber(0x3555), 0.333251953125);
    assert.equal(halfToNumber(0x0001), 2 ** -24);
    assert.equal(halfToNumber(0xfc00), -Infinity);
    assert.ok(Number.isNaN(halfToNumber(0x7e00)));
  });
});

describe('decodeInferRequest', () => {
  const base: GrpcInferRequest = {
    model_name: 'weather', model_version: '', id: '', parameters: {}, outputs: [], raw_input_contents: [],
    inputs: [{ name: 'input-0', datatype: 'FP32', shape: ['1', '2'], parameters: {}, contents: { fp32_contents: [1, 2] } }],
  };
  it('takes typed contents, leaving empty strings and lists out', () => {
    assert.deepEqual(decodeInferRequest(base, true), {
      modelName: 'weather', modelVersion: undefined, id: undefined, parameters: undefined, outputs: undefined, mirror: true,
      inputs: [{ name: 'input-0', datatype: 'FP32', shape: [1, 2], data: [1, 2], parameters: undefined }],
    });
  });
  it('takes raw contents, outputs, parameters and the id', () => {
    const r = decodeInferRequest({
      ...base, id: 'r1', model_version: 'v3', inputs: [{ ...base.inputs![0]!, contents: null }], raw_input_contents: [f32(3, 4)],
      outputs: [{ name: 'probabilities', parameters: { classification: { parameter_choice: 'int64_param', int64_param: '2' } } }],
      parameters: { binary_data_output: { parameter_choice: 'bool_param', bool_param: true } },
    }, false);
    assert.deepEqual(r.inputs[0]!.data, [3, 4]);
    assert.equal(r.id, 'r1');
    assert.equal(r.modelVersion, 'v3');
    assert.deepEqual(r.outputs, [{ name: 'probabilities', parameters: { classification: 2 } }]);
    assert.deepEqual(r.parameters, { binary_data_output: true });
    assert.equal(r.mirror, false);
  });
  it('refuses raw contents that do not pair with the inputs', () => {
    refused(() => decodeInferRequest({ ...base, inputs: [{ ...base.inputs![0]!, contents: null }], raw_input_contents: [f32(1, 2), f32(3)] }, true), /2 entries for 1 inputs/);
  });
  it('refuses typed and raw contents together', () => {
    refused(() => decodeInferRequest({ ...base, raw_input_contents: [f32(1, 2)] }, true), /has contents although the request sends raw_input_contents/);
  });
  it('refuses a parameter without a value', () => {
    refused(() => decodeInferRequest({ ...base, parameters: { x: {} } }, true), /request parameter "x" has no value/);
  });
});

describe('encodeInferResponse', () => {
  it('answers every output raw, in the order of outputs, with parameters typed', () => {
    const m = encodeInferResponse({
      modelName: 'weather', modelVersion: 'v1', id: 'r1', parameters: { n: 2, p: 0.5 },
      outputs: [
        { name: 'predict', datatype: 'BYTES', shape: [2, 1], data: ['rain', 'sun'] },
        { name: 'probabilities', datatype: 'FP32', shape: [1, 2], data: [0.25, 0.75] },
        { name: 'n', datatype: 'INT64', shape: [1], data: [7] },
      ],
    });
    assert.deepEqual(m.outputs.map((o) => [o.name, o.datatype, o.shape]), [['predict', 'BYTES', [2, 1]], ['probabilities', 'FP32', [1, 2]], ['n', 'INT64', [1]]]);
    assert.deepEqual(m.raw_output_contents[0], bytesRaw('rain', 'sun'));
    assert.deepEqual(m.raw_output_contents[1], f32(0.25, 0.75));
    assert.equal(m.raw_output_contents[2]!.readBigInt64LE(0), 7n);
    assert.deepEqual(m.parameters, { n: { parameter_choice: 'int64_param', int64_param: 2 }, p: { parameter_choice: 'double_param', double_param: 0.5 } });
    assert.equal(m.id, 'r1');
  });
  it('round-trips through its own raw decoding for every datatype', () => {
    const values: Record<string, (number | boolean)[]> = {
      BOOL: [true, false], UINT8: [0, 255], UINT16: [65535], UINT32: [4294967295], UINT64: [2 ** 53 - 1], INT8: [-128], INT16: [-32768],
      INT32: [-2147483648], INT64: [-(2 ** 53 - 1)], FP16: [1, -2, 0.5], FP32: [0.25], FP64: [0.1],
    };
    for (const [datatype, data] of Object.entries(values)) {
      const raw = encodeInferResponse({ modelName: 'm', modelVersion: 'v', outputs: [{ name: 'o', datatype, shape: [data.length], data }] }).raw_output_contents[0]!;
      assert.deepEqual(decodeRawContents(datatype, raw, data.length, 'o'), data, datatype);
    }
  });
  it('encodes no parameters as an empty map', () => {
    assert.deepEqual(encodeParameters(undefined), {});
  });
});
