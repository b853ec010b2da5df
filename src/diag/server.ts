import { createServer, type Server } from 'node:http';
import { rename, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { listen, type Listening } from '../net/listen.ts';

export interface DiagServerOptions {
  port: number;
  host?: string;
  /** Written at start with the pod's identity; a failure to write fails the start. */
  stampFile?: string;
  /** Rewrite the stamp this often (a new seq and time): a workload that keeps changing its volume, so that a recovery shows which moment came back. */
  stampEveryMs?: number;
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
  let seq = 0;
  let timer: NodeJS.Timeout | undefined;
  const writeStamp = async (file: string): Promise<void> => {
    const next = { ...identity(), seq: ++seq, writtenAt: new Date().toISOString() };
    // Whole or not at all: a checkpoint never catches half a stamp.
    await writeFile(`${file}.tmp`, JSON.stringify(next) + '\n');
    await rename(`${file}.tmp`, file);
    stamp = next;
  };
  if (options.stampFile !== undefined) {
    const file = options.stampFile;
    await writeStamp(file);
    if (options.stampEveryMs !== undefined) {
      timer = setInterval(() => {
        writeStamp(file).catch((err: unknown) => process.stderr.write(`diag: cannot rewrite the stamp: ${err instanceof Error ? err.message : String(err)}\n`));
      }, options.stampEveryMs);
      timer.unref();
    }
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
  server.once('close', () => clearInterval(timer));
  return listen(server, options.port, options.host);
}
