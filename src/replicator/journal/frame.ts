// Turning a group commit's records into iovecs for one writev: headers, and records too small to
// be worth an iovec of their own, are copied into one reused buffer; larger records are written
// from the caller's buffer as they are.
import type { CheckpointMark } from '../ops.ts';
import { HEADER_BYTES, writeHeader } from './format.ts';

/** A record accepted by append(), waiting for its group commit. */
export interface Pending {
  seq: number;
  bytes: Buffer;
  /** CRC-32 of the bytes, computed by append() while the previous commit's fsync runs. */
  dataCrc: number;
  checkpoint: CheckpointMark | undefined;
}

const COPY_BELOW = 16 * 1024;
/** A journal per VPG, many VPGs per VRA: a larger buffer is used once, not kept. */
const MAX_KEPT = 4 * 1024 * 1024;

export class Framer {
  private staging = Buffer.allocUnsafe(64 * 1024);

  /**
   * The iovecs for `records` written at `base`; pushes each record's offset onto `offsets`. The
   * first record gets `firstFlags`. The iovecs are valid until the next call.
   */
  frame(records: readonly Pending[], base: number, offsets: number[], firstFlags: number): { iovecs: Buffer[]; total: number } {
    let need = 0;
    for (const p of records) need += HEADER_BYTES + (p.bytes.length < COPY_BELOW ? p.bytes.length : 0);
    let staging = this.staging;
    if (need > staging.length) {
      staging = Buffer.allocUnsafe(need);
      if (need <= MAX_KEPT) this.staging = staging;
    }
    const iovecs: Buffer[] = [];
    let runStart = 0;
    let sp = 0;
    let pos = base;
    let flags = firstFlags;
    for (const p of records) {
      offsets.push(pos);
      writeHeader(staging, sp, p.bytes.length, p.seq, flags, p.dataCrc);
      flags = 0;
      sp += HEADER_BYTES;
      if (p.bytes.length < COPY_BELOW) {
        p.bytes.copy(staging, sp);
        sp += p.bytes.length;
      } else {
        iovecs.push(staging.subarray(runStart, sp), p.bytes);
        runStart = sp;
      }
      pos += HEADER_BYTES + p.bytes.length;
    }
    if (sp > runStart) iovecs.push(staging.subarray(runStart, sp));
    return { iovecs, total: pos - base };
  }
}
