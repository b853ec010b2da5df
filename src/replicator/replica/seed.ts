// Seeding: a volume's first content on the replica read from a local copy on this host (after a
// failover, the old source volume, when protection is reversed) instead of over the network. The
// copy becomes the replica's base state for the volume: files as objects under ids the seed
// assigns, the namespace with their modes, symlinks and folders, each file's content digest. The
// source then asks for the volume's manifest as it does for any first sync (head-manifest.ts
// hashes what the seed wrote), adopts it (its capture keeps the seed's id for the file at each
// path, FsCapture.adopt) and sends only what differs: whatever the copy held, the source's pass
// brings the replica to the source's exact state (extra entries removed, others fixed).
//
// Crash safety: the seed is pending in replica.json from the moment the volume is created with
// it. Objects are written and fdatasynced, the objects folder fsynced, then one commit of
// replica.json (finishSeed) makes them the volume's content. A crash before the commit leaves a
// pending seed with an empty namespace; the replica's open removes the stray objects and the seed
// runs again from the start. Nothing reads a pending volume: its manifest is refused, records for
// it are refused (it is not attached), and no checkpoint holds it.
import { constants } from 'node:fs';
import { open, opendir, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { deviceSize } from '../capture/block-capture.ts';
import { inodeOf, isGone, newCounts, scanTree, type Seen } from '../capture/fs-scan.ts';
import { hashBlocks } from '../capture/hash-pool.ts';
import { BLOCK_SIZE, contentDigest } from '../hash.ts';
import { TokenBucket } from '../ship/bandwidth.ts';
import { syncDir } from '../durable.ts';
import { ReplicaError } from './errors.ts';
import { Namespace, NamespaceProblem } from './namespace.ts';
import type { Replica, VolumeKind } from './replica.ts';

export interface SeedProgress {
  /** Bytes read from the local copy so far. */
  bytesDone: number;
  /** Bytes of the copy's files (or image); 0 until the folder was walked. */
  bytesTotal: number;
}

export interface SeedOptions {
  replica: Replica;
  volume: string;
  /** Stops the seed (the stream closes, the volume is removed): it stays pending. */
  signal?: AbortSignal;
  onProgress?: (progress: SeedProgress) => void;
  /** Caps the reading of the local copy; default: as fast as the disks go. */
  bytesPerSecond?: number;
  /** Files read side by side (fs); default 4. */
  concurrency?: number;
}

export interface SeedResult {
  /** Files (fs) or 1 (block) taken from the copy. */
  files: number;
  bytes: number;
  /** Entries the copy had and the seed left out (sockets, fifos, bad names, entries that vanished). */
  skipped: number;
}

const FILE_CHUNK = 1024 * 1024;
const IMAGE_CHUNK = 4 * 1024 * 1024;
const OPEN_SOURCE = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const OPEN_OBJECT = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
const ZEROS = Buffer.alloc(BLOCK_SIZE);

/**
 * Why `path` cannot seed a volume of `kind`, or undefined: it must exist and be a folder (fs) or
 * an image file or block device (block) this process can read.
 */
export async function seedSourceProblem(kind: VolumeKind, path: string): Promise<string | undefined> {
  let st;
  try {
    st = await stat(path);
  } catch (err: unknown) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? `${path} does not exist` : `${path} cannot be read: ${(err as Error).message}`;
  }
  try {
    if (kind === 'fs') {
      if (!st.isDirectory()) return `${path} is not a folder (a filesystem volume is seeded from a folder)`;
      const dir = await opendir(path);
      try {
        await dir.read();
      } finally {
        await dir.close();
      }
    } else {
      if (!st.isFile() && !st.isBlockDevice()) return `${path} is neither an image file nor a block device (a block volume is seeded from one)`;
      await (await open(path, 'r')).close();
    }
  } catch (err: unknown) {
    return `${path} cannot be read: ${(err as Error).message}`;
  }
  return undefined;
}

/**
 * Runs the pending seed of `volume` to its end. Done: the volume holds the copy (committed).
 * A failure (the copy cannot be read, the replica cannot be written) fails the seed: the volume
 * starts empty, the source syncs all of it, and this throws ReplicaError('SEED'). Aborted: the
 * seed stays pending (the abort reason is thrown), and runs again from the start next time.
 */
export async function seedVolume(o: SeedOptions): Promise<SeedResult> {
  const seed = o.replica.seedOf(o.volume);
  const kind = o.replica.volume(o.volume)?.kind;
  if (seed?.state !== 'pending' || kind === undefined) throw new ReplicaError('VOLUME', `volume ${o.volume} has no pending seed`);
  const progress: SeedProgress = { bytesDone: 0, bytesTotal: 0 };
  const bucket = o.bytesPerSecond === undefined ? undefined : new TokenBucket({ rate: o.bytesPerSecond });
  const onAbort = (): void => bucket?.close();
  o.signal?.addEventListener('abort', onAbort);
  const ctx: Context = { o, progress, bucket, path: seed.path };
  try {
    let result: SeedResult;
    try {
      result = kind === 'fs' ? await seedTree(ctx) : await seedImage(ctx);
    } catch (err: unknown) {
      if (o.signal?.aborted === true) throw o.signal.reason;
      const message = `seeding volume ${o.volume} from ${seed.path} failed: ${(err as Error).message}`;
      await o.replica.finishSeed(o.volume, seed.path, { error: message });
      throw new ReplicaError('SEED', message);
    }
    return result;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    bucket?.close();
  }
}

interface Context {
  o: SeedOptions;
  progress: SeedProgress;
  bucket: TokenBucket | undefined;
  path: string;
}

function report(ctx: Context, bytes: number): void {
  ctx.progress.bytesDone += bytes;
  ctx.o.onProgress?.({ ...ctx.progress });
}

async function seedTree(ctx: Context): Promise<SeedResult> {
  const { o } = ctx;
  const problem = await seedSourceProblem('fs', ctx.path);
  if (problem !== undefined) throw new Error(problem);
  const root = await realpath(ctx.path);
  const view = new Map<string, Seen>();
  const counts = newCounts();
  await scanTree(root, '', view, counts);
  o.signal?.throwIfAborted();
  const ns = new Namespace();
  const files: { path: string; id: number; inode: string }[] = [];
  let skipped = counts.special + counts.badNames + counts.raced;
  let nextId = 1;
  // A folder sorts before everything in it.
  for (const path of [...view.keys()].sort()) {
    const s = view.get(path);
    if (s === undefined) continue;
    try {
      if (s.type === 'dir') ns.mkdir(path, s.mode);
      else if (s.type === 'symlink') ns.symlink(path, s.target ?? '');
      else {
        const id = nextId++;
        ns.create(path, id, s.mode);
        files.push({ path, id, inode: s.inode });
        ctx.progress.bytesTotal += s.size;
      }
    } catch (err: unknown) {
      if (!(err instanceof NamespaceProblem)) throw err;
      skipped++;
    }
  }
  o.onProgress?.({ ...ctx.progress });
  let next = 0;
  let bytes = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    const buf = Buffer.allocUnsafeSlow(FILE_CHUNK);
    for (let f = files[next++]; f !== undefined && !failed; f = files[next++]) {
      const got = await copyFile(ctx, root, f.path, f.inode, o.replica.objectPath(o.volume, f.id), buf);
      if (got === undefined) {
        // Gone or replaced since the walk: left out (the source's sync brings it if it has it).
        ns.unlink(f.path);
        skipped++;
        continue;
      }
      ns.digest(f.id, got.size, got.digest);
      bytes += got.size;
    }
  };
  // Every worker has stopped before the seed fails: none may write an object after its cleanup.
  const ends = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(o.concurrency ?? 4, files.length)) }, () => worker().catch((err: unknown) => {
    failed = true;
    throw err;
  })));
  for (const end of ends) if (end.status === 'rejected') throw end.reason;
  o.signal?.throwIfAborted();
  await syncDir(join(o.replica.volumeDir(o.volume), 'objects'));
  if (!(await o.replica.finishSeed(o.volume, ctx.path, { ns }))) throw new ReplicaError('VOLUME', `volume ${o.volume} has no pending seed any more`);
  return { files: ns.files.size, bytes, skipped };
}

/** Copies one file of the copy into an object; undefined when it is not the file the walk saw. */
async function copyFile(ctx: Context, root: string, path: string, inode: string, object: string, buf: Buffer): Promise<{ size: number; digest: Buffer } | undefined> {
  let src: FileHandle;
  try {
    src = await open(join(root, path), OPEN_SOURCE);
  } catch (err: unknown) {
    if (isGone(err)) return undefined;
    throw err;
  }
  try {
    const st = await src.stat({ bigint: true });
    if (!st.isFile() || inodeOf(st) !== inode || !(await inside(src, root))) return undefined;
    const dst = await open(object, OPEN_OBJECT, 0o600);
    try {
      const hashes: Buffer[] = [];
      let pos = 0;
      for (;;) {
        ctx.o.signal?.throwIfAborted();
        const got = await readFull(src, buf, pos);
        if (got === 0) break;
        // Charged after the read: a small file costs what it is, not a chunk.
        await ctx.bucket?.take(got);
        const chunk = buf.subarray(0, got);
        hashes.push(hashBlocks(chunk));
        await writeData(dst, chunk, pos);
        pos += got;
        report(ctx, got);
        if (got < buf.length) break;
      }
      await dst.truncate(pos);
      await dst.datasync();
      return { size: pos, digest: contentDigest(pos, Buffer.concat(hashes)) };
    } finally {
      await dst.close();
    }
  } finally {
    await src.close();
  }
}

async function seedImage(ctx: Context): Promise<SeedResult> {
  const { o } = ctx;
  const problem = await seedSourceProblem('block', ctx.path);
  if (problem !== undefined) throw new Error(problem);
  const src = await open(ctx.path, 'r');
  try {
    const st = await src.stat({ bigint: true });
    const size = st.isBlockDevice() ? await deviceSize(src, st, IMAGE_CHUNK) : Number(st.size);
    ctx.progress.bytesTotal = size;
    o.onProgress?.({ ...ctx.progress });
    const dst = await open(o.replica.imagePath(o.volume), constants.O_WRONLY | constants.O_NOFOLLOW);
    try {
      // Whatever an interrupted earlier run left goes; all-zero blocks stay holes.
      await dst.truncate(0);
      await dst.truncate(size);
      const buf = Buffer.allocUnsafeSlow(IMAGE_CHUNK);
      let pos = 0;
      while (pos < size) {
        o.signal?.throwIfAborted();
        const want = Math.min(buf.length, size - pos);
        await ctx.bucket?.take(want);
        const got = await readFull(src, buf.subarray(0, want), pos);
        if (got === 0) break;
        await writeData(dst, buf.subarray(0, got), pos);
        pos += got;
        report(ctx, got);
        if (got < want) break;
      }
      // A device that ended early: the image is what could be read.
      if (pos < size) await dst.truncate(pos);
      await dst.datasync();
      if (!(await o.replica.finishSeed(o.volume, ctx.path, { image: true }))) throw new ReplicaError('VOLUME', `volume ${o.volume} has no pending seed any more`);
      return { files: 1, bytes: pos, skipped: 0 };
    } finally {
      await dst.close();
    }
  } finally {
    await src.close();
  }
}

async function readFull(fh: FileHandle, buf: Buffer, pos: number): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, pos + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/** Writes `chunk` at `pos`, leaving all-zero blocks out (holes in a file truncated to its size). */
async function writeData(fh: FileHandle, chunk: Buffer, pos: number): Promise<void> {
  let run = -1;
  const flush = async (end: number): Promise<void> => {
    if (run < 0) return;
    const data = chunk.subarray(run, end);
    for (let done = 0; done < data.length;) {
      const { bytesWritten } = await fh.write(data, done, data.length - done, pos + run + done);
      done += bytesWritten;
    }
    run = -1;
  };
  for (let off = 0; off < chunk.length; off += BLOCK_SIZE) {
    const end = Math.min(off + BLOCK_SIZE, chunk.length);
    if (chunk.subarray(off, end).equals(ZEROS.subarray(0, end - off))) await flush(off);
    else if (run < 0) run = off;
  }
  await flush(chunk.length);
}

/** The opened file really is under the root (no folder on the way was swapped for a link). */
async function inside(fh: FileHandle, root: string): Promise<boolean> {
  let real: string;
  try {
    real = await readlink(`/proc/self/fd/${fh.fd}`);
  } catch {
    return true; // no /proc: the inode check is all there is
  }
  return real.startsWith(root.endsWith('/') ? root : `${root}/`);
}
