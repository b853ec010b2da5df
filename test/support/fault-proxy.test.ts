import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';

/** A client that collects what comes back and how it ended. */
async function client(port: number): Promise<{ socket: Socket; received: () => Buffer; ended: Promise<string> }> {
  const socket = connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<string>((resolve) => {
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    socket.once('close', () => resolve('closed'));
  });
  // A refused connection may be reset before or after it connected: either way `ended` says so.
  await Promise.race([new Promise((resolve) => socket.once('connect', resolve)), ended]);
  return { socket, received: () => Buffer.concat(chunks), ended };
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('fault proxy', () => {
  let echo: Server;
  let proxy: FaultProxy;
  const echoed: Buffer[] = [];

  before(async () => {
    echo = createServer((s) => {
      s.on('data', (c: Buffer) => {
        echoed.push(Buffer.from(c));
        s.write(c);
      });
      s.on('error', () => undefined);
      s.on('end', () => s.end());
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: (echo.address() as { port: number }).port } });
  });
  after(async () => {
    await proxy.close();
    await new Promise((resolve) => echo.close(resolve));
  });

  it('forwards bytes both ways unchanged, with delay and throttle', async () => {
    const data = randomBytes(300_000);
    for (const [delay, throttle] of [[0, undefined], [5, undefined], [0, 20_000_000]] as const) {
      proxy.setDelay(delay);
      proxy.setThrottle(throttle);
      const c = await client(proxy.port);
      c.socket.write(data);
      await until('the echo', () => c.received().length >= data.length);
      assert.ok(c.received().equals(data));
      c.socket.end();
      assert.equal(await c.ended, 'closed');
    }
    proxy.setDelay(0);
    proxy.setThrottle(undefined);
    const tapped: Buffer[] = [];
    proxy.tap((direction, chunk) => {
      if (direction === 'down') tapped.push(Buffer.from(chunk));
    });
    const c = await client(proxy.port);
    c.socket.write('tapped bytes');
    await until('the echo', () => c.received().length === 12);
    proxy.tap(undefined);
    assert.equal(Buffer.concat(tapped).toString(), 'tapped bytes');
    c.socket.destroy();
    await until('no connection open', () => proxy.stats.open === 0);
    assert.ok(proxy.stats.bytesUp >= 900_000 && proxy.stats.bytesDown >= 900_000);
    assert.throws(() => proxy.setThrottle(0), /throttle 0 is not positive/);
  });

  it('cuts every connection', async () => {
    const a = await client(proxy.port);
    const b = await client(proxy.port);
    await until('both open', () => proxy.stats.open >= 2);
    const cutBefore = proxy.stats.cut;
    proxy.cut();
    assert.equal(await a.ended, 'ECONNRESET');
    assert.equal(await b.ended, 'ECONNRESET');
    assert.equal(proxy.stats.cut - cutBefore, 2);
    await until('none open', () => proxy.stats.open === 0);
  });

  it('refuses connections while down, for a while or until up()', async () => {
    proxy.down();
    assert.equal(proxy.isDown, true);
    const refusedBefore = proxy.stats.refused;
    const c = await client(proxy.port);
    if (!c.socket.destroyed) c.socket.write('hello');
    assert.equal(await c.ended, 'ECONNRESET');
    assert.equal(c.received().length, 0);
    assert.equal(proxy.stats.refused, refusedBefore + 1);
    proxy.up();
    const ok = await client(proxy.port);
    ok.socket.write('x');
    await until('the echo', () => ok.received().length === 1);
    ok.socket.destroy();
    proxy.down(100);
    await until('up again', () => !proxy.isDown);
  });

  it('stalls one direction until resumed', async () => {
    const c = await client(proxy.port);
    proxy.stall('down');
    const echoedBefore = echoed.length;
    c.socket.write('ping');
    await until('the target got it', () => echoed.length > echoedBefore);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(c.received().length, 0, 'nothing came back while stalled');
    proxy.resume('down');
    await until('the echo', () => c.received().toString() === 'ping');
    c.socket.destroy();
  });

  it('corrupts exactly the byte at an offset of the next connection', async () => {
    const data = Buffer.alloc(100_000, 7);
    proxy.corrupt({ offset: 65_537, direction: 'up', mask: 0x10 });
    const corruptedBefore = proxy.stats.corrupted;
    const c = await client(proxy.port);
    c.socket.write(data);
    await until('the echo', () => c.received().length >= data.length);
    const got = c.received();
    const diffs = [...got.keys()].filter((i) => got[i] !== data[i]);
    assert.deepEqual(diffs, [65_537]);
    assert.equal(got[65_537], 7 ^ 0x10);
    assert.equal(proxy.stats.corrupted, corruptedBefore + 1);
    c.socket.destroy();
    const clean = await client(proxy.port);
    clean.socket.write(data);
    await until('the echo', () => clean.received().length >= data.length);
    assert.ok(clean.received().equals(data), 'only the next connection was corrupted');
    clean.socket.destroy();
    assert.throws(() => proxy.corrupt({ offset: -1 }), /corrupt offset -1 is not a byte offset/);
  });
});
