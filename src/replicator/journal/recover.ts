// What open() does: find the segments, cut a torn tail, refuse damage to acknowledged records,
// and load (or rebuild) the checkpoint index. README.md lists each kind of damage and the outcome.
import { mkdir, open, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeRecord } from '../codec.ts';
import { JournalCorruptError, JournalError } from './errors.ts';
import { isSpareName, offsetsName, parseOffsetsName, parseSegmentName, segmentName } from './format.ts';
import { fsyncDir, unlinkIfThere, type SyncCounter } from './fsutil.ts';
import { readIndex, removeIndexTmp, rewriteIndex, type IndexEntry } from './index-file.ts';
import { decodeSidecar, encodeSidecar, OffsetTable } from './offsets.ts';
import { findProofOfSync, scanSegment, type ScannedCheckpoint } from './scan.ts';
import { lastSeqOf, type CheckpointState, type JournalLogger, type Segment } from './types.ts';

export interface RecoveredState {
  segments: Segment[];
  droppedThrough: number;
  lastDroppedCheckpoint: { seq: number; time: number } | undefined;
  checkpoints: Map<number, CheckpointState>;
  indexSize: number;
  recovered: { cutBytes: number; segment?: string } | undefined;
  /** Dropped segments kept for reuse (paths), oldest first. */
  spares: string[];
}

/** Index entries that describe the state: what a rewritten index holds. */
export function indexEntriesOf(droppedThrough: number, lastDropped: { seq: number; time: number } | undefined, checkpoints: Iterable<CheckpointState>): IndexEntry[] {
  const entries: IndexEntry[] = [];
  if (droppedThrough > 0) entries.push({ type: 'drop', seq: droppedThrough, lastCheckpoint: lastDropped });
  for (const c of checkpoints) {
    entries.push({ type: 'checkpoint', seq: c.info.seq, segment: c.segment, offset: c.offset, bytes: c.bytes });
    for (const tag of c.info.tags) entries.push({ type: 'tag', seq: c.info.seq, tag });
  }
  return entries;
}

export function checkpointState(seq: number, segment: Segment, offset: number, bytes: Buffer, tags: readonly string[]): CheckpointState {
  let record;
  try {
    record = decodeRecord(bytes);
  } catch (err: unknown) {
    throw new JournalCorruptError(segment.path, offset, `checkpoint record of seq ${seq} does not decode: ${(err as Error).message}`);
  }
  if (record.kind !== 'checkpoint') throw new JournalCorruptError(segment.path, offset, `record of seq ${seq} is not a checkpoint`);
  const { time, tag, volumes } = record.checkpoint;
  return { info: { seq, time, tag, tags, volumes }, segment: segment.first, offset, bytes };
}

export async function writeSidecar(seg: Segment, log: JournalLogger | undefined): Promise<void> {
  const path = join(seg.path, '..', offsetsName(seg.first));
  // A cache: not fsync'd; a torn or missing one fails its checks and the segment is scanned.
  await writeFile(path, encodeSidecar(seg.first, seg.size, seg.offsets.view())).catch((err: unknown) => {
    log?.warn({ err, path }, 'journal: could not write an offsets sidecar; reopening will scan the segment');
  });
}

export async function recover(dir: string, counter: SyncCounter, log: JournalLogger | undefined): Promise<RecoveredState> {
  await mkdir(dir, { recursive: true });
  await removeIndexTmp(dir);
  const names = await readdir(dir);
  const firsts = names.map(parseSegmentName).filter((n): n is number => n !== undefined).sort((a, b) => a - b);
  const sidecars = new Set(names.map(parseOffsetsName).filter((n): n is number => n !== undefined));

  const index = await readIndex(dir);
  // A spare's earlier records can never pass for new ones because seqs only grow, and the index's
  // dropped point is what keeps them growing (a drop rewrites the index whole, so a torn tail
  // cannot take it back). Without a trustworthy index, spares are not reused.
  const spares: string[] = [];
  for (const name of names.filter(isSpareName).sort()) {
    if (index !== undefined && index.damage?.followed !== true) spares.push(join(dir, name));
    else {
      await unlinkIfThere(join(dir, name));
      log?.info({ dir, spare: name }, 'journal: deleted a spare segment (the checkpoint index is missing or damaged)');
    }
  }
  let dirty = index === undefined || index.damage !== undefined;
  // Without a whole, intact index every segment is scanned for its checkpoints.
  let rescanAll = index === undefined ? firsts.length > 0 : index.damage?.followed === true;
  if (index === undefined && firsts.length > 0) log?.warn({ dir }, 'journal: no checkpoint index; rebuilding it from the segments (tags added later are lost)');
  if (index?.damage !== undefined) {
    const { offset, what, followed } = index.damage;
    if (followed) log?.warn({ dir, offset, what }, 'journal: checkpoint index damaged in the middle; rebuilding it from the segments (tags after the damage are lost)');
    else log?.info({ dir, offset, what }, 'journal: cut a torn tail off the checkpoint index');
  }

  let droppedThrough = 0;
  let lastDropped: { seq: number; time: number } | undefined;
  const indexed = new Map<number, Extract<IndexEntry, { type: 'checkpoint' }>>();
  const tags = new Map<number, string[]>();
  for (const e of index?.entries ?? []) {
    if (e.type === 'drop' && e.seq >= droppedThrough) {
      droppedThrough = e.seq;
      lastDropped = e.lastCheckpoint ?? lastDropped;
    } else if (e.type === 'checkpoint') indexed.set(e.seq, e);
    else if (e.type === 'tag') {
      const list = tags.get(e.seq) ?? [];
      if (!list.includes(e.tag)) list.push(e.tag);
      tags.set(e.seq, list);
    }
  }
  const firstSeg = firsts[0];
  if (firstSeg !== undefined && firstSeg > droppedThrough + 1) {
    if (index !== undefined && index.damage === undefined) {
      throw new JournalError('Inconsistent', `journal ${dir}: records ${droppedThrough + 1}..${firstSeg - 1} are missing (the first segment is ${segmentName(firstSeg)}, the index says ${droppedThrough} were dropped)`);
    }
    droppedThrough = firstSeg - 1;
  }

  const segments: Segment[] = [];
  const scanned = new Map<number, ScannedCheckpoint[]>();
  let recovered: RecoveredState['recovered'];
  for (let i = 0; i < firsts.length; i++) {
    const first = firsts[i] ?? 0;
    const next = firsts[i + 1];
    const path = join(dir, segmentName(first));
    const sidecar = join(dir, offsetsName(first));
    if (next !== undefined && next - 1 <= droppedThrough) {
      // Dropped before a crash let dropThrough finish deleting it.
      await unlinkIfThere(path);
      await unlinkIfThere(sidecar);
      continue;
    }
    const size = (await stat(path)).size;
    const seg: Segment = { first, path, size, offsets: new OffsetTable() };
    if (next !== undefined) {
      const count = next - first;
      const cached = sidecars.has(first) ? decodeSidecar(await readFile(sidecar), first, size, count) : 'missing';
      if (typeof cached !== 'string') seg.offsets = OffsetTable.of(cached);
      else {
        if (sidecars.has(first)) log?.info({ path: sidecar, problem: cached }, 'journal: offsets sidecar is stale; scanning the segment');
        const fh = await open(path, 'r');
        try {
          const scan = await scanSegment(fh, first, size);
          if (scan.damage !== undefined) throw new JournalCorruptError(path, scan.damage.offset, `${scan.damage.what} (a sealed segment: everything in it was acknowledged)`);
          if (scan.offsets.count !== count) {
            throw new JournalError('Inconsistent', `journal ${dir}: segment ${segmentName(first)} holds seqs ${first}..${first + scan.offsets.count - 1} but the next segment starts at ${next}`);
          }
          seg.offsets = scan.offsets;
          scanned.set(first, scan.checkpoints);
        } finally {
          await fh.close();
        }
        await writeSidecar(seg, log);
      }
    } else {
      // The last segment: the only place a crash can leave a torn write.
      await unlinkIfThere(sidecar);
      const fh = await open(path, 'r+');
      try {
        const scan = await scanSegment(fh, first, size);
        if (scan.damage !== undefined) {
          const lastGood = first + scan.offsets.count - 1;
          const later = await findProofOfSync(fh, scan.damage.offset, size, lastGood);
          if (later !== undefined) {
            throw new JournalCorruptError(path, scan.damage.offset, `${scan.damage.what}; an intact record written by a later commit follows at offset ${later} and proves this one was fsync'd (acknowledged): open refuses to cut it`);
          }
          // Cut either way: a torn write's intact pieces could later pass for proof of a sync.
          await fh.truncate(scan.end);
          await fh.datasync();
          counter.syncs++;
          if (scan.damage.earlier === true) {
            log?.info({ path, offset: scan.end }, 'journal: cut the earlier contents of a reused segment after its new records');
          } else {
            recovered = { cutBytes: size - scan.end, segment: segmentName(first) };
            log?.warn({ path, offset: scan.end, cutBytes: size - scan.end, what: scan.damage.what }, 'journal: cut a torn tail (a write that was never acknowledged)');
          }
        }
        seg.offsets = scan.offsets;
        seg.size = scan.end;
        scanned.set(first, scan.checkpoints);
      } finally {
        await fh.close();
      }
      if (seg.offsets.count > 0 && lastSeqOf(seg) <= droppedThrough) {
        await unlinkIfThere(path);
        continue;
      }
    }
    segments.push(seg);
  }
  for (const s of sidecars) {
    if (!segments.some((seg, i) => seg.first === s && i < segments.length - 1)) await unlinkIfThere(join(dir, offsetsName(s)));
  }
  await fsyncDir(dir, counter);

  // Checkpoints: a scanned segment's own records are the truth; for the others the index is
  // (a checkpoint reaches the index in the commit that writes it, before its segment is sealed).
  const checkpoints = new Map<number, CheckpointState>();
  const tagsOf = (seq: number): string[] => tags.get(seq) ?? [];
  for (const seg of segments) {
    let found = scanned.get(seg.first);
    if (found === undefined && !rescanAll) {
      const mine = [...indexed.values()].filter((e) => e.segment === seg.first && e.seq > droppedThrough);
      const ok = mine.every((e) => {
        const i = e.seq - seg.first;
        const start = seg.offsets.at(i, seg.size);
        return i >= 0 && i < seg.offsets.count && start === e.offset && seg.offsets.at(i + 1, seg.size) - start - 16 === e.bytes.length;
      });
      if (ok) found = mine.map((e) => ({ seq: e.seq, offset: e.offset, bytes: e.bytes }));
      else {
        log?.warn({ dir, segment: segmentName(seg.first) }, 'journal: checkpoint index does not match a segment; rescanning the segments');
        rescanAll = true;
        dirty = true;
      }
    }
    if (found === undefined) {
      const fh = await open(seg.path, 'r');
      try {
        const scan = await scanSegment(fh, seg.first, seg.size);
        if (scan.damage !== undefined) throw new JournalCorruptError(seg.path, scan.damage.offset, `${scan.damage.what} (a sealed segment: everything in it was acknowledged)`);
        found = scan.checkpoints;
      } finally {
        await fh.close();
      }
    }
    for (const c of found) if (c.seq > droppedThrough) checkpoints.set(c.seq, checkpointState(c.seq, seg, c.offset, c.bytes, tagsOf(c.seq)));
  }
  const liveIndexed = [...indexed.keys()].filter((s) => s > droppedThrough);
  if (liveIndexed.length !== checkpoints.size || liveIndexed.some((s) => !checkpoints.has(s))) dirty = true;
  for (const seq of tags.keys()) if (seq > droppedThrough && !checkpoints.has(seq)) dirty = true;

  const sorted = [...checkpoints.values()].sort((a, b) => a.info.seq - b.info.seq);
  const indexSize = dirty ? await rewriteIndex(dir, indexEntriesOf(droppedThrough, lastDropped, sorted), counter) : (index?.size ?? 0);
  return { segments, droppedThrough, lastDroppedCheckpoint: lastDropped, checkpoints: new Map(sorted.map((c) => [c.info.seq, c])), indexSize, recovered, spares };
}
