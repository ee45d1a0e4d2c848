// The gRPC transport's codec: ModelInferRequest messages (as @grpc/proto-loader decodes them: field names as in the
// proto, 64-bit integers as decimal strings, bytes as Buffers) into the protocol-neutral OipInferRequest, and
// OipInferResponse into a ModelInferResponse with raw_output_contents, as Triton answers and tritonclient reads.
// Pure functions: every malformed tensor, shape, datatype or raw size is an OipError 400 naming what is wrong.
import { OipError, type OipInferRequest, type OipInferResponse, type OipParameter, type OipParameters, type OipTensor } from './types.js';

/** InferParameter as decoded (oneofs: the name of the field set is in parameter_choice). */
export interface GrpcParameter {
  parameter_choice?: string | undefined;
  bool_param?: boolean | undefined;
  int64_param?: string | number | undefined;
  string_param?: string | undefined;
  double_param?: number | undefined;
  uint64_param?: string | number | undefined;
}
export type GrpcParameters = Record<string, GrpcParameter>;

export interface GrpcContents {
  bool_contents?: boolean[] | undefined;
  int_contents?: number[] | undefined;
  int64_contents?: (string | number)[] | undefined;
  uint_contents?: number[] | undefined;
  uint64_contents?: (string | number)[] | undefined;
  fp32_contents?: number[] | undefined;
  fp64_contents?: number[] | undefined;
  bytes_contents?: Buffer[] | undefined;
}
type ContentsField = keyof GrpcContents;

export interface GrpcInputTensor {
  name?: string | undefined;
  datatype?: string | undefined;
  shape?: (string | number)[] | undefined;
  parameters?: GrpcParameters | undefined;
  contents?: GrpcContents | null | undefined;
}

export interface GrpcInferRequest {
  model_name?: string | undefined;
  model_version?: string | undefined;
  id?: string | undefined;
  parameters?: GrpcParameters | undefined;
  inputs?: GrpcInputTensor[] | undefined;
  outputs?: { name?: string | undefined; parameters?: GrpcParameters | undefined }[] | undefined;
  raw_input_contents?: Buffer[] | undefined;
}

export interface GrpcOutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  parameters: GrpcParameters;
}

export interface GrpcInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters: GrpcParameters;
  outputs: GrpcOutputTensor[];
  raw_output_contents: Buffer[];
}

/** Each datatype's typed-contents field and the bytes of one element in raw contents (BYTES: length-prefixed). */
interface DatatypeLayout {
  readonly field: ContentsField | undefined;
  readonly bytes: number;
  readonly min?: number;
  readonly max?: number;
}
const layouts: Readonly<Record<string, DatatypeLayout>> = {
  BOOL: { field: 'bool_contents', bytes: 1 },
  UINT8: { field: 'uint_contents', bytes: 1, min: 0, max: 0xff },
  UINT16: { field: 'uint_contents', bytes: 2, min: 0, max: 0xffff },
  UINT32: { field: 'uint_contents', bytes: 4, min: 0, max: 0xffffffff },
  UINT64: { field: 'uint64_contents', bytes: 8 },
  INT8: { field: 'int_contents', bytes: 1, min: -0x80, max: 0x7f },
  INT16: { field: 'int_contents', bytes: 2, min: -0x8000, max: 0x7fff },
  INT32: { field: 'int_contents', bytes: 4, min: -0x80000000, max: 0x7fffffff },
  INT64: { field: 'int64_contents', bytes: 8 },
  // FP16 has no typed field in the protocol: it travels only as raw contents.
  FP16: { field: undefined, bytes: 2 },
  FP32: { field: 'fp32_contents', bytes: 4 },
  FP64: { field: 'fp64_contents', bytes: 8 },
  BYTES: { field: 'bytes_contents', bytes: 0 },
};
const contentsFields: readonly ContentsField[] = ['bool_contents', 'int_contents', 'int64_contents', 'uint_contents', 'uint64_contents', 'fp32_contents', 'fp64_contents', 'bytes_contents'];

const bad = (message: string): OipError => new OipError(400, message);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A 64-bit integer as decoded (a decimal string) as a number, refused outside ±2^53. */
export function safeInteger(value: string | number, what: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw bad(`${what}: ${String(value)} is not an integer within ±2^53`);
  return n;
}

function decodeParameters(params: GrpcParameters | undefined, what: string): OipParameters | undefined {
  const entries = Object.entries(params ?? {});
  if (entries.length === 0) return undefined;
  const out: Record<string, OipParameter> = {};
  for (const [key, p] of entries) out[key] = decodeParameter(p, `${what} parameter ${JSON.stringify(key)}`);
  return out;
}

function decodeParameter(p: GrpcParameter, what: string): OipParameter {
  switch (p.parameter_choice) {
    case 'bool_param': return p.bool_param === true;
    case 'string_param': return p.string_param ?? '';
    case 'double_param': return p.double_param ?? 0;
    case 'int64_param': return safeInteger(p.int64_param ?? 0, what);
    case 'uint64_param': return safeInteger(p.uint64_param ?? 0, what);
    default: throw bad(`${what} has no value`);
  }
}

/** The shape's dimensions as numbers, each a non-negative integer, and the element count they give. */
export function decodeShape(shape: readonly (string | number)[] | undefined, what: string): { dims: number[]; elements: number } {
  const dims: number[] = [];
  let elements = 1;
  for (const d of shape ?? []) {
    const n = Number(d);
    if (!Number.isSafeInteger(n) || n < 0) throw bad(`${what}: shape dimension ${String(d)} is not a non-negative integer`);
    dims.push(n);
    elements *= n;
  }
  if (dims.length === 0) throw bad(`${what}: shape is empty`);
  if (elements > 2 ** 31) throw bad(`${what}: shape [${dims.join(', ')}] holds more elements than any request may`);
  return { dims, elements };
}

/** The elements of a tensor sent in typed contents: the field of its datatype only, as many as its shape holds. */
export function decodeTypedContents(datatype: string, contents: GrpcContents | null | undefined, elements: number, what: string): (number | string | boolean)[] {
  const layout = layouts[datatype];
  if (layout === undefined) throw bad(`${what}: unknown datatype ${JSON.stringify(datatype)}`);
  const used = contentsFields.filter((f) => (contents?.[f]?.length ?? 0) > 0);
  const wrong = used.filter((f) => f !== layout.field);
  if (wrong.length > 0) {
    throw bad(`${what}: ${datatype} elements go ${layout.field === undefined ? 'in raw_input_contents' : `in contents.${layout.field}`}, not contents.${wrong.join(', contents.')}`);
  }
  const values: readonly (number | string | boolean | Buffer)[] = (layout.field && contents?.[layout.field]) ?? [];
  if (values.length !== elements) throw bad(`${what}: its shape holds ${elements} elements, ${values.length} were sent`);
  return values.map((v, i) => typedElement(datatype, layout, v, `${what} element ${i}`));
}

function typedElement(datatype: string, layout: DatatypeLayout, v: number | string | boolean | Buffer, what: string): number | string | boolean {
  if (typeof v === 'boolean') return v;
  if (Buffer.isBuffer(v)) return utf8Text(v, what);
  const n = typeof v === 'string' ? safeInteger(v, what) : v;
  if (layout.min !== undefined && layout.max !== undefined && (n < layout.min || n > layout.max)) throw bad(`${what}: ${n} is outside ${datatype}'s range`);
  return n;
}

function utf8Text(b: Uint8Array, what: string): string {
  try {
    return utf8.decode(b);
  } catch {
    throw bad(`${what}: BYTES element is not UTF-8 text`);
  }
}

/** The elements of a tensor sent raw: little-endian, no padding; BYTES each as a 4-byte length and its bytes. */
export function decodeRawContents(datatype: string, raw: Buffer, elements: number, what: string): (number | string | boolean)[] {
  const layout = layouts[datatype];
  if (layout === undefined) throw bad(`${what}: unknown datatype ${JSON.stringify(datatype)}`);
  if (datatype === 'BYTES') return decodeRawBytes(raw, elements, what);
  if (raw.length !== elements * layout.bytes) {
    throw bad(`${what}: ${elements} ${datatype} elements take ${elements * layout.bytes} raw bytes, ${raw.length} were sent`);
  }
  const read = rawReaders[datatype];
  const out = new Array<number | string | boolean>(elements);
  for (let i = 0; i < elements; i++) out[i] = read!(raw, i * layout.bytes, `${what} element ${i}`);
  return out;
}

const rawReaders: Readonly<Record<string, (b: Buffer, at: number, what: string) => number | boolean>> = {
  BOOL: (b, at, what) => {
    const v = b[at]!;
    if (v > 1) throw bad(`${what}: BOOL byte ${v} is neither 0 nor 1`);
    return v === 1;
  },
  UINT8: (b, at) => b.readUInt8(at),
  UINT16: (b, at) => b.readUInt16LE(at),
  UINT32: (b, at) => b.readUInt32LE(at),
  UINT64: (b, at, what) => safeInteger(b.readBigUInt64LE(at).toString(), what),
  INT8: (b, at) => b.readInt8(at),
  INT16: (b, at) => b.readInt16LE(at),
  INT32: (b, at) => b.readInt32LE(at),
  INT64: (b, at, what) => safeInteger(b.readBigInt64LE(at).toString(), what),
  FP16: (b, at) => halfToNumber(b.readUInt16LE(at)),
  FP32: (b, at) => b.readFloatLE(at),
  FP64: (b, at) => b.readDoubleLE(at),
};

function decodeRawBytes(raw: Buffer, elements: number, what: string): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < raw.length) {
    if (raw.length - at < 4) throw bad(`${what}: raw BYTES element ${out.length} has a truncated 4-byte length`);
    const n = raw.readUInt32LE(at);
    at += 4;
    if (raw.length - at < n) throw bad(`${what}: raw BYTES element ${out.length} says ${n} bytes, ${raw.length - at} remain`);
    out.push(utf8Text(raw.subarray(at, at + n), `${what} element ${out.length}`));
    at += n;
    if (out.length > elements) break;
  }
  if (out.length !== elements) throw bad(`${what}: its shape holds ${elements} elements, the raw BYTES contents hold ${out.length}${out.length > elements ? ' or more' : ''}`);
  return out;
}

/** IEEE 754 half precision to a number. */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** A ModelInferRequest as the service takes it. `mirror`: whether the service may mirror it to a shadow. */
export function decodeInferRequest(m: GrpcInferRequest, mirror: boolean): OipInferRequest {
  const inputs = m.inputs ?? [];
  const raw = m.raw_input_contents ?? [];
  if (raw.length > 0 && raw.length !== inputs.length) {
    throw bad(`raw_input_contents holds ${raw.length} entries for ${inputs.length} inputs: one per input, in their order`);
  }
  const tensors = inputs.map((t, i): OipTensor => {
    const name = t.name ?? '';
    const what = `input ${JSON.stringify(name)}`;
    const datatype = t.datatype ?? '';
    const { dims, elements } = decodeShape(t.shape, what);
    if (raw.length > 0 && contentsFields.some((f) => (t.contents?.[f]?.length ?? 0) > 0)) {
      throw bad(`${what}: has contents although the request sends raw_input_contents (one or the other for every input)`);
    }
    const data = raw.length > 0 ? decodeRawContents(datatype, raw[i]!, elements, what) : decodeTypedContents(datatype, t.contents, elements, what);
    return { name, datatype, shape: dims, data, parameters: decodeParameters(t.parameters, what) };
  });
  const outputs = (m.outputs ?? []).map((o) => ({ name: o.name ?? '', parameters: decodeParameters(o.parameters, `output ${JSON.stringify(o.name ?? '')}`) }));
  return {
    modelName: m.model_name ?? '',
    modelVersion: m.model_version === '' ? undefined : m.model_version,
    id: m.id === '' ? undefined : m.id,
    inputs: tensors,
    outputs: outputs.length === 0 ? undefined : outputs,
    parameters: decodeParameters(m.parameters, 'request'),
    mirror,
  };
}

/** Parameters in InferParameter form: integers as int64, other numbers as double. */
export function encodeParameters(p: OipParameters | undefined): GrpcParameters {
  const out: GrpcParameters = {};
  for (const [key, v] of Object.entries(p ?? {})) {
    if (typeof v === 'boolean') out[key] = { parameter_choice: 'bool_param', bool_param: v };
    else if (typeof v === 'string') out[key] = { parameter_choice: 'string_param', string_param: v };
    else if (Number.isSafeInteger(v)) out[key] = { parameter_choice: 'int64_param', int64_param: v };
    else out[key] = { parameter_choice: 'double_param', double_param: v };
  }
  return out;
}

/** One output's elements as raw contents (the layout of raw_input_contents). */
export function encodeRawContents(t: OipTensor): Buffer {
  const layout = layouts[t.datatype];
  if (layout === undefined) throw new Error(`output ${t.name}: unknown datatype ${t.datatype}`);
  if (t.datatype === 'BYTES') {
    const parts = t.data.map((v) => Buffer.from(String(v), 'utf8'));
    const out = Buffer.allocUnsafe(parts.reduce((s, p) => s + 4 + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.writeUInt32LE(p.length, at);
      p.copy(out, at + 4);
      at += 4 + p.length;
    }
    return out;
  }
  const out = Buffer.alloc(t.data.length * layout.bytes);
  const write = rawWriters[t.datatype]!;
  t.data.forEach((v, i) => write(out, i * layout.bytes, typeof v === 'boolean' ? Number(v) : Number(v)));
  return out;
}

const rawWriters: Readonly<Record<string, (b: Buffer, at: number, v: number) => void>> = {
  BOOL: (b, at, v) => b.writeUInt8(v ? 1 : 0, at),
  UINT8: (b, at, v) => b.writeUInt8(v, at),
  UINT16: (b, at, v) => b.writeUInt16LE(v, at),
  UINT32: (b, at, v) => b.writeUInt32LE(v, at),
  UINT64: (b, at, v) => b.writeBigUInt64LE(BigInt(v), at),
  INT8: (b, at, v) => b.writeInt8(v, at),
  INT16: (b, at, v) => b.writeInt16LE(v, at),
  INT32: (b, at, v) => b.writeInt32LE(v, at),
  INT64: (b, at, v) => b.writeBigInt64LE(BigInt(v), at),
  FP16: (b, at, v) => b.writeUInt16LE(numberToHalf(v), at),
  FP32: (b, at, v) => b.writeFloatLE(v, at),
  FP64: (b, at, v) => b.writeDoubleLE(v, at),
};

/** A number to IEEE 754 half precision (round toward zero; outputs are never FP16 today, the table is complete). */
function numberToHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = ((x >>> 23) & 0xff) - 127 + 15;
  if (Number.isNaN(v)) return 0x7e00;
  if (exponent >= 0x1f) return sign | 0x7c00;
  if (exponent <= 0) return sign | ((((x & 0x7fffff) | 0x800000) >>> (14 - exponent)) & 0x3ff);
  return sign | (exponent << 10) | ((x >>> 13) & 0x3ff);
}

/** The service's answer as a ModelInferResponse: every output raw, as Triton answers and tritonclient reads. */
export function encodeInferResponse(r: OipInferResponse): GrpcInferResponse {
  return {
    model_name: r.modelName,
    model_version: r.modelVersion,
    id: r.id ?? '',
    parameters: encodeParameters(r.parameters),
    outputs: r.outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: [...t.shape], parameters: encodeParameters(t.parameters) })),
    raw_output_contents: r.outputs.map(encodeRawContents),
  };
}
