// The bytes of the journal on disk (README.md describes them for people).
//
//   segment  := record*                    named by its first seq: 00000000000000000001.seg
//   record   := u32 length | u32 crc | u48 seq | u8 flags | u8 0 | length bytes
//   crc      := CRC-32 of the bytes, continued over length, seq, flags and the zero byte
//
// flags bit 0 marks the first record of each write (one group commit); bit 1, on that record, says
// every earlier write had been fsync'd when this one was issued. At open they tell a torn write
// (nothing proves it was fsync'd) from damage to a record that was (a later write says so).
// A write may start while the previous one's fsync runs, never while the one before that does, so
// a second later write is proof too.
import { crc32 } from 'node:zlib';

export const HEADER_BYTES = 16;
export const MAX_RECORD_BYTES = 8 * 1024 * 1024;
export const FLAG_WRITE_START = 1;
export const FLAG_PREV_SYNCED = 2;
export const MAX_SEQ = 2 ** 48 - 1;

const scratch = Buffer.alloc(12);

/** The record's CRC from the CRC of its bytes and the other header fields. */
export function recordCrc(dataCrc: number, length: number, seq: number, flags: number): number {
  scratch.writeUInt32BE(length, 0);
  scratch.writeUIntBE(seq, 4, 6);
  scratch[10] = flags;
  scratch[11] = 0;
  return crc32(scratch, dataCrc);
}

export function writeHeader(target: Buffer, pos: number, length: number, seq: number, flags: number, dataCrc: number): void {
  target.writeUInt32BE(length, pos);
  target.writeUInt32BE(recordCrc(dataCrc, length, seq, flags), pos + 4);
  target.writeUIntBE(seq, pos + 8, 6);
  target[pos + 14] = flags;
  target[pos + 15] = 0;
}

export interface Header {
  length: number;
  crc: number;
  seq: number;
  flags: number;
  reserved: number;
}

export function readHeader(buf: Buffer, pos: number): Header {
  return {
    length: buf.readUInt32BE(pos),
    crc: buf.readUInt32BE(pos + 4),
    seq: buf.readUIntBE(pos + 8, 6),
    flags: buf[pos + 14] ?? 0,
    reserved: buf[pos + 15] ?? 0,
  };
}

/**
 * Why the record at `pos` (header and bytes both in buf) is not the intact record of `seq`, or
 * undefined when it is.
 */
export function recordProblem(buf: Buffer, pos: number, h: Header, expectedSeq: number): string | undefined {
  if (h.length === 0 || h.length > MAX_RECORD_BYTES) return `record length ${h.length} is not in 1..${MAX_RECORD_BYTES}`;
  if (pos + HEADER_BYTES + h.length > buf.length) return `record of ${h.length} bytes is cut short`;
  const data = buf.subarray(pos + HEADER_BYTES, pos + HEADER_BYTES + h.length);
  if (recordCrc(crc32(data), h.length, h.seq, h.flags) !== h.crc || h.reserved !== 0) return `CRC mismatch (header says seq ${h.seq})`;
  if (h.seq !== expectedSeq) return `record has seq ${h.seq} where seq ${expectedSeq} belongs`;
  return undefined;
}

/**
 * An intact record of an earlier seq where `expectedSeq` belongs: what follows the new records of
 * a reused segment (its earlier contents; seqs only grow, so never one the new records could
 * have). Header and bytes must both be in buf.
 */
export function isEarlierRecord(buf: Buffer, pos: number, h: Header, expectedSeq: number): boolean {
  if (h.seq >= expectedSeq || h.length === 0 || h.length > MAX_RECORD_BYTES || h.reserved !== 0) return false;
  if (pos + HEADER_BYTES + h.length > buf.length) return false;
  return recordCrc(crc32(buf.subarray(pos + HEADER_BYTES, pos + HEADER_BYTES + h.length)), h.length, h.seq, h.flags) === h.crc;
}

const DIGITS = 20;
const SEGMENT_NAME = /^(\d{20})\.seg$/;
const OFFSETS_NAME = /^(\d{20})\.off$/;
const SPARE_NAME = /^(\d{20})\.spare$/;

export function segmentName(firstSeq: number): string {
  return `${String(firstSeq).padStart(DIGITS, '0')}.seg`;
}

export function offsetsName(firstSeq: number): string {
  return `${String(firstSeq).padStart(DIGITS, '0')}.off`;
}

export function parseSegmentName(name: string): number | undefined {
  const m = SEGMENT_NAME.exec(name);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** A dropped segment kept for reuse, named by the first seq it held. */
export function spareName(firstSeq: number): string {
  return `${String(firstSeq).padStart(DIGITS, '0')}.spare`;
}

export function isSpareName(name: string): boolean {
  return SPARE_NAME.test(name);
}

export function parseOffsetsName(name: string): number | undefined {
  const m = OFFSETS_NAME.exec(name);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}
