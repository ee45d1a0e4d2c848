import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BadRequestError } from '../requests.js';
import { encodeTensorBytes } from './rest-binary.js';
import { binaryOutputs, decodeInferRequest, encodeInferResponse, headerLengthOf } from './rest-json.js';
import type { OipInferResponse } from './types.js';

const target = { modelName: 'weather', modelVersion: 'v1', mirror: true };

/** A binary request as tritonclient sends one: the JSON header, then each binary input's bytes in order. */
function binaryBody(header: unknown, ...blobs: Buffer[]): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...blobs]), headerLength: json.length };
}

function refused(reason: RegExp): (e: unknown) => boolean {
  return (e: unknown) => e instanceof BadRequestError && e.status === 400 && reason.test(e.message) && e.message.length < 500;
}

describe('REST infer request: JSON and the binary extension', () => {
  const temps = encodeTensorBytes('FP32', [1.5, 2.5]);
  const cities = encodeTensorBytes('BYTES', ['Seattle', 'New York']);
  const header = {
    id: 'r7',
    inputs: [
      { name: 'temp', datatype: 'FP32', shape: [2], parameters: { binary_data_size: temps.length } },
      { name: 'day', datatype: 'BYTES', shape: [2], data: ['2015-01-01', '2015-01-02'] },
      { name: 'city', datatype: 'BYTES', shape: [2, 1], parameters: { binary_data_size: cities.length } },
    ],
    outputs: [{ name: 'label', parameters: { binary_data: true } }, { name: 'probabilities' }],
    parameters: { binary_data_output: false },
  };

  it('reads JSON and binary inputs side by side, in order, with the outputs and parameters asked', () => {
    const { body, headerLength } = binaryBody(header, temps, cities);
    const r = decodeInferRequest(body, headerLengthOf(String(headerLength), body.length), target);
    assert.equal(r.id, 'r7');
    assert.equal(r.modelName, 'weather');
    assert.equal(r.mirror, true);
    assert.deepEqual(r.inputs.map((t) => t.data), [[1.5, 2.5], ['2015-01-01', '2015-01-02'], ['Seattle', 'New York']]);
    assert.deepEqual(r.outputs, [{ name: 'label', parameters: { binary_data: true } }, { name: 'probabilities' }]);
    assert.deepEqual(r.parameters, { binary_data_output: false });
  });

  const hostile: [string, () => unknown, RegExp][] = [
    ['a header length longer than the body', () => headerLengthOf('500', 100), /Inference-Header-Content-Length 500 is longer than the body \(100 bytes\)/],
    ['a negative header length', () => headerLengthOf('-1', 100), /"-1" is not a byte count/],
    ['a header length that is not a number', () => headerLengthOf('ten', 100), /"ten" is not a byte count/],
    ['a header length cutting the JSON short', () => decodeInferRequest(binaryBody(header, temps, cities).body, 20, target), /malformed JSON header/],
    ['a binary input cut short', () => {
      const { body, headerLength } = binaryBody(header, temps, cities.subarray(0, 5));
      return decodeInferRequest(body, headerLength, target);
    }, /inputs\[2\] \(city\): binary_data_size 23, but only 5 bytes of binary data remain/],
    ['bytes that belong to no input', () => {
      const { body, headerLength } = binaryBody(header, temps, cities, Buffer.from([1, 2, 3]));
      return decodeInferRequest(body, headerLength, target);
    }, /3 bytes of binary data after the JSON header belong to no input/],
    ['a binary size that does not match the shape', () => {
      const h = { inputs: [{ name: 'temp', datatype: 'FP32', shape: [3], parameters: { binary_data_size: 8 } }] };
      const { body, headerLength } = binaryBody(h, temps);
      return decodeInferRequest(body, headerLength, target);
    }, /8 bytes of FP32, its shape says 3 elements \(12 bytes\)/],
    ['a negative binary size', () => {
      const { body, headerLength } = binaryBody({ inputs: [{ name: 'temp', datatype: 'FP32', shape: [2], parameters: { binary_data_size: -8 } }] }, temps);
      return decodeInferRequest(body, headerLength, target);
    }, /binary_data_size must be a non-negative integer, got -8/],
    ['both data and a binary size', () => {
      const { body, headerLength } = binaryBody({ inputs: [{ name: 'temp', datatype: 'FP32', shape: [2], data: [1, 2], parameters: { binary_data_size: 8 } }] }, temps);
      return decodeInferRequest(body, headerLength, target);
    }, /both "data" and binary_data_size/],
    ['neither data nor a binary size', () => decodeInferRequest(Buffer.from('{"inputs":[{"name":"temp","datatype":"FP32","shape":[2]}]}'), undefined, target), /no data \(neither "data" nor parameter binary_data_size\)/],
    ['a body that is not JSON (binary without the header)', () => decodeInferRequest(Buffer.concat([Buffer.from('{"inputs":[]}'), temps]), undefined, target), /malformed JSON/],
    ['an empty body', () => decodeInferRequest(Buffer.alloc(0), undefined, target), /empty body/],
    ['a JSON array', () => decodeInferRequest(Buffer.from('[1]'), undefined, target), /body must be a JSON object with "inputs"/],
    ['outputs not an array', () => decodeInferRequest(Buffer.from('{"inputs":[],"outputs":{}}'), undefined, target), /"outputs" must be an array, got object/],
    ['an output without a name', () => decodeInferRequest(Buffer.from('{"inputs":[],"outputs":[{}]}'), undefined, target), /outputs\[0\]\.name must be a string/],
  ];
  for (const [name, f, reason] of hostile) it(`refuses: ${name}`, () => assert.throws(f, refused(reason)));
});

describe('REST infer response', () => {
  const response: OipInferResponse = {
    modelName: 'weather', modelVersion: 'v1', id: 'r7',
    outputs: [
      { name: 'label', datatype: 'BYTES', shape: [1], data: ['rain'] },
      { name: 'probabilities', datatype: 'FP32', shape: [1, 2], data: [0.75, 0.25] },
    ],
  };
  it('is JSON when no output is asked in binary', () => {
    const { body, headerLength } = encodeInferResponse(response, () => false);
    assert.equal(headerLength, undefined);
    assert.deepEqual(JSON.parse(body.toString()), {
      model_name: 'weather', model_version: 'v1', id: 'r7',
      outputs: [{ name: 'label', datatype: 'BYTES', shape: [1], data: ['rain'] }, { name: 'probabilities', datatype: 'FP32', shape: [1, 2], data: [0.75, 0.25] }],
    });
  });
  it('puts binary outputs after the JSON header, each with its binary_data_size', () => {
    const { body, headerLength } = encodeInferResponse(response, (name) => name === 'probabilities');
    assert.ok(headerLength !== undefined);
    const header = JSON.parse(body.subarray(0, headerLength).toString()) as { outputs: Record<string, unknown>[] };
    assert.deepEqual(header.outputs[1], { name: 'probabilities', datatype: 'FP32', shape: [1, 2], parameters: { binary_data_size: 8 } });
    assert.deepEqual(header.outputs[0]?.['data'], ['rain']);
    const rest = body.subarray(headerLength);
    assert.deepEqual([rest.readFloatLE(0), rest.readFloatLE(4)], [0.75, 0.25]);
  });
  it('an output\'s binary_data wins over the request\'s binary_data_output', () => {
    const which = binaryOutputs({ outputs: [{ name: 'label', parameters: { binary_data: false } }, { name: 'probabilities' }], parameters: { binary_data_output: true } });
    assert.deepEqual([which('label'), which('probabilities')], [false, true]);
    assert.equal(binaryOutputs({ outputs: undefined, parameters: undefined })('label'), false, 'JSON by default');
  });
});
