import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { readsInPlace } from './connection.ts';

describe('readsInPlace', () => {
  it('is true only for sockets, which are done with what they were given once the write completes', async () => {
    assert.equal(readsInPlace(new PassThrough()), false);
    const server = createServer((s) => s.resume());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object');
    const socket: Socket = connect(address.port, '127.0.0.1');
    await once(socket, 'connect');
    try {
      assert.equal(readsInPlace(socket), true);
    } finally {
      socket.destroy();
      server.close();
    }
  });
});
