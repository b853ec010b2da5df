// The sender's records from the oldest not yet acknowledged to the newest, contiguous in seq: the
// only place records wait, so its byte count is the sender's memory bound. A record is held as
// the parts it was encoded in (a write's data is the capture's own buffer, not a copy), and the
// capture is told (`done`) when the buffer lets it go.
import { recordLength, type RecordParts } from '../codec.ts';

interface Entry {
  parts: RecordParts;
  length: number;
  /** A checkpoint's capture time: when the ACK covers it, it is the stream's durable checkpoint. */
  checkpointTime: number | undefined;
  /** Called once the record is let go (RecordSink.push). */
  done: (() => void) | undefined;
  /** The CRC-32 of the last part (a write's data), when known. */
  dataCrc: number | undefined;
}

export class RecordBuffer {
  private entries: (Entry | undefined)[] = [];
  private head = 0;
  /** Seq of entries[head]. */
  private first = 1;
  private total = 0;

  /** Record bytes held. */
  get bytes(): number {
    return this.total;
  }

  get count(): number {
    return this.entries.length - this.head;
  }

  /** The seq the next appended record must have. */
  get nextSeq(): number {
    return this.first + this.count;
  }

  /** Empties the buffer; the next record will be `nextSeq`. */
  reset(nextSeq: number): void {
    for (let i = this.head; i < this.entries.length; i++) this.entries[i]?.done?.();
    this.entries = [];
    this.head = 0;
    this.first = nextSeq;
    this.total = 0;
  }

  /** Calls every held record's `done` now (the sender is closed); the records stay, for status. */
  letGo(): void {
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i];
      e?.done?.();
      if (e !== undefined) e.done = undefined;
    }
  }

  append(seq: number, parts: RecordParts, checkpointTime: number | undefined, done?: () => void, dataCrc?: number): void {
    if (seq !== this.nextSeq) throw new Error(`RecordBuffer: appending seq ${seq}, expected ${this.nextSeq}`);
    const length = recordLength(parts);
    this.entries.push({ parts, length, checkpointTime, done, dataCrc });
    this.total += length;
  }

  /**
   * Drops every record up to `seq` (acknowledged). Returns the bytes freed and the newest
   * checkpoint among the dropped records.
   */
  dropThrough(seq: number): { bytes: number; checkpoint: { seq: number; time: number } | undefined } {
    let freed = 0;
    let checkpoint: { seq: number; time: number } | undefined;
    while (this.first <= seq && this.head < this.entries.length) {
      const e = this.entries[this.head];
      if (e !== undefined) {
        freed += e.length;
        if (e.checkpointTime !== undefined) checkpoint = { seq: this.first, time: e.checkpointTime };
        e.done?.();
      }
      this.entries[this.head] = undefined;
      this.head++;
      this.first++;
    }
    this.total -= freed;
    // Compact now and then so the array does not grow with the stream.
    if (this.head > 4096 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return { bytes: freed, checkpoint };
  }

  /**
   * Records from `fromSeq` on, at least one, stopping before `maxBytes` would be passed; `crcs`:
   * each one's last part's CRC-32, where known.
   */
  slice(fromSeq: number, maxBytes: number, maxCount: number): { records: RecordParts[]; crcs: (number | undefined)[]; bytes: number } {
    const records: RecordParts[] = [];
    const crcs: (number | undefined)[] = [];
    let bytes = 0;
    for (let i = this.head + (fromSeq - this.first); i < this.entries.length && records.length < maxCount; i++) {
      const e = this.entries[i];
      if (e === undefined) break;
      if (records.length > 0 && bytes + e.length > maxBytes) break;
      records.push(e.parts);
      crcs.push(e.dataCrc);
      bytes += e.length;
    }
    return { records, crcs, bytes };
  }
}
