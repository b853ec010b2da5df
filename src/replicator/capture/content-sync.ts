// Brings one file's (or one image's) content on the replica in line with what is on disk: a
// truncate first when the size changed, then writes for the blocks whose hash differs from the
// manifest, adjacent ones coalesced. The manifest state is updated as each op is accepted, so a
// pass cut short resumes at the first block the replica does not have.
import type { FileHandle } from 'node:fs/promises';
import { crc32Combine } from '../crc32.ts';
import { BLOCK_SIZE, HASH_BYTES, blockCount, blockHash } from '../hash.ts';
import type { Op } from '../ops.ts';
import type { Hold } from './block-arena.ts';
import type { ChunkScan } from './chunk-scan.ts';
import { hashBlocks } from './hash-pool.ts';

/** The manifest's view of one content: mutated in place as ops are accepted. */
export interface ContentState {
  size: number;
  hashes: Uint8Array;
}

/**
 * Pushes an op; resolves once accepted (throws SinkStopped when the sink refuses). `done`, given
 * with a write whose data is a view of an arena, is called once the data is not needed any more
 * (RecordSink.push): from the call on, the sink has it, whatever happens. `dataCrc`: a write's
 * data's CRC-32, when the scan worked it out (ChunkScan.crcs).
 */
export type Emit = (op: Op, done?: () => void, dataCrc?: number) => Promise<void>;

export interface SyncOptions {
  /** Where to read: an open file. */
  handle?: FileHandle;
  /**
   * Or the whole content, already read, hashed and compared with `state.hashes` as they were
   * before this call (a small file read ahead, see small-files.ts); at most chunkBytes. A truncate
   * here cannot make that comparison wrong: a block it cuts or extends had a hash of other length.
   * Its hold, if it has one, is this call's to release.
   */
  scanned?: ChunkScan;
  /** The size to bring the replica to (from fstat, or the device size). */
  size: number;
  id: number;
  state: ContentState;
  emit: Emit;
  /** Read size; a multiple of BLOCK_SIZE. Writes never span two chunks. */
  chunkBytes: number;
  /**
   * Buffers of chunkBytes, reused from call to call (write data is copied out of them): as many
   * chunks are read ahead as there are buffers.
   */
  buffers: readonly Buffer[];
  /**
   * Reads, hashes and compares chunks somewhere else (HashPool.scan on `handle`'s fd), `ahead` of
   * them in flight, handing back only the changed blocks: when given, `buffers` are not used. The
   * holds of the scans are this call's to release.
   */
  scan?: { run: (pos: number, want: number, old: Uint8Array) => Promise<ChunkScan>; ahead: number } | undefined;
  /** Largest write; a multiple of BLOCK_SIZE. */
  writeBytes: number;
  onRead?: (bytes: number) => void;
}

/** `count` read buffers of chunkBytes (reading on this thread: no workers, or a file read ahead). */
export function readBuffers(chunkBytes: number, count = 2): Buffer[] {
  return Array.from({ length: count }, () => Buffer.allocUnsafeSlow(chunkBytes));
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

function sameHash(hashes: Uint8Array, i: number, h: Uint8Array, j: number): boolean {
  const at = i * HASH_BYTES;
  const from = j * HASH_BYTES;
  if (at + HASH_BYTES > hashes.length) return false;
  for (let k = 0; k < HASH_BYTES; k++) if (hashes[at + k] !== h[from + k]) return false;
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
  let scanned = o.scanned;
  // Released here unless it becomes the chunk below, which is then released like any other.
  const unused = (): void => {
    scanned?.hold?.release();
    scanned = undefined;
  };
  if (scanned !== undefined && o.size > o.chunkBytes) {
    unused();
    throw new Error(`syncContent: content of ${o.size} bytes read ahead, more than a chunk (${o.chunkBytes})`);
  }
  try {
    if (o.size !== state.size) await truncate(o.size);
  } catch (err: unknown) {
    unused();
    throw err;
  }
  const readAt = async (pos: number, buf: Buffer): Promise<Buffer> => {
    const want = Math.min(o.chunkBytes, o.size - pos);
    if (handle === undefined) throw new Error('syncContent needs a handle or a scanned content');
    let got = 0;
    while (got < want) {
      const { bytesRead } = await handle.read(buf, got, want - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  };
  // Chunks in flight, in file order: each is read into a free buffer (on the thread pool), then
  // hashed (maybe on a worker), while earlier ones are compared and pushed. A buffer is reused
  // only once its chunk has been pushed and nothing reads into it any more.
  //
  // A chunk is either all its bytes (`data`) or, from a scan, only its changed blocks packed
  // (`changed` says which): a run of changed blocks is one span of `data` either way.
  interface Chunk {
    length: number;
    data: Buffer;
    hashes: Uint8Array;
    changed?: Uint8Array;
    /** What keeps `data` (arena memory): released once the chunk is done with. */
    hold?: Hold;
    /** With `changed`: each changed block's CRC-32, in the order of `data`. */
    crcs?: Uint32Array;
  }
  interface InFlight {
    pos: number;
    want: number;
    buf: Buffer | undefined;
    work: Promise<Chunk>;
  }
  const scan = o.scan;
  const toChunk = (r: ChunkScan): Chunk => ({
    length: r.length,
    data: Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength),
    hashes: r.hashes,
    changed: r.changed,
    ...(r.hold !== undefined && { hold: r.hold }),
    ...(r.crcs !== undefined && { crcs: r.crcs }),
  });
  // A scan's chunks need no buffer here: empty slots stand for the chunks in flight.
  const free: (Buffer | undefined)[] = scanned !== undefined ? [undefined] : scan === undefined ? [...o.buffers] : Array.from({ length: scan.ahead }, () => undefined);
  const queue: InFlight[] = [];
  let next = 0;
  let stop = false;
  const launch = (): void => {
    while (!stop && next < o.size && free.length > 0) {
      const buf = free.pop();
      // A scan's slots are empty; a read needs a buffer, checked before the chunk is taken.
      let start: ((pos: number, want: number) => Promise<Chunk>) | undefined;
      if (scanned !== undefined) {
        const whole = toChunk(scanned);
        scanned = undefined;
        start = () => Promise.resolve(whole);
      } else if (scan !== undefined) {
        start = (pos, want) => {
          const first = pos / BLOCK_SIZE;
          const old = state.hashes.slice(first * HASH_BYTES, (first + Math.ceil(want / BLOCK_SIZE)) * HASH_BYTES);
          return scan.run(pos, want, old).then(toChunk);
        };
      } else if (buf !== undefined) {
        start = (pos) => readAt(pos, buf).then((chunk) => ({ length: chunk.length, data: chunk, hashes: hashBlocks(chunk) }));
      }
      if (start === undefined) return;
      const pos = next;
      const want = Math.min(o.chunkBytes, o.size - pos);
      next += want;
      const work = start(pos, want);
      // Consumed in order below; a later chunk's rejection must not go unhandled meanwhile.
      work.catch(() => undefined);
      queue.push({ pos, want, buf, work });
    }
  };
  try {
    launch();
    for (let slot = queue.shift(); slot !== undefined; slot = queue.shift()) {
      const chunk = await slot.work;
      try {
        const { hashes, changed } = chunk;
        const chunkPos = slot.pos;
        if (chunk.length < slot.want) stop = true;
        result.bytesRead += chunk.length;
        o.onRead?.(chunk.length);
        let runStart = -1;
        // Where the current run's bytes start in chunk.data (packed: the changed blocks before it),
        // and its first block's place among the changed blocks (for their CRCs).
        let runData = 0;
        let runBlock = 0;
        let packed = 0;
        let packedBlocks = 0;
        const crcs = changed === undefined ? undefined : chunk.crcs;
        /** The CRC of a run of `bytes` from the changed block `first` on, from the blocks' own. */
        const runCrc = (first: number, bytes: number): number | undefined => {
          if (crcs === undefined) return undefined;
          let crc: number | undefined;
          for (let k = first, left = bytes; left > 0; k++, left -= BLOCK_SIZE) {
            const own = crcs[k];
            if (own === undefined) return undefined;
            crc = crc === undefined ? own : crc32Combine(crc, own, Math.min(BLOCK_SIZE, left));
          }
          return crc;
        };
        const flush = async (end: number): Promise<void> => {
          if (runStart < 0) return;
          const from = runStart;
          runStart = -1;
          // Packed bytes are this chunk's own (nothing reads into them again): no copy needed.
          const data = changed !== undefined ? chunk.data.subarray(runData, runData + (end - from)) : Buffer.from(chunk.data.subarray(from, end));
          // A view of arena memory keeps it until the sink is done with the write.
          const hold = changed !== undefined ? chunk.hold : undefined;
          hold?.retain();
          await emit({ op: 'write', id, offset: chunkPos + from, data }, hold === undefined ? undefined : () => hold.release(), runCrc(runBlock, data.length));
          const first = (chunkPos + from) / BLOCK_SIZE;
          const h = from / BLOCK_SIZE;
          const n = Math.ceil(data.length / BLOCK_SIZE);
          state.hashes.set(hashes.subarray(h * HASH_BYTES, (h + n) * HASH_BYTES), first * HASH_BYTES);
          result.ops++;
          result.bytesChanged += data.length;
        };
        for (let off = 0, b = 0; off < chunk.length; off += BLOCK_SIZE, b++) {
          const same = changed === undefined ? sameHash(state.hashes, (chunkPos + off) / BLOCK_SIZE, hashes, b) : changed[b] === 0;
          if (same) {
            await flush(off);
          } else {
            if (runStart < 0) {
              runStart = off;
              runData = packed;
              runBlock = packedBlocks;
            }
            packed += Math.min(BLOCK_SIZE, chunk.length - off);
            packedBlocks++;
            if (off + BLOCK_SIZE - runStart >= o.writeBytes) await flush(Math.min(off + BLOCK_SIZE, chunk.length));
          }
        }
        await flush(chunk.length);
        if (stop) {
          result.short = true;
          const end = chunkPos + chunk.length;
          await truncate(end);
          // The block the new end falls in holds what was just read (written or already equal).
          if (end % BLOCK_SIZE !== 0 && hashes.length >= HASH_BYTES) {
            state.hashes.set(hashes.subarray(hashes.length - HASH_BYTES), Math.floor(end / BLOCK_SIZE) * HASH_BYTES);
          }
          break;
        }
        free.push(slot.buf);
        launch();
      } finally {
        chunk.hold?.release();
      }
    }
  } finally {
    unused();
    // Buffers are reused by the next call: nothing may still be reading into them. Chunks never
    // got to give their arena memory back here.
    for (const r of await Promise.allSettled(queue.map((s) => s.work))) if (r.status === 'fulfilled') r.value.hold?.release();
  }
  return result;
}
