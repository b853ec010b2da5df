// The connector over real TLS sockets on loopback, with an echo server playing the recovery VRA.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { pino } from 'pino';
import { Registry } from '../runtime/index.ts';
import { selfSignedCertificate } from '../tls/self-signed.ts';
import { TunnelRefusedError, openTunnel, type TunnelOptions } from './client.ts';
import { encodeFrame, type Target } from './handshake.ts';
import { startZccProxy, type Resolution, type ZccProxy } from './proxy.ts';

const SERVERNAME = 'zcc-acme.zcsp-system.svc';
const TOKEN = randomBytes(32).toString('base64url');

interface LogLine { level: number; msg: string; remote?: string; code?: string; claimedZorg?: string; zorg?: string; bytesUp?: number; bytesDown?: number }

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** Reads everything until the peer ends. */
function readAll(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
    socket.resume();
  });
}

describe('zcc proxy', () => {
  const identity = selfSignedCertificate({ commonName: SERVERNAME, dnsNames: [SERVERNAME] });
  const logs: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => logs.push(JSON.parse(s) as LogLine) });
  const registry = new Registry();
  let echo: Server;
  let echoPort: number;
  let closedPort: number;
  let proxy: ZccProxy;
  const upstreamSockets = new Set<Socket>();

  const resolve = (t: Target): Resolution => {
    if (t.site !== 'dr') return { ok: false, code: 'Forbidden', reason: `site "${t.site}" is not a recovery site of a VPG of zorg "acme"` };
    if (t.node === 'dr-1') return { ok: true, host: '127.0.0.1', port: echoPort, pod: 'vra-dr-dr-1' };
    if (t.node === 'dr-dead') return { ok: true, host: '127.0.0.1', port: closedPort, pod: 'vra-dr-dr-dead' };
    return { ok: false, code: 'Unavailable', reason: `no VRA of site "dr" on node "${t.node}"` };
  };
  const tunnel = (o: Partial<TunnelOptions> = {}) => openTunnel({
    host: '127.0.0.1', port: proxy.port, ca: identity.cert, servername: SERVERNAME,
    zorg: 'acme', token: TOKEN, target: { site: 'dr', node: 'dr-1' }, timeoutMs: 5000, ...o,
  });
  const refusal = async (o: Partial<TunnelOptions>): Promise<TunnelRefusedError> => {
    try {
      const s = await tunnel(o);
      s.destroy();
    } catch (err: unknown) {
      assert.ok(err instanceof TunnelRefusedError, String(err));
      return err;
    }
    assert.fail('the tunnel was not refused');
  };
  const until = async (what: string, check: () => boolean): Promise<void> => {
    const deadline = Date.now() + 5000;
    while (!check()) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  before(async () => {
    echo = createServer({ allowHalfOpen: true }, (s) => {
      upstreamSockets.add(s);
      s.once('close', () => upstreamSockets.delete(s));
      s.pipe(s);
    });
    echoPort = await listen(echo);
    const closed = createServer();
    closedPort = await listen(closed);
    await new Promise<void>((r) => closed.close(() => r()));
    proxy = await startZccProxy({
      host: '127.0.0.1', port: 0, cert: identity.cert, key: identity.key, zorg: 'acme', token: TOKEN, resolve,
      helloTimeoutMs: 300, idleTimeoutMs: 500, connectTimeoutMs: 1000, logger, registry,
    });
  });

  after(async () => {
    await proxy.close({ graceMs: 0 });
    await new Promise<void>((r) => echo.close(() => r()));
  });

  it('tunnels a good client to its VRA: megabytes echoed intact, half-close carried through', async () => {
    const socket = await tunnel();
    const payload = randomBytes(4 << 20);
    const received = readAll(socket);
    socket.end(payload);
    const back = await received;
    assert.equal(back.length, payload.length);
    assert.ok(back.equals(payload), 'the same bytes came back');
    await until('tunnel closed', () => proxy.tunnels() === 0);
    const closed = logs.find((l) => l.msg === 'tunnel closed: both sides closed');
    assert.equal(closed?.bytesUp, payload.length);
    assert.equal(closed.bytesDown, payload.length);
    assert.equal(registry.get('zcsp_zcc_connections_total')?.render().includes('result="accepted"} 1'), true);
  });

  it('refuses a wrong token, saying only "invalid credentials"; the log has the reason and the remote address', async () => {
    const err = await refusal({ token: 'not-the-token' });
    assert.equal(err.code, 'Unauthenticated');
    assert.equal(err.message, 'Unauthenticated: invalid credentials');
    const line = logs.findLast((l) => l.code === 'Unauthenticated');
    assert.equal(line?.msg, 'connection refused: wrong token');
    assert.match(line.remote ?? '', /^127\.0\.0\.1:\d+$/);
    assert.equal(line.zorg, 'acme');
    assert.equal(line.claimedZorg, 'acme');
  });

  it('refuses another tenant, even with that tenant\'s valid-looking token', async () => {
    const err = await refusal({ zorg: 'globex', token: randomBytes(32).toString('base64url') });
    assert.equal(err.code, 'Unauthenticated');
    const sameTokenOtherZorg = await refusal({ zorg: 'globex' });
    assert.equal(sameTokenOtherZorg.code, 'Unauthenticated', 'the token is only good for its own zorg');
    const line = logs.findLast((l) => l.code === 'Unauthenticated');
    assert.equal(line?.msg, 'connection refused: zorg "globex" is not the tenant this connector serves');
    assert.equal(line.claimedZorg, 'globex');
  });

  it('refuses targets the tenant may not reach, or that are not there', async () => {
    const forbidden = await refusal({ target: { site: 'prod', node: 'prod-1' } });
    assert.equal(forbidden.code, 'Forbidden');
    assert.match(forbidden.message, /"prod" is not a recovery site/);
    const missing = await refusal({ target: { site: 'dr', node: 'dr-9' } });
    assert.equal(missing.code, 'Unavailable');
    const dead = await refusal({ target: { site: 'dr', node: 'dr-dead' } });
    assert.equal(dead.code, 'Unavailable');
    assert.match(dead.message, /vra-dr-dr-dead did not accept the connection/);
  });

  it('refuses garbage and unsupported versions, and a client that never says hello', async () => {
    const raw = (bytes: Buffer | undefined): Promise<string> => new Promise((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: proxy.port, ca: identity.cert, servername: SERVERNAME }, () => {
        if (bytes !== undefined) s.write(bytes);
        let text = '';
        s.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve(text.slice(4)));
      });
      s.once('error', reject);
    });
    assert.match(await raw(Buffer.from('GET / HTTP/1.1\r\n\r\n')), /"code":"BadHello"/, 'an HTTP request reads as an absurd frame length');
    assert.match(await raw(encodeFrame({ v: 2, zorg: 'acme', token: TOKEN, target: { site: 'dr', node: 'dr-1' } })), /"code":"UnsupportedVersion"/);
    assert.match(await raw(undefined), /"code":"Timeout"/);
  });

  it('refuses a TLS client that does not pin the connector\'s certificate, and one that checks another name', async () => {
    const other = selfSignedCertificate({ commonName: SERVERNAME, dnsNames: [SERVERNAME] });
    await assert.rejects(tunnel({ ca: other.cert }), /self-signed|unable to verify|certificate/i);
    await assert.rejects(tunnel({ servername: 'zcc-globex.zcsp-system.svc' }), /altnames|does not match/i);
  });

  it('closes a tunnel that idles, both ends', async () => {
    const socket = await tunnel();
    const ended = readAll(socket).catch(() => Buffer.alloc(0));
    socket.write('ping');
    await ended;
    await until('idle tunnel closed', () => proxy.tunnels() === 0 && upstreamSockets.size === 0);
    assert.ok(logs.some((l) => l.msg === 'tunnel closed: idle for 500 ms'));
  });

  it('on close, stops accepting and cuts tunnels still open after the grace period', async () => {
    const second = await startZccProxy({
      host: '127.0.0.1', port: 0, cert: identity.cert, key: identity.key, zorg: 'acme', token: TOKEN, resolve, logger,
    });
    const socket = await openTunnel({
      host: '127.0.0.1', port: second.port, ca: identity.cert, servername: SERVERNAME, zorg: 'acme', token: TOKEN, target: { site: 'dr', node: 'dr-1' },
    });
    const ended = readAll(socket).catch(() => Buffer.alloc(0));
    assert.equal(second.tunnels(), 1);
    const t0 = Date.now();
    await second.close({ graceMs: 200 });
    await ended;
    assert.ok(Date.now() - t0 >= 150, 'waited for the grace period');
    assert.equal(second.tunnels(), 0);
    await assert.rejects(openTunnel({
      host: '127.0.0.1', port: second.port, ca: identity.cert, servername: SERVERNAME, zorg: 'acme', token: TOKEN, target: { site: 'dr', node: 'dr-1' }, timeoutMs: 1000,
    }), /ECONNREFUSED/);
  });
});
