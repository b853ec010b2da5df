import assert from 'node:assert/strict';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { BLOCK_SIZE, HASH_BYTES } from '../hash.ts';
import { diffChunk, scanHere } from './chunk-scan.ts';
import { hashesOf } from './mirror.test-support.ts';
import { randomBytes, rng } from './workload.test-support.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zcsp-chunk-scan-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('diffChunk', () => {
  it('packs the blocks whose hash differs, in order, the short last block included', () => {
    const chunk = randomBytes(rng(1), 5 * BLOCK_SIZE + 100);
    const old = hashesOf(chunk);
    // Blocks 1, 2 and 5 (the short one) differ on the replica; the rest are equal.
    for (const b of [1, 2, 5]) old[b * HASH_BYTES] = (old[b * HASH_BYTES] ?? 0) ^ 1;
    const r = diffChunk(chunk, old);
    assert.equal(r.length, chunk.length);
    assert.deepEqual(Buffer.from(r.hashes), hashesOf(chunk));
    assert.deepEqual([...r.changed], [0, 1, 1, 0, 0, 1]);
    assert.deepEqual(Buffer.from(r.data), Buffer.concat([chunk.subarray(BLOCK_SIZE, 3 * BLOCK_SIZE), chunk.subarray(5 * BLOCK_SIZE)]));
    // Each changed block's own CRC, in packed order; all of them when the chunk is given away whole.
    assert.deepEqual([...(r.crcs ?? [])], [1, 2, 5].map((b) => crc32(chunk.subarray(b * BLOCK_SIZE, Math.min((b + 1) * BLOCK_SIZE, chunk.length)))));
    const own = new Uint8Array(chunk);
    const whole = diffChunk(own, new Uint8Array(0), own);
    assert.equal(whole.data, own);
    assert.deepEqual([...(whole.crcs ?? [])], [0, 1, 2, 3, 4, 5].map((b) => crc32(chunk.subarray(b * BLOCK_SIZE, Math.min((b + 1) * BLOCK_SIZE, chunk.length)))));
  });

  it('counts blocks the replica has no hash for as changed, and nothing when all are equal', () => {
    const chunk = randomBytes(rng(2), 3 * BLOCK_SIZE);
    const all = hashesOf(chunk);
    const partial = diffChunk(chunk, all.subarray(0, HASH_BYTES));
    assert.deepEqual([...partial.changed], [0, 1, 1]);
    assert.equal(partial.data.length, 2 * BLOCK_SIZE);
    const none = diffChunk(chunk, all);
    assert.deepEqual([...none.changed], [0, 0, 0]);
    assert.equal(none.data.length, 0);
    assert.equal(diffChunk(new Uint8Array(0), all).changed.length, 0);
  });
});

describe('scanHere', () => {
  it('reads a chunk of an open file, stops at its end, and fails with the read error', async () => {
    const path = join(dir, 'img');
    const content = randomBytes(rng(3), 2 * BLOCK_SIZE + 10);
    writeFileSync(path, content);
    const fd = openSync(path, 'r');
    try {
      const r = await scanHere({ fd, pos: BLOCK_SIZE, want: 4 * BLOCK_SIZE, old: new Uint8Array(0) });
      assert.equal(r.length, BLOCK_SIZE + 10, 'the content ended first');
      assert.deepEqual(Buffer.from(r.data), content.subarray(BLOCK_SIZE));
    } finally {
      closeSync(fd);
    }
    await assert.rejects(scanHere({ fd, pos: 0, want: BLOCK_SIZE, old: new Uint8Array(0) }), (err: unknown) => (err as NodeJS.ErrnoException).code === 'EBADF');
  });
});
