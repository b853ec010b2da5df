import { createServer, type Server } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { listen, type Listening } from '../net/listen.ts';

export interface DiagServerOptions {
  port: number;
  host?: string;
  /** Written at start with the pod's identity; a failure to write fails the start. */
  stampFile?: string;
}

export type DiagServer = Listening;

/** Pod identity as the downward API hands it over, falling back to what the process can see. */
function identity(): Record<string, string | undefined> {
  return {
    pod: process.env['POD_NAME'] ?? hostname(),
    namespace: process.env['POD_NAMESPACE'],
    node: process.env['NODE_NAME'],
    podIP: process.env['POD_IP'],
  };
}

export async function startDiagServer(options: DiagServerOptions): Promise<DiagServer> {
  const startedAt = new Date();
  let stamp: unknown = null;
  if (options.stampFile !== undefined) {
    stamp = { ...identity(), writtenAt: startedAt.toISOString() };
    await writeFile(options.stampFile, JSON.stringify(stamp) + '\n');
  }
  const server: Server = createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (req.url === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
      const body = JSON.stringify({ ...identity(), startedAt: startedAt.toISOString(), stampFile: options.stampFile ?? null, stamp });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  return listen(server, options.port, options.host);
}
