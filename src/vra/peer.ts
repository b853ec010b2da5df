// How a source VRA reaches the recovery VRA of its stream: straight over TLS, or through the
// tenant's connector (ZCC) — a tunnel first, then the replication TLS inside it, so the connector
// relays ciphertext it cannot read and the source still pins the recovery VRA's own certificate.
import { connect, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { REPLICATION_ALPN } from '../replicator/wire/frame.ts';
import { openTunnel } from '../zcc/client.ts';
import type { SourceConfig } from './stream-config.ts';

export { REPLICATION_ALPN };

export async function connectPeer(peer: SourceConfig['peer'], timeoutMs = 10_000): Promise<TLSSocket> {
  let socket: Duplex | undefined;
  if (peer.zcc !== undefined) {
    const tunnel = await openTunnel({
      host: peer.address.host,
      port: peer.address.port,
      ca: peer.zcc.ca,
      servername: peer.zcc.servername,
      zorg: peer.zcc.zorg,
      token: peer.zcc.token,
      target: peer.zcc.target,
      timeoutMs,
    });
    socket = tunnel;
  }
  const tls = connect({
    ...(socket === undefined ? { host: peer.address.host, port: peer.address.port } : { socket }),
    ca: peer.ca,
    servername: peer.servername,
    minVersion: 'TLSv1.3',
    ALPNProtocols: [REPLICATION_ALPN],
  });
  // A tunnel is handed over paused (zcc/client.ts); the TLS layer has its listeners now.
  socket?.resume();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`TLS handshake with the recovery VRA at ${peer.address.host}:${peer.address.port} timed out`)), timeoutMs);
      tls.once('secureConnect', () => {
        clearTimeout(timer);
        resolve();
      });
      tls.once('error', (err: Error) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  } catch (err: unknown) {
    tls.destroy();
    socket?.destroy();
    throw err;
  }
  return tls;
}
