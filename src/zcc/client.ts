// The client side of a ZCC tunnel: what a protected VRA (and the tests) call to reach a recovery
// VRA through the tenant's connector. Resolves with the TLS socket once the proxy said ok: from
// then on it carries the bytes of the target VRA. The socket is returned paused (bytes the VRA
// sent early stay buffered): pipe it, or call resume() after adding a 'data' listener.
import { connect, type TLSSocket } from 'node:tls';
import { ALPN_PROTOCOL, HandshakeError, PROTOCOL_VERSION, encodeFrame, parseReply, readFrame, type RefusalCode, type Target } from './handshake.ts';

export interface TunnelOptions {
  host: string;
  port: number;
  /** The ZCC's certificate (its Secret's ca.crt): the only one trusted. */
  ca: string | Buffer;
  /** The name the certificate must carry, e.g. zcc-acme.zcsp-system.svc; default host. */
  servername?: string;
  zorg: string;
  token: string;
  target: Target;
  /** For the TLS connection and the reply; default 10 s. */
  timeoutMs?: number;
}

/** The proxy refused the tunnel: `code` says why (see handshake.ts). */
export class TunnelRefusedError extends Error {
  override readonly name = 'TunnelRefusedError';
  readonly code: RefusalCode;
  constructor(code: RefusalCode, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

export async function openTunnel(options: TunnelOptions): Promise<TLSSocket> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const socket = connect({
    host: options.host,
    port: options.port,
    ca: options.ca,
    servername: options.servername ?? options.host,
    minVersion: 'TLSv1.3',
    ALPNProtocols: [ALPN_PROTOCOL],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`TLS connection to ${options.host}:${options.port} timed out`)), timeoutMs);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (err: Error) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    socket.write(encodeFrame({ v: PROTOCOL_VERSION, zorg: options.zorg, token: options.token, target: options.target }));
    let frame: Buffer;
    try {
      frame = await readFrame(socket, timeoutMs);
    } catch (err: unknown) {
      if (err instanceof HandshakeError) throw new TunnelRefusedError(err.code, `no usable reply: ${err.message}`);
      throw err;
    }
    const reply = parseReply(frame);
    if (!reply.ok) throw new TunnelRefusedError(reply.code, reply.message);
    return socket;
  } catch (err: unknown) {
    socket.destroy();
    throw err;
  }
}
