// Starting and stopping an HTTP server, the same way for every role's endpoints.
import type { Server } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface Listening {
  /** http://host:port (https:// for a TLS server) as bound (IPv6 in brackets); port 0 becomes the port the kernel chose. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, drops open connections (keep-alive would hold close() forever), resolves when closed. */
  close(): Promise<void>;
}

/** Listens on port/host; rejects with the bind error (EADDRINUSE, …) instead of emitting it. */
export async function listen(server: Server | HttpsServer, port: number, host?: string): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${server instanceof HttpsServer ? 'https' : 'http'}://${shown}:${address.port}`,
    port: address.port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
