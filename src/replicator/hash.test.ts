import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BLOCK_SIZE, HASH_BYTES, blockHash, blockHashInto, hashBlocksInto } from './hash.ts';

// Reference values from the xxHash project's own command line tool (`xxhsum -H2`, XXH3-128, seed 0).
const KNOWN: [string, Buffer, string][] = [
  ['nothing', Buffer.alloc(0), '99aa06d3014798d86001c324468d497f'],
  ['"abc"', Buffer.from('abc'), '06b05ab6733a618578af5f94892f3950'],
  ['64 KiB of (i * 7919) & 0xff', pattern(BLOCK_SIZE), '970c4b900a605bc351b06302275859e4'],
];

function pattern(n: number): Buffer {
  const data = Buffer.alloc(n);
  for (let i = 0; i < n; i++) data[i] = (i * 7919) & 0xff;
  return data;
}

describe('blockHash', () => {
  it('is XXH3-128 with seed 0, big-endian as xxhsum prints it', () => {
    for (const [what, data, hex] of KNOWN) assert.equal(blockHash(data).toString('hex'), hex, what);
  });

  it('writes in place what blockHash returns, and hashes a run of blocks block by block', () => {
    const data = pattern(BLOCK_SIZE * 2 + 100);
    const out = Buffer.alloc(3 * HASH_BYTES + 2);
    hashBlocksInto(data, out.subarray(1));
    for (let b = 0; b < 3; b++) {
      const block = data.subarray(b * BLOCK_SIZE, (b + 1) * BLOCK_SIZE);
      assert.deepEqual(out.subarray(1 + b * HASH_BYTES, 1 + (b + 1) * HASH_BYTES), blockHash(block));
    }
    assert.equal(out[0], 0);
    assert.equal(out.at(-1), 0);
    const one = Buffer.alloc(HASH_BYTES);
    blockHashInto(data.subarray(0, 5), one, 0);
    assert.deepEqual(one, blockHash(data.subarray(0, 5)));
  });

  it('tells blocks apart that differ in one bit, wherever it is', () => {
    const base = Buffer.alloc(BLOCK_SIZE, 0x5a);
    const seen = new Set([blockHash(base).toString('hex')]);
    for (const at of [0, 1, 4095, 32768, BLOCK_SIZE - 1]) {
      for (const bit of [0, 7]) {
        const changed = Buffer.from(base);
        changed[at] = (changed[at] ?? 0) ^ (1 << bit);
        seen.add(blockHash(changed).toString('hex'));
      }
    }
    assert.equal(seen.size, 11);
  });
});
