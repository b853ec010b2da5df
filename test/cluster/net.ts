import { createServer } from 'node:net';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import type { CertPair } from './pki.ts';

/**
 * A port the kernel just handed out on 127.0.0.1: free now, but any process's next outgoing
 * connection may take it, so only for a caller that binds it at once and can tell if it lost.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Whether nothing listens on 127.0.0.1:port now (binds it and lets it go). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(false) : reject(err)));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export interface HttpsProbe {
  url: string;
  caFile?: string;
  client?: CertPair;
}

/** GET over TLS; resolves to the status and body, or rejects on a connection error. */
export function httpsGet(probe: HttpsProbe, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(probe.url, {
      method: 'GET',
      timeout: timeoutMs,
      ...(probe.caFile !== undefined ? { ca: readFileSync(probe.caFile) } : { rejectUnauthorized: false }),
      ...(probe.client !== undefined && { cert: readFileSync(probe.client.certFile), key: readFileSync(probe.client.keyFile) }),
    }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', reject);
    req.end();
  });
}

export interface WaitOptions {
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Checked on every round: a component that died will never become ready. */
  abortIf?: () => string | undefined;
}

/** Polls check() until it returns true; the error names what was awaited and the last failure. */
export async function waitFor(check: () => Promise<boolean>, options: WaitOptions): Promise<void> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  let last = 'not ready';
  for (;;) {
    const abort = options.abortIf?.();
    if (abort !== undefined) throw new Error(`${options.what}: ${abort}`);
    try {
      if (await check()) {
        traceWait(options.what, Date.now() - started);
        return;
      }
    } catch (err: unknown) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw new Error(`${options.what}: not ready after ${options.timeoutMs} ms (${last})`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}

// ZCSP_TRACE_WAITS=<ms>: every wait that took longer goes to stderr, to see where a slow test spends its time.
const traceWaitsMs = Number(process.env['ZCSP_TRACE_WAITS'] ?? 'NaN');

function traceWait(what: string, ms: number): void {
  if (ms >= traceWaitsMs) process.stderr.write(`[wait ${(ms / 1000).toFixed(1)} s] ${what}\n`);
}
