// Walking a segment record by record: at open (the last segment always, a sealed one when its
// sidecar is missing or stale) and when the checkpoint index has to be rebuilt.
import type { FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { CHECKPOINT_TYPE } from '../codec.ts';
import { FLAG_PREV_SYNCED, FLAG_WRITE_START, HEADER_BYTES, isEarlierRecord, MAX_RECORD_BYTES, readHeader, recordCrc, recordProblem } from './format.ts';
import { OffsetTable } from './offsets.ts';

const CHUNK = 4 * 1024 * 1024;

export interface ScannedCheckpoint {
  seq: number;
  offset: number;
  bytes: Buffer;
}

export interface ScanResult {
  offsets: OffsetTable;
  /** End of the last intact record. */
  end: number;
  checkpoints: ScannedCheckpoint[];
  /**
   * The first damaged record, if any (everything from `end` on is not trusted). `earlier`: it is
   * an intact record of an earlier seq, the earlier contents of a reused segment.
   */
  damage?: { offset: number; what: string; earlier?: boolean };
}

/** Reads exactly `length` bytes at `position` (the file is known to be that long). */
export async function readAt(fh: FileHandle, position: number, length: number, into?: Buffer): Promise<Buffer> {
  const buf = into !== undefined && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`file ended at ${position + done}, ${length - done} bytes short`);
    done += bytesRead;
  }
  return buf;
}

export async function scanSegment(fh: FileHandle, firstSeq: number, size: number): Promise<ScanResult> {
  const offsets = new OffsetTable();
  const checkpoints: ScannedCheckpoint[] = [];
  let buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, HEADER_BYTES)));
  let bufStart = 0;
  let bufLen = 0;
  let pos = 0;
  let seq = firstSeq;
  const fill = async (need: number): Promise<void> => {
    if (need > buf.length) buf = Buffer.allocUnsafe(need);
    const n = Math.min(buf.length, size - pos);
    await readAt(fh, pos, n, buf);
    bufStart = pos;
    bufLen = n;
  };
  while (pos < size) {
    if (pos + HEADER_BYTES > size) return { offsets, end: pos, checkpoints, damage: { offset: pos, what: `${size - pos} bytes left, short of a record header` } };
    if (pos + HEADER_BYTES > bufStart + bufLen) await fill(HEADER_BYTES);
    const h = readHeader(buf, pos - bufStart);
    if (h.length === 0 || h.length > MAX_RECORD_BYTES) return { offsets, end: pos, checkpoints, damage: { offset: pos, what: `record length ${h.length} is not in 1..${MAX_RECORD_BYTES}` } };
    const recEnd = pos + HEADER_BYTES + h.length;
    if (recEnd > size) return { offsets, end: pos, checkpoints, damage: { offset: pos, what: `record of ${h.length} bytes is cut short at the end of the file` } };
    if (recEnd > bufStart + bufLen) await fill(HEADER_BYTES + h.length);
    const problem = recordProblem(buf.subarray(0, bufLen), pos - bufStart, h, seq);
    if (problem !== undefined) {
      const earlier = isEarlierRecord(buf.subarray(0, bufLen), pos - bufStart, h, seq);
      return { offsets, end: pos, checkpoints, damage: { offset: pos, what: problem, ...(earlier && { earlier }) } };
    }
    if (buf[pos - bufStart + HEADER_BYTES] === CHECKPOINT_TYPE) {
      checkpoints.push({ seq, offset: pos, bytes: Buffer.from(buf.subarray(pos - bufStart + HEADER_BYTES, recEnd - bufStart)) });
    }
    offsets.push(pos);
    pos = recEnd;
    seq++;
  }
  return { offsets, end: pos, checkpoints };
}

/** The first intact record after `from` that starts a write. */
async function nextWriteStart(fh: FileHandle, from: number, size: number, lastGoodSeq: number): Promise<{ offset: number; seq: number; flags: number } | undefined> {
  const maxSeq = lastGoodSeq + Math.ceil((size - from) / (HEADER_BYTES + 1)) + 1;
  const buf = Buffer.allocUnsafe(CHUNK);
  for (let start = from + 1; start + HEADER_BYTES <= size; start += CHUNK - HEADER_BYTES) {
    const n = Math.min(CHUNK, size - start);
    await readAt(fh, start, n, buf);
    for (let i = 0; i + HEADER_BYTES <= n; i++) {
      const flags = buf[i + 14] ?? 0;
      if ((flags & FLAG_WRITE_START) === 0 || (flags & ~(FLAG_WRITE_START | FLAG_PREV_SYNCED)) !== 0 || buf[i + 15] !== 0) continue;
      const length = buf.readUInt32BE(i);
      if (length === 0 || length > MAX_RECORD_BYTES || start + i + HEADER_BYTES + length > size) continue;
      const seq = buf.readUIntBE(i + 8, 6);
      if (seq <= lastGoodSeq || seq > maxSeq) continue;
      const data = await readAt(fh, start + i + HEADER_BYTES, length);
      if (recordCrc(crc32(data), length, seq, flags) === buf.readUInt32BE(i + 4)) return { offset: start + i, seq, flags };
    }
  }
  return undefined;
}

/**
 * The offset of an intact record after the damage at `from` that proves the damaged write was
 * fsync'd (so acknowledged, or about to be): a later write that says so, or the second later write.
 */
export async function findProofOfSync(fh: FileHandle, from: number, size: number, lastGoodSeq: number): Promise<number | undefined> {
  const next = await nextWriteStart(fh, from, size, lastGoodSeq);
  if (next === undefined || (next.flags & FLAG_PREV_SYNCED) !== 0) return next?.offset;
  return (await nextWriteStart(fh, next.offset, size, next.seq))?.offset;
}
