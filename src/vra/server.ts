import { createServer } from 'node:http';
import { access, constants, mkdir } from 'node:fs/promises';
import { listen, type Listening } from '../net/listen.ts';

export interface VraServerOptions {
  port: number;
  host?: string;
  /** Where journals and replicas live: the VRA's volume. */
  dataDir: string;
}

export type VraServer = Listening;

/** Ready means the VRA's volume is there and writable: without it nothing can be journaled. */
async function dataDirUsable(dir: string): Promise<boolean> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export async function startVraServer(options: VraServerOptions): Promise<VraServer> {
  const server = createServer((req, res) => {
    void (async () => {
      if (req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      } else if (req.url === '/readyz') {
        const ok = await dataDirUsable(options.dataDir);
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok' : `data directory ${options.dataDir} is not writable`);
      } else if (req.url === '/') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
          node: process.env['NODE_NAME'] ?? null,
          site: process.env['ZCSP_SITE'] ?? null,
          dataDir: options.dataDir,
        }));
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      }
    })();
  });
  return listen(server, options.port, options.host);
}
