import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BLOCK_SIZE, HASH_BYTES, blockHash } from '../hash.ts';
import { resizedHashes } from './content-sync.ts';

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
