// Small files read whole, ahead of their turn in a pass, with everything the pass checks about
// them: the stat the content goes with, whether the opened file is really under the volume's
// root, and its blocks compared with the replica's (chunk-scan.ts). On a hash worker
// (hash-pool.ts) a batch of them costs the pass one message: a 5 % change of a 20 000-file tree
// reads ~1 600 files, and five awaited file-system calls each (open, fstat, readlink, read,
// close) were most of the main thread's time. Only changed blocks come back: the rest of a file
// never reaches the main thread, whose heap would count it (see ../ship/frame-pool.ts).
import { closeSync, constants, fstatSync, openSync, readlinkSync, type BigIntStats } from 'node:fs';
import { open, readlink, type FileHandle } from 'node:fs/promises';
import { diffChunk, readChunkSync, type ChunkScan, type PackInto } from './chunk-scan.ts';
import { isGone } from './fs-scan.ts';
import { errorCode } from './volume-capture.ts';

/** The fields of a file's stat that a pass uses; a plain object, so it crosses to and from workers. */
export interface FileStat {
  file: boolean;
  size: bigint;
  dev: bigint;
  ino: bigint;
  birthtimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  mode: bigint;
  nlink: bigint;
}

export function fileStat(st: BigIntStats): FileStat {
  return { file: st.isFile(), size: st.size, dev: st.dev, ino: st.ino, birthtimeNs: st.birthtimeNs, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, mode: st.mode, nlink: st.nlink };
}

/**
 * What reading one file found. `read`: its stat (taken at `t`, before the content was read) and,
 * when it is a regular file of at most the asked size under the root (`inside`), its content
 * compared with the replica's hashes (`scan`: every block's new hash, and the changed blocks'
 * bytes); otherwise an empty scan, and the pass reads it the long way.
 */
export type SmallRead =
  | { kind: 'read'; st: FileStat; t: bigint; inside: boolean; scan: ChunkScan }
  | { kind: 'gone' }
  | { kind: 'failed'; message: string; code?: string };

export interface SmallFilesRequest {
  /** Absolute paths. */
  paths: string[];
  /** Per path, the block hashes the replica has of that file (empty: none, a new file). */
  old: Uint8Array[];
  /** The volume's real root: a file whose open descriptor resolves elsewhere is not inside. */
  root: string;
  /** Larger files are not read (only stat'ed). */
  maxBytes: number;
}

const NO_BYTES = new Uint8Array(0);
const NOTHING_READ: ChunkScan = { length: 0, hashes: NO_BYTES, changed: NO_BYTES, data: NO_BYTES };

/** The blocking reads' buffer: one per thread, as each thread has its own copy of this module. */
let scratch = Buffer.allocUnsafeSlow(0);

/**
 * Reads one file whole with blocking calls: for a worker thread, never the main one. With `into`,
 * what goes back (changed blocks, or a new file whole) is packed there when it fits.
 */
export function readSmallFileSync(path: string, root: string, maxBytes: number, old: Uint8Array, into?: PackInto): SmallRead {
  let fd: number;
  try {
    // O_NONBLOCK: a fifo swapped in since the walk must not block; O_NOFOLLOW: nor a symlink.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err: unknown) {
    return isGone(err) ? { kind: 'gone' } : failed(err);
  }
  try {
    const t = BigInt(Date.now()) * 1_000_000n;
    const st = fileStat(fstatSync(fd, { bigint: true }));
    const size = Number(st.size);
    if (!st.file || size > maxBytes || !fdInsideSync(fd, root)) return { kind: 'read', st, t, inside: false, scan: NOTHING_READ };
    const room = old.length === 0 && size > 0 ? into?.(size) : undefined;
    if (room !== undefined) {
      // A new file: all of it goes, so it is read straight into the shared memory it goes back in.
      const view = room as Uint8Array<ArrayBuffer>;
      const got = readChunkSync(fd, view, size, 0);
      return { kind: 'read', st, t, inside: true, scan: diffChunk(view.subarray(0, got), NO_BYTES, view.subarray(0, got)) };
    }
    if (old.length === 0) {
      // A new file: all of it goes, so it is read straight into memory of its own.
      const buf = bytes(size);
      return { kind: 'read', st, t, inside: true, scan: whole(buf, readChunkSync(fd, buf, size, 0)) };
    }
    if (scratch.length < size) scratch = Buffer.allocUnsafeSlow(Math.max(size, 64 * 1024));
    const got = readChunkSync(fd, scratch, size, 0);
    return { kind: 'read', st, t, inside: true, scan: diffChunk(scratch.subarray(0, got), old, undefined, into) };
  } catch (err: unknown) {
    return failed(err);
  } finally {
    closeSync(fd);
  }
}

/** The same, without blocking: where no worker reads. */
export async function readSmallFile(path: string, root: string, maxBytes: number, old: Uint8Array): Promise<SmallRead> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err: unknown) {
    return isGone(err) ? { kind: 'gone' } : failed(err);
  }
  try {
    const t = BigInt(Date.now()) * 1_000_000n;
    const st = fileStat(await handle.stat({ bigint: true }));
    const size = Number(st.size);
    if (!st.file || size > maxBytes || !(await fdInside(handle.fd, root))) return { kind: 'read', st, t, inside: false, scan: NOTHING_READ };
    const buf = bytes(size);
    let got = 0;
    while (got < size) {
      const { bytesRead } = await handle.read(buf, got, size - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return { kind: 'read', st, t, inside: true, scan: old.length === 0 ? whole(buf, got) : diffChunk(buf.subarray(0, got), old) };
  } catch (err: unknown) {
    return failed(err);
  } finally {
    // Nobody may be waiting any more (the pass stopped): this must not reject.
    await handle.close().catch(() => undefined);
  }
}

export function readSmallFiles(r: SmallFilesRequest): Promise<SmallRead[]> {
  return Promise.all(r.paths.map((p, i) => readSmallFile(p, r.root, r.maxBytes, r.old[i] ?? NO_BYTES)));
}

export function readSmallFilesSync(r: SmallFilesRequest, into?: PackInto): SmallRead[] {
  return r.paths.map((p, i) => readSmallFileSync(p, r.root, r.maxBytes, r.old[i] ?? NO_BYTES, into));
}

/** Memory of its own (not from Buffer's shared pool), so that it can be transferred. */
function bytes(size: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.allocUnsafeSlow(size).buffer, 0, size);
}

/** A new file's scan: every block changed, its bytes all of what was read (`got` of `buf`). */
function whole(buf: Uint8Array<ArrayBuffer>, got: number): ChunkScan {
  // Cut short (it shrank while read): its own copy, so that what crosses is only what was read.
  const data = got === buf.byteLength ? buf : buf.slice(0, got);
  return diffChunk(data, NO_BYTES, data);
}

/** The buffers of a batch's results, to transfer rather than copy. */
export function transferables(reads: readonly SmallRead[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const r of reads) {
    if (r.kind !== 'read') continue;
    // Shared memory is not transferred: it is the arena, which both sides already have.
    for (const a of [r.scan.hashes, r.scan.changed, r.scan.data, r.scan.crcs]) if (a !== undefined && a.byteLength > 0 && !isShared(a)) out.push(a.buffer);
  }
  return out;
}

/** Whether `a` is a view of shared memory (an arena) rather than memory of its own. */
export function isShared(a: ArrayBufferView): boolean {
  return a.buffer instanceof SharedArrayBuffer;
}

/**
 * Whether the file open as `fd` really is under `root` (no folder on the way was swapped for a
 * link), from where its descriptor resolves; without /proc, yes: the inode check is all there is.
 */
export async function fdInside(fd: number, root: string): Promise<boolean> {
  return insideRoot(await readlink(`/proc/self/fd/${fd}`).catch(() => undefined), root);
}

function fdInsideSync(fd: number, root: string): boolean {
  let real: string | undefined;
  try {
    real = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    real = undefined;
  }
  return insideRoot(real, root);
}

function insideRoot(real: string | undefined, root: string): boolean {
  return real === undefined || real.startsWith(root.endsWith('/') ? root : `${root}/`);
}

function failed(err: unknown): SmallRead {
  const code = errorCode(err);
  return { kind: 'failed', message: (err as Error).message, ...(code !== undefined && { code }) };
}
