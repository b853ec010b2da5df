import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BLOCK_SIZE, HASH_BYTES, blockHash } from '../hash.ts';
import type { Op } from '../ops.ts';
import { readBuffers, resizedHashes, syncContent } from './content-sync.ts';
import { hashBlocks } from './hash-pool.ts';

const h = (i: number): Uint8Array => new Uint8Array(HASH_BYTES).fill(i);
const cat = (...xs: Uint8Array[]): Buffer => Buffer.concat(xs);
const UNKNOWN = new Uint8Array(HASH_BYTES);

describe('resizedHashes', () => {
  it('keeps whole blocks and marks the cut block unknown when shrinking', () => {
    const old = cat(h(1), h(2), h(3));
    assert.deepEqual(Buffer.from(resizedHashes(old, 3 * BLOCK_SIZE, BLOCK_SIZE + 10)), cat(h(1), UNKNOWN));
    assert.deepEqual(Buffer.from(resizedHashes(old, 3 * BLOCK_SIZE, 2 * BLOCK_SIZE)), cat(h(1), h(2)));
    assert.deepEqual(Buffer.from(resizedHashes(old, 3 * BLOCK_SIZE, 0)), Buffer.alloc(0));
  });

  it('fills blocks past the old end with the hash of zeros when growing', () => {
    const old = cat(h(1), h(2));
    const grown = resizedHashes(old, BLOCK_SIZE + 5, 3 * BLOCK_SIZE + 7);
    assert.deepEqual(
      Buffer.from(grown),
      cat(h(1), UNKNOWN, blockHash(new Uint8Array(BLOCK_SIZE)), blockHash(new Uint8Array(7))),
    );
    assert.deepEqual(Buffer.from(resizedHashes(cat(h(1)), BLOCK_SIZE, 2 * BLOCK_SIZE)), cat(h(1), blockHash(new Uint8Array(BLOCK_SIZE))));
  });
});

describe('syncContent from data read ahead', () => {
  /** Syncs `data` against a replica whose hashes are right except for the blocks in `stale`. */
  async function writes(data: Buffer, stale: number[], dataOwned: boolean): Promise<Extract<Op, { op: 'write' }>[]> {
    const hashes = hashBlocks(data);
    for (const b of stale) hashes[b * HASH_BYTES] = (hashes[b * HASH_BYTES] ?? 0) ^ 1;
    const out: Extract<Op, { op: 'write' }>[] = [];
    await syncContent({
      data, dataOwned, size: data.length, id: 1, state: { size: data.length, hashes }, chunkBytes: 16 * BLOCK_SIZE, buffers: readBuffers(16 * BLOCK_SIZE), writeBytes: 16 * BLOCK_SIZE,
      emit: (op) => {
        if (op.op === 'write') out.push(op);
        return Promise.resolve();
      },
    });
    return out;
  }

  it('sends writes covering at least half of owned data as views of it, smaller ones and others\' data as copies', async () => {
    const data = Buffer.from(new Uint8Array(4 * BLOCK_SIZE).map((_, i) => i * 7));
    const views = (ws: Extract<Op, { op: 'write' }>[]): boolean[] => ws.map((w) => w.data.buffer === data.buffer);
    // Blocks 0..1 are half of it: a view; block 3 alone is a quarter: a copy.
    const owned = await writes(data, [0, 1, 3], true);
    assert.deepEqual(owned.map((w) => [w.offset, w.data.length]), [[0, 2 * BLOCK_SIZE], [3 * BLOCK_SIZE, BLOCK_SIZE]]);
    assert.deepEqual(views(owned), [true, false]);
    for (const w of owned) assert.deepEqual(Buffer.from(w.data), data.subarray(w.offset, w.offset + w.data.length));
    // Not owned (a buffer the caller reuses): always copies.
    assert.deepEqual(views(await writes(data, [0, 1, 3], false)), [false, false]);
  });
});
