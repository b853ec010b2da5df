// Exports: one volume of a target stream at one checkpoint, held for a restore pod to pull over the
// network (GET /v1/exports/{id}, served by export-api.ts with src/restore/send.ts).
//
// The checkpoint is pinned by materialising it at creation into a scratch folder of the VRA's own
// (DATA_DIR/exports/{id}/content, or content.img), fsync'd before the export exists. Why a copy
// rather than holding back retention over the journal range: the export is then a plain immutable
// tree that needs no lock on the replica while it streams (for as long as a slow pod takes), so
// ingest and retention go on, the journal's hard limit keeps meaning what it says, and the copy is
// made by the materialise code every recovery already trusts (reflink where the filesystem can).
// The cost is the volume's size in scratch on filesystems without reflink, taken when the export
// is created and returned when it goes.
//
// Each export has its own random token (only its SHA-256 is kept), an expiry (default 1 h: the
// window in which a transfer may start; one under way runs to its end), and goes with DELETE, with
// its stream, or with its volume. Exports survive a VRA restart (DATA_DIR/exports/{id}/export.json,
// written last and durably); at start the expired, incomplete and orphaned ones are removed.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { secretDigest, secretMatchesDigest } from '../auth/secrets.ts';
import { syncDir, writeFileDurably } from '../replicator/durable.ts';
import type { ExportHeader } from '../restore/format.ts';
import { totalsOf } from '../restore/send.ts';
import { HttpError, parse } from './http.ts';
import type { StreamRegistry } from './registry.ts';
import { StreamError } from './target-stream.ts';

/** Exports held at once: each may cost a volume's size in scratch. */
export const MAX_EXPORTS = 32;
const MAX_TTL_SECONDS = 7 * 86_400;
/** Ids of exports that went, kept (in memory) to tell "expired" and "deleted" from "never was". */
const MAX_TOMBSTONES = 1000;

const createBody = z.strictObject({
  checkpoint: z.union([z.number().int().positive(), z.literal('latest')]),
  volume: z.string().min(1).max(253),
  ttlSeconds: z.number().int().min(1).max(MAX_TTL_SECONDS).default(3600),
});

const recordSchema = z.object({
  id: z.uuid(),
  tokenSha256: z.string().regex(/^[0-9a-f]{64}$/),
  stream: z.string(),
  vpg: z.object({ namespace: z.string(), name: z.string() }),
  volume: z.string(),
  kind: z.enum(['fs', 'block']),
  checkpoint: z.object({ seq: z.number().int(), time: z.number(), tag: z.string() }),
  digest: z.string(),
  totals: z.object({ entries: z.number().int(), files: z.number().int(), bytes: z.number().int() }),
  createdAt: z.number(),
  expiresAt: z.number(),
});
export type ExportRecord = z.infer<typeof recordSchema>;

/** One GET of an export: what to send, and how the store stops it. */
export interface Transfer {
  readonly record: ExportRecord;
  readonly content: string;
  readonly header: ExportHeader;
  readonly signal: AbortSignal;
  sent(bytes: number): void;
  done(): void;
}

interface Held {
  record: ExportRecord;
  dir: string;
  timer: NodeJS.Timeout | undefined;
  transfers: Set<{ controller: AbortController; finished: Promise<void> }>;
  /** Set once the export is going: no new transfer starts. */
  going?: Promise<void>;
}

export interface ExportFigures {
  stream: string;
  vpg: { namespace: string; name: string };
  held: number;
  inProgress: number;
  /** Content bytes sent since the VRA started. */
  bytesSent: number;
}

export class ExportStore {
  readonly #dir: string;
  readonly #registry: StreamRegistry;
  readonly #log: Logger;
  readonly #held = new Map<string, Held>();
  readonly #gone = new Map<string, { why: string; at: number }>();
  readonly #sent = new Map<string, { vpg: ExportFigures['vpg']; bytes: number }>();
  #creating = 0;

  constructor(dataDir: string, registry: StreamRegistry, log: Logger) {
    this.#dir = join(dataDir, 'exports');
    this.#registry = registry;
    this.#log = log;
  }

  /** Picks up the exports of the last run; removes what is expired, incomplete or orphaned. */
  async load(now = Date.now()): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    for (const id of await readdir(this.#dir)) {
      const dir = join(this.#dir, id);
      const record = await readFile(join(dir, 'export.json'), 'utf8').then((t) => recordSchema.parse(JSON.parse(t)), () => undefined);
      const why = record === undefined ? 'incomplete (its creation was interrupted)'
        : record.id !== id ? 'misfiled'
          : record.expiresAt <= now ? 'expired'
            : !this.#volumeExists(record.stream, record.volume) ? 'orphaned (its stream or volume is gone)' : undefined;
      if (why !== undefined || record === undefined) {
        await rm(dir, { recursive: true, force: true });
        this.#log.info({ export: id, why }, 'export removed at start');
        continue;
      }
      this.#hold(record, dir);
    }
    if (this.#held.size > 0) this.#log.info({ exports: this.#held.size }, 'exports kept from the last run');
  }

  #volumeExists(stream: string, volume: string): boolean {
    const config = this.#registry.get(stream)?.config ?? this.#registry.failure(stream)?.config;
    return config?.role === 'target' && config.volumes.some((v) => v.name === volume);
  }

  /** POST /v1/streams/{id}/exports: checks the request, materialises, and holds the export. */
  async create(streamId: string, body: unknown, now = Date.now()): Promise<{ record: ExportRecord; token: string }> {
    const b = parse(createBody, body);
    const stream = this.#registry.target(streamId);
    const volume = stream.config.volumes.find((v) => v.name === b.volume);
    if (volume === undefined) {
      const removed = stream.replica.retiredKind(b.volume) !== undefined ? ' (it was removed, and its data with it)' : '';
      throw new HttpError(400, 'Invalid', `volume: stream ${streamId} has no volume ${b.volume}${removed}; it has ${stream.config.volumes.map((v) => v.name).join(', ')}`);
    }
    let cp;
    try {
      cp = stream.resolveCheckpoint(b.checkpoint);
    } catch (err: unknown) {
      if (!(err instanceof StreamError)) throw err;
      const all = stream.checkpoints();
      const range = all.length === 0 ? 'none yet' : `${all[0]?.seq ?? 0} to ${all.at(-1)?.seq ?? 0}`;
      throw new HttpError(404, 'NotFound', `checkpoint: ${err.message} (recoverable now: ${range})`);
    }
    const problem = stream.replica.coverageProblem(cp, b.volume);
    const digest = cp.volumes.find((v) => v.volume === b.volume)?.digest;
    if (problem !== undefined || digest === undefined) throw new HttpError(400, 'Invalid', `checkpoint: ${problem ?? `checkpoint ${cp.seq} has no digest of volume ${b.volume}`}`);
    if (this.#held.size + this.#creating >= MAX_EXPORTS) throw new HttpError(409, 'TooMany', `this VRA holds ${MAX_EXPORTS} exports already; delete one first`);

    const id = randomUUID();
    const token = randomBytes(32).toString('base64url');
    const dir = join(this.#dir, id);
    const content = join(dir, volume.kind === 'fs' ? 'content' : 'content.img');
    this.#creating++;
    try {
      await mkdir(dir, { mode: 0o700 });
      // Durable on return (materialise fsyncs what it makes, as it goes).
      await stream.materialise(cp.seq, new Map([[b.volume, content]]));
      const totals = await totalsOf(content, volume.kind);
      await syncDir(dir);
      await syncDir(this.#dir);
      // Deleted while it was being made (the stream's exports were dropped before this one existed).
      if (!this.#volumeExists(streamId, b.volume)) throw new StreamError('Conflict', `stream ${streamId} or its volume ${b.volume} was deleted while the export was made`);
      const created = Date.now();
      const record: ExportRecord = {
        id, tokenSha256: secretDigest(token), stream: streamId, vpg: stream.config.vpg, volume: b.volume, kind: volume.kind,
        checkpoint: { seq: cp.seq, time: cp.time, tag: cp.tag }, digest: Buffer.from(digest).toString('hex'), totals,
        createdAt: created, expiresAt: Math.max(created, now) + b.ttlSeconds * 1000,
      };
      await writeFileDurably(join(dir, 'export.json'), JSON.stringify(record));
      this.#hold(record, dir);
      this.#log.info({ export: id, stream: streamId, volume: b.volume, checkpoint: cp.seq, bytes: totals.bytes, ms: Date.now() - now }, 'export created');
      return { record, token };
    } catch (err: unknown) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    } finally {
      this.#creating--;
    }
  }

  #hold(record: ExportRecord, dir: string): void {
    const held: Held = { record, dir, timer: undefined, transfers: new Set() };
    // setTimeout holds at most ~24.8 days; the ttl is at most 7.
    held.timer = setTimeout(() => void this.#remove(record.id, 'expired', false).catch((err: unknown) => this.#log.error({ err, export: record.id }, 'removing an expired export failed')), Math.max(0, record.expiresAt - Date.now()));
    held.timer.unref();
    this.#held.set(record.id, held);
  }

  /** The exports of a stream, for the operator (no tokens). */
  list(streamId: string): (Omit<ExportRecord, 'tokenSha256'> & { transfers: number })[] {
    return [...this.#held.values()].filter((h) => h.record.stream === streamId && h.going === undefined).map((h) => {
      const { tokenSha256: _, ...rest } = h.record;
      return { ...rest, transfers: h.transfers.size };
    });
  }

  /**
   * GET /v1/exports/{id}: the export if `authorization` carries its token. An unknown id is 404,
   * one that went 410 saying why, a wrong token (the operator's included) 401.
   */
  open(id: string, authorization: string, now = Date.now()): Transfer {
    const held = this.#held.get(id);
    if (held === undefined || held.going !== undefined) {
      const gone = this.#gone.get(id);
      if (gone !== undefined) throw new HttpError(410, 'Gone', `export ${id} ${gone.why} at ${new Date(gone.at).toISOString()}`);
      throw new HttpError(404, 'NotFound', `no export ${id} on this VRA`);
    }
    const token = /^Bearer (.+)$/.exec(authorization)?.[1] ?? '';
    if (!secretMatchesDigest(token, held.record.tokenSha256)) throw new HttpError(401, 'Unauthenticated', 'the token is not this export\'s');
    if (held.record.expiresAt <= now) {
      void this.#remove(id, 'expired', false).catch(() => undefined);
      throw new HttpError(410, 'Gone', `export ${id} expired at ${new Date(held.record.expiresAt).toISOString()}`);
    }
    const controller = new AbortController();
    let finish = (): void => undefined;
    const entry = { controller, finished: new Promise<void>((resolve) => { finish = resolve; }) };
    held.transfers.add(entry);
    const r = held.record;
    const sent = this.#sent.get(r.stream) ?? { vpg: r.vpg, bytes: 0 };
    this.#sent.set(r.stream, sent);
    return {
      record: r,
      content: join(held.dir, r.kind === 'fs' ? 'content' : 'content.img'),
      header: {
        format: 1, exportId: r.id, stream: r.stream, volume: r.volume, kind: r.kind,
        checkpoint: { seq: r.checkpoint.seq, time: new Date(r.checkpoint.time).toISOString(), ...(r.checkpoint.tag !== '' && { tag: r.checkpoint.tag }) },
        digest: r.digest, totals: r.totals,
      },
      signal: controller.signal,
      sent: (bytes) => {
        sent.bytes += bytes;
      },
      done: () => {
        held.transfers.delete(entry);
        finish();
      },
    };
  }

  /** DELETE /v1/exports/{id}: stops its transfers, removes it and its scratch. */
  delete(id: string): Promise<boolean> {
    return this.#remove(id, 'was deleted', true);
  }

  /** Every export of a stream goes with it. */
  async dropStream(streamId: string): Promise<void> {
    const ids = [...this.#held.values()].filter((h) => h.record.stream === streamId).map((h) => h.record.id);
    await Promise.all(ids.map((id) => this.#remove(id, 'went with its stream', true)));
  }

  /** Exports of volumes the stream no longer has go (a removed volume's data goes everywhere). */
  async dropRemovedVolumes(streamId: string): Promise<void> {
    const ids = [...this.#held.values()].filter((h) => h.record.stream === streamId && !this.#volumeExists(streamId, h.record.volume)).map((h) => h.record.id);
    await Promise.all(ids.map((id) => this.#remove(id, 'went with its volume', true)));
  }

  async #remove(id: string, why: string, abort: boolean): Promise<boolean> {
    const held = this.#held.get(id);
    if (held === undefined) return false;
    if (abort) for (const t of held.transfers) t.controller.abort(new Error(`the export ${why}`));
    if (held.going === undefined) {
      this.#gone.set(id, { why, at: Date.now() });
      if (this.#gone.size > MAX_TOMBSTONES) this.#gone.delete(this.#gone.keys().next().value ?? '');
      clearTimeout(held.timer);
      held.going = (async () => {
        // An expired export's transfers under way run to their end; then its scratch goes.
        await Promise.all([...held.transfers].map((t) => t.finished));
        await rm(held.dir, { recursive: true, force: true });
        this.#held.delete(id);
        this.#log.info({ export: id, stream: held.record.stream, why }, 'export removed');
      })();
    }
    await held.going;
    return true;
  }

  figures(): ExportFigures[] {
    const out = new Map<string, ExportFigures>();
    for (const [stream, s] of this.#sent) out.set(stream, { stream, vpg: s.vpg, held: 0, inProgress: 0, bytesSent: s.bytes });
    for (const h of this.#held.values()) {
      const f = out.get(h.record.stream) ?? { stream: h.record.stream, vpg: h.record.vpg, held: 0, inProgress: 0, bytesSent: 0 };
      if (h.going === undefined) f.held++;
      f.inProgress += h.transfers.size;
      out.set(h.record.stream, f);
    }
    return [...out.values()];
  }

  /** Shutdown: transfers under way stop (the restore says so and can run again after the restart). */
  async close(): Promise<void> {
    const all = [...this.#held.values()];
    for (const h of all) {
      clearTimeout(h.timer);
      for (const t of h.transfers) t.controller.abort(new Error('the VRA is shutting down'));
    }
    await Promise.all(all.flatMap((h) => [...h.transfers].map((t) => t.finished)));
  }
}
