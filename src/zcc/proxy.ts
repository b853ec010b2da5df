// The ZCC proxy: a TLS server that opens a tunnel to one recovery VRA per connection, for one
// tenant. Every connection starts with the handshake of handshake.ts; the proxy checks the
// tenant's credentials (its Zorg and token, the token compared in constant time), asks `resolve`
// where the target VRA is (and whether this tenant may reach it), connects, answers ok, then pipes
// bytes both ways with backpressure until either side closes or the tunnel idles out. Everything
// else gets a refusal frame and is closed, and logged with the claimed Zorg, the remote address
// and the reason.
import { connect as netConnect, type Socket } from 'node:net';
import { pipeline } from 'node:stream';
import { createServer, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
// Not the runtime's index: that brings the Kubernetes client, which the proxy does not use, into
// every heap that holds a proxy (a VRA pair in tests and benchmarks, where the heap's size shows
// in every collection).
import { errorMessage } from '../runtime/errors.ts';
import { silentLogger } from '../runtime/logger.ts';
import { Registry } from '../runtime/metrics.ts';
import {
  ALPN_PROTOCOL, HandshakeError, PROTOCOL_VERSION, encodeFrame, parseHello, readFrame, secretsEqual,
  type Hello, type RefusalCode, type Target,
} from './handshake.ts';

/** Where a target is, or why the tenant cannot have it. */
export type Resolution =
  | { ok: true; host: string; port: number; pod: string }
  | { ok: false; code: 'Forbidden' | 'Unavailable'; reason: string };

export interface ZccProxyOptions {
  /** Address to listen on; default all interfaces. */
  host?: string;
  port: number;
  /** The connector's TLS identity (PEM). */
  cert: string | Buffer;
  key: string | Buffer;
  /** The tenant this connector serves, and its token. */
  zorg: string;
  token: string;
  resolve(target: Target): Resolution;
  /** The hello must arrive within this; default 10 s. */
  helloTimeoutMs?: number;
  /** A tunnel with no bytes either way for this long is closed; default 5 min. */
  idleTimeoutMs?: number;
  /** Connecting to the VRA; default 5 s. */
  connectTimeoutMs?: number;
  /** Connections at once (handshaking or tunnelling); more are refused. Default 1024. */
  maxConnections?: number;
  logger?: Logger;
  /** Where the proxy's metrics go (zcsp_zcc_*); default a private registry. */
  registry?: Registry;
}

export interface ZccProxy {
  readonly host: string;
  readonly port: number;
  /** Open tunnels. */
  tunnels(): number;
  /**
   * Stops accepting; open tunnels get `graceMs` (default 10 s) to finish, then are cut.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

export function proxyMetrics(registry: Registry) {
  return {
    connections: registry.counter<'result'>({ name: 'zcsp_zcc_connections_total', help: 'Connections to the connector by outcome: accepted, or the refusal code.', labelNames: ['result'] }),
    tunnels: registry.gauge({ name: 'zcsp_zcc_tunnels', help: 'Open tunnels.' }),
    bytes: registry.counter<'direction'>({ name: 'zcsp_zcc_tunnel_bytes_total', help: 'Bytes carried by tunnels: up (client to VRA) and down.', labelNames: ['direction'] }),
  };
}

export async function startZccProxy(options: ZccProxyOptions): Promise<ZccProxy> {
  const log = (options.logger ?? silentLogger()).child({ component: 'zcc-proxy', zorg: options.zorg });
  const m = proxyMetrics(options.registry ?? new Registry());
  const helloTimeoutMs = options.helloTimeoutMs ?? 10_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 300_000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const maxConnections = options.maxConnections ?? 1024;
  /** Every TCP connection, handshaken or not: close() cuts them all. */
  const sockets = new Set<Socket>();
  /** How to end each open tunnel. */
  const tunnels = new Set<(why: string) => void>();
  let open = 0;
  let closing = false;

  const refuse = (socket: TLSSocket, remote: string, code: RefusalCode, message: string, context: Record<string, unknown>): void => {
    m.connections.inc({ result: code });
    log.warn({ remote, code, ...context }, `connection refused: ${message}`);
    if (socket.destroyed) return;
    // Unauthenticated peers learn nothing but the code: the reason stays in the log.
    const told = code === 'Unauthenticated' ? 'invalid credentials' : message;
    socket.end(encodeFrame({ v: PROTOCOL_VERSION, ok: false, code, message: told }));
    setTimeout(() => socket.destroy(), 2000).unref();
  };

  const connectUpstream = (host: string, port: number): Promise<Socket> => new Promise((resolve, reject) => {
    const upstream = netConnect({ host, port, allowHalfOpen: true });
    const timer = setTimeout(() => {
      upstream.destroy();
      reject(new Error(`connecting to ${host}:${port} timed out after ${connectTimeoutMs} ms`));
    }, connectTimeoutMs);
    upstream.once('connect', () => {
      clearTimeout(timer);
      upstream.off('error', onError);
      resolve(upstream);
    });
    const onError = (err: Error): void => {
      clearTimeout(timer);
      reject(err);
    };
    upstream.once('error', onError);
  });

  const tunnel = (socket: TLSSocket, upstream: Socket, hello: Hello, pod: string, remote: string): void => {
    const started = Date.now();
    let up = 0;
    let down = 0;
    let ended = 0;
    let torn = false;
    open++;
    m.tunnels.set({}, open);
    sockets.add(upstream);
    // Two pipelines and the byte counters listen on each socket: more than the default 10.
    socket.setMaxListeners(32);
    upstream.setMaxListeners(32);
    const context = { remote, target: hello.target, pod };
    const teardown = (why: string, err?: unknown): void => {
      if (torn) return;
      torn = true;
      clearTimeout(idle);
      socket.destroy();
      upstream.destroy();
      sockets.delete(upstream);
      tunnels.delete(teardown);
      open--;
      m.tunnels.set({}, open);
      const fields = { ...context, bytesUp: up, bytesDown: down, durationMs: Date.now() - started };
      if (err === undefined) log.info(fields, `tunnel closed: ${why}`);
      else log.info({ ...fields, err: errorMessage(err) }, `tunnel closed: ${why}`);
    };
    tunnels.add(teardown);
    const idle = setTimeout(() => teardown(`idle for ${idleTimeoutMs} ms`), idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => {
      up += chunk.length;
      m.bytes.inc({ direction: 'up' }, chunk.length);
      idle.refresh();
    });
    upstream.on('data', (chunk: Buffer) => {
      down += chunk.length;
      m.bytes.inc({ direction: 'down' }, chunk.length);
      idle.refresh();
    });
    // Each direction ends on its own (half-close); the tunnel goes when both have, or on an error.
    const done = (direction: string) => (err: Error | null | undefined): void => {
      if (err !== null && err !== undefined) teardown(`${direction} failed`, err);
      else if (++ended === 2) teardown('both sides closed');
    };
    pipeline(socket, upstream, done('client to VRA'));
    pipeline(upstream, socket, done('VRA to client'));
    log.info(context, 'tunnel open');
  };

  const handle = async (socket: TLSSocket): Promise<void> => {
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.on('error', (err) => log.debug({ remote, err: errorMessage(err) }, 'client socket error'));
    if (closing) {
      refuse(socket, remote, 'ShuttingDown', 'the connector is shutting down', {});
      return;
    }
    if (sockets.size > maxConnections + open) {
      refuse(socket, remote, 'Unavailable', 'too many connections', { limit: maxConnections });
      return;
    }
    let hello: Hello;
    try {
      hello = parseHello(await readFrame(socket, helloTimeoutMs));
    } catch (err: unknown) {
      if (err instanceof HandshakeError) refuse(socket, remote, err.code, err.message, {});
      else {
        m.connections.inc({ result: 'Error' });
        log.debug({ remote, err: errorMessage(err) }, 'connection failed during the handshake');
        socket.destroy();
      }
      return;
    }
    // Both checks always run: the time taken does not say which one failed.
    const zorgMatches = hello.zorg === options.zorg;
    const tokenMatches = secretsEqual(hello.token, options.token);
    if (!zorgMatches || !tokenMatches) {
      const reason = !zorgMatches ? `zorg "${hello.zorg}" is not the tenant this connector serves` : 'wrong token';
      refuse(socket, remote, 'Unauthenticated', reason, { claimedZorg: hello.zorg, target: hello.target });
      return;
    }
    const where = options.resolve(hello.target);
    if (!where.ok) {
      refuse(socket, remote, where.code, where.reason, { target: hello.target });
      return;
    }
    let upstream: Socket;
    try {
      upstream = await connectUpstream(where.host, where.port);
    } catch (err: unknown) {
      refuse(socket, remote, 'Unavailable', `the VRA ${where.pod} did not accept the connection: ${errorMessage(err)}`, { target: hello.target, pod: where.pod });
      return;
    }
    if (socket.destroyed) {
      upstream.destroy();
      return;
    }
    m.connections.inc({ result: 'accepted' });
    socket.write(encodeFrame({ v: PROTOCOL_VERSION, ok: true }));
    tunnel(socket, upstream, hello, where.pod, remote);
  };

  const server = createServer({
    cert: options.cert,
    key: options.key,
    minVersion: 'TLSv1.3',
    ALPNProtocols: [ALPN_PROTOCOL],
    allowHalfOpen: true,
  }, (socket) => void handle(socket));
  server.on('connection', (raw: Socket) => {
    sockets.add(raw);
    raw.once('close', () => sockets.delete(raw));
  });
  server.on('tlsClientError', (err, socket) => {
    m.connections.inc({ result: 'TLSError' });
    log.info({ remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, err: errorMessage(err) }, 'TLS handshake failed');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('the proxy has no address');
  log.info({ address: address.address, port: address.port }, 'listening');

  return {
    host: address.address,
    port: address.port,
    tunnels: () => open,
    async close(closeOptions = {}) {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const deadline = Date.now() + (closeOptions.graceMs ?? 10_000);
      while (open > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const end of [...tunnels]) end('the connector is shutting down');
      for (const s of [...sockets]) s.destroy();
      await closed;
    },
  };
}
