import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { crc32Combine } from './crc32.ts';
import { randomBytes, rng } from './capture/workload.test-support.ts';

describe('crc32Combine', () => {
  it('gives the CRC of a concatenation, for every split of random data', () => {
    const r = rng(7);
    for (let round = 0; round < 300; round++) {
      const n = Math.floor(r() * (round < 200 ? 64 : 200_000));
      const data = randomBytes(r, n);
      const cut = Math.floor(r() * (n + 1));
      const a = data.subarray(0, cut);
      const b = data.subarray(cut);
      assert.equal(crc32Combine(crc32(a), crc32(b), b.length), crc32(data), `${n} bytes cut at ${cut}`);
    }
  });

  it('chains over many pieces, as a frame of records is checked', () => {
    const r = rng(11);
    const pieces = Array.from({ length: 500 }, () => randomBytes(r, Math.floor(r() * 3) === 0 ? 4 : 1 + Math.floor(r() * 70_000)));
    let crc = 0;
    for (const p of pieces) crc = crc32Combine(crc, crc32(p), p.length);
    assert.equal(crc, crc32(Buffer.concat(pieces)));
  });

  it('takes an empty second piece as nothing, and lengths past 4 GiB', () => {
    assert.equal(crc32Combine(0x12345678, 0, 0), 0x12345678);
    assert.equal(crc32Combine(crc32(Buffer.from('abc')), crc32(Buffer.alloc(0)), 0), crc32(Buffer.from('abc')));
    // Zero bytes after A are the same whichever way their length is written down: 2^32 + 5 zero
    // bytes after A equal 2^32 zeros, then 5 more.
    const a = crc32(Buffer.from('abc'));
    const zeros = (n: number): number => {
      // The CRC of n zero bytes, from the CRC of one, doubled and added by the bits of n.
      let crc = 0;
      let unit = crc32(Buffer.alloc(1));
      let unitLength = 1;
      let left = n;
      while (left > 0) {
        if (left % 2 === 1) crc = crc32Combine(crc, unit, unitLength);
        unit = crc32Combine(unit, unit, unitLength);
        unitLength *= 2;
        left = Math.floor(left / 2);
      }
      return crc;
    };
    assert.equal(zeros(1 << 20), crc32(Buffer.alloc(1 << 20)));
    const big = 2 ** 32 + 5;
    assert.equal(crc32Combine(a, zeros(big), big), crc32Combine(crc32Combine(a, zeros(2 ** 32), 2 ** 32), crc32(Buffer.alloc(5)), 5));
  });

  it('refuses a length that is not a byte count', () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53]) assert.throws(() => crc32Combine(1, 2, bad), /is not a byte count/);
  });
});
