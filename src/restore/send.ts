// Writes a volume as an export stream (format.ts): a folder tree in depth-first order, names in byte
// order (parents before children, the same order every time), or one image. Each file is read in
// chunks, hashed as it goes, and sent as data frames, all-zero chunks as holes (a mostly empty
// image costs little on the wire and stays sparse where it lands). Hard links (two paths, one
// inode) are sent once and then as links. Nothing is followed through a symlink.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CHUNK_BYTES, encodeMessage, type ExportHeader, type ExportMessage, type Totals } from './format.ts';

export type ExportEntry =
  | { type: 'dir'; path: string; mode: number }
  | { type: 'file'; path: string; mode: number; size: number; full: string }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'link'; path: string; existing: string };

/** Every entry of a tree, in the order the export sends them; anything but folders, files and symlinks is refused. */
export async function* walkExport(root: string): AsyncGenerator<ExportEntry> {
  const inodes = new Map<string, string>();
  async function* visit(rel: string): AsyncGenerator<ExportEntry> {
    const names = (await readdir(rel === '' ? root : join(root, rel))).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const full = join(root, path);
      const st = await lstat(full);
      const mode = st.mode & 0o7777;
      if (st.isDirectory()) {
        yield { type: 'dir', path, mode };
        yield* visit(path);
      } else if (st.isSymbolicLink()) {
        yield { type: 'symlink', path, target: await readlink(full) };
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? inodes.get(key) : undefined;
        if (first !== undefined) {
          yield { type: 'link', path, existing: first };
          continue;
        }
        if (st.nlink > 1) inodes.set(key, path);
        yield { type: 'file', path, mode, size: st.size, full };
      } else {
        throw new Error(`${JSON.stringify(path)} is neither a folder, a file nor a symlink`);
      }
    }
  }
  yield* visit('');
}

/** The totals a tree's export will carry (counted the way sendExport counts). */
export async function totalsOf(root: string, kind: 'fs' | 'block'): Promise<Totals> {
  if (kind === 'block') return { entries: 1, files: 1, bytes: (await lstat(root)).size };
  const t: Totals = { entries: 0, files: 0, bytes: 0 };
  for await (const e of walkExport(root)) {
    t.entries++;
    if (e.type === 'file') {
      t.files++;
      t.bytes += e.size;
    }
  }
  return t;
}

export interface SendOptions {
  /** The folder (fs) or image file (block) to send. */
  root: string;
  header: ExportHeader;
  /** Takes one frame; resolves when more may be written (backpressure), rejects to stop. */
  write: (frame: Buffer) => Promise<void>;
  /** Content bytes as they are sent (metrics). */
  onBytes?: (n: number) => void;
  signal?: AbortSignal;
}

/** Sends the whole export, end marker included; returns the totals sent. */
export async function sendExport(o: SendOptions): Promise<Totals> {
  const totals: Totals = { entries: 0, files: 0, bytes: 0 };
  const send = async (m: ExportMessage): Promise<void> => {
    o.signal?.throwIfAborted();
    await o.write(encodeMessage(m));
  };
  await send({ type: 'header', header: o.header });
  if (o.header.kind === 'block') {
    totals.entries++;
    await sendContent(o.root, undefined, send, totals, o.onBytes);
  } else {
    for await (const e of walkExport(o.root)) {
      totals.entries++;
      if (e.type === 'file') await sendContent(e.full, e, send, totals, o.onBytes);
      else await send(e.type === 'dir' ? { type: 'dir', path: e.path, mode: e.mode } : e.type === 'symlink' ? { type: 'symlink', path: e.path, target: e.target } : { type: 'link', path: e.path, existing: e.existing });
    }
  }
  await send({ type: 'end', totals });
  return totals;
}

const ZEROS = Buffer.alloc(CHUNK_BYTES);

/** One file's (or the image's, entry undefined) content: chunks, holes, then its SHA-256. */
async function sendContent(
  full: string,
  entry: { path: string; mode: number } | undefined,
  send: (m: ExportMessage) => Promise<void>,
  totals: Totals,
  onBytes?: (n: number) => void,
): Promise<void> {
  const fh = await open(full, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const size = (await fh.stat()).size;
    await send(entry === undefined ? { type: 'image', size } : { type: 'file', path: entry.path, mode: entry.mode, size });
    const hash = createHash('sha256');
    // Two buffers: the next chunk is read while the current one is hashed and framed.
    const bufs = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)];
    const readAt = async (buf: Buffer, pos: number): Promise<Buffer> => {
      const want = Math.min(CHUNK_BYTES, size - pos);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(buf, got, want - got, pos + got);
        if (bytesRead === 0) throw new Error(`${entry === undefined ? 'the image' : JSON.stringify(entry.path)} ended at byte ${pos + got}, short of its ${size} bytes (it changed while being exported)`);
        got += bytesRead;
      }
      return buf.subarray(0, got);
    };
    let hole = 0;
    let next = size > 0 ? readAt(bufs[0] ?? Buffer.alloc(0), 0) : undefined;
    for (let pos = 0, i = 0; next !== undefined; i ^= 1) {
      const chunk = await next;
      pos += chunk.length;
      next = pos < size ? readAt(bufs[i ^ 1] ?? Buffer.alloc(0), pos) : undefined;
      hash.update(chunk);
      // Runs of zero chunks go as one hole, sent when data (or the end) comes.
      if (chunk.equals(ZEROS.subarray(0, chunk.length))) hole += chunk.length;
      else {
        if (hole > 0) await send({ type: 'hole', length: hole });
        hole = 0;
        await send({ type: 'data', data: chunk });
      }
      onBytes?.(chunk.length);
    }
    if (hole > 0) await send({ type: 'hole', length: hole });
    await send({ type: 'checksum', sha256: hash.digest() });
    totals.files++;
    totals.bytes += size;
  } finally {
    await fh.close();
  }
}
