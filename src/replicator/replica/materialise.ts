// Materialise a checkpoint: copy the replica into empty targets (fs.copyFile: reflink or
// copy_file_range) and replay the journal records after appliedSeq up to the checkpoint on the
// copy, following file ids through an in-memory namespace. The two overlap: a write waits only for
// its own file's copy, anything else for the whole copy. Nothing is ever created through a
// symlink: every parent is a folder this code made (the namespace says so) and files are opened
// with O_NOFOLLOW and O_EXCL. Modes are set last, so a read-only folder does not stop its own
// filling. A durable materialise (the default) flushes each copied file as soon as it is copied
// (flusher.ts) and ends by setting each mode through a handle and fsyncing it there, files first,
// then folders deepest first: what it returns survives a crash, modes and names included.
import { constants } from 'node:fs';
import { chmod, link, lstat, mkdir, open, readdir, rename, rmdir, stat, symlink, unlink, type FileHandle } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { syncDir } from '../durable.ts';
import type { FileId, Op } from '../ops.ts';
import { byDepth } from '../paths.ts';
import { ReplicaError } from './errors.ts';
import { FdCache } from './fd-cache.ts';
import { Flusher } from './flusher.ts';
import { opWhere, replay, type JournalReader, type ReplayItem } from './journal-reader.ts';
import { CopyQueue, type CopyJob } from './copy-queue.ts';
import { Namespace, NamespaceProblem, type NsEntry } from './namespace.ts';
import { recordFate, type AppliedCheckpoint, type ReplicaState } from './replica-state.ts';
import { writeAll, type Replica } from './replica.ts';
import { WritePipeline } from './write-pipeline.ts';

/**
 * Copy and replay run at once, so their reports interleave; each counts its own bytes, and the
 * last report is the replay's at its total.
 */
export interface MaterialiseProgress {
  phase: 'copy' | 'replay';
  doneBytes: number;
  totalBytes: number;
}

export interface MaterialiseOptions {
  replica: Replica;
  journal: JournalReader;
  checkpointSeq: number;
  /** Volume → target: an empty (or missing) folder for fs volumes, a new image file for block. */
  targets: Map<string, string>;
  onProgress?: (progress: MaterialiseProgress) => void;
  /**
   * Whether everything materialised is on disk when this resolves (default true). False leaves
   * writeback to the kernel: for a scratch copy that is read once and removed.
   */
  durable?: boolean;
}

export interface MaterialiseResult {
  checkpointSeq: number;
  volumes: { volume: string; files: number; bytes: number }[];
}

const OPEN_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const OPEN_EXISTING = constants.O_WRONLY | constants.O_NOFOLLOW;
// Copies run in the thread pool; one per core keeps the disk busy without thrashing it.
const COPY_CONCURRENCY = Math.min(4, Math.max(2, availableParallelism()));
const STAT_CONCURRENCY = 16;
// fsyncs at once: each holds a thread of the pool while the disk works (the executable sizes the
// pool for it: thread-pool.ts); several let the filesystem commit them together.
const SYNC_CONCURRENCY = 4;
const OPEN_TO_SYNC = constants.O_RDONLY | constants.O_NOFOLLOW;

export async function materialise(options: MaterialiseOptions): Promise<MaterialiseResult> {
  const { replica, journal, checkpointSeq, targets } = options;
  return replica.lock.run(async () => {
    await replica.finishInterruptedApply(journal);
    checkCoverage(replica, recoverableCheckpoint(replica, journal, checkpointSeq), targets.keys());
    const finals = await materialiseLocked(replica, journal, checkpointSeq, targets, {
      durable: options.durable ?? true,
      ...(options.onProgress !== undefined && { onProgress: options.onProgress }),
    });
    return { checkpointSeq, volumes: finals.summary };
  });
}

/**
 * The checkpoint `seq` if it can be recovered: the replica's own, or one of the journal's after it
 * and durable. Call with the lock held (appliedSeq must not move meanwhile).
 */
export function recoverableCheckpoint(replica: Replica, journal: JournalReader, seq: number): AppliedCheckpoint {
  const applied = replica.appliedSeq;
  if (seq < applied) throw new ReplicaError('CHECKPOINT', `checkpoint ${seq} is older than the journal's history (the replica is at ${applied})`);
  const own = replica.checkpoint;
  if (own?.seq === seq) return own;
  if (seq > journal.durableSeq) throw new ReplicaError('CHECKPOINT', `checkpoint ${seq} is newer than the journal's durable seq ${journal.durableSeq}`);
  const cp = journal.checkpoints().find((c) => c.seq === seq);
  if (cp === undefined) throw new ReplicaError('CHECKPOINT', `seq ${seq} is not a checkpoint of the journal`);
  return { seq: cp.seq, time: cp.time, tag: cp.tag, volumes: cp.volumes };
}

/** Refuses a target volume the checkpoint does not hold (added after it, removed, still syncing). */
export function checkCoverage(replica: Replica, cp: AppliedCheckpoint, volumes: Iterable<string>): void {
  for (const volume of volumes) {
    const problem = replica.coverageProblem(cp, volume);
    if (problem !== undefined) throw new ReplicaError('VOLUME', `targets.${volume}: ${problem}`);
  }
}

export interface Materialised {
  /** Each materialised fs volume's namespace as of throughSeq (ids, modes, digests). */
  namespaces: Map<string, Namespace>;
  summary: MaterialiseResult['volumes'];
}

/** Replica + journal through `throughSeq` (any seq from appliedSeq to durable) into the targets. */
export async function materialiseLocked(
  replica: Replica,
  journal: JournalReader,
  throughSeq: number,
  targets: ReadonlyMap<string, string>,
  { durable, onProgress }: { durable: boolean; onProgress?: (progress: MaterialiseProgress) => void },
): Promise<Materialised> {
  const state = replica.snapshot();
  for (const [volume, target] of targets) {
    const v = state.volumes.get(volume);
    if (v === undefined) throw new ReplicaError('VOLUME', `targets: the replica has no volume ${volume}`);
    if (v.kind === 'fs') await prepareFolder(volume, target);
    else await prepareImage(volume, target);
  }
  const namespaces = new Map<string, Namespace>();
  const summary: MaterialiseResult['volumes'] = [];
  const jobs = await planCopies(replica, state, targets, namespaces, summary);
  const flusher = durable ? new Flusher(SYNC_CONCURRENCY) : undefined;
  const copies = new CopyQueue(jobs, COPY_CONCURRENCY, (job, doneBytes, totalBytes) => {
    flusher?.add(job.to);
    onProgress?.({ phase: 'copy', doneBytes, totalBytes });
  });
  // Records up to a volume's `since` are skipped anyway: a volume added late (a head manifest for
  // its first sync) needs no walk through the journal before it.
  const since = Math.min(...[...targets.keys()].map((v) => state.volumes.get(v)?.since ?? 0));
  const from = Math.max(state.appliedSeq, since) + 1;
  const total = throughSeq < from ? 0 : journal.bytesBetween(from, throughSeq);
  const fds = new FdCache({ syncOnClose: false, limit: 256 });
  const writes = new WritePipeline();
  try {
    await replayInto(state, replay(journal, from, throughSeq), total, targets, namespaces, { fds, writes, copies }, onProgress);
    // A journal of writes alone leaves the copy of files it never wrote still running.
    await copies.done;
  } catch (err: unknown) {
    // Flushes queued for a materialise that failed would only delay the failure.
    flusher?.cancel();
    throw err;
  } finally {
    // After a failure: nothing new starts, and what is in flight ends before handles close.
    copies.cancel();
    await writes.settle();
    await copies.done.catch(() => undefined);
    await fds.closeAll();
    await flusher?.done().catch(() => undefined);
  }
  // Flushes still queued run to the end: each one the final pass need not wait for.
  await flusher?.done();
  onProgress?.({ phase: 'replay', doneBytes: total, totalBytes: total });
  for (const [volume, target] of targets) {
    const ns = namespaces.get(volume);
    if (durable) await finishDurably(target, ns);
    else if (ns !== undefined) await applyModes(target, ns);
  }
  return { namespaces, summary };
}

async function prepareFolder(volume: string, target: string): Promise<void> {
  let st;
  try {
    st = await lstat(target);
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(target, { recursive: true, mode: 0o755 });
    return;
  }
  if (!st.isDirectory()) throw new ReplicaError('TARGET', `target of volume ${volume}: ${target} is not a folder (a symlink is refused too)`);
  const names = await readdir(target);
  if (names.length > 0) throw new ReplicaError('TARGET', `target of volume ${volume}: ${target} is not empty (${names.length} entries, e.g. ${JSON.stringify(names[0])})`);
}

async function prepareImage(volume: string, target: string): Promise<void> {
  try {
    await lstat(target);
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(dirname(target), { recursive: true });
    return;
  }
  throw new ReplicaError('TARGET', `target of volume ${volume}: ${target} already exists (an image target must be a new file)`);
}

/**
 * Makes every folder and symlink of the replica's namespaces in the targets and lists the copies
 * of files (a file's further paths become hard links to its first).
 */
async function planCopies(
  replica: Replica,
  state: ReplicaState,
  targets: ReadonlyMap<string, string>,
  namespaces: Map<string, Namespace>,
  summary: MaterialiseResult['volumes'],
): Promise<CopyJob[]> {
  const jobs: CopyJob[] = [];
  for (const [volume, target] of targets) {
    const v = state.volumes.get(volume);
    if (v?.kind === 'block') {
      const from = replica.imagePath(volume);
      const size = (await stat(from)).size;
      jobs.push({ key: `${volume}\0`, from, to: target, size, links: [] });
      summary.push({ volume, files: 1, bytes: size });
      continue;
    }
    const ns = v?.ns ?? new Namespace();
    namespaces.set(volume, ns);
    const first = new Map<FileId, { from: string; to: string; path: string; links: string[] }>();
    for (const [path, e] of ns.sorted()) {
      const to = join(target, path);
      if (e.type === 'dir') await mkdir(to, 0o700);
      else if (e.type === 'symlink') await symlink(e.target, to);
      else {
        const seen = first.get(e.id);
        if (seen !== undefined) seen.links.push(to);
        else first.set(e.id, { from: replica.objectPath(volume, e.id), to, path, links: [] });
      }
    }
    const files = [...first];
    const sizes = await statAll(files.map(([, f]) => f.from));
    let bytes = 0;
    files.forEach(([id, f], i) => {
      const size = sizes[i];
      if (size === undefined) throw new ReplicaError('CORRUPT', `volume ${volume}: object ${f.from} of ${JSON.stringify(f.path)} is missing`);
      jobs.push({ key: `${volume}\0${id}`, from: f.from, to: f.to, size, links: f.links });
      bytes += size;
    });
    summary.push({ volume, files: first.size, bytes });
  }
  return jobs;
}

/** Sizes of files, a few stats at a time; undefined for a file that does not exist. */
async function statAll(paths: readonly string[]): Promise<(number | undefined)[]> {
  const sizeOf = (path: string): Promise<number | undefined> =>
    stat(path).then((st) => st.size, (err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    });
  const sizes: (number | undefined)[] = [];
  for (let i = 0; i < paths.length; i += STAT_CONCURRENCY) sizes.push(...(await Promise.all(paths.slice(i, i + STAT_CONCURRENCY).map(sizeOf))));
  return sizes;
}

interface ReplayTo {
  fds: FdCache;
  writes: WritePipeline;
  copies: CopyQueue;
}

async function replayInto(
  state: ReplicaState,
  records: AsyncIterable<ReplayItem>,
  total: number,
  targets: ReadonlyMap<string, string>,
  namespaces: Map<string, Namespace>,
  { fds, writes, copies }: ReplayTo,
  onProgress?: (progress: MaterialiseProgress) => void,
): Promise<void> {
  const every = Math.max(1, Math.floor(total / 100));
  let done = 0;
  let reported = 0;
  for await (const item of records) {
    done += item.stored;
    if (onProgress !== undefined && done - reported >= every) {
      reported = done;
      onProgress({ phase: 'replay', doneBytes: Math.min(done, total), totalBytes: total });
    }
    if (item.kind !== 'op') continue;
    const fate = recordFate(state, item.volume, item.seq);
    if (fate === undefined) throw new ReplicaError('BAD_OP', `${opWhere(item.seq, item.volume, item.op)}: the replica has no volume ${item.volume}`);
    const v = state.volumes.get(item.volume);
    const target = targets.get(item.volume);
    if (fate === 'skip' || v === undefined || target === undefined) continue;
    const { op } = item;
    const ns = namespaces.get(item.volume) ?? new Namespace();
    try {
      if (op.op === 'write') {
        // The thread pool writes while this thread reads and decompresses the next records;
        // anything but a write waits until the writes in flight are done.
        const { key, open } = v.kind === 'block' ? blockFile(item.volume, target, op) : fsFile(item.volume, target, ns, op.id);
        await writes.write(key, op.offset, op.data.length, async () => {
          await copies.ready(key);
          await fds.with(key, open, (fh) => writeAll(fh, op.data, op.offset));
        });
        continue;
      }
      await writes.drain();
      await copies.done;
      if (v.kind === 'block') await replayBlock(fds, item.volume, target, op);
      else await replayFs(fds, item.volume, target, ns, op);
    } catch (err: unknown) {
      if (err instanceof NamespaceProblem) throw new ReplicaError('BAD_OP', `${opWhere(item.seq, item.volume, op)}: ${err.message}`);
      throw err;
    }
  }
  await writes.drain();
}

interface FileTarget {
  key: string;
  open: () => Promise<FileHandle>;
}

/** Where a write to a block volume goes (its one image). */
function blockFile(volume: string, image: string, op: Op): FileTarget {
  if (op.op !== 'write' && op.op !== 'truncate' && op.op !== 'digest') throw new NamespaceProblem('a block volume takes only write, truncate and digest');
  if (op.id !== 0) throw new NamespaceProblem('a block volume has only id 0');
  return { key: `${volume}\0`, open: () => open(image, OPEN_EXISTING) };
}

/** Where a write to file `id` of an fs volume goes (the namespace says it is live, and its path). */
function fsFile(volume: string, root: string, ns: Namespace, id: FileId): FileTarget {
  const f = ns.file(id);
  return { key: `${volume}\0${id}`, open: () => openFile(root, f.paths) };
}

async function replayBlock(fds: FdCache, volume: string, image: string, op: Op): Promise<void> {
  const { key, open } = blockFile(volume, image, op);
  if (op.op === 'digest') return;
  const fh = await fds.get(key, open);
  if (op.op === 'write') await writeAll(fh, op.data, op.offset);
  else if (op.op === 'truncate') await fh.truncate(op.size);
}

async function replayFs(fds: FdCache, volume: string, root: string, ns: Namespace, op: Op): Promise<void> {
  const at = (path: string): string => join(root, path);
  const key = (id: FileId): string => `${volume}\0${id}`;
  // A file id that no path names any more is gone: its handle must not serve a later create of
  // the same id (a new inode).
  const forget = async (e: NsEntry | undefined): Promise<void> => {
    if (e?.type === 'file' && !ns.files.has(e.id)) await fds.close(key(e.id));
  };
  switch (op.op) {
    case 'mkdir':
      ns.mkdir(op.path, op.mode);
      await mkdir(at(op.path), 0o700);
      return;
    case 'create': {
      const linkedFrom = ns.create(op.path, op.id, op.mode);
      if (linkedFrom === undefined) {
        await fds.close(key(op.id));
        await fds.get(key(op.id), () => open(at(op.path), OPEN_NEW, 0o600));
      } else {
        const fh = await fds.get(key(op.id), () => open(at(linkedFrom), OPEN_EXISTING));
        await fh.truncate(0);
        await link(at(linkedFrom), at(op.path));
      }
      return;
    }
    case 'symlink':
      ns.symlink(op.path, op.target);
      await symlink(op.target, at(op.path));
      return;
    case 'write':
    case 'truncate': {
      const { open } = fsFile(volume, root, ns, op.id);
      const fh = await fds.get(key(op.id), open);
      if (op.op === 'write') await writeAll(fh, op.data, op.offset);
      else await fh.truncate(op.size);
      return;
    }
    case 'rename': {
      const replaced = ns.rename(op.from, op.to);
      if (op.from === op.to) return;
      if (replaced !== undefined) {
        if (replaced.type === 'dir') await rmdir(at(op.to));
        else await unlink(at(op.to));
      }
      await rename(at(op.from), at(op.to));
      await forget(replaced);
      return;
    }
    case 'unlink': {
      const removed = ns.unlink(op.path);
      if (removed.type === 'dir') await rmdir(at(op.path));
      else await unlink(at(op.path));
      await forget(removed);
      return;
    }
    case 'chmod':
      ns.chmod(op.path, op.mode);
      return;
    case 'digest':
      ns.digest(op.id, op.size, op.digest);
      return;
  }
}

function openFile(root: string, paths: ReadonlySet<string>): Promise<FileHandle> {
  const path = paths.values().next().value;
  if (path === undefined) throw new NamespaceProblem('file has no path');
  return open(join(root, path), OPEN_EXISTING);
}

/**
 * Final modes, each set through a handle that is then fsync'd: files (their data too) first, then
 * folders deepest first (a folder's own mode could stop reaching what it holds), then the target
 * and the folder holding it. Every entry is still its owner's to open here: files are made 0o600
 * or copied from the replica's own objects, folders 0o700. Symlinks have no mode and are made
 * durable by their folder's fsync. An fs volume's `ns`; none for an image.
 */
async function finishDurably(target: string, ns: Namespace | undefined): Promise<void> {
  if (ns === undefined) {
    await syncOne(target);
    await syncDir(dirname(target));
    return;
  }
  const files = new Map<FileId, string>();
  const folders: string[] = [];
  const modes = new Map<string, number>();
  for (const [path, e] of ns.sorted()) {
    // One fsync per file, not per name: its other names are its folders' to make durable.
    if (e.type === 'file' && !files.has(e.id)) {
      files.set(e.id, path);
      modes.set(path, ns.file(e.id).mode);
    } else if (e.type === 'dir') {
      folders.push(path);
      modes.set(path, e.mode);
    }
  }
  const finish = (path: string): Promise<void> => syncOne(join(target, path), modes.get(path));
  await eachAtMost([...files.values()], SYNC_CONCURRENCY * 2, finish);
  for (const level of byDepth(folders).reverse()) await eachAtMost(level, SYNC_CONCURRENCY * 2, finish);
  await syncDir(target);
  await syncDir(dirname(target));
}

/** fsync of one file or folder, its mode set first through the same handle when given. */
async function syncOne(path: string, mode?: number): Promise<void> {
  const fh = await open(path, OPEN_TO_SYNC);
  try {
    if (mode !== undefined) await fh.chmod(mode);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** `fn` over every item, `limit` at once, in order of starting. */
async function eachAtMost<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Final modes, deepest first (a folder's own mode could stop reaching what it holds). */
async function applyModes(root: string, ns: Namespace): Promise<void> {
  const sorted = ns.sorted().reverse();
  for (const [path, e] of sorted) {
    if (e.type === 'dir') await chmod(join(root, path), e.mode);
    else if (e.type === 'file') await chmod(join(root, path), ns.file(e.id).mode);
  }
}
