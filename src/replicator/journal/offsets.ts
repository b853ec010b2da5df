// Where each record of a segment starts: 4 bytes a record in memory, so read() seeks straight to
// a seq and bytesBetween() is arithmetic. A sealed segment keeps its table in a sidecar file
// (<first>.off) so reopening does not walk the segment; the sidecar is only a cache (CRC'd, checked
// against the segment's size and the next segment's first seq, rebuilt by a scan when it fails).
import { crc32 } from 'node:zlib';

export class OffsetTable {
  private table: Uint32Array;
  count = 0;

  constructor(capacity = 64) {
    this.table = new Uint32Array(Math.max(capacity, 16));
  }

  static of(offsets: Uint32Array): OffsetTable {
    const t = new OffsetTable(offsets.length);
    t.table.set(offsets);
    t.count = offsets.length;
    return t;
  }

  push(offset: number): void {
    if (this.count === this.table.length) {
      const bigger = new Uint32Array(this.table.length * 2);
      bigger.set(this.table);
      this.table = bigger;
    }
    this.table[this.count++] = offset;
  }

  /** Start of the i-th record; i === count gives `end`. */
  at(i: number, end: number): number {
    return i >= this.count ? end : (this.table[i] ?? end);
  }

  truncate(count: number): void {
    this.count = Math.min(count, this.count);
  }

  view(): Uint32Array {
    return this.table.subarray(0, this.count);
  }
}

const MAGIC = 0x5a4a4f31; // "ZJO1"

//   sidecar := u32 magic | u48 firstSeq | u32 count | u48 segmentBytes | count × u32 | u32 crc
export function encodeSidecar(firstSeq: number, size: number, offsets: Uint32Array): Buffer {
  const buf = Buffer.alloc(20 + offsets.length * 4 + 4);
  buf.writeUInt32BE(MAGIC, 0);
  buf.writeUIntBE(firstSeq, 4, 6);
  buf.writeUInt32BE(offsets.length, 10);
  buf.writeUIntBE(size, 14, 6);
  for (let i = 0; i < offsets.length; i++) buf.writeUInt32BE(offsets[i] ?? 0, 20 + i * 4);
  buf.writeUInt32BE(crc32(buf.subarray(0, buf.length - 4)), buf.length - 4);
  return buf;
}

/** The offsets if the sidecar is intact and describes this segment, else why not. */
export function decodeSidecar(buf: Buffer, firstSeq: number, size: number, count: number): Uint32Array | string {
  if (buf.length < 24) return 'too short';
  if (buf.readUInt32BE(0) !== MAGIC) return 'bad magic';
  if (crc32(buf.subarray(0, buf.length - 4)) !== buf.readUInt32BE(buf.length - 4)) return 'CRC mismatch';
  const n = buf.readUInt32BE(10);
  if (buf.length !== 24 + n * 4) return 'length does not match its count';
  if (buf.readUIntBE(4, 6) !== firstSeq) return 'names another first seq';
  if (n !== count) return `counts ${n} records, the segment holds ${count}`;
  if (buf.readUIntBE(14, 6) !== size) return `was made for ${buf.readUIntBE(14, 6)} bytes, the segment has ${size}`;
  const offsets = new Uint32Array(n);
  let last = -1;
  for (let i = 0; i < n; i++) {
    const o = buf.readUInt32BE(20 + i * 4);
    if (o <= last || o >= size) return `offset ${i} is out of order`;
    offsets[i] = last = o;
  }
  if (n > 0 && offsets[0] !== 0) return 'does not start at offset 0';
  return offsets;
}
