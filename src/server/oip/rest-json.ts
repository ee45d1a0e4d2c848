// OIP REST bodies ↔ the protocol-neutral types: the infer request (JSON, or a JSON header followed by binary tensor
// data when Inference-Header-Content-Length is given) and the infer response (JSON, or JSON header plus binary for
// the outputs asked in binary). Pure. The request's shape is checked here (names, datatypes, shapes, data as the
// datatype says, parameters of the protocol's types); whether the model can take it is the service's question.
import { BadRequestError, shown } from '../requests.js';
import { decodeTensorBytes, encodeTensorBytes } from './rest-binary.js';
import { elementsOf, tensorAt } from './inputs.js';
import { oipDatatypes, type OipInferRequest, type OipInferResponse, type OipParameter, type OipParameters, type OipRequestedOutput, type OipTensor } from './types.js';

type Element = number | string | boolean | null;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  return Array.isArray(v) ? 'array' : typeof v;
}

/** A parameters object: values string, number or boolean. */
export function parametersOf(v: unknown, at: string): OipParameters | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) throw new BadRequestError(`${at}.parameters must be an object, got ${typeName(v)}`);
  const out: Record<string, OipParameter> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean') throw new BadRequestError(`${at}.parameters.${shown(k, 40)} must be a string, a number or a boolean, got ${typeName(x)}`);
    out[k] = x;
  }
  return out;
}

/** Why a JSON element cannot be of this datatype, or undefined. null is a missing value of any datatype. */
function elementProblem(datatype: string, v: unknown): string | undefined {
  if (v === null) return undefined;
  if (datatype === 'BYTES') return typeof v === 'string' ? undefined : `expected a string, got ${typeName(v)}`;
  if (datatype === 'BOOL') return typeof v === 'boolean' ? undefined : `expected a boolean, got ${typeName(v)}`;
  if (typeof v !== 'number') return `expected a number, got ${typeName(v)}`;
  if (datatype.startsWith('FP')) return undefined;
  if (!Number.isSafeInteger(v)) return `${v} is not an integer within ±2^53`;
  return datatype.startsWith('UINT') && v < 0 ? `${v} is negative` : undefined;
}

/** JSON data, nested as the shape or flat, → its elements, each checked against the datatype. */
function jsonData(data: unknown, datatype: string, rank: number, at: string): Element[] {
  if (!Array.isArray(data)) throw new BadRequestError(`${at}.data must be an array, got ${typeName(data)}`);
  // A [n] tensor's data is already flat (no copy); a nested element is refused below either way.
  const flat: unknown[] = rank <= 1 ? data : data.flat(rank - 1);
  flat.forEach((v, i) => {
    if (Array.isArray(v)) throw new BadRequestError(`${at}.data is nested deeper than its shape's ${rank} dimensions`);
    const problem = elementProblem(datatype, v);
    if (problem !== undefined) throw new BadRequestError(`${at}.data[${i}]: ${problem}`);
  });
  return flat as Element[];
}

/** The binary region of a request and how far the tensors have read it. */
interface BinaryCursor {
  readonly bytes: Buffer;
  offset: number;
}

function tensorOf(t: unknown, i: number, binary: BinaryCursor | undefined): OipTensor {
  if (!isObject(t)) throw new BadRequestError(`inputs[${i}] must be an object, got ${typeName(t)}`);
  const name = t['name'];
  if (typeof name !== 'string') throw new BadRequestError(`inputs[${i}].name must be a string`);
  const at = tensorAt(i, name);
  const datatype = t['datatype'];
  if (typeof datatype !== 'string' || !(oipDatatypes as readonly string[]).includes(datatype)) {
    throw new BadRequestError(`${at}.datatype must be one of ${oipDatatypes.join(', ')}, got ${typeof datatype === 'string' ? shown(datatype, 16) : typeName(datatype)}`);
  }
  const shape = t['shape'];
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number')) throw new BadRequestError(`${at}.shape must be an array of integers`);
  const count = elementsOf(shape, at);
  const parameters = parametersOf(t['parameters'], at);
  const size = parameters?.['binary_data_size'];
  let data: Element[];
  if (size === undefined) {
    if (t['data'] === undefined) throw new BadRequestError(`${at}: no data (neither "data" nor parameter binary_data_size)`);
    data = jsonData(t['data'], datatype, shape.length, at);
  } else {
    if (t['data'] !== undefined) throw new BadRequestError(`${at}: both "data" and binary_data_size`);
    if (binary === undefined) throw new BadRequestError(`${at}: binary_data_size without binary data (no Inference-Header-Content-Length header)`);
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new BadRequestError(`${at}: binary_data_size must be a non-negative integer, got ${JSON.stringify(size)}`);
    const left = binary.bytes.length - binary.offset;
    if (size > left) throw new BadRequestError(`${at}: binary_data_size ${size}, but only ${left} bytes of binary data remain`);
    data = decodeTensorBytes(binary.bytes.subarray(binary.offset, binary.offset + size), datatype, count, at);
    binary.offset += size;
  }
  return { name, datatype, shape: shape, data, ...(parameters !== undefined ? { parameters } : {}) };
}

function outputOf(o: unknown, i: number): OipRequestedOutput {
  if (!isObject(o)) throw new BadRequestError(`outputs[${i}] must be an object, got ${typeName(o)}`);
  const name = o['name'];
  if (typeof name !== 'string') throw new BadRequestError(`outputs[${i}].name must be a string`);
  const parameters = parametersOf(o['parameters'], `outputs[${i}]`);
  return { name, ...(parameters !== undefined ? { parameters } : {}) };
}

/**
 * The Inference-Header-Content-Length header's value → the JSON header's length (undefined: a JSON body).
 * It must be a whole number of bytes within the body.
 */
export function headerLengthOf(header: string | string[] | undefined, bodyLength: number): number | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join(',') : header;
  if (!/^\d{1,15}$/.test(text.trim())) throw new BadRequestError(`Inference-Header-Content-Length ${shown(text, 40)} is not a byte count`);
  const n = Number(text.trim());
  if (n > bodyLength) throw new BadRequestError(`Inference-Header-Content-Length ${n} is longer than the body (${bodyLength} bytes)`);
  return n;
}

/** Where the request came from: the path's model and version, and whether it may be mirrored. */
export interface InferTarget {
  readonly modelName: string;
  readonly modelVersion: string | undefined;
  readonly mirror: boolean;
}

/** An infer request body (and its Inference-Header-Content-Length, when binary) → the request. */
export function decodeInferRequest(body: Buffer, headerLength: number | undefined, target: InferTarget): OipInferRequest {
  const text = (headerLength === undefined ? body : body.subarray(0, headerLength)).toString('utf8');
  if (text.trim() === '') throw new BadRequestError('empty body: expected the JSON inference request');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e: unknown) {
    throw new BadRequestError(`malformed JSON${headerLength === undefined ? '' : ' header'}: ${e instanceof Error ? e.message.slice(0, 200) : String(e)}`);
  }
  if (!isObject(json)) throw new BadRequestError('body must be a JSON object with "inputs"');
  const id = json['id'];
  if (id !== undefined && typeof id !== 'string') throw new BadRequestError(`"id" must be a string, got ${typeName(id)}`);
  const inputs = json['inputs'];
  if (inputs === undefined) throw new BadRequestError('missing field "inputs"');
  if (!Array.isArray(inputs)) throw new BadRequestError(`"inputs" must be an array, got ${typeName(inputs)}`);
  const outputs = json['outputs'];
  if (outputs !== undefined && !Array.isArray(outputs)) throw new BadRequestError(`"outputs" must be an array, got ${typeName(outputs)}`);
  const binary = headerLength === undefined ? undefined : { bytes: body.subarray(headerLength), offset: 0 };
  const tensors = inputs.map((t: unknown, i) => tensorOf(t, i, binary));
  if (binary !== undefined && binary.offset !== binary.bytes.length) {
    throw new BadRequestError(`${binary.bytes.length - binary.offset} bytes of binary data after the JSON header belong to no input (binary_data_size of the inputs: ${binary.offset} bytes)`);
  }
  const parameters = parametersOf(json['parameters'], 'request');
  return {
    modelName: target.modelName,
    modelVersion: target.modelVersion,
    ...(id !== undefined ? { id } : {}),
    inputs: tensors,
    ...(outputs !== undefined ? { outputs: outputs.map(outputOf) } : {}),
    ...(parameters !== undefined ? { parameters } : {}),
    mirror: target.mirror,
  };
}

/** Whether an output goes in binary: its own binary_data parameter, else the request's binary_data_output. */
export function binaryOutputs(request: Pick<OipInferRequest, 'outputs' | 'parameters'>): (name: string) => boolean {
  const all = request.parameters?.['binary_data_output'] === true;
  const own = new Map((request.outputs ?? []).map((o) => [o.name, o.parameters?.['binary_data']]));
  return (name) => {
    const b = own.get(name);
    return typeof b === 'boolean' ? b : all;
  };
}

/** An encoded infer response: the body, and the JSON header's length when binary outputs follow it. */
export interface EncodedResponse {
  readonly body: Buffer;
  readonly headerLength: number | undefined;
}

export function encodeInferResponse(response: OipInferResponse, binary: (name: string) => boolean): EncodedResponse {
  const blobs: Buffer[] = [];
  const outputs = response.outputs.map((o) => {
    if (!binary(o.name)) return { name: o.name, datatype: o.datatype, shape: o.shape, data: o.data };
    const bytes = encodeTensorBytes(o.datatype, o.data);
    blobs.push(bytes);
    return { name: o.name, datatype: o.datatype, shape: o.shape, parameters: { binary_data_size: bytes.length } };
  });
  const header = Buffer.from(JSON.stringify({
    model_name: response.modelName,
    model_version: response.modelVersion,
    ...(response.id !== undefined ? { id: response.id } : {}),
    ...(response.parameters !== undefined ? { parameters: response.parameters } : {}),
    outputs,
  }), 'utf8');
  if (blobs.length === 0) return { body: header, headerLength: undefined };
  return { body: Buffer.concat([header, ...blobs]), headerLength: header.length };
}
