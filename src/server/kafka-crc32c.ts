// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of a Kafka RecordBatch v2: the broker
// recomputes it over everything from the batch's attributes to its end and refuses a batch whose CRC differs
// (CORRUPT_MESSAGE). Node's zlib has CRC-32 (IEEE) only, so it is computed here, over every byte the sink sends.
// Slicing by 8: eight 256-entry tables, eight bytes per step, several times faster in V8 than one table and one
// byte per step (the textbook form, kept as `crc32cBytewise` for the table test to check the fast one against).

const poly = 0x82f63b78;

/** tables[k][b]: the CRC of byte b followed by k zero bytes; tables[0] is the classic one-byte table. */
const tables: Int32Array[] = (() => {
  const t = Array.from({ length: 8 }, () => new Int32Array(256));
  const t0 = t[0] as Int32Array;
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t0[b] = c;
  }
  for (let b = 0; b < 256; b++) {
    let c = t0[b] as number;
    for (let k = 1; k < 8; k++) {
      c = (t0[c & 0xff] as number) ^ (c >>> 8);
      (t[k] as Int32Array)[b] = c;
    }
  }
  return t;
})();
const [t0, t1, t2, t3, t4, t5, t6, t7] = tables as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];

/** The CRC-32C of bytes [start, end) of `data`, as an unsigned 32-bit integer. */
export function crc32c(data: Uint8Array, start = 0, end = data.length): number {
  let crc = ~0;
  let i = start;
  for (const last8 = end - 8; i <= last8; i += 8) {
    const lo = crc ^ ((data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24));
    crc = (t7[lo & 0xff] as number) ^ (t6[(lo >>> 8) & 0xff] as number) ^ (t5[(lo >>> 16) & 0xff] as number) ^ (t4[lo >>> 24] as number)
      ^ (t3[data[i + 4] as number] as number) ^ (t2[data[i + 5] as number] as number) ^ (t1[data[i + 6] as number] as number) ^ (t0[data[i + 7] as number] as number);
  }
  for (; i < end; i++) crc = (t0[(crc ^ (data[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** The same CRC one byte at a time from the one-byte table: the definition the fast form is tested against. */
export function crc32cBytewise(data: Uint8Array): number {
  let crc = ~0;
  for (const b of data) crc = (t0[(crc ^ b) & 0xff] as number) ^ (crc >>> 8);
  return ~crc >>> 0;
}
