import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { BLOCK_SIZE } from '../hash.ts';
import { HashPool, hashBlocks, sharedBuffer } from './hash-pool.ts';
import { hashesOf } from './mirror.test-support.ts';
import { randomBytes, rng } from './workload.test-support.ts';

function sharedRandom(seed: number, bytes: number): Buffer {
  const b = sharedBuffer(bytes);
  randomBytes(rng(seed), bytes).copy(b);
  return b;
}

describe('HashPool', () => {
  it('hashes each 64 KiB block, the last one short, like hashing on this thread', async () => {
    const pool = new HashPool(2);
    try {
      assert.equal(pool.size, 2);
      const chunks = [0, 1, BLOCK_SIZE - 1, BLOCK_SIZE, 3 * BLOCK_SIZE + 5, 4 * 1024 * 1024].map((n, i) => sharedRandom(i, n));
      const got = await Promise.all(chunks.map((c) => pool.hash(c)));
      chunks.forEach((c, i) => assert.deepEqual(got[i], hashesOf(c), `chunk ${i}`));
      // A part of a shared buffer, and memory that is not shared (hashed here).
      const big = chunks[5] ?? Buffer.alloc(0);
      assert.deepEqual(await pool.hash(big.subarray(BLOCK_SIZE, 3 * BLOCK_SIZE + 9)), hashBlocks(big.subarray(BLOCK_SIZE, 3 * BLOCK_SIZE + 9)));
      const plain = randomBytes(rng(9), 2 * BLOCK_SIZE);
      assert.deepEqual(await pool.hash(plain), hashesOf(plain));
    } finally {
      await pool.close();
    }
  });

  it('loses nothing when a worker dies with chunks in hand: they are hashed here', async () => {
    const pool = new HashPool(2);
    try {
      const chunks = Array.from({ length: 24 }, (_, i) => sharedRandom(100 + i, 2 * 1024 * 1024 + i));
      const pending = chunks.map((c) => pool.hash(c));
      const [victim] = pool.workers();
      assert.ok(victim);
      const exited = once(victim, 'exit');
      await victim.terminate();
      await exited;
      const got = await Promise.all(pending);
      chunks.forEach((c, i) => assert.deepEqual(got[i], hashesOf(c), `chunk ${i}`));
      assert.equal(pool.size, 1);
      // The survivor carries on.
      const more = sharedRandom(200, 5 * BLOCK_SIZE);
      assert.deepEqual(await pool.hash(more), hashesOf(more));
    } finally {
      await pool.close();
    }
  });

  it('hashes on this thread once every worker is gone, or the pool is closed', async () => {
    const pool = new HashPool(1);
    const c = sharedRandom(300, 7 * BLOCK_SIZE + 3);
    const pending = pool.hash(c);
    const [only] = pool.workers();
    assert.ok(only);
    // A worker that crashes (an uncaught error) rather than being stopped.
    const exited = new Promise((resolve) => only.on('exit', resolve));
    only.postMessage({ id: -1, buffer: new SharedArrayBuffer(8), offset: 0, length: -1 });
    await exited;
    assert.deepEqual(await pending, hashesOf(c));
    assert.equal(pool.size, 0);
    assert.deepEqual(await pool.hash(c), hashesOf(c));
    await pool.close();
    assert.deepEqual(await pool.hash(c), hashesOf(c));
    const closed = new HashPool(1);
    await closed.close();
    assert.deepEqual(await closed.hash(c), hashesOf(c));
  });

  it('does not keep the process alive while idle', async () => {
    const pool = new HashPool(1);
    const c = sharedRandom(400, BLOCK_SIZE);
    assert.deepEqual(await pool.hash(c), hashesOf(c));
    // Left open on purpose: were an idle worker still ref'd, this file's process would not end.
  });
});
