// Brings one file's (or one image's) content on the replica in line with what is on disk: a
// truncate first when the size changed, then writes for the blocks whose hash differs from the
// manifest, adjacent ones coalesced. The manifest state is updated as each op is accepted, so a
// pass cut short resumes at the first block the replica does not have.
import type { FileHandle } from 'node:fs/promises';
import { BLOCK_SIZE, HASH_BYTES, blockCount, blockHash } from '../hash.ts';
import type { Op } from '../ops.ts';

/** The manifest's view of one content: mutated in place as ops are accepted. */
export interface ContentState {
  size: number;
  hashes: Uint8Array;
}

/** Pushes an op; resolves once accepted (throws SinkStopped when the sink refuses). */
export type Emit = (op: Op) => Promise<void>;

export interface SyncOptions {
  /** Where to read: an open file, or its content already read (a small file read ahead). */
  handle?: FileHandle;
  data?: Buffer;
  /** The size to bring the replica to (from fstat, or the device size). */
  size: number;
  id: number;
  state: ContentState;
  emit: Emit;
  /** Read size; a multiple of BLOCK_SIZE. Writes never span two chunks. */
  chunkBytes: number;
  /** Two buffers of chunkBytes, reused from call to call (write data is copied out of them). */
  buffers: readonly [Buffer, Buffer];
  /** Largest write; a multiple of BLOCK_SIZE. */
  writeBytes: number;
  onRead?: (bytes: number) => void;
}

export function readBuffers(chunkBytes: number): [Buffer, Buffer] {
  return [Buffer.allocUnsafe(chunkBytes), Buffer.allocUnsafe(chunkBytes)];
}

export interface SyncResult {
  bytesRead: number;
  bytesChanged: number;
  ops: number;
  /** The content ended before `size` (it shrank while read): the replica was cut to what was read. */
  short: boolean;
}

/** A hash no block has: marks a block whose replica content is not known (cut by a truncate). */
const UNKNOWN = new Uint8Array(HASH_BYTES);
const zeroHashes = new Map<number, Buffer>();

function zeroHash(length: number): Buffer {
  let h = zeroHashes.get(length);
  if (h === undefined) {
    h = blockHash(new Uint8Array(length));
    if (zeroHashes.size < 64) zeroHashes.set(length, h);
  }
  return h;
}

/**
 * The hashes after the replica's content is cut or zero-extended from `oldSize` to `newSize`:
 * whole blocks inside both sizes keep theirs, the block the old end falls in becomes unknown,
 * blocks past the old end are zeros.
 */
export function resizedHashes(old: Uint8Array, oldSize: number, newSize: number): Uint8Array {
  const n = blockCount(newSize);
  const out = new Uint8Array(n * HASH_BYTES);
  const keep = Math.min(Math.floor(Math.min(oldSize, newSize) / BLOCK_SIZE), n);
  out.set(old.subarray(0, keep * HASH_BYTES));
  for (let i = keep; i < n; i++) {
    const start = i * BLOCK_SIZE;
    const len = Math.min(BLOCK_SIZE, newSize - start);
    out.set(start >= oldSize ? zeroHash(len) : UNKNOWN, i * HASH_BYTES);
  }
  return out;
}

function sameHash(hashes: Uint8Array, i: number, h: Uint8Array): boolean {
  const at = i * HASH_BYTES;
  if (at + HASH_BYTES > hashes.length) return false;
  for (let k = 0; k < HASH_BYTES; k++) if (hashes[at + k] !== h[k]) return false;
  return true;
}

export async function syncContent(o: SyncOptions): Promise<SyncResult> {
  const { handle, id, state, emit } = o;
  const result: SyncResult = { bytesRead: 0, bytesChanged: 0, ops: 0, short: false };
  const truncate = async (size: number): Promise<void> => {
    await emit({ op: 'truncate', id, size });
    state.hashes = resizedHashes(state.hashes, state.size, size);
    state.size = size;
    result.ops++;
  };
  if (o.size !== state.size) await truncate(o.size);
  // Two buffers: the next chunk is read (on the thread pool) while this one is hashed.
  const buffers = o.buffers;
  const readAt = async (pos: number, which: 0 | 1): Promise<Buffer> => {
    const buf = buffers[which];
    const want = Math.min(o.chunkBytes, o.size - pos);
    if (o.data !== undefined) return o.data.subarray(pos, pos + want);
    if (handle === undefined) throw new Error('syncContent needs a handle or data');
    let got = 0;
    while (got < want) {
      const { bytesRead } = await handle.read(buf, got, want - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  };
  let pos = 0;
  let which: 0 | 1 = 0;
  let pending: Promise<Buffer> | undefined = o.size > 0 ? readAt(0, 0) : undefined;
  while (pending !== undefined) {
    const chunk: Buffer = await pending;
    const chunkPos = pos;
    const want = Math.min(o.chunkBytes, o.size - chunkPos);
    pos += chunk.length;
    which = which === 0 ? 1 : 0;
    pending = chunk.length === want && pos < o.size ? readAt(pos, which) : undefined;
    // Consume the other read's rejection if this chunk's processing throws first.
    pending?.catch(() => undefined);
    result.bytesRead += chunk.length;
    o.onRead?.(chunk.length);
    const hashes: Buffer[] = [];
    let runStart = -1;
    const flush = async (end: number): Promise<void> => {
      if (runStart < 0) return;
      const from = runStart;
      runStart = -1;
      const data = Buffer.from(chunk.subarray(from, end));
      await emit({ op: 'write', id, offset: chunkPos + from, data });
      const first = (chunkPos + from) / BLOCK_SIZE;
      for (let b = 0; b * BLOCK_SIZE < data.length; b++) {
        const h = hashes[from / BLOCK_SIZE + b];
        if (h !== undefined) state.hashes.set(h, (first + b) * HASH_BYTES);
      }
      result.ops++;
      result.bytesChanged += data.length;
    };
    for (let off = 0; off < chunk.length; off += BLOCK_SIZE) {
      const h = blockHash(chunk.subarray(off, off + BLOCK_SIZE));
      hashes.push(h);
      if (sameHash(state.hashes, (chunkPos + off) / BLOCK_SIZE, h)) {
        await flush(off);
      } else {
        if (runStart < 0) runStart = off;
        if (off + BLOCK_SIZE - runStart >= o.writeBytes) await flush(Math.min(off + BLOCK_SIZE, chunk.length));
      }
    }
    await flush(chunk.length);
    if (chunk.length < want) {
      result.short = true;
      await truncate(pos);
      // The block the new end falls in holds what was just read (written or already equal).
      const last = hashes[hashes.length - 1];
      if (pos % BLOCK_SIZE !== 0 && last !== undefined) state.hashes.set(last, Math.floor(pos / BLOCK_SIZE) * HASH_BYTES);
      break;
    }
  }
  return result;
}
