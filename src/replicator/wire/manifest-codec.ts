// A Manifest (manifest.ts) in bytes, for delta sync: the receiver encodes it once and sends it in
// MANIFEST chunks; the sender joins the chunks and decodes (checking every field).
//
//   block := u8 2 | u48 size | blockCount(size) × 16-byte hash
//   fs    := u8 1 | u32 n | n × entry
//   entry := str16 path | u8 type, then  dir: u32 mode
//                                        file: u48 id | u32 mode | u48 size | blockCount(size) × hash
//                                        symlink: str16 target
import { blockCount, HASH_BYTES } from '../hash.ts';
import type { Manifest, ManifestEntry } from '../manifest.ts';
import { MAX_UINT48, MODE_MASK } from '../ops.ts';
import { checkLinkTarget, checkPath, PathError } from '../paths.ts';
import { ProtocolError } from './frame.ts';

/** The largest encoded manifest either side handles (a 4 TiB block volume's hashes). */
export const MAX_MANIFEST_BYTES = 1024 * 1024 * 1024;
/** Manifests travel in chunks of at most this many bytes. */
export const MANIFEST_CHUNK_BYTES = 4 * 1024 * 1024;

const KIND_FS = 1;
const KIND_BLOCK = 2;
const TYPE_DIR = 1;
const TYPE_FILE = 2;
const TYPE_SYMLINK = 3;

function entrySize(path: string, e: ManifestEntry): number {
  const base = 2 + Buffer.byteLength(path) + 1;
  if (e.type === 'dir') return base + 4;
  if (e.type === 'symlink') return base + 2 + Buffer.byteLength(e.target);
  return base + 6 + 4 + 6 + e.hashes.length;
}

function hashesProblem(size: number, hashes: Uint8Array): string | undefined {
  const want = blockCount(size) * HASH_BYTES;
  return hashes.length === want ? undefined : `has ${hashes.length} bytes of hashes, ${want} for size ${size}`;
}

export function encodeManifest(m: Manifest): Buffer {
  if (m.kind === 'block') {
    const problem = hashesProblem(m.size, m.hashes);
    if (problem !== undefined) throw new ProtocolError('BadMessage', `block manifest ${problem}`);
    const out = Buffer.allocUnsafe(1 + 6 + m.hashes.length);
    out.writeUInt8(KIND_BLOCK, 0);
    out.writeUIntBE(m.size, 1, 6);
    out.set(m.hashes, 7);
    return out;
  }
  let size = 1 + 4;
  for (const [path, e] of m.entries) {
    if (e.type === 'file') {
      const problem = hashesProblem(e.size, e.hashes);
      if (problem !== undefined) throw new ProtocolError('BadMessage', `manifest entry ${JSON.stringify(path)} ${problem}`);
    }
    size += entrySize(path, e);
  }
  if (size > MAX_MANIFEST_BYTES) throw new ProtocolError('TooLarge', `manifest is ${size} bytes, more than ${MAX_MANIFEST_BYTES}`);
  const out = Buffer.allocUnsafe(size);
  let at = out.writeUInt8(KIND_FS, 0);
  at = out.writeUInt32BE(m.entries.size, at);
  for (const [path, e] of m.entries) {
    const p = Buffer.from(path, 'utf8');
    at = out.writeUInt16BE(p.length, at);
    at += p.copy(out, at);
    if (e.type === 'dir') {
      at = out.writeUInt8(TYPE_DIR, at);
      at = out.writeUInt32BE(e.mode, at);
    } else if (e.type === 'symlink') {
      at = out.writeUInt8(TYPE_SYMLINK, at);
      const t = Buffer.from(e.target, 'utf8');
      at = out.writeUInt16BE(t.length, at);
      at += t.copy(out, at);
    } else {
      at = out.writeUInt8(TYPE_FILE, at);
      at = out.writeUIntBE(e.id, at, 6);
      at = out.writeUInt32BE(e.mode, at);
      at = out.writeUIntBE(e.size, at, 6);
      out.set(e.hashes, at);
      at += e.hashes.length;
    }
  }
  return out;
}

function bad(message: string): ProtocolError {
  return new ProtocolError('BadMessage', `manifest ${message}`);
}

export function decodeManifest(buf: Buffer): Manifest {
  let pos = 0;
  const need = (n: number, what: string): void => {
    if (pos + n > buf.length) throw bad(`(${buf.length} bytes) ends inside ${what} at offset ${pos}`);
  };
  const u8 = (what: string): number => {
    need(1, what);
    return buf.readUInt8(pos++);
  };
  const u16 = (what: string): number => {
    need(2, what);
    pos += 2;
    return buf.readUInt16BE(pos - 2);
  };
  const u32 = (what: string): number => {
    need(4, what);
    pos += 4;
    return buf.readUInt32BE(pos - 4);
  };
  const u48 = (what: string): number => {
    need(6, what);
    pos += 6;
    return buf.readUIntBE(pos - 6, 6);
  };
  const bytes = (n: number, what: string): Buffer => {
    need(n, what);
    pos += n;
    return buf.subarray(pos - n, pos);
  };
  const str16 = (what: string): string => {
    const len = u16(`${what} length`);
    const b = bytes(len, what);
    const s = b.toString('utf8');
    if (Buffer.byteLength(s) !== len) throw bad(`${what} is not valid UTF-8`);
    return s;
  };
  const mode = (what: string): number => {
    const m = u32(what);
    if (m > MODE_MASK) throw bad(`${what} ${m} is not a permission mode`);
    return m;
  };
  const guardPath = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err: unknown) {
      if (err instanceof PathError) throw bad(err.message);
      throw err;
    }
  };

  const kind = u8('kind');
  if (kind === KIND_BLOCK) {
    const size = u48('block size');
    const hashes = Buffer.from(bytes(blockCount(size) * HASH_BYTES, `hashes of a ${size}-byte block volume`));
    if (pos !== buf.length) throw bad(`has ${buf.length - pos} bytes left over`);
    return { kind: 'block', size, hashes };
  }
  if (kind !== KIND_FS) throw bad(`kind ${kind} is neither fs (1) nor block (2)`);
  const n = u32('entry count');
  const entries = new Map<string, ManifestEntry>();
  for (let i = 0; i < n; i++) {
    const path = guardPath(() => checkPath(`entry ${i} path`, str16(`entry ${i} path`)));
    if (entries.has(path)) throw bad(`entry ${i} repeats path ${JSON.stringify(path)}`);
    const type = u8(`entry ${i} type`);
    if (type === TYPE_DIR) entries.set(path, { type: 'dir', mode: mode(`entry ${i} mode`) });
    else if (type === TYPE_SYMLINK) entries.set(path, { type: 'symlink', target: guardPath(() => checkLinkTarget(`entry ${i} target`, str16(`entry ${i} target`))) });
    else if (type === TYPE_FILE) {
      const id = u48(`entry ${i} id`);
      const m = mode(`entry ${i} mode`);
      const size = u48(`entry ${i} size`);
      if (size > MAX_UINT48) throw bad(`entry ${i} size ${size} is too large`);
      // A copy: the decoded manifest outlives the joined chunks, which may be large.
      const hashes = Buffer.from(bytes(blockCount(size) * HASH_BYTES, `entry ${i} hashes`));
      entries.set(path, { type: 'file', id, mode: m, size, hashes });
    } else throw bad(`entry ${i} (${JSON.stringify(path)}) has type ${type}, not dir (1), file (2) or symlink (3)`);
  }
  if (pos !== buf.length) throw bad(`has ${buf.length - pos} bytes left over after ${n} entries`);
  return { kind: 'fs', entries };
}

/** The encoded manifest cut into chunks for MANIFEST frames (at least one, maybe empty). */
export function manifestChunks(encoded: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < encoded.length; at += MANIFEST_CHUNK_BYTES) out.push(encoded.subarray(at, at + MANIFEST_CHUNK_BYTES));
  if (out.length === 0) out.push(encoded);
  return out;
}
