// The recovery VRA's journal of one VPG stream: append-only segments, group commit, torn-tail
// cut at open, checkpoint index, tags, drop. README.md has the on-disk format and guarantees.
import { open, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import { CodecError, decodeRecord, recordType } from '../codec.ts';
import type { CheckpointMark } from '../ops.ts';
import { JournalCorruptError, JournalError } from './errors.ts';
import { DEFAULT_SEGMENT_BYTES, DEFAULT_SPARE_SEGMENTS } from './footprint.ts';
import { FLAG_PREV_SYNCED, FLAG_WRITE_START, HEADER_BYTES, MAX_RECORD_BYTES, MAX_SEQ, offsetsName, segmentName, spareName } from './format.ts';
import { fsyncDir, renameIfThere, unlinkIfThere, type SyncCounter } from './fsutil.ts';
import { encodeEntries, INDEX_FILE, rewriteIndex, type IndexEntry } from './index-file.ts';
import { OffsetTable } from './offsets.ts';
import { Framer, type Pending } from './frame.ts';
import { readRun } from './reader.ts';
import { indexEntriesOf, recover, writeSidecar } from './recover.ts';
import { lastSeqOf, type CheckpointInfo, type CheckpointState, type JournalLogger, type JournalStats, type Segment } from './types.ts';

export { JournalCorruptError, JournalError, type JournalErrorCode } from './errors.ts';
export { MAX_RECORD_BYTES } from './format.ts';
export type { CheckpointInfo, JournalLogger, JournalStats } from './types.ts';

export interface JournalOptions {
  /** A segment is closed once it holds this much; default 64 MiB. */
  segmentBytes?: number;
  /**
   * Dropped segment files kept to be written over by new segments; default 2, 0 deletes every
   * dropped segment. Overwriting a file's blocks spares each commit's fsync the block allocation
   * and size change a new file needs.
   */
  spareSegments?: number;
  log?: JournalLogger;
}

const MAX_SEGMENT_BYTES = 1024 * 1024 * 1024;
const MAX_SPARE_SEGMENTS = 64;
/** One group commit writes at most this much (more waits for the next one). */
const MAX_COMMIT_BYTES = 64 * 1024 * 1024;
const MAX_TAG_BYTES = 253;

interface Waiter {
  target: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface TagRequest {
  seq: number;
  tag: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Inflight {
  /** Settles (never rejects) once the commit is durable and published, or failed. */
  done: Promise<void>;
  /** Its segment write was fsync'd. */
  synced: boolean;
}

interface DropRequest {
  seq: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

const openDirs = new Set<string>();

/** Validation errors come back as a rejected promise, like write errors, never as a throw. */
function rejected(err: unknown): Promise<never> {
  return Promise.reject(err instanceof Error ? err : new Error(String(err)));
}

function checkSeqArg(field: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0 || v > MAX_SEQ) throw new JournalError('BadArgument', `${field} ${v} is not a seq (an integer in 0..${MAX_SEQ})`);
}

export class Journal {
  private readonly dir: string;
  private readonly segmentBytes: number;
  private readonly spareSegments: number;
  /** Dropped segment files waiting to be reused (paths). */
  private spares: string[];
  private readonly log: JournalLogger | undefined;
  private readonly counter: SyncCounter = { syncs: 0 };
  private segments: Segment[];
  private liveFh: FileHandle | undefined;
  private indexFh: FileHandle | undefined;
  private indexSize: number;
  private droppedThrough: number;
  private lastDroppedCheckpoint: { seq: number; time: number } | undefined;
  private readonly ckpts: Map<number, CheckpointState>;
  private ckptList: readonly CheckpointInfo[] | undefined;
  private durable: number;
  private appended: number;
  private pending: Pending[] = [];
  private waiters: Waiter[] = [];
  private tagRequests: TagRequest[] = [];
  private dropRequests: DropRequest[] = [];
  private running = false;
  private idleWaiters: (() => void)[] = [];
  private broken: JournalError | undefined;
  private closed = false;
  private readonly framer = new Framer();
  private inflight: Inflight[] = [];
  /** Where the next write goes in the live segment (its durable size lags while an fsync runs). */
  private writePos = 0;
  /** The live segment file's size: past writePos while a reused file's earlier contents remain. */
  private liveFileBytes = 0;
  readonly recovered: { cutBytes: number; segment?: string } | undefined;

  private constructor(dir: string, segmentBytes: number, spareSegments: number, log: JournalLogger | undefined, state: Awaited<ReturnType<typeof recover>>) {
    this.dir = dir;
    this.segmentBytes = segmentBytes;
    this.spareSegments = spareSegments;
    this.spares = state.spares;
    this.log = log;
    this.segments = state.segments;
    this.droppedThrough = state.droppedThrough;
    this.lastDroppedCheckpoint = state.lastDroppedCheckpoint;
    this.ckpts = state.checkpoints;
    this.indexSize = state.indexSize;
    this.recovered = state.recovered;
    const last = this.segments.at(-1);
    this.durable = last === undefined ? this.droppedThrough : Math.max(lastSeqOf(last), this.droppedThrough);
    this.appended = this.durable;
  }

  /**
   * Opens (creating) the journal in `dir`. A torn tail of the last write is cut (see
   * `recovered`); damage to acknowledged records throws JournalCorruptError naming file and offset.
   */
  static async open(dir: string, options: JournalOptions = {}): Promise<Journal> {
    const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 1 || segmentBytes > MAX_SEGMENT_BYTES) {
      throw new JournalError('BadArgument', `segmentBytes ${segmentBytes} is not in 1..${MAX_SEGMENT_BYTES}`);
    }
    const spareSegments = options.spareSegments ?? DEFAULT_SPARE_SEGMENTS;
    if (!Number.isSafeInteger(spareSegments) || spareSegments < 0 || spareSegments > MAX_SPARE_SEGMENTS) {
      throw new JournalError('BadArgument', `spareSegments ${spareSegments} is not in 0..${MAX_SPARE_SEGMENTS}`);
    }
    const abs = resolve(dir);
    if (openDirs.has(abs)) throw new JournalError('InUse', `journal ${abs} is already open in this process`);
    openDirs.add(abs);
    let j: Journal | undefined;
    try {
      const counter: SyncCounter = { syncs: 0 };
      const state = await recover(abs, counter, options.log);
      j = new Journal(abs, segmentBytes, spareSegments, options.log, state);
      j.counter.syncs = counter.syncs;
      // Oldest first: the newest spares are likelier to be in the page cache still.
      for (const extra of j.spares.splice(0, Math.max(0, j.spares.length - spareSegments))) await unlinkIfThere(extra);
      j.indexFh = await open(join(abs, INDEX_FILE), 'r+');
      const last = j.segments.at(-1);
      if (last !== undefined) {
        j.liveFh = await open(last.path, 'r+');
        j.writePos = j.liveFileBytes = last.size;
      }
      return j;
    } catch (err: unknown) {
      await j?.indexFh?.close();
      openDirs.delete(abs);
      throw err;
    }
  }

  get durableSeq(): number {
    return this.durable;
  }

  lastCheckpoint(): { seq: number; time: number } | undefined {
    const newest = this.checkpoints().at(-1);
    return newest === undefined ? this.lastDroppedCheckpoint : { seq: newest.seq, time: newest.time };
  }

  /**
   * Appends records in seq order; resolves once they are fsync'd. Records at or below the last
   * appended seq are skipped (a resent tail); a gap throws SeqGap. Concurrent calls share writes.
   * Nothing keeps the batch's buffers once the promise settles: the caller may use them again.
   * `crc`: the CRC-32 (zlib's) of the record's bytes when the caller has it (the receiver checked
   * it as part of the frame's): written as it is, not worked out again. A wrong one is a record
   * that fails its CRC when read.
   */
  append(batch: readonly { seq: number; bytes: Buffer; crc?: number }[]): Promise<void> {
    try {
      this.usable();
      const accepted: Pending[] = [];
      let expected = this.appended + 1;
      let target = 0;
      let prev: number | undefined;
      for (const r of batch) {
        checkSeqArg('record seq', r.seq);
        if (r.crc !== undefined && !(Number.isInteger(r.crc) && r.crc >= 0 && r.crc <= 0xffffffff)) throw new JournalError('BadArgument', `record seq ${r.seq} crc ${r.crc} is not a CRC-32`);
        if (r.seq === 0) throw new JournalError('BadArgument', 'record seq 0 is not a seq (seqs start at 1)');
        if (prev !== undefined && r.seq !== prev + 1) throw new JournalError('SeqGap', `seq gap inside the batch: expected seq ${prev + 1}, got ${r.seq}`);
        prev = target = r.seq;
        if (r.seq < expected) continue;
        if (r.seq > expected) throw new JournalError('SeqGap', `seq gap: expected seq ${expected}, got ${r.seq}`);
        accepted.push(this.prepare(r.seq, r.bytes, r.crc));
        expected++;
      }
      for (const p of accepted) this.pending.push(p);
      this.appended = expected - 1;
      if (target <= this.durable) return Promise.resolve();
      const done = new Promise<void>((res, rej) => this.waiters.push({ target, resolve: res, reject: rej }));
      this.kick();
      return done;
    } catch (err: unknown) {
      return rejected(err);
    }
  }

  private prepare(seq: number, bytes: Buffer, crc: number | undefined): Pending {
    if (bytes.length === 0) throw new JournalError('BadRecord', `record of seq ${seq} is empty`);
    if (bytes.length > MAX_RECORD_BYTES) throw new JournalError('TooLarge', `record of seq ${seq} is ${bytes.length} bytes, more than ${MAX_RECORD_BYTES}`);
    let checkpoint: CheckpointMark | undefined;
    let kept = bytes;
    try {
      if (recordType(bytes) === 'checkpoint') {
        // Kept, bytes and decoded mark (its digests are views of them), for the index and tags:
        // a copy, since the caller may use its memory again once the append settles (the
        // receiver's payload ring). Other records are only written.
        kept = Buffer.from(bytes);
        const record = decodeRecord(kept);
        if (record.kind === 'checkpoint') checkpoint = record.checkpoint;
      }
    } catch (err: unknown) {
      if (err instanceof CodecError) throw new JournalError('BadRecord', `record of seq ${seq}: ${err.message}`, { cause: err });
      throw err;
    }
    return { seq, bytes: kept, dataCrc: crc ?? crc32(kept), checkpoint };
  }

  /** Checkpoints still in the journal (seq > dropped point), in seq order. */
  checkpoints(): readonly CheckpointInfo[] {
    this.ckptList ??= Object.freeze([...this.ckpts.values()].map((c) => c.info).sort((a, b) => a.seq - b.seq));
    return this.ckptList;
  }

  checkpoint(seq: number): CheckpointInfo | undefined {
    return this.ckpts.get(seq)?.info;
  }

  /** Adds a tag to a durable checkpoint; durable on resolve. */
  addTag(seq: number, tag: string): Promise<void> {
    try {
      this.usable();
      if (!this.ckpts.has(seq)) throw new JournalError('UnknownCheckpoint', `no checkpoint with seq ${seq} in the journal`);
      if (tag === '' || Buffer.byteLength(tag) > MAX_TAG_BYTES) throw new JournalError('BadArgument', `tag must be 1..${MAX_TAG_BYTES} bytes of UTF-8, got ${Buffer.byteLength(tag)}`);
      const done = new Promise<void>((res, rej) => this.tagRequests.push({ seq, tag, resolve: res, reject: rej }));
      this.kick();
      return done;
    } catch (err: unknown) {
      return rejected(err);
    }
  }

  /** Records ≤ seq were applied elsewhere: forget them and delete segments holding only them. */
  dropThrough(seq: number): Promise<void> {
    try {
      this.usable();
      checkSeqArg('dropThrough seq', seq);
      if (seq > this.durable) throw new JournalError('NotDurable', `cannot drop through seq ${seq}: the journal is durable through ${this.durable}`);
      if (seq <= this.droppedThrough) return Promise.resolve();
      const done = new Promise<void>((res, rej) => this.dropRequests.push({ seq, resolve: res, reject: rej }));
      this.kick();
      return done;
    } catch (err: unknown) {
      return rejected(err);
    }
  }

  /**
   * Durable records fromSeq..toSeq (inclusive), in order, every CRC checked. `transient`: a
   * record's bytes are good only until the next one is asked for, since every run is read into
   * the same buffer (a replay that decodes each record as it comes allocates no read buffers).
   */
  async *read(fromSeq: number, toSeq: number, options: { transient?: boolean } = {}): AsyncIterable<{ seq: number; bytes: Buffer }> {
    checkSeqArg('read fromSeq', fromSeq);
    checkSeqArg('read toSeq', toSeq);
    if (fromSeq > toSeq) return;
    this.checkRange(fromSeq, toSeq);
    let scratch = Buffer.alloc(0);
    const buffer = options.transient === true ? (length: number): Buffer => (scratch.length >= length ? scratch : (scratch = Buffer.allocUnsafe(length))) : undefined;
    let seq = fromSeq;
    while (seq <= toSeq) {
      if (this.closed) throw new JournalError('Closed', `journal ${this.dir} was closed during a read`);
      if (seq <= this.droppedThrough) throw new JournalError('Dropped', `seq ${seq} was dropped during a read (dropped through ${this.droppedThrough})`);
      const seg = this.segmentOf(seq);
      let fh: FileHandle;
      try {
        fh = await open(seg.path, 'r');
      } catch (err: unknown) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new JournalError('Dropped', `seq ${seq} was dropped during a read`, { cause: err });
        throw err;
      }
      try {
        const lastIndex = Math.min(toSeq, lastSeqOf(seg)) - seg.first;
        while (seq - seg.first <= lastIndex) {
          const run = await readRun(fh, seg, seq - seg.first, lastIndex, buffer).catch((err: unknown) => {
            throw this.droppedUnder(seq, err);
          });
          for (const r of run.records) {
            yield r;
            seq = r.seq + 1;
          }
          if (run.damage !== undefined) throw this.droppedUnder(seq, run.damage);
        }
      } finally {
        await fh.close();
      }
    }
  }

  /** Bytes the journal holds for records fromSeq..toSeq (inclusive), headers included. */
  bytesBetween(fromSeq: number, toSeq: number): number {
    checkSeqArg('bytesBetween fromSeq', fromSeq);
    checkSeqArg('bytesBetween toSeq', toSeq);
    if (fromSeq > toSeq) return 0;
    this.checkRange(fromSeq, toSeq);
    let total = 0;
    for (let i = this.segmentIndexOf(fromSeq); i < this.segments.length; i++) {
      const seg = this.segments[i];
      if (seg === undefined || seg.first > toSeq) break;
      const a = Math.max(fromSeq, seg.first) - seg.first;
      const b = Math.min(toSeq, lastSeqOf(seg)) - seg.first;
      if (b >= a) total += seg.offsets.at(b + 1, seg.size) - seg.offsets.at(a, seg.size);
    }
    return total;
  }

  stats(): JournalStats {
    const list = this.checkpoints();
    const out: JournalStats = {
      bytes: this.segments.reduce((n, s) => n + s.size, 0),
      segments: this.segments.length,
      firstSeq: this.droppedThrough + 1,
      durableSeq: this.durable,
      syncs: this.counter.syncs,
      spares: this.spares.length,
    };
    const oldest = list[0];
    const newest = list.at(-1);
    if (oldest !== undefined) out.oldest = oldest;
    if (newest !== undefined) out.newest = newest;
    return out;
  }

  /** Waits for queued work, then closes the files. Later calls fail with Closed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.running) await new Promise<void>((res) => this.idleWaiters.push(res));
    try {
      // A reused file's earlier contents go, so the next open finds the live segment as written.
      if (this.broken === undefined) await this.trimLive();
      await this.liveFh?.close();
      await this.indexFh?.close();
    } finally {
      this.liveFh = this.indexFh = undefined;
      openDirs.delete(this.dir);
    }
  }

  /** The writer's awaits let a completion fail the journal under it. */
  private isBroken(): boolean {
    return this.broken !== undefined;
  }

  private usable(): void {
    if (this.broken !== undefined) throw this.broken;
    if (this.closed) throw new JournalError('Closed', `journal ${this.dir} is closed`);
  }

  /**
   * A read's damage at `seq` once seq was dropped under it is the drop: the file it had open may
   * have been reused as a spare and written over since.
   */
  private droppedUnder(seq: number, err: unknown): unknown {
    if (err instanceof JournalCorruptError && seq <= this.droppedThrough) return new JournalError('Dropped', `seq ${seq} was dropped during a read (its segment was reused)`, { cause: err });
    return err;
  }

  private checkRange(fromSeq: number, toSeq: number): void {
    if (fromSeq <= this.droppedThrough) throw new JournalError('Dropped', `seq ${fromSeq} was dropped (the journal starts at ${this.droppedThrough + 1})`);
    if (toSeq > this.durable) throw new JournalError('NotDurable', `seq ${toSeq} is not in the journal (durable through ${this.durable})`);
  }

  private segmentIndexOf(seq: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.segments[mid]?.first ?? Infinity) <= seq) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private segmentOf(seq: number): Segment {
    const seg = this.segments[this.segmentIndexOf(seq)];
    if (seg === undefined || seq < seg.first || seq > lastSeqOf(seg)) throw new JournalError('Dropped', `seq ${seq} is in no segment (dropped through ${this.droppedThrough})`);
    return seg;
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    void this.run();
  }

  /**
   * The single writer. Steps never interleave on a file; the one overlap allowed is a commit's
   * write while the previous commit's fsync runs (see commit()).
   */
  private async run(): Promise<void> {
    try {
      for (;;) {
        while (this.broken === undefined && (this.dropRequests.length > 0 || this.pending.length > 0 || this.tagRequests.length > 0)) {
          if (this.dropRequests.length > 0) {
            await this.drain();
            if (!this.isBroken()) await this.drop();
          } else await this.commit();
        }
        if (this.inflight.length === 0) break;
        await this.drain();
      }
    } catch (err: unknown) {
      this.fail(err);
      await this.drain();
    } finally {
      this.running = false;
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Waits for every commit written so far to be fsync'd and published (completions never reject). */
  private async drain(): Promise<void> {
    while (this.inflight.length > 0) await this.inflight.shift()?.done;
  }

  private fail(err: unknown): void {
    if (this.broken !== undefined) return;
    const cause = err instanceof Error ? err.message : String(err);
    this.broken = new JournalError('Broken', `journal ${this.dir} failed to write (${cause}); it acknowledges nothing more until reopened`, { cause: err });
    this.log?.error({ err, dir: this.dir }, 'journal: write failed; the journal is broken');
    for (const w of this.waiters.splice(0)) w.reject(this.broken);
    for (const t of this.tagRequests.splice(0)) t.reject(this.broken);
    for (const d of this.dropRequests.splice(0)) d.reject(this.broken);
    this.pending = [];
  }

  /**
   * One group commit: every record waiting (up to the segment's end), one writev; its fdatasync
   * and everything after it run in the background (complete()) so the next commit's write can
   * overlap it. Never more than that: the write before the previous one is durable before a write
   * starts, and a segment is durable before the next one is created.
   */
  private async commit(): Promise<void> {
    while (this.inflight.length > 1) await this.inflight.shift()?.done;
    if (this.broken !== undefined) return;
    let taken: Pending[] = [];
    let seg = this.segments.at(-1);
    const first = this.pending[0];
    if (first !== undefined) {
      if (seg === undefined || this.liveFh === undefined) {
        await this.drain();
        seg = await this.newSegment(first.seq);
      } else if (this.writePos > 0 && this.writePos + HEADER_BYTES + first.bytes.length > this.segmentBytes) {
        await this.drain();
        if (this.isBroken()) return;
        await this.sealLive(seg);
        seg = await this.newSegment(first.seq);
      }
      const room = Math.min(this.segmentBytes - this.writePos, MAX_COMMIT_BYTES);
      let bytes = 0;
      let n = 0;
      for (const p of this.pending) {
        const size = HEADER_BYTES + p.bytes.length;
        if (n > 0 && bytes + size > room) break;
        bytes += size;
        n++;
      }
      taken = this.pending.splice(0, n);
    }
    const tags = this.tagRequests.splice(0);
    const prev = this.inflight.at(-1);
    const entry: Inflight = { done: Promise.resolve(), synced: false };
    const newOffsets: number[] = [];
    let sync: Promise<void> | undefined;
    if (taken.length > 0 && seg !== undefined && this.liveFh !== undefined) {
      const prevSynced = this.inflight.every((f) => f.synced) ? FLAG_PREV_SYNCED : 0;
      const { iovecs, total } = this.framer.frame(taken, this.writePos, newOffsets, FLAG_WRITE_START | prevSynced);
      const { bytesWritten } = await this.liveFh.writev(iovecs, this.writePos);
      if (bytesWritten !== total) throw new Error(`short write to ${seg.path}: ${bytesWritten} of ${total} bytes`);
      this.writePos += total;
      if (this.writePos > this.liveFileBytes) this.liveFileBytes = this.writePos;
      sync = this.liveFh.datasync();
    }
    entry.done = this.complete(entry, sync, prev, seg, taken, newOffsets, tags);
    this.inflight.push(entry);
  }

  /** After the commit's fsync and the previous commit's completion: index, then publish and resolve. */
  private async complete(entry: Inflight, sync: Promise<void> | undefined, prev: Inflight | undefined, seg: Segment | undefined, taken: Pending[], newOffsets: number[], tags: TagRequest[]): Promise<void> {
    try {
      if (sync !== undefined) {
        await sync;
        this.counter.syncs++;
      }
      entry.synced = true;
      await prev?.done;
      if (this.broken !== undefined) {
        for (const t of tags) t.reject(this.broken);
        return;
      }
      const entries: IndexEntry[] = [];
      const firstSeq = taken[0]?.seq ?? 0;
      for (const p of taken) {
        if (p.checkpoint !== undefined && seg !== undefined) {
          entries.push({ type: 'checkpoint', seq: p.seq, segment: seg.first, offset: newOffsets[p.seq - firstSeq] ?? 0, bytes: p.bytes });
        }
      }
      for (const t of tags) entries.push({ type: 'tag', seq: t.seq, tag: t.tag });
      if (entries.length > 0 && this.indexFh !== undefined) {
        const buf = encodeEntries(entries);
        const { bytesWritten } = await this.indexFh.write(buf, 0, buf.length, this.indexSize);
        if (bytesWritten !== buf.length) throw new Error(`short write to the index: ${bytesWritten} of ${buf.length} bytes`);
        await this.indexFh.datasync();
        this.counter.syncs++;
        this.indexSize += buf.length;
      }
      this.publish(seg, taken, newOffsets, tags);
    } catch (err: unknown) {
      this.fail(err);
      for (const t of tags) t.reject(this.broken ?? (err as Error));
    }
  }

  private publish(seg: Segment | undefined, taken: readonly Pending[], newOffsets: readonly number[], tags: readonly TagRequest[]): void {
    if (seg !== undefined) {
      for (const o of newOffsets) seg.offsets.push(o);
      seg.size += taken.reduce((n, p) => n + HEADER_BYTES + p.bytes.length, 0);
    }
    const lastTaken = taken.at(-1);
    if (lastTaken !== undefined) this.durable = lastTaken.seq;
    const firstSeq = taken[0]?.seq ?? 0;
    for (const p of taken) {
      if (p.checkpoint !== undefined && seg !== undefined) {
        const { time, tag, volumes } = p.checkpoint;
        this.ckpts.set(p.seq, { info: { seq: p.seq, time, tag, tags: [], volumes }, segment: seg.first, offset: newOffsets[p.seq - firstSeq] ?? 0, bytes: p.bytes });
        this.ckptList = undefined;
      }
    }
    for (const t of tags) {
      const c = this.ckpts.get(t.seq);
      if (c !== undefined && !c.info.tags.includes(t.tag)) {
        c.info = { ...c.info, tags: [...c.info.tags, t.tag] };
        this.ckptList = undefined;
      }
      t.resolve();
    }
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.target <= this.durable) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  /** A spare renamed (its earlier contents stay until written over), or a new file. */
  private async newSegment(firstSeq: number): Promise<Segment> {
    const seg: Segment = { first: firstSeq, path: join(this.dir, segmentName(firstSeq)), size: 0, offsets: new OffsetTable() };
    let reused = false;
    for (let spare = this.spares.pop(); spare !== undefined; spare = this.spares.pop()) {
      reused = await renameIfThere(spare, seg.path);
      if (reused) break;
    }
    this.liveFh = await open(seg.path, reused ? 'r+' : 'wx');
    this.writePos = 0;
    this.liveFileBytes = reused ? (await this.liveFh.stat()).size : 0;
    await fsyncDir(this.dir, this.counter);
    this.segments.push(seg);
    return seg;
  }

  /** The live segment's last write was fsync'd by the commit that wrote it; only the handle and sidecar remain. */
  private async sealLive(seg: Segment): Promise<void> {
    // A sealed segment is exactly its records, durably, before the next segment exists.
    await this.trimLive();
    const fh = this.liveFh;
    this.liveFh = undefined;
    await fh?.close();
    await writeSidecar(seg, this.log);
  }

  /** Cuts what a reused live segment holds past its records (fsync'd, as the size changes). */
  private async trimLive(): Promise<void> {
    if (this.liveFh === undefined || this.liveFileBytes <= this.writePos) return;
    await this.liveFh.truncate(this.writePos);
    await this.liveFh.datasync();
    this.counter.syncs++;
    this.liveFileBytes = this.writePos;
  }

  /** Renames a dropped segment to a spare; false if it is not there. */
  private async keepSpare(s: Segment): Promise<boolean> {
    const to = join(this.dir, spareName(s.first));
    const kept = await renameIfThere(s.path, to);
    if (kept) this.spares.push(to);
    return kept;
  }

  private async drop(): Promise<void> {
    const requests = this.dropRequests.splice(0);
    const through = Math.max(...requests.map((r) => r.seq));
    if (through > this.droppedThrough) {
      let lastDropped = this.lastDroppedCheckpoint;
      const kept: CheckpointState[] = [];
      for (const c of [...this.ckpts.values()].sort((a, b) => a.info.seq - b.info.seq)) {
        if (c.info.seq <= through) lastDropped = { seq: c.info.seq, time: c.info.time };
        else kept.push(c);
      }
      // The dropped point is durable before any segment goes, so a crash in between only leaves
      // segments that open() deletes.
      await this.indexFh?.close();
      this.indexFh = undefined;
      this.indexSize = await rewriteIndex(this.dir, indexEntriesOf(through, lastDropped, kept), this.counter);
      this.indexFh = await open(join(this.dir, INDEX_FILE), 'r+');
      this.droppedThrough = through;
      this.lastDroppedCheckpoint = lastDropped;
      for (const seq of [...this.ckpts.keys()]) if (seq <= through) this.ckpts.delete(seq);
      this.ckptList = undefined;
      const live = this.segments.at(-1);
      const gone = this.segments.filter((s) => s.offsets.count > 0 && lastSeqOf(s) <= through);
      if (gone.length > 0) {
        this.segments = this.segments.filter((s) => !gone.includes(s));
        if (live !== undefined && gone.includes(live)) {
          const fh = this.liveFh;
          this.liveFh = undefined;
          await fh?.close();
        }
        for (const s of gone) {
          await unlinkIfThere(join(this.dir, offsetsName(s.first)));
          if (this.spares.length < this.spareSegments && (await this.keepSpare(s))) continue;
          await unlinkIfThere(s.path);
        }
        await fsyncDir(this.dir, this.counter);
      }
    }
    for (const r of requests) r.resolve();
  }
}
