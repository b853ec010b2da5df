import assert from 'node:assert/strict';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { BLOCK_SIZE, HASH_BYTES, blockHash } from '../hash.ts';
import type { Op } from '../ops.ts';
import { diffChunk } from './chunk-scan.ts';
import { resizedHashes, syncContent } from './content-sync.ts';
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

describe('syncContent from a content read ahead', () => {
  /** Syncs `content`, compared ahead with `state` (as the replica has it), and returns its ops. */
  async function ops(content: Buffer, state: { size: number; hashes: Uint8Array }): Promise<Op[]> {
    const out: Op[] = [];
    const scanned = diffChunk(content, state.hashes);
    await syncContent({
      scanned, size: content.length, id: 1, state, chunkBytes: 16 * BLOCK_SIZE, buffers: [], writeBytes: 2 * BLOCK_SIZE,
      emit: (op) => {
        out.push(op);
        return Promise.resolve();
      },
    });
    return out;
  }

  it('writes the changed blocks as views of what was read ahead, runs cut at writeBytes, and takes the new hashes', async () => {
    const content = Buffer.from(new Uint8Array(5 * BLOCK_SIZE).map((_, i) => i * 7));
    const hashes = hashBlocks(content);
    for (const b of [0, 1, 2, 4]) hashes[b * HASH_BYTES] = (hashes[b * HASH_BYTES] ?? 0) ^ 1;
    const state = { size: content.length, hashes: new Uint8Array(hashes) };
    const writes = (await ops(content, state)).filter((op) => op.op === 'write');
    assert.deepEqual(writes.map((w) => [w.offset / BLOCK_SIZE, w.data.length / BLOCK_SIZE]), [[0, 2], [2, 1], [4, 1]]);
    for (const w of writes) assert.deepEqual(Buffer.from(w.data), content.subarray(w.offset, w.offset + w.data.length));
    // Views of one packed buffer of the changed blocks: nothing copied.
    assert.equal(new Set(writes.map((w) => w.data.buffer)).size, 1);
    assert.deepEqual(Buffer.from(state.hashes), hashBlocks(content));
  });

  it('gives each write the CRC of its data, from the blocks\' own, the short last block included', async () => {
    const content = Buffer.from(new Uint8Array(7 * BLOCK_SIZE + 300).map((_, i) => (i * 13) ^ (i >> 9)));
    const hashes = hashBlocks(content);
    // Runs of 3 (cut at writeBytes into 2 and 1), 1, and 2 ending with the short block.
    for (const b of [0, 1, 2, 4, 6, 7]) hashes[b * HASH_BYTES] = (hashes[b * HASH_BYTES] ?? 0) ^ 1;
    const state = { size: content.length, hashes: new Uint8Array(hashes) };
    const got: { op: Op; crc: number | undefined }[] = [];
    await syncContent({
      scanned: diffChunk(content, state.hashes), size: content.length, id: 1, state, chunkBytes: 16 * BLOCK_SIZE, buffers: [], writeBytes: 2 * BLOCK_SIZE,
      emit: (op, _done, crc) => {
        got.push({ op, crc });
        return Promise.resolve();
      },
    });
    const writes = got.flatMap(({ op, crc }) => (op.op === 'write' ? [{ op, crc }] : []));
    assert.deepEqual(writes.map((w) => [w.op.offset / BLOCK_SIZE, Math.ceil(w.op.data.length / BLOCK_SIZE)]), [[0, 2], [2, 1], [4, 1], [6, 2]]);
    for (const w of writes) assert.equal(w.crc, crc32(w.op.data), `write at block ${w.op.offset / BLOCK_SIZE}`);
    // Read on this thread (no scan): no CRC is claimed.
    const plain: (number | undefined)[] = [];
    const dir = await mkdtemp(join(tmpdir(), 'zcsp-content-sync-'));
    try {
      await writeFile(join(dir, 'f'), content);
      const handle = await open(join(dir, 'f'), 'r');
      try {
        await syncContent({
          handle, size: content.length, id: 1, state: { size: content.length, hashes: new Uint8Array(hashes) }, chunkBytes: 16 * BLOCK_SIZE, buffers: [Buffer.alloc(16 * BLOCK_SIZE)], writeBytes: 2 * BLOCK_SIZE,
          emit: (op, _done, crc) => {
            if (op.op === 'write') plain.push(crc);
            return Promise.resolve();
          },
        });
      } finally {
        await handle.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    assert.deepEqual(plain, [undefined, undefined, undefined, undefined]);
  });

  it('truncates first when the size changed, and still writes what the replica lacks', async () => {
    const old = Buffer.from(new Uint8Array(3 * BLOCK_SIZE + 100).map((_, i) => i * 3));
    // Grown: the old short last block and what is past it are written; shrunk into a block: that block.
    for (const size of [5 * BLOCK_SIZE + 7, 2 * BLOCK_SIZE + 50, 2 * BLOCK_SIZE, 0]) {
      const content = Buffer.concat([old, Buffer.alloc(6 * BLOCK_SIZE, 9)]).subarray(0, size);
      const state = { size: old.length, hashes: new Uint8Array(hashBlocks(old)) };
      const done = await ops(content, state);
      assert.deepEqual(done[0], { op: 'truncate', id: 1, size }, `size ${size}`);
      const replica = Buffer.alloc(size);
      old.copy(replica, 0, 0, Math.min(size, old.length));
      for (const op of done) if (op.op === 'write') Buffer.from(op.data).copy(replica, op.offset);
      assert.deepEqual(replica, content, `size ${size}`);
      assert.deepEqual([state.size, Buffer.from(state.hashes)], [size, hashBlocks(content)], `size ${size}`);
    }
  });

  it('keeps a scan’s arena memory for each write until the sink is done with it, and gives back its own hold once', async () => {
    const content = Buffer.from(new Uint8Array(4 * BLOCK_SIZE).map((_, i) => i * 5));
    const stale = hashBlocks(content);
    for (const b of [0, 2, 3]) stale[b * HASH_BYTES] = (stale[b * HASH_BYTES] ?? 0) ^ 1;
    const run = async (refuseAt: number | undefined): Promise<{ held: () => number; calls: (() => void)[] }> => {
      let held = 1;
      const hold = {
        retain: (): void => {
          held++;
        },
        release: (): void => {
          assert.ok(held > 0, 'released more often than held');
          held--;
        },
      };
      const calls: (() => void)[] = [];
      let pushed = 0;
      const state = { size: content.length, hashes: new Uint8Array(stale) };
      await syncContent({
        scanned: { ...diffChunk(content, stale), hold },
        size: content.length, id: 1, state, chunkBytes: 16 * BLOCK_SIZE, buffers: [], writeBytes: BLOCK_SIZE,
        emit: (_op, done) => {
          // The sink owns done from the call on, refused or not.
          if (done !== undefined) calls.push(done);
          if (refuseAt !== undefined && pushed++ === refuseAt) return Promise.reject(new Error('refused'));
          return Promise.resolve();
        },
      }).catch((err: unknown) => {
        if (refuseAt === undefined) throw err;
      });
      return { held: () => held, calls };
    };
    const ok = await run(undefined);
    assert.equal(ok.calls.length, 3, 'one done per write of arena memory');
    assert.equal(ok.held(), 3, 'the scan’s own hold is back; each write still holds');
    for (const done of ok.calls) done();
    assert.equal(ok.held(), 0);
    const cut = await run(1);
    assert.equal(cut.calls.length, 2, 'the refused write’s done went to the sink too');
    assert.equal(cut.held(), 2, 'the scan’s hold is back though the sync failed');
    for (const done of cut.calls) done();
    assert.equal(cut.held(), 0);
  });

  it('refuses a content read ahead that is more than one chunk', async () => {
    const content = Buffer.alloc(17 * BLOCK_SIZE);
    await assert.rejects(ops(content, { size: 0, hashes: new Uint8Array(0) }), /content of 1114112 bytes read ahead, more than a chunk \(1048576\)/);
  });
});
