// One chunk of an image read, hashed and compared with the hashes the replica has, in one place:
// on a hash worker (hash-pool.ts), which reads the chunk itself, so the bytes of unchanged blocks
// never cross to the main thread, and only the changed blocks come back. An image pass reads the
// whole volume to find a few changed blocks; before, every chunk was read on the main thread into
// shared memory and hashed from there, and the hasher's copy out of shared memory cost the workers
// as much as the hash (CPU profiles of bench:replicator's image delta).
import { read, readSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { BLOCK_SIZE, HASH_BYTES, hashBlocksInto } from '../hash.ts';
import type { Hold } from './block-arena.ts';

/** A chunk as the replica needs it: which blocks changed, their bytes, every block's new hash. */
export interface ChunkScan {
  /** Bytes read: less than asked when the content ended first (it shrank while read). */
  length: number;
  /** The new hash of every block read. */
  hashes: Uint8Array<ArrayBuffer>;
  /** Per block read: 1 when its hash differs from the old one (or there was none), else 0. */
  changed: Uint8Array<ArrayBuffer>;
  /** The changed blocks' bytes, packed in block order (a run of changed blocks is one span). */
  data: Uint8Array<ArrayBuffer>;
  /**
   * Each changed block's CRC-32 (zlib's), in the order of `data`: worked out here, where the
   * bytes were just read, so the frame that ships them does not read them again on the main
   * thread (../crc32.ts combines them). Absent: not worked out.
   */
  crcs?: Uint32Array<ArrayBuffer>;
  /**
   * When `data` is a view of a hash pool's arena (block-arena.ts): what keeps that memory from
   * being used again. Whoever has the scan releases it once, when nothing reads `data` any more.
   */
  hold?: Hold;
}

/** Room in shared memory to pack `bytes` changed bytes into (block-arena.ts), or undefined: none now. */
export type PackInto = (bytes: number) => Uint8Array | undefined;

/**
 * Hashes `chunk`'s blocks and packs those whose hash differs from `old` (the replica's). With
 * `own` (the chunk itself, in memory the caller gives away), a chunk whose blocks all changed is
 * not copied: its data is `own`.
 */
export function diffChunk(chunk: Uint8Array, old: Uint8Array, own?: Uint8Array<ArrayBuffer>, into?: PackInto): ChunkScan {
  const blocks = Math.ceil(chunk.length / BLOCK_SIZE);
  const hashes = new Uint8Array(blocks * HASH_BYTES);
  hashBlocksInto(chunk, hashes);
  const changed = new Uint8Array(blocks);
  let bytes = 0;
  let count = 0;
  for (let b = 0; b < blocks; b++) {
    if (!sameAt(hashes, old, b)) {
      changed[b] = 1;
      bytes += Math.min(BLOCK_SIZE, chunk.length - b * BLOCK_SIZE);
      count++;
    }
  }
  const crcs = new Uint32Array(count);
  for (let b = 0, k = 0; b < blocks; b++) if (changed[b] === 1) crcs[k++] = crc32(chunk.subarray(b * BLOCK_SIZE, Math.min((b + 1) * BLOCK_SIZE, chunk.length)));
  if (own !== undefined && own.length === chunk.length && bytes === chunk.length) return { length: chunk.length, hashes, changed, data: own, crcs };
  // Shared memory (typed as the transferable kind it stands in for), or memory of its own to
  // transfer; not zeroed first either way, as every byte is written below.
  const room = bytes > 0 ? into?.(bytes) : undefined;
  const data = (room ?? new Uint8Array(Buffer.allocUnsafeSlow(bytes).buffer, 0, bytes)) as Uint8Array<ArrayBuffer>;
  for (let b = 0, at = 0; b < blocks; b++) {
    if (changed[b] === 0) continue;
    const block = chunk.subarray(b * BLOCK_SIZE, Math.min((b + 1) * BLOCK_SIZE, chunk.length));
    data.set(block, at);
    at += block.length;
  }
  return { length: chunk.length, hashes, changed, data, crcs };
}

function sameAt(hashes: Uint8Array, old: Uint8Array, b: number): boolean {
  const at = b * HASH_BYTES;
  if (at + HASH_BYTES > old.length) return false;
  for (let k = 0; k < HASH_BYTES; k++) if (hashes[at + k] !== old[at + k]) return false;
  return true;
}

/** Reads up to `want` bytes at `pos` of `fd` into `buf` (from 0), stopping early only at the end. */
export function readChunkSync(fd: number, buf: Uint8Array, want: number, pos: number): number {
  let got = 0;
  while (got < want) {
    const n = readSync(fd, buf, got, want - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** readChunkSync on the thread pool: what the main thread does when no worker is left. */
export async function readChunk(fd: number, buf: Uint8Array, want: number, pos: number): Promise<number> {
  let got = 0;
  while (got < want) {
    const n = await new Promise<number>((resolve, reject) => {
      read(fd, buf, got, want - got, pos + got, (err, bytesRead) => {
        if (err === null) resolve(bytesRead);
        else reject(err);
      });
    });
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** What a scan job asks: `want` bytes at `pos` of the open `fd`, with the replica's hashes of those blocks. */
export interface ScanRequest {
  fd: number;
  pos: number;
  want: number;
  old: Uint8Array;
}

/** A scan on this thread (no worker, or the one that had it died). */
export async function scanHere(r: ScanRequest): Promise<ChunkScan> {
  const buf = Buffer.allocUnsafe(r.want);
  const got = await readChunk(r.fd, buf, r.want, r.pos);
  return diffChunk(buf.subarray(0, got), r.old);
}
