// Block hashes: what the capture keeps from the last pass to find changed blocks, what delta sync
// compares, and what verify checks a materialised copy against. SHA-256 (hardware-accelerated,
// ~1.5 GB/s per core here) cut to 128 bits: strong enough that equal means equal.
import { createHash, hash } from 'node:crypto';

/** Volumes are compared and shipped in blocks of this size. */
export const BLOCK_SIZE = 64 * 1024;
export const HASH_BYTES = 16;
export const DIGEST_BYTES = 32;

/** The 16-byte hash of one block (the last block of a file may be short). */
export function blockHash(block: Uint8Array): Buffer {
  return hash('sha256', block, 'buffer').subarray(0, HASH_BYTES);
}

/** Number of blocks a file or image of `size` bytes has. */
export function blockCount(size: number): number {
  return Math.ceil(size / BLOCK_SIZE);
}

/** A file's (or image's) content digest: its size and the concatenation of its block hashes. */
export function contentDigest(size: number, blockHashes: Uint8Array): Buffer {
  const h = createHash('sha256');
  const sizeBytes = Buffer.alloc(8);
  sizeBytes.writeBigUInt64BE(BigInt(size));
  h.update(sizeBytes);
  h.update(blockHashes);
  return h.digest();
}

/** One entry of a filesystem volume, as volumeDigest sees it. */
export type DigestEntry =
  | { path: string; type: 'dir'; mode: number }
  | { path: string; type: 'file'; mode: number; digest: Uint8Array }
  | { path: string; type: 'symlink'; target: string };

/**
 * A filesystem volume's digest: every entry in byte order of its path, with its type, mode and
 * content digest (files) or target (symlinks). Two trees with the same digest are the same tree.
 */
export function volumeDigest(entries: Iterable<DigestEntry>): Buffer {
  const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  const h = createHash('sha256');
  for (const e of sorted) {
    h.update(e.path);
    h.update('\0');
    if (e.type === 'dir') h.update(`d${e.mode.toString(8)}\0`);
    else if (e.type === 'file') {
      h.update(`f${e.mode.toString(8)}\0`);
      h.update(e.digest);
    } else {
      h.update('l');
      h.update(e.target);
      h.update('\0');
    }
  }
  return h.digest();
}
