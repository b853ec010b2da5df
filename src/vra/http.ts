// What the control API's routes share: errors that become answers, body parsing with the field
// named, JSON replies. Everything a route refuses is an HttpError; toHttpError maps the data
// plane's own errors onto statuses.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { JournalCorruptError } from '../replicator/journal/errors.ts';
import { ReplicaError } from '../replicator/replica/errors.ts';
import { ConfigError } from './stream-config.ts';
import { StreamError } from './target-stream.ts';

const MAX_BODY = 1024 * 1024;

export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function allow(method: string, methods: readonly string[]): void {
  if (!methods.includes(method)) throw new HttpError(405, 'MethodNotAllowed', `${method} is not allowed here (${methods.join(', ')})`);
}

export function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new HttpError(400, 'Invalid', r.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(body)'}: ${i.message}`).join('; '));
}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, 'TooLarge', `the body is larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err: unknown) {
    throw new HttpError(400, 'Invalid', `the body is not JSON: ${(err as Error).message}`);
  }
}

export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof ConfigError) return new HttpError(400, 'Invalid', err.message);
  if (err instanceof StreamError) return new HttpError(err.code === 'NotFound' ? 404 : err.code === 'Conflict' ? 409 : 400, err.code, err.message);
  // Errors of the replicator that describe a request it cannot honour (a checkpoint out of range,
  // a non-empty restore target, a damaged journal) are for the caller to see and fix.
  if (err instanceof ReplicaError) return new HttpError(409, err.code, err.message);
  if (err instanceof JournalCorruptError) return new HttpError(409, 'JournalCorrupt', err.message);
  return new HttpError(500, 'Internal', err instanceof Error ? err.message : String(err));
}

export function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
