import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { crc32c, crc32cBytewise } from './kafka-crc32c.js';

// kafkajs's CRC-32C (its own JavaScript, what it put in every batch the sink sent before): a second implementation.
const kafkajsCrc32c = createRequire(import.meta.url)('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (b: Buffer) => number;

const bytes = (f: (i: number) => number, n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => f(i));

describe('crc32c: CRC-32C (Castagnoli) as Kafka\'s RecordBatch v2 checks it', () => {
  // Known vectors: the check value of the CRC catalogue ("123456789"), and RFC 3720 (iSCSI) appendix B.4.
  const cases: Array<{ name: string; data: Uint8Array; crc: number }> = [
    { name: 'empty', data: new Uint8Array(0), crc: 0x00000000 },
    { name: '"123456789" (the catalogue\'s check value)', data: Buffer.from('123456789'), crc: 0xe3069283 },
    { name: '32 bytes of 0 (RFC 3720)', data: bytes(() => 0, 32), crc: 0x8a9136aa },
    { name: '32 bytes of 0xff (RFC 3720)', data: bytes(() => 0xff, 32), crc: 0x62a8ab43 },
    { name: '32 ascending bytes 0..31 (RFC 3720)', data: bytes((i) => i, 32), crc: 0x46dd794e },
    { name: '32 descending bytes 31..0 (RFC 3720)', data: bytes((i) => 31 - i, 32), crc: 0x113fdb5c },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(crc32c(c.data).toString(16), c.crc.toString(16));
      assert.equal(crc32cBytewise(c.data).toString(16), c.crc.toString(16));
    });
  }

  it('slicing by 8 equals the byte-at-a-time definition at every length and alignment', () => {
    const data = bytes((i) => (i * 131 + 7) & 0xff, 300);
    for (let start = 0; start < 9; start++) {
      for (let end = start; end <= data.length; end += 7) {
        assert.equal(crc32c(data, start, end), crc32cBytewise(data.subarray(start, end)), `[${start}, ${end})`);
      }
    }
  });

  it('equals kafkajs\'s CRC-32C over a record batch sized buffer', () => {
    const data = Buffer.from(bytes((i) => (i * 2654435761) >>> 24, 70_000));
    assert.equal(crc32c(data), kafkajsCrc32c(data));
  });
});
