import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { FramePool } from './frame-pool.ts';

describe('FramePool', () => {
  it('hands out memory of its size, takes it back, and keeps only a few', () => {
    const pool = new FramePool(1000, 2);
    const a = pool.take(1000);
    const b = pool.take(10);
    const c = pool.take(500);
    assert.ok(a && b && c);
    assert.deepEqual([a.length, b.length, c.length], [1000, 1000, 1000]);
    assert.equal(pool.take(1001), undefined, 'a larger frame gets memory of its own');
    pool.give(a);
    pool.give(b);
    pool.give(c);
    pool.give(Buffer.alloc(999));
    assert.deepEqual(pool.stats, { made: 3, reused: 0, free: 2 });
    const again = pool.take(1);
    assert.ok(again === c || again === b);
    assert.deepEqual(pool.stats, { made: 3, reused: 1, free: 1 });
    pool.release();
    assert.equal(pool.stats.free, 0);
    pool.take(1);
    assert.deepEqual(pool.stats, { made: 4, reused: 1, free: 0 });
  });

  it('reuses only for sockets, which are done with a buffer when its write callback runs', async () => {
    assert.equal(FramePool.reusesAfterWrite(new PassThrough()), false);
    const server = createServer((s) => s.resume());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object');
    const socket: Socket = connect(address.port, '127.0.0.1');
    await once(socket, 'connect');
    try {
      assert.equal(FramePool.reusesAfterWrite(socket), true);
    } finally {
      socket.destroy();
      server.close();
    }
  });
});
