// The writers of a restore (the plan they follow is in target.ts): a folder tree through its
// partial folder and the moving marker, an image through a partial file or straight onto a device.
// Writes stay in flight while the stream is read on; files are fsync'd in the background.
import { constants } from 'node:fs';
import { link, mkdir, open, rename, rm, rmdir, symlink, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { syncDir, writeFileDurably } from '../replicator/durable.ts';
import { CHUNK_BYTES, type ExportHeader } from './format.ts';
import type { ExportEvent } from './reader.ts';
import { clearLeftovers, MOVING, PARTIAL, RestoreError, type TargetPlan } from './target.ts';
import { imageDigest, treeDigest } from './verify.ts';

const OPEN_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export interface Writer {
  apply(event: ExportEvent): Promise<void>;
  /** After the end marker: make everything durable, verify when asked, put it in place. */
  finish(verify: boolean): Promise<void>;
  /** After a failure: close what is open and remove what this run wrote (best effort). */
  abandon(): Promise<void>;
}

export function createWriter(into: string, plan: TargetPlan, header: ExportHeader): Writer {
  if (header.kind === 'fs') {
    if (plan.what === 'device') throw new RestoreError(`the export is of a filesystem volume, but --into ${into} is a block device`);
    return new TreeWriter(into, header);
  }
  if (plan.what === 'folder') throw new RestoreError(`the export is of a block volume (an image), but --into ${into} is a folder: give the image file or device path`);
  if (plan.what === 'device' && plan.size !== undefined && plan.size < header.totals.bytes) {
    throw new RestoreError(`--into ${into} is a block device of ${plan.size} bytes, smaller than the image's ${header.totals.bytes}`);
  }
  return new ImageWriter(into, header, plan.what === 'device');
}

/** fsync and close files in the background, a few at a time, while the stream goes on. */
class Syncer {
  readonly #inflight = new Set<Promise<void>>();
  #error: Error | undefined;

  async add(fh: FileHandle): Promise<void> {
    while (this.#inflight.size >= 8) await Promise.race(this.#inflight);
    const p: Promise<void> = fh.sync().finally(() => fh.close()).catch((err: unknown) => {
      this.#error ??= err instanceof Error ? err : new Error(String(err));
    }).finally(() => this.#inflight.delete(p));
    this.#inflight.add(p);
  }

  async drain(): Promise<void> {
    await Promise.all(this.#inflight);
    if (this.#error !== undefined) throw this.#error;
  }
}

async function writeAll(fh: FileHandle, data: Uint8Array, offset: number): Promise<void> {
  for (let done = 0; done < data.length;) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, offset + done);
    done += bytesWritten;
  }
}

/**
 * Positional writes kept in flight (up to 16 MiB) while the stream is read on: waiting for each
 * write before reading the next chunk left the network, the checksums and the disk taking turns.
 * A file's writes are drained before it counts as done.
 */
class WriteQueue {
  static readonly LIMIT = 16 * 1024 * 1024;
  readonly #inflight = new Set<Promise<void>>();
  #bytes = 0;
  #error: Error | undefined;

  async write(fh: FileHandle, data: Uint8Array, offset: number): Promise<void> {
    while (this.#bytes >= WriteQueue.LIMIT) await Promise.race(this.#inflight);
    if (this.#error !== undefined) throw this.#error;
    this.#bytes += data.length;
    const p: Promise<void> = writeAll(fh, data, offset).catch((err: unknown) => {
      this.#error ??= err instanceof Error ? err : new Error(String(err));
    }).finally(() => {
      this.#inflight.delete(p);
      this.#bytes -= data.length;
    });
    this.#inflight.add(p);
  }

  async drain(): Promise<void> {
    await Promise.all(this.#inflight);
    if (this.#error !== undefined) throw this.#error;
  }
}

class TreeWriter implements Writer {
  readonly #into: string;
  readonly #partial: string;
  readonly #header: ExportHeader;
  readonly #dirs: { path: string; mode: number }[] = [];
  readonly #top: string[] = [];
  readonly #syncer = new Syncer();
  readonly #writes = new WriteQueue();
  #file: { fh: FileHandle; mode: number } | undefined;
  #moving = false;
  #ready: Promise<void> | undefined;

  constructor(into: string, header: ExportHeader) {
    this.#into = into;
    this.#partial = join(into, PARTIAL);
    this.#header = header;
  }

  async #prepare(): Promise<void> {
    await mkdir(this.#into, { recursive: true });
    await rm(this.#partial, { recursive: true, force: true });
    await mkdir(this.#partial, 0o700);
  }

  async apply(e: ExportEvent): Promise<void> {
    this.#ready ??= this.#prepare();
    await this.#ready;
    const at = (path: string): string => join(this.#partial, path);
    if ('path' in e && e.type !== 'file-end' && !e.path.includes('/')) this.#top.push(e.path);
    switch (e.type) {
      case 'dir':
        // Owner-writable until the end: a read-only folder must not stop its own filling.
        await mkdir(at(e.path), 0o700);
        this.#dirs.push({ path: e.path, mode: e.mode });
        return;
      case 'file':
        this.#file = { fh: await open(at(e.path), OPEN_NEW, 0o600), mode: e.mode };
        return;
      case 'data':
        await this.#writes.write(this.#current().fh, e.data, e.offset);
        return;
      case 'hole':
        return; // left unwritten: the file stays sparse (its size is set at the end)
      case 'file-end': {
        const f = this.#current();
        this.#file = undefined;
        await this.#writes.drain();
        await f.fh.truncate(e.size);
        // Mode after the content (writing would clear setuid), then fsync, which covers both.
        await f.fh.chmod(f.mode);
        await this.#syncer.add(f.fh);
        return;
      }
      case 'symlink':
        await symlink(e.target, at(e.path));
        return;
      case 'link':
        await link(at(e.existing), at(e.path));
        return;
      case 'header':
      case 'end':
        return;
    }
  }

  #current(): { fh: FileHandle; mode: number } {
    if (this.#file === undefined) throw new Error('content outside a file');
    return this.#file;
  }

  async finish(verify: boolean): Promise<void> {
    this.#ready ??= this.#prepare();
    await this.#ready;
    await this.#syncer.drain();
    // From here a failure or a kill leaves the marker: the next run removes what it lists.
    await writeFileDurably(join(this.#into, MOVING), JSON.stringify(this.#top));
    this.#moving = true;
    for (const name of this.#top) await rename(join(this.#partial, name), join(this.#into, name));
    await syncDir(this.#into);
    await rmdir(this.#partial);
    // Deepest first, so a folder's own mode never stops reaching what it holds; each fsync'd.
    for (const d of [...this.#dirs].reverse()) {
      const fh = await open(join(this.#into, d.path), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
      try {
        await fh.chmod(d.mode);
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    if (verify) {
      const actual = await treeDigest(this.#into, this.#top);
      if (actual !== this.#header.digest) throw new RestoreError(`--verify: the restored volume's digest ${actual} is not the source's ${this.#header.digest} for checkpoint ${this.#header.checkpoint.seq}`);
    }
    await unlink(join(this.#into, MOVING));
    await syncDir(this.#into);
    this.#moving = false;
  }

  async abandon(): Promise<void> {
    await this.#writes.drain().catch(() => undefined);
    await this.#file?.fh.close().catch(() => undefined);
    await this.#syncer.drain().catch(() => undefined);
    if (this.#moving) await clearLeftovers(this.#into).catch(() => undefined);
    else await rm(this.#partial, { recursive: true, force: true }).catch(() => undefined);
  }
}

class ImageWriter implements Writer {
  readonly #into: string;
  readonly #header: ExportHeader;
  readonly #device: boolean;
  readonly #path: string;
  readonly #writes = new WriteQueue();
  #fh: FileHandle | undefined;

  constructor(into: string, header: ExportHeader, device: boolean) {
    this.#into = into;
    this.#header = header;
    this.#device = device;
    this.#path = device ? into : `${into}${PARTIAL}`;
  }

  async #open(): Promise<FileHandle> {
    if (this.#fh !== undefined) return this.#fh;
    if (this.#device) this.#fh = await open(this.#into, constants.O_WRONLY);
    else {
      await mkdir(dirname(this.#into), { recursive: true });
      await rm(this.#path, { force: true });
      this.#fh = await open(this.#path, OPEN_NEW, 0o600);
    }
    return this.#fh;
  }

  async apply(e: ExportEvent): Promise<void> {
    switch (e.type) {
      case 'file':
        await this.#open();
        return;
      case 'data':
        await this.#writes.write(await this.#open(), e.data, e.offset);
        return;
      case 'hole': {
        // A new file stays sparse; a device holds old data there, which must become zeros.
        if (!this.#device) return;
        const fh = await this.#open();
        const zeros = Buffer.alloc(Math.min(CHUNK_BYTES, e.length));
        for (let done = 0; done < e.length; done += zeros.length) await this.#writes.write(fh, zeros.subarray(0, Math.min(zeros.length, e.length - done)), e.offset + done);
        return;
      }
      case 'file-end': {
        const fh = await this.#open();
        await this.#writes.drain();
        if (!this.#device) await fh.truncate(e.size);
        await fh.sync();
        await fh.close();
        this.#fh = undefined;
        return;
      }
      default:
        return;
    }
  }

  async finish(verify: boolean): Promise<void> {
    if (this.#fh !== undefined) throw new Error('the image was not complete');
    if (verify) {
      const actual = await imageDigest(this.#path, this.#header.totals.bytes);
      if (actual !== this.#header.digest) throw new RestoreError(`--verify: the restored image's digest ${actual} is not the source's ${this.#header.digest} for checkpoint ${this.#header.checkpoint.seq}`);
    }
    if (!this.#device) {
      await rename(this.#path, this.#into);
      await syncDir(dirname(this.#into));
    }
  }

  async abandon(): Promise<void> {
    await this.#writes.drain().catch(() => undefined);
    await this.#fh?.close().catch(() => undefined);
    this.#fh = undefined;
    if (!this.#device) await rm(this.#path, { force: true }).catch(() => undefined);
  }
}
