// Block hashes: what the capture keeps from the last pass to find changed blocks, what delta sync
// compares, and what verify checks a materialised copy against. XXH3-128 (the strong checksum
// rsync uses for the same job): every byte of a volume is hashed on every pass of an image, so
// the hash is most of a pass's CPU. Measured on these machines, per core: 4–5 GiB/s against 1.6
// for SHA-256 with the CPU's SHA instructions; the 2 GiB image delta of `npm run bench:replicator`
// went from 2.2 to 1.6 s. 128 bits make an accidental match of a changed block as likely as two
// random UUIDs colliding. It is not a cryptographic hash: data written to make a block collide with
// its old content would not be shipped, and only the volume's owner can write that data. Content
// and volume digests (over the block hashes) stay SHA-256.
//
// Changing this function changes what every manifest, digest and replica state means: the wire
// protocol's version and the replica state's format name it (wire/frame.ts, replica-state.ts).
import { createHash } from 'node:crypto';
import { createXXHash128 } from 'hash-wasm';

/** The block hash in use, as named where a peer or a replica state must agree on it. */
export const BLOCK_HASH = 'xxh3-128';

// One hasher per thread (the hash workers load this module too), synchronous once loaded.
const xxh3 = await createXXHash128();

/** Volumes are compared and shipped in blocks of this size. */
export const BLOCK_SIZE = 64 * 1024;
export const HASH_BYTES = 16;
export const DIGEST_BYTES = 32;

/** The 16-byte hash of one block (the last block of a file may be short). */
export function blockHash(block: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HASH_BYTES);
  blockHashInto(block, out, 0);
  return out;
}

/** Writes the 16-byte hash of `block` into `out` at `offset` (no allocation per block). */
export function blockHashInto(block: Uint8Array, out: Uint8Array, offset: number): void {
  xxh3.init();
  xxh3.update(block);
  out.set(xxh3.digest('binary'), offset);
}

/** The concatenated hashes of each 64 KiB block of `data` (the last one may be short). */
export function hashBlocksInto(data: Uint8Array, out: Uint8Array): void {
  for (let off = 0, i = 0; off < data.length; off += BLOCK_SIZE, i++) blockHashInto(data.subarray(off, off + BLOCK_SIZE), out, i * HASH_BYTES);
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
 *
 * Every checkpoint computes it over the whole volume, so it is written for many entries: paths are
 * compared as strings where that is the same order as their UTF-8 bytes, and the hash is fed in
 * large pieces. (Sorting by encoding both paths at every comparison, and five small hash updates
 * an entry, took 150 ms for 22 000 entries.) The bytes hashed are the same as ever.
 */
export function volumeDigest(entries: Iterable<DigestEntry>): Buffer {
  return feedDigest(volumeDigestFeed(entries).bytes);
}

/** The volume digest of a feed volumeDigestFeed built (and a capture may have patched since). */
export function feedDigest(feed: Uint8Array): Buffer {
  return createHash('sha256').update(feed).digest();
}

/**
 * What volumeDigest hashes, as one buffer, and where each file's content digest sits in it: a
 * capture keeps it, and while no entry comes, goes or changes mode, a checkpoint only writes the
 * changed files' digests into it and hashes it again (sorting and encoding 20 000 entries took
 * ~35 ms of every checkpoint of the source VRA, alone on its main thread).
 */
export function volumeDigestFeed(entries: Iterable<DigestEntry>): { bytes: Buffer; digestAt: Map<string, number> } {
  const list = [...entries];
  // UTF-16 code unit order is code point order, so UTF-8 byte order, except between a surrogate
  // (an astral character) and U+E000..U+FFFF: there, paths are compared as UTF-8 bytes.
  const sorted = list.some((e) => SURROGATE_OR_HIGH.test(e.path))
    ? list.map((e) => ({ e, key: Buffer.from(e.path) })).sort((a, b) => Buffer.compare(a.key, b.key)).map((k) => k.e)
    : list.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const feed = new FeedBuffer(sorted.length * 64);
  const digestAt = new Map<string, number>();
  for (const e of sorted) {
    feed.text(e.path);
    feed.byte(0);
    if (e.type === 'dir') feed.text(`d${e.mode.toString(8)}\0`);
    else if (e.type === 'file') {
      feed.text(`f${e.mode.toString(8)}\0`);
      digestAt.set(e.path, feed.length);
      feed.bytes(e.digest);
    } else {
      feed.text('l');
      feed.text(e.target);
      feed.byte(0);
    }
  }
  return { bytes: feed.done(), digestAt };
}

const SURROGATE_OR_HIGH = /[\uD800-\uFFFF]/;

/** Small pieces (UTF-8 text, bytes) appended to one buffer that grows as needed. */
class FeedBuffer {
  private buf: Buffer;
  private pos = 0;
  constructor(estimate: number) {
    this.buf = Buffer.allocUnsafe(Math.max(estimate, 256));
  }
  get length(): number {
    return this.pos;
  }
  byte(b: number): void {
    this.room(1);
    this.buf[this.pos++] = b;
  }
  text(s: string): void {
    // At most 3 bytes per UTF-16 code unit.
    this.room(s.length * 3);
    this.pos += this.buf.write(s, this.pos);
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  done(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }
}
