// The console's own files (src/console/ui), with a strict Content-Security-Policy: scripts,
// styles and images from this origin only, no framing by other sites, no plugins.
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerResponse } from 'node:http';
import { SECURITY_HEADERS } from './http.ts';

export const UI_DIR = fileURLToPath(new URL('./ui/', import.meta.url));

export const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'self'",
].join('; ');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json; charset=utf-8',
};

/** Serves `pathname` from `root`; false if there is no such file (the caller answers 404). */
export async function serveStatic(res: ServerResponse, pathname: string, root = UI_DIR): Promise<boolean> {
  let relative: string;
  try {
    relative = decodeURIComponent(pathname === '/' ? '/index.html' : pathname);
  } catch {
    return false;
  }
  const file = normalize(join(root, relative));
  if (!file.startsWith(root.endsWith(sep) ? root : root + sep) || relative.includes('\0')) return false;
  const type = TYPES[extname(file)];
  if (type === undefined) return false;
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    return false;
  }
  res.writeHead(200, {
    ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': body.length, 'Content-Security-Policy': CSP,
    'X-Frame-Options': 'SAMEORIGIN', 'Cache-Control': type.startsWith('text/html') ? 'no-store' : 'max-age=300',
  });
  res.end(body);
  return true;
}
