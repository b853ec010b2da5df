// The checkpoint index: one append-only file ("index") of CRC'd entries, written and fsync'd in
// the same group commit as the records it describes, so reopening a large journal reads this
// file instead of every segment. Tags added later and the dropped point live here too; on every
// dropThrough the file is rewritten (temp file, fsync, rename, fsync folder) without what was dropped.
//
//   index := "ZJIDX01\n" | entry*
//   entry := u32 payloadLength | u32 crc (CRC-32 of the length field and the payload) | payload
//   payload :=  1 u48 seq | u48 segmentFirstSeq | u32 offset | checkpoint record bytes
//            |  2 u48 seq | tag (UTF-8)
//            |  3 u48 droppedThrough | u48 lastCheckpointSeq | f64 lastCheckpointTime
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { JournalError } from './errors.ts';
import { fsyncDir, unlinkIfThere, type SyncCounter } from './fsutil.ts';

export const INDEX_FILE = 'index';
export const INDEX_TMP = 'index.tmp';
const MAGIC = Buffer.from('ZJIDX01\n');
const MAX_ENTRY = 16 * 1024 * 1024;

export type IndexEntry =
  | { type: 'checkpoint'; seq: number; segment: number; offset: number; bytes: Buffer }
  | { type: 'tag'; seq: number; tag: string }
  | { type: 'drop'; seq: number; lastCheckpoint: { seq: number; time: number } | undefined };

function payloadOf(e: IndexEntry): Buffer {
  switch (e.type) {
    case 'checkpoint': {
      const b = Buffer.allocUnsafe(17 + e.bytes.length);
      b[0] = 1;
      b.writeUIntBE(e.seq, 1, 6);
      b.writeUIntBE(e.segment, 7, 6);
      b.writeUInt32BE(e.offset, 13);
      b.set(e.bytes, 17);
      return b;
    }
    case 'tag': {
      const tag = Buffer.from(e.tag);
      const b = Buffer.allocUnsafe(7 + tag.length);
      b[0] = 2;
      b.writeUIntBE(e.seq, 1, 6);
      b.set(tag, 7);
      return b;
    }
    case 'drop': {
      const b = Buffer.alloc(21);
      b[0] = 3;
      b.writeUIntBE(e.seq, 1, 6);
      b.writeUIntBE(e.lastCheckpoint?.seq ?? 0, 7, 6);
      b.writeDoubleBE(e.lastCheckpoint?.time ?? 0, 13);
      return b;
    }
  }
}

export function encodeEntries(entries: readonly IndexEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const payload = payloadOf(e);
    const head = Buffer.allocUnsafe(8);
    head.writeUInt32BE(payload.length, 0);
    head.writeUInt32BE(crc32(payload, crc32(head.subarray(0, 4))), 4);
    parts.push(head, payload);
  }
  return Buffer.concat(parts);
}

function decodePayload(p: Buffer, file: string, offset: number): IndexEntry | string {
  switch (p[0]) {
    case 1:
      if (p.length < 19) return 'checkpoint entry is too short';
      return { type: 'checkpoint', seq: p.readUIntBE(1, 6), segment: p.readUIntBE(7, 6), offset: p.readUInt32BE(13), bytes: Buffer.from(p.subarray(17)) };
    case 2:
      if (p.length < 8) return 'tag entry is too short';
      return { type: 'tag', seq: p.readUIntBE(1, 6), tag: p.subarray(7).toString('utf8') };
    case 3: {
      if (p.length !== 21) return 'drop entry has the wrong length';
      const seq = p.readUIntBE(7, 6);
      return { type: 'drop', seq: p.readUIntBE(1, 6), lastCheckpoint: seq === 0 ? undefined : { seq, time: p.readDoubleBE(13) } };
    }
    default:
      // Intact (the CRC matched) but unknown: written by a newer version; guessing would lose data.
      throw new JournalError('Format', `journal index ${file} has an entry of unknown type ${p[0] ?? '(empty)'} at offset ${offset}`);
  }
}

export interface IndexRead {
  entries: IndexEntry[];
  /** End of the last intact entry. */
  end: number;
  size: number;
  damage?: { offset: number; what: string; /** intact entries follow: not a torn tail */ followed: boolean };
}

function entryAt(buf: Buffer, pos: number): number | undefined {
  if (pos + 8 > buf.length) return undefined;
  const len = buf.readUInt32BE(pos);
  if (len === 0 || len > MAX_ENTRY || pos + 8 + len > buf.length) return undefined;
  if (crc32(buf.subarray(pos + 8, pos + 8 + len), crc32(buf.subarray(pos, pos + 4))) !== buf.readUInt32BE(pos + 4)) return undefined;
  return len;
}

/** The index's entries, or undefined when there is no index file. */
export async function readIndex(dir: string): Promise<IndexRead | undefined> {
  const file = join(dir, INDEX_FILE);
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    return { entries: [], end: 0, size: buf.length, damage: { offset: 0, what: 'no index header', followed: true } };
  }
  const entries: IndexEntry[] = [];
  let pos = MAGIC.length;
  while (pos < buf.length) {
    const len = entryAt(buf, pos);
    const decoded = len === undefined ? 'bad length or CRC' : decodePayload(buf.subarray(pos + 8, pos + 8 + len), file, pos);
    if (len === undefined || typeof decoded === 'string') {
      let followed = false;
      for (let p = pos + 1; p + 8 <= buf.length && !followed; p++) followed = entryAt(buf, p) !== undefined;
      return { entries, end: pos, size: buf.length, damage: { offset: pos, what: decoded as string, followed } };
    }
    entries.push(decoded);
    pos += 8 + len;
  }
  return { entries, end: pos, size: buf.length };
}

/** Replaces the index with these entries, atomically; returns the new file's size. */
export async function rewriteIndex(dir: string, entries: readonly IndexEntry[], counter: SyncCounter): Promise<number> {
  const tmp = join(dir, INDEX_TMP);
  const body = Buffer.concat([MAGIC, encodeEntries(entries)]);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(body);
    await fh.sync();
    counter.syncs++;
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, INDEX_FILE));
  await fsyncDir(dir, counter);
  return body.length;
}

export async function removeIndexTmp(dir: string): Promise<void> {
  await unlinkIfThere(join(dir, INDEX_TMP));
}
