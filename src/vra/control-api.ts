// The VRA's control API, for the operator: HTTPS with the VRA's own certificate, every request
// authenticated with the operator's bearer token — but one: a restore pod downloads an export with
// that export's own token (export-api.ts). It configures streams, reads their figures and makes
// exports; replication traffic never comes here (that is the replication port).
//
//   GET    /v1/identity                          node, site, certificate and its fingerprint
//   GET    /v1/streams                           every stream with its status
//   PUT    /v1/streams/{id}                      create or update (body: stream-config.ts; role source, target or assess)
//   GET    /v1/streams/{id}                      configuration (token hidden) and status
//   DELETE /v1/streams/{id}[?keepData=true]      stop; delete journal and replica unless kept
//   GET    /v1/streams/{id}/checkpoints          target: recoverable checkpoints with tags and volumes
//   POST   /v1/streams/{id}/checkpoints          source: a tagged checkpoint now {"tag"}; answers once durable
//   POST   /v1/streams/{id}/checkpoints/{seq}/tags   target: tag a checkpoint {"tag"}
//   POST   /v1/streams/{id}/materialise          target: {"checkpoint": seq|"latest", "targets": {volume: path}}
//   POST   /v1/streams/{id}/verify               target: same body; compares with the source's digests
//   POST   /v1/streams/{id}/exports              target: {"checkpoint", "volume", "ttlSeconds"?} → an export and its token
//   GET    /v1/streams/{id}/exports              target: the stream's exports (no tokens)
//   GET    /v1/exports/{id}                      the export stream; bearer = THE EXPORT'S TOKEN (src/restore)
//   DELETE /v1/exports/{id}                      remove an export (transfers under way stop)
//
// A target's configuration may name `seed: [{volume, path}]`: the replica of each such volume is
// built from a copy on this node (a folder for fs, an image file or device for block; after a
// failover, the old source volume) before the source syncs it, so only the difference crosses the
// network (`seedBytesPerSecond` caps the local read). It applies only to a volume the replica does
// not have yet (a new stream, or a volume added); otherwise it is ignored, and removing it later
// changes nothing. A seed the PUT would start whose path is missing, unreadable or of the wrong
// kind is refused with 400 naming `seed.N.path`. The target's status shows per volume
// `seeding: {bytesDone, bytesTotal}` while it runs, then `seeded: true` (or `seeded: false` and
// `seedError`: the volume started empty). See src/replicator/README.md, "Seeding a target".
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { secretsEqual } from '../auth/secrets.ts';
import { listen, type Listening } from '../net/listen.ts';
import { serveExport } from './export-api.ts';
import type { ExportStore } from './exports.ts';
import { allow, HttpError, parse, readJson, send, toHttpError } from './http.ts';
import type { Identity } from './identity.ts';
import type { StreamRegistry } from './registry.ts';
import type { StreamConfig } from './stream-config.ts';

export interface ControlApiOptions {
  port: number;
  host?: string;
  identity: Identity;
  /** The bearer token the operator presents. */
  token: string;
  registry: StreamRegistry;
  exports: ExportStore;
  /** Folders materialise may write into (restore volumes are mounted under them). */
  materialiseRoots: readonly string[];
  node: string;
  site: string;
  replicationPort: number;
  log: Logger;
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
    const url = new URL(req.url ?? '/', 'https://vra');
    const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const [, collection, id, sub, seqPart, subsub] = parts;
    // A restore pod pulls an export with that export's own token, never the operator's.
    if (parts[0] === 'v1' && collection === 'exports' && id !== undefined && sub === undefined && method === 'GET') return serveExport(o.exports, req, res, id, o.log);
    // Constant time, and the same answer for a missing, malformed or wrong token.
    if (!secretsEqual(req.headers.authorization ?? '', `Bearer ${o.token}`)) throw new HttpError(401, 'Unauthenticated', 'a valid bearer token is required');
    if (parts[0] !== 'v1') throw new HttpError(404, 'NotFound', `no route ${url.pathname}`);
    if (collection === 'exports' && id !== undefined && sub === undefined) {
      allow(method, ['GET', 'DELETE']);
      if (!await o.exports.delete(id)) throw new HttpError(404, 'NotFound', `no export ${id} on this VRA`);
      return send(res, 200, { removed: true });
    }
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
        await o.exports.dropRemovedVolumes(id);
        const stream = o.registry.get(id);
        return send(res, result.created ? 201 : 200, { ...result, status: stream?.status() });
      }
      if (method === 'DELETE') {
        const removed = await o.registry.remove(id, { keepData: url.searchParams.get('keepData') === 'true' });
        await o.exports.dropStream(id);
        if (!removed) throw new HttpError(404, 'NotFound', `no stream ${id} on this VRA`);
        return send(res, 200, { removed: true });
      }
      allow(method, ['GET', 'PUT', 'DELETE']);
      const stream = o.registry.get(id);
      const failed = o.registry.failure(id);
      if (failed !== undefined) return send(res, 200, { id, config: hideToken(failed.config), status: { role: failed.config.role, state: 'failed', error: failed.error } });
      if (stream === undefined) throw new HttpError(404, 'NotFound', `no stream ${id} on this VRA`);
      return send(res, 200, { id, config: hideToken(stream.config), status: stream.status() });
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
    if (sub === 'exports' && seqPart === undefined) {
      if (method === 'POST') {
        const { record, token } = await o.exports.create(id, await readJson(req));
        return send(res, 201, {
          exportId: record.id, token, path: `/v1/exports/${record.id}`,
          checkpoint: { seq: record.checkpoint.seq, time: new Date(record.checkpoint.time).toISOString(), ...(record.checkpoint.tag !== '' && { tag: record.checkpoint.tag }) },
          volume: record.volume, kind: record.kind, expiresAt: new Date(record.expiresAt).toISOString(), ...record.totals,
        });
      }
      allow(method, ['GET', 'POST']);
      o.registry.target(id);
      const held = o.exports.list(id).map(({ id: exportId, ...e }) => ({
        exportId, ...e, checkpoint: { ...e.checkpoint, time: new Date(e.checkpoint.time).toISOString() },
        createdAt: new Date(e.createdAt).toISOString(), expiresAt: new Date(e.expiresAt).toISOString(),
      }));
      return send(res, 200, { exports: held });
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

  /** An assessment has no token to hide. */
  function hideToken(config: StreamConfig): StreamConfig {
    return 'token' in config ? { ...config, token: '(hidden)' } : config;
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
