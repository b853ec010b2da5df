// The manager's HTTP endpoints: /metrics (Prometheus text format), /healthz (the process is
// alive and its event loop turns) and /readyz (ready to serve: caches synced and, on the leader,
// controllers running). `?verbose` lists each check, as the API server's own endpoints do.
import { createServer, type Server } from 'node:http';
import { listen, type Listening } from '../net/listen.ts';
import { PROMETHEUS_CONTENT_TYPE, type Registry } from './metrics.ts';

export interface Check {
  name: string;
  /** undefined when fine, else why not. */
  check(): string | undefined;
}

export interface HttpServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  health?: readonly Check[];
  ready?: readonly Check[];
}

export type HttpServer = Listening;

function runChecks(checks: readonly Check[], verbose: boolean): { ok: boolean; body: string } {
  const results = checks.map((c) => {
    let problem: string | undefined;
    try {
      problem = c.check();
    } catch (err: unknown) {
      problem = err instanceof Error ? err.message : String(err);
    }
    return { name: c.name, problem };
  });
  const ok = results.every((r) => r.problem === undefined);
  if (!verbose) {
    return { ok, body: ok ? 'ok\n' : results.filter((r) => r.problem !== undefined).map((r) => `[-]${r.name} failed: ${r.problem ?? ''}\n`).join('') };
  }
  const lines = results.map((r) => (r.problem === undefined ? `[+]${r.name} ok` : `[-]${r.name} failed: ${r.problem}`));
  return { ok, body: `${lines.join('\n')}\n${ok ? 'check passed' : 'check failed'}\n` };
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const verbose = url.searchParams.has('verbose');
    switch (url.pathname) {
      case '/metrics':
        res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE }).end(options.registry.render());
        return;
      case '/healthz':
      case '/livez': {
        const r = runChecks(options.health ?? [], verbose);
        res.writeHead(r.ok ? 200 : 500, { 'content-type': 'text/plain; charset=utf-8' }).end(r.body);
        return;
      }
      case '/readyz': {
        const r = runChecks(options.ready ?? [], verbose);
        res.writeHead(r.ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' }).end(r.body);
        return;
      }
      default:
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    }
  });
  return listen(server, options.port, options.host);
}
