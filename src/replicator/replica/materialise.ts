// Materialise a checkpoint: copy the replica into empty targets (fs.copyFile: reflink or
// copy_file_range), then replay the journal records after appliedSeq up to the checkpoint on the
// copy, following file ids through an in-memory namespace. Nothing is ever created through a
// symlink: every parent is a folder this code made (the namespace says so) and files are opened
// with O_NOFOLLOW and O_EXCL. Modes are set last, so a read-only folder does not stop its own
// filling.
import { constants } from 'node:fs';
import { chmod, copyFile, link, lstat, mkdir, open, readdir, rename, rmdir, stat, symlink, unlink, type FileHandle } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import type { FileId, Op } from '../ops.ts';
import { ReplicaError } from './errors.ts';
import { FdCache } from './fd-cache.ts';
import { opWhere, replay, type JournalReader, type ReplayItem } from './journal-reader.ts';
import { Prefetch } from './prefetch.ts';
import { Namespace, NamespaceProblem, type NsEntry } from './namespace.ts';
import { recordFate, type AppliedCheckpoint, type ReplicaState } from './replica-state.ts';
import { writeAll, type Replica } from './replica.ts';

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
  /** Decoded journal bytes read ahead while the copy runs (default 128 MiB). */
  prefetchBytes?: number;
}

export interface MaterialiseResult {
  checkpointSeq: number;
  volumes: { volume: string; files: number; bytes: number }[];
}

const COPY_FLAGS = constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE;
const OPEN_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const OPEN_EXISTING = constants.O_WRONLY | constants.O_NOFOLLOW;
// Copies run in the thread pool; one per core keeps the disk busy without thrashing it.
/** Decoded records held while the copy runs: bounded so a large journal does not fill memory. */
const DEFAULT_PREFETCH_BYTES = 128 * 1024 * 1024;
const COPY_CONCURRENCY = Math.min(4, Math.max(2, availableParallelism()));

export async function materialise(options: MaterialiseOptions): Promise<MaterialiseResult> {
  const { replica, journal, checkpointSeq, targets } = options;
  return replica.lock.run(async () => {
    await replica.finishInterruptedApply(journal);
    checkCoverage(replica, recoverableCheckpoint(replica, journal, checkpointSeq), targets.keys());
    const finals = await materialiseLocked(replica, journal, checkpointSeq, targets, options.onProgress, options.prefetchBytes);
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
  onProgress?: (progress: MaterialiseProgress) => void,
  prefetchBytes = DEFAULT_PREFETCH_BYTES,
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
  // Records up to a volume's `since` are skipped anyway: a volume added late (a head manifest for
  // its first sync) needs no walk through the journal before it.
  const since = Math.min(...[...targets.keys()].map((v) => state.volumes.get(v)?.since ?? 0));
  const from = Math.max(state.appliedSeq, since) + 1;
  const records = new Prefetch(replay(journal, from, throughSeq), prefetchBytes);
  // Decoding (zstd) runs on this thread while the copies run in the thread pool.
  const ahead = records.fill();
  try {
    await copyReplica(replica, state, targets, namespaces, summary, onProgress);
  } catch (err: unknown) {
    await ahead;
    await records.close();
    throw err;
  }
  await ahead;
  const fds = new FdCache({ syncOnClose: false, limit: 256 });
  try {
    const total = throughSeq < from ? 0 : journal.bytesBetween(from, throughSeq);
    await replayInto(state, records, total, targets, namespaces, fds, onProgress);
  } finally {
    await fds.closeAll();
    await records.close();
  }
  for (const [volume, ns] of namespaces) await applyModes(targets.get(volume) ?? '', ns);
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

async function copyReplica(
  replica: Replica,
  state: ReplicaState,
  targets: ReadonlyMap<string, string>,
  namespaces: Map<string, Namespace>,
  summary: MaterialiseResult['volumes'],
  onProgress?: (progress: MaterialiseProgress) => void,
): Promise<void> {
  const copies: { from: string; to: string; size: number }[] = [];
  const links: { from: string; to: string }[] = [];
  for (const [volume, target] of targets) {
    const v = state.volumes.get(volume);
    if (v?.kind === 'block') {
      const from = replica.imagePath(volume);
      const size = (await stat(from)).size;
      copies.push({ from, to: target, size });
      summary.push({ volume, files: 1, bytes: size });
      continue;
    }
    const ns = v?.ns ?? new Namespace();
    namespaces.set(volume, ns);
    const first = new Map<FileId, string>();
    let bytes = 0;
    for (const [path, e] of ns.sorted()) {
      const to = join(target, path);
      if (e.type === 'dir') await mkdir(to, 0o700);
      else if (e.type === 'symlink') await symlink(e.target, to);
      else {
        const linked = first.get(e.id);
        if (linked !== undefined) {
          links.push({ from: linked, to });
          continue;
        }
        first.set(e.id, to);
        const from = replica.objectPath(volume, e.id);
        let size: number;
        try {
          size = (await stat(from)).size;
        } catch (err: unknown) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ReplicaError('CORRUPT', `volume ${volume}: object ${from} of ${JSON.stringify(path)} is missing`);
          throw err;
        }
        copies.push({ from, to, size });
        bytes += size;
      }
    }
    summary.push({ volume, files: first.size, bytes });
  }
  const total = copies.reduce((sum, c) => sum + c.size, 0);
  let done = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < copies.length) {
      const c = copies[next++];
      if (c === undefined) break;
      await copyFile(c.from, c.to, COPY_FLAGS);
      done += c.size;
      onProgress?.({ phase: 'copy', doneBytes: done, totalBytes: total });
    }
  };
  await Promise.all(Array.from({ length: Math.min(COPY_CONCURRENCY, copies.length) }, worker));
  for (const l of links) await link(l.from, l.to);
}

async function replayInto(
  state: ReplicaState,
  records: AsyncIterable<ReplayItem>,
  total: number,
  targets: ReadonlyMap<string, string>,
  namespaces: Map<string, Namespace>,
  fds: FdCache,
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
    try {
      if (v.kind === 'block') await replayBlock(fds, item.volume, target, item.op);
      else await replayFs(fds, item.volume, target, namespaces.get(item.volume) ?? new Namespace(), item.op);
    } catch (err: unknown) {
      if (err instanceof NamespaceProblem) throw new ReplicaError('BAD_OP', `${opWhere(item.seq, item.volume, item.op)}: ${err.message}`);
      throw err;
    }
  }
  onProgress?.({ phase: 'replay', doneBytes: total, totalBytes: total });
}

async function replayBlock(fds: FdCache, volume: string, image: string, op: Op): Promise<void> {
  if (op.op !== 'write' && op.op !== 'truncate' && op.op !== 'digest') throw new NamespaceProblem('a block volume takes only write, truncate and digest');
  if (op.id !== 0) throw new NamespaceProblem('a block volume has only id 0');
  if (op.op === 'digest') return;
  const fh = await fds.get(`${volume}\0`, () => open(image, OPEN_EXISTING));
  if (op.op === 'write') await writeAll(fh, op.data, op.offset);
  else await fh.truncate(op.size);
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
      const f = ns.file(op.id);
      const fh = await fds.get(key(op.id), () => openFile(root, f.paths));
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

/** Final modes, deepest first (a folder's own mode could stop reaching what it holds). */
async function applyModes(root: string, ns: Namespace): Promise<void> {
  const sorted = ns.sorted().reverse();
  for (const [path, e] of sorted) {
    if (e.type === 'dir') await chmod(join(root, path), e.mode);
    else if (e.type === 'file') await chmod(join(root, path), ns.file(e.id).mode);
  }
}
