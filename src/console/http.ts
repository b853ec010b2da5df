// HTTP plumbing of the console: JSON answers and errors ({code, message}), bounded JSON bodies,
// cookies, and the CSRF rule for state-changing requests.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An answer other than success: status, a stable code, and a message for people. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly status: number;
  readonly code: string;
  readonly headers: Readonly<Record<string, string>>;
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export const MAX_BODY_BYTES = 64 * 1024;

/** Headers every answer carries. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS, ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: HttpError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, err.status, { code: err.code, message: err.message }, { ...err.headers });
}

/** The JSON object of the request body: JSON only, at most 64 KiB; an empty body is {}. */
export async function readJson(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Record<string, unknown>> {
  const length = Number(req.headers['content-length'] ?? 0);
  if (length > limit) throw new HttpError(413, 'PayloadTooLarge', `the body may have at most ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, 'PayloadTooLarge', `the body may have at most ${limit} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return {};
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, 'UnsupportedMediaType', 'the body must be application/json');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'BadRequest', 'the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'BadRequest', 'the body must be a JSON object');
  return value as Record<string, unknown>;
}

export function cookies(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name !== '' && !out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

export const CSRF_HEADER = 'x-zcsp-csrf';

/**
 * State-changing API requests must carry `X-Zcsp-Csrf: 1`: a header that a cross-site form or
 * link cannot send, and that a cross-site script could send only after a CORS preflight this
 * server never grants. Browsers that say where a request came from (Sec-Fetch-Site) are also held
 * to same-origin. The session cookie is SameSite=Strict besides.
 */
export function csrfRefusal(req: IncomingMessage): HttpError | undefined {
  const method = req.method ?? 'GET';
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return undefined;
  if (req.headers[CSRF_HEADER] !== '1') return new HttpError(403, 'CsrfHeaderMissing', 'state-changing requests need the header X-Zcsp-Csrf: 1');
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return new HttpError(403, 'CrossSite', 'cross-site requests are refused');
  return undefined;
}

export interface CookieOptions {
  secure: boolean;
  maxAgeSeconds: number;
}

/** The session cookie: HttpOnly, SameSite=Strict, Path=/, and Secure (with the __Host- prefix) under TLS. */
export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-zcsp-session' : 'zcsp-session';
}

export function sessionCookie(value: string, options: CookieOptions): string {
  return [
    `${sessionCookieName(options.secure)}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict',
    `Max-Age=${options.maxAgeSeconds}`, ...(options.secure ? ['Secure'] : []),
  ].join('; ');
}

/** The remote address, for rate limits (the ingress's when behind one). */
export const remoteAddress = (req: IncomingMessage): string => req.socket.remoteAddress ?? 'unknown';

/** The bearer token of an Authorization header, if any. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}
