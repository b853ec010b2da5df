// The VRA's control API, for the operator: HTTPS with the VRA's own certificate, every request
// authenticated with the operator's bearer token. It configures streams and reads their figures;
// replication traffic never comes here (that is the replication port).
//
//   GET    /v1/identity                          node, site, certificate and its fingerprint
//   GET    /v1/streams                           every stream with its status
//   PUT    /v1/streams/{id}                      create or update (body: stream-config.ts)
//   GET    /v1/streams/{id}                      configuration (token hidden) and status
//   DELETE /v1/streams/{id}[?keepData=true]      stop; delete journal and replica unless kept
//   GET    /v1/streams/{id}/checkpoints          target: recoverable checkpoints with tags and volumes
//   POST   /v1/streams/{id}/checkpoints          source: a tagged checkpoint now {"tag"}; answers once durable
//   POST   /v1/streams/{id}/checkpoints/{seq}/tags   target: tag a checkpoint {"tag"}
//   POST   /v1/streams/{id}/materialise          target: {"checkpoint": seq|"latest", "targets": {volume: path}}
//   POST   /v1/streams/{id}/verify               target: same body; compares with the source's digests
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { secretsEqual } from '../auth/secrets.ts';
import { listen, type Listening } from '../net/listen.ts';
import { JournalCorruptError } from '../replicator/journal/errors.ts';
import { ReplicaError } from '../replicator/replica/errors.ts';
import type { Identity } from './identity.ts';
import type { StreamRegistry } from './registry.ts';
import { ConfigError } from './stream-config.ts';
import { StreamError } from './target-stream.ts';

export interface ControlApiOptions {
  port: number;
  host?: string;
  identity: Identity;
  /** The bearer token the operator presents. */
  token: string;
  registry: StreamRegistry;
  /** Folders materialise may write into (restore volumes are mounted under them). */
  materialiseRoots: readonly string[];
  node: string;
  site: string;
  replicationPort: number;
  log: Logger;
}

const MAX_BODY = 1024 * 1024;

class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const tagBody = z.strictObject({ tag: z.string().min(1).max(253) });
const recoverBody = z.strictObject({
  checkpoint: z.union([z.number().int().positive(), z.literal('latest')]),
  targets: z.record(z.string(), z.string().min(1).max(4096)),
});

export async function startControlApi(o: ControlApiOptions): Promise<Listening> {
  const roots = o.materialiseRoots.map((r) => resolve(r));
  const server: Server = createServer({ cert: o.identity.cert, key: o.identity.key, minVersion: 'TLSv1.2' }, (req, res) => {
    void handle(req, res).catch((err: unknown) => {
      const e = toHttpError(err);
      if (e.status >= 500) o.log.error({ err, method: req.method, url: req.url }, 'control request failed');
      if (!res.headersSent) send(res, e.status, { code: e.code, message: e.message });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Constant time, and the same answer for a missing, malformed or wrong token.
    if (!secretsEqual(req.headers.authorization ?? '', `Bearer ${o.token}`)) throw new HttpError(401, 'Unauthenticated', 'a valid bearer token is required');
    const url = new URL(req.url ?? '/', 'https://vra');
    const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
    const method = req.method ?? 'GET';
    if (parts[0] !== 'v1') throw new HttpError(404, 'NotFound', `no route ${url.pathname}`);
    const [, collection, id, sub, seqPart, subsub] = parts;
    if (collection === 'identity' && id === undefined) {
      allow(method, ['GET']);
      return send(res, 200, { node: o.node, site: o.site, cert: o.identity.cert, fingerprint: o.identity.fingerprint, servername: o.identity.servername, replicationPort: o.replicationPort });
    }
    if (collection !== 'streams') throw new HttpError(404, 'NotFound', `no route ${url.pathname}`);
    if (id === undefined) {
      allow(method, ['GET']);
      return send(res, 200, { streams: o.registry.list() });
    }
    if (sub === undefined) {
      if (method === 'PUT') {
        const result = await o.registry.configure(id, await readJson(req));
        const stream = o.registry.get(id);
        return send(res, result.created ? 201 : 200, { ...result, status: stream?.status() });
      }
      if (method === 'DELETE') {
        const removed = await o.registry.remove(id, { keepData: url.searchParams.get('keepData') === 'true' });
        if (!removed) throw new HttpError(404, 'NotFound', `no stream ${id} on this VRA`);
        return send(res, 200, { removed: true });
      }
      allow(method, ['GET', 'PUT', 'DELETE']);
      const stream = o.registry.get(id);
      const failed = o.registry.failure(id);
      if (failed !== undefined) return send(res, 200, { id, config: { ...failed.config, token: '(hidden)' }, status: { role: failed.config.role, state: 'failed', error: failed.error } });
      if (stream === undefined) throw new HttpError(404, 'NotFound', `no stream ${id} on this VRA`);
      return send(res, 200, { id, config: { ...stream.config, token: '(hidden)' }, status: stream.status() });
    }
    if (sub === 'checkpoints' && seqPart === undefined) {
      if (method === 'POST') {
        const { tag } = parse(tagBody, await readJson(req));
        const seq = await o.registry.source(id).tag(tag);
        return send(res, 201, { seq, tag });
      }
      allow(method, ['GET', 'POST']);
      // The volumes each checkpoint can give back: one taken before a volume joined (or during its
      // first sync) lacks it, and none has a volume removed since.
      const stream = o.registry.target(id);
      const cps = stream.checkpoints().map((c) => ({ seq: c.seq, time: new Date(c.time).toISOString(), tag: c.tag, tags: c.tags, volumes: stream.volumesOf(c) }));
      return send(res, 200, { checkpoints: cps });
    }
    if (sub === 'checkpoints' && seqPart !== undefined && subsub === 'tags') {
      allow(method, ['POST']);
      const seq = Number(seqPart);
      if (!Number.isSafeInteger(seq) || seq <= 0) throw new HttpError(400, 'Invalid', `checkpoint ${JSON.stringify(seqPart)} is not a checkpoint number`);
      const { tag } = parse(tagBody, await readJson(req));
      const cp = await o.registry.target(id).tag(seq, tag);
      return send(res, 200, { seq: cp.seq, time: new Date(cp.time).toISOString(), tag: cp.tag, tags: cp.tags });
    }
    if ((sub === 'materialise' || sub === 'verify') && seqPart === undefined) {
      allow(method, ['POST']);
      const body = parse(recoverBody, await readJson(req));
      const targets = new Map<string, string>();
      for (const [volume, path] of Object.entries(body.targets)) targets.set(volume, checkTarget(volume, path));
      const stream = o.registry.target(id);
      if (sub === 'materialise') {
        const { checkpoint } = await stream.materialise(body.checkpoint, targets);
        return send(res, 200, { checkpoint: { seq: checkpoint.seq, time: new Date(checkpoint.time).toISOString(), tag: checkpoint.tag } });
      }
      return send(res, 200, await stream.verify(body.checkpoint, targets));
    }
    throw new HttpError(404, 'NotFound', `no route ${url.pathname}`);
  }

  function checkTarget(volume: string, path: string): string {
    if (!isAbsolute(path)) throw new HttpError(400, 'Invalid', `targets.${volume}: ${JSON.stringify(path)} is not an absolute path`);
    const full = resolve(path);
    const inside = roots.some((root) => {
      const rel = relative(root, full);
      return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
    });
    if (!inside) throw new HttpError(400, 'Invalid', `targets.${volume}: ${JSON.stringify(path)} is not under a folder this VRA may restore into (${roots.join(', ')})`);
    return full;
  }

  return listen(server, o.port, o.host);
}

function allow(method: string, methods: readonly string[]): void {
  if (!methods.includes(method)) throw new HttpError(405, 'MethodNotAllowed', `${method} is not allowed here (${methods.join(', ')})`);
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new HttpError(400, 'Invalid', r.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(body)'}: ${i.message}`).join('; '));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
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

function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof ConfigError) return new HttpError(400, 'Invalid', err.message);
  if (err instanceof StreamError) return new HttpError(err.code === 'NotFound' ? 404 : err.code === 'Conflict' ? 409 : 400, err.code, err.message);
  // Errors of the replicator that describe a request it cannot honour (a checkpoint out of range,
  // a non-empty restore target, a damaged journal) are for the caller to see and fix.
  if (err instanceof ReplicaError) return new HttpError(409, err.code, err.message);
  if (err instanceof JournalCorruptError) return new HttpError(409, 'JournalCorrupt', err.message);
  return new HttpError(500, 'Internal', err instanceof Error ? err.message : String(err));
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
