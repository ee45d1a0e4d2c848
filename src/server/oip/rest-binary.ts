// The binary tensor data extension of OIP REST: tensor bytes after the JSON header instead of JSON arrays. Elements
// are little-endian, row-major; BOOL is one byte; BYTES elements are each a 4-byte little-endian length and that
// many bytes (UTF-8 here). Pure: decoding refuses with a BadRequestError naming the tensor and what does not add up
// (a size that is not a whole number of elements, a length prefix past the end, invalid UTF-8, a 64-bit integer
// outside ±2^53); encoding never fails on the outputs the service makes.
import { BadRequestError } from '../requests.js';

/** Bytes per element of the fixed-size datatypes. */
export const elementBytes: Readonly<Record<string, number>> = {
  BOOL: 1, INT8: 1, UINT8: 1, INT16: 2, UINT16: 2, FP16: 2, INT32: 4, UINT32: 4, FP32: 4, INT64: 8, UINT64: 8, FP64: 8,
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** IEEE 754 half precision → number. */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function int64(b: Buffer, at: string, i: number, signed: boolean): number {
  const v = signed ? b.readBigInt64LE(i * 8) : b.readBigUInt64LE(i * 8);
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new BadRequestError(`${at}: element ${i} (${v}) is outside ±2^53, which the server cannot take exactly`);
  return Number(v);
}

function fixedElement(b: Buffer, datatype: string, i: number, at: string): number | boolean {
  switch (datatype) {
    case 'BOOL': return b[i] !== 0;
    case 'INT8': return b.readInt8(i);
    case 'UINT8': return b.readUInt8(i);
    case 'INT16': return b.readInt16LE(i * 2);
    case 'UINT16': return b.readUInt16LE(i * 2);
    case 'FP16': return halfToNumber(b.readUInt16LE(i * 2));
    case 'INT32': return b.readInt32LE(i * 4);
    case 'UINT32': return b.readUInt32LE(i * 4);
    case 'FP32': return b.readFloatLE(i * 4);
    case 'INT64': return int64(b, at, i, true);
    case 'UINT64': return int64(b, at, i, false);
    default: return b.readDoubleLE(i * 8);
  }
}

/** BYTES elements: exactly `count` length-prefixed UTF-8 strings filling `b`. */
function bytesElements(b: Buffer, count: number, at: string): string[] {
  const out: string[] = [];
  let o = 0;
  while (o < b.length) {
    if (out.length === count) throw new BadRequestError(`${at}: ${b.length - o} bytes after the ${count} elements its shape says`);
    if (o + 4 > b.length) throw new BadRequestError(`${at}: element ${out.length} has a truncated length prefix (${b.length - o} of 4 bytes)`);
    const len = b.readUInt32LE(o);
    o += 4;
    if (len > b.length - o) throw new BadRequestError(`${at}: element ${out.length} says ${len} bytes, only ${b.length - o} remain`);
    try {
      out.push(utf8.decode(b.subarray(o, o + len)));
    } catch {
      throw new BadRequestError(`${at}: element ${out.length} is not valid UTF-8`);
    }
    o += len;
  }
  if (out.length !== count) throw new BadRequestError(`${at}: ${out.length} BYTES elements, its shape says ${count}`);
  return out;
}

/** A tensor's elements from its binary data; `count` from its shape. */
export function decodeTensorBytes(b: Buffer, datatype: string, count: number, at: string): (number | string | boolean)[] {
  if (datatype === 'BYTES') return bytesElements(b, count, at);
  const size = elementBytes[datatype];
  if (size === undefined) throw new BadRequestError(`${at}: datatype ${JSON.stringify(datatype.slice(0, 16))} has no binary form`);
  if (b.length !== count * size) throw new BadRequestError(`${at}: ${b.length} bytes of ${datatype}, its shape says ${count} elements (${count * size} bytes)`);
  const out: (number | boolean)[] = new Array<number | boolean>(count);
  for (let i = 0; i < count; i++) out[i] = fixedElement(b, datatype, i, at);
  return out;
}

function writeFixed(b: Buffer, datatype: string, i: number, v: number | boolean): void {
  const x = typeof v === 'boolean' ? Number(v) : v;
  switch (datatype) {
    case 'BOOL': b[i] = x === 0 ? 0 : 1; return;
    case 'INT8': b.writeInt8(x, i); return;
    case 'UINT8': b.writeUInt8(x, i); return;
    case 'INT16': b.writeInt16LE(x, i * 2); return;
    case 'UINT16': b.writeUInt16LE(x, i * 2); return;
    case 'INT32': b.writeInt32LE(x, i * 4); return;
    case 'UINT32': b.writeUInt32LE(x, i * 4); return;
    case 'FP32': b.writeFloatLE(x, i * 4); return;
    case 'INT64': b.writeBigInt64LE(BigInt(x), i * 8); return;
    case 'UINT64': b.writeBigUInt64LE(BigInt(x), i * 8); return;
    default: b.writeDoubleLE(x, i * 8);
  }
}

/** A tensor's elements as binary data (BYTES as length-prefixed UTF-8; FP16 is never an output here). */
export function encodeTensorBytes(datatype: string, data: readonly (number | string | boolean | null)[]): Buffer {
  if (datatype === 'BYTES') {
    const parts = data.map((v) => Buffer.from(String(v ?? ''), 'utf8'));
    const out = Buffer.allocUnsafe(parts.reduce((s, p) => s + 4 + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.writeUInt32LE(p.length, o);
      p.copy(out, o + 4);
      o += 4 + p.length;
    }
    return out;
  }
  const size = elementBytes[datatype] ?? 8;
  const out = Buffer.alloc(data.length * size);
  data.forEach((v, i) => writeFixed(out, datatype, i, typeof v === 'string' || v === null ? 0 : v));
  return out;
}
