// The replica: each volume of a VPG as of an older checkpoint. Filesystem volumes are an object
// store (file contents by id in objects/<id>) plus a namespace kept in replica.json; block volumes
// are one image file. apply() replays journal records through a checkpoint: data ops are
// positional writes and truncates of objects (replaying them again after a crash gives the same
// bytes), namespace ops change only an in-memory copy, and everything is fsynced before the new
// replica.json (with the new appliedSeq) replaces the old. Objects nothing names any more are
// removed after that commit, and on open.
import { constants, statSync } from 'node:fs';
import { mkdir, open, readdir, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileId, Op, OpName } from '../ops.ts';
import { volumeNameProblem } from '../paths.ts';
import { ReplicaError } from './errors.ts';
import { FdCache } from './fd-cache.ts';
import { opWhere, replay, type JournalReader } from './journal-reader.ts';
import { Mutex } from './mutex.ts';
import { Namespace, NamespaceProblem } from './namespace.ts';
import { cloneState, coverageProblem, readState, recordFate, syncDir, writeState, type AppliedCheckpoint, type ReplicaState, type SeedState, type VolumeKind, type VolumeState } from './replica-state.ts';

export type { AppliedCheckpoint, SeedState, VolumeKind } from './replica-state.ts';

/** Points apply reports to `onStep`, so tests can crash it there. */
export type ApplyStep = 'op' | 'synced' | 'committed';

export interface ApplyOptions {
  /** Called after each op (count = ops so far), after the fsyncs, and after the commit. */
  onStep?: (step: ApplyStep, count: number) => void;
}

const OPEN_RW = constants.O_RDWR | constants.O_NOFOLLOW;
const OPEN_CREATE = constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

export class Replica {
  readonly dir: string;
  /** Taken by apply, materialise, verify and head manifests for as long as they use the files. */
  readonly lock = new Mutex();
  private state: ReplicaState;
  /** Bytes per volume, for the state they were counted in (status reads them on every call). */
  private sizes: { of: ReplicaState; bytes: Map<string, number> } | undefined;

  private constructor(dir: string, state: ReplicaState) {
    this.dir = dir;
    this.state = state;
  }

  /**
   * Opens the replica in `dir` (creating it when empty), making sure the listed volumes exist
   * (volumes it has and the list does not name stay until removeVolume).
   */
  static async open(dir: string, volumes: readonly { name: string; kind: VolumeKind }[]): Promise<Replica> {
    await mkdir(join(dir, 'volumes'), { recursive: true });
    const existing = await readState(dir);
    const replica = new Replica(dir, existing ?? { appliedSeq: 0, pending: undefined, checkpoint: undefined, volumes: new Map(), retired: new Map() });
    if (existing === undefined) await writeState(dir, replica.state);
    await replica.collectGarbage();
    for (const v of volumes) {
      const have = replica.state.volumes.get(v.name);
      if (have === undefined) await replica.addVolume(v.name, v.kind);
      else if (have.kind !== v.kind) throw new ReplicaError('VOLUME', `volume ${v.name} is a ${have.kind} volume in ${dir}, not ${v.kind}`);
    }
    return replica;
  }

  /** The last seq applied (a checkpoint's, or 0 for an empty replica). */
  get appliedSeq(): number {
    return this.state.appliedSeq;
  }

  /** The checkpoint the replica is at (its digests), once one was applied. */
  get checkpoint(): AppliedCheckpoint | undefined {
    return this.state.checkpoint;
  }

  volumes(): { name: string; kind: VolumeKind }[] {
    return [...this.state.volumes].map(([name, v]) => ({ name, kind: v.kind }));
  }

  /** A volume's kind and life (see VolumeState), or undefined. */
  volume(name: string): { kind: VolumeKind; since: number; attached: boolean } | undefined {
    const v = this.state.volumes.get(name);
    return v === undefined ? undefined : { kind: v.kind, since: v.since, attached: v.attached };
  }

  /** Why checkpoint `cp` cannot give `volume` back (added after it, removed, still syncing), or undefined. */
  coverageProblem(cp: { seq: number; volumes: readonly { volume: string }[] }, volume: string): string | undefined {
    return coverageProblem(this.state, cp, volume);
  }

  /** The kind of a volume removed from the stream (its records are skipped), or undefined. */
  retiredKind(name: string): VolumeKind | undefined {
    return this.state.retired.get(name);
  }

  /**
   * Bytes each volume holds in the replica (as of appliedSeq): the sizes the source's digest ops
   * gave for an fs volume's files, the image's size for a block volume. Counted once per committed
   * state (a status reads it on every call; one stat per block volume after each apply).
   */
  volumeBytes(): ReadonlyMap<string, number> {
    if (this.sizes?.of !== this.state) {
      const bytes = new Map<string, number>();
      for (const [name, v] of this.state.volumes) {
        let n = 0;
        if (v.ns !== undefined) for (const f of v.ns.files.values()) n += f.digest?.size ?? 0;
        // A pending seed's image holds nothing of the volume yet.
        else if (v.seed?.state !== 'pending') n = statSync(this.imagePath(name), { throwIfNoEntry: false })?.size ?? 0;
        bytes.set(name, n);
      }
      this.sizes = { of: this.state, bytes };
    }
    return this.sizes.bytes;
  }

  /** A copy of the committed state, for readers holding the lock. */
  snapshot(): ReplicaState {
    return cloneState(this.state);
  }

  volumeDir(volume: string): string {
    return join(this.dir, 'volumes', volume);
  }

  objectPath(volume: string, id: FileId): string {
    return join(this.dir, 'volumes', volume, 'objects', String(id));
  }

  imagePath(volume: string): string {
    return join(this.dir, 'volumes', volume, 'image');
  }

  /** A private folder under the replica for scratch work; removed on open. */
  scratchDir(): string {
    return join(this.dir, 'scratch');
  }

  /**
   * Adds an empty volume. `since`: records of this name up to it are not the new volume's (default
   * 0); `attached: false` refuses the source's records for it until attachVolume (default true).
   */
  async addVolume(name: string, kind: VolumeKind, life: { since?: number; attached?: boolean } = {}): Promise<void> {
    const problem = volumeNameProblem(name);
    if (problem !== undefined) throw new ReplicaError('VOLUME', `volume name ${JSON.stringify(name)} ${problem}`);
    await this.lock.run(async () => {
      await this.addLocked(name, kind, life.since ?? 0, life.attached ?? true);
    });
  }

  private async addLocked(name: string, kind: VolumeKind, since: number, attached: boolean, seedPath?: string): Promise<void> {
    if (this.state.volumes.has(name)) throw new ReplicaError('VOLUME', `volume ${name} is already in the replica`);
    const vdir = this.volumeDir(name);
    await rm(vdir, { recursive: true, force: true });
    if (kind === 'fs') await mkdir(join(vdir, 'objects'), { recursive: true });
    else {
      await mkdir(vdir, { recursive: true });
      await (await open(this.imagePath(name), 'w')).close();
    }
    await syncDir(vdir);
    await syncDir(join(this.dir, 'volumes'));
    const next = cloneState(this.state);
    const v: VolumeState = { kind, since, attached };
    if (kind === 'fs') v.ns = new Namespace();
    if (seedPath !== undefined) v.seed = { path: seedPath, state: 'pending' };
    next.volumes.set(name, v);
    next.retired.delete(name);
    await writeState(this.dir, next);
    this.state = next;
  }

  /**
   * Drops one volume and its data; the other volumes are untouched. Its records still in the
   * journal (and any the source sends until it stops capturing it) are skipped from now on.
   */
  async removeVolume(name: string): Promise<void> {
    await this.lock.run(async () => {
      await this.removeLocked(name);
    });
  }

  private async removeLocked(name: string): Promise<void> {
    const v = this.state.volumes.get(name);
    if (v === undefined) throw new ReplicaError('VOLUME', `volume ${name} is not in the replica`);
    const next = cloneState(this.state);
    next.volumes.delete(name);
    next.retired.set(name, v.kind);
    await writeState(this.dir, next);
    this.state = next;
    await rm(this.volumeDir(name), { recursive: true, force: true });
  }

  /**
   * The source is about to sync a volume added while the stream ran (it asked for its manifest):
   * its records count from after `since` (the journal's durable seq now). False when it already was.
   */
  async attachVolume(name: string, since: number): Promise<boolean> {
    return this.lock.run(async () => {
      const v = this.state.volumes.get(name);
      if (v === undefined) throw new ReplicaError('VOLUME', `volume ${name} is not in the replica`);
      if (v.seed?.state === 'pending') throw new ReplicaError('VOLUME', `volume ${name} is being seeded from ${v.seed.path}: the source may sync it once that is done`);
      if (v.attached) return false;
      const next = cloneState(this.state);
      next.volumes.set(name, { ...v, attached: true, since: Math.max(since, v.since) });
      await writeState(this.dir, next);
      this.state = next;
      return true;
    });
  }

  /**
   * Makes the replica's volumes the ones listed (the stream's configuration): removes the others,
   * adds the missing ones. `durableSeq` is the journal's: a volume added to a stream with records
   * waits for the source to attach it; one added before anything was journaled is attached at
   * once (nothing of an older life can be in flight). A kind that differs from a volume's is
   * refused before anything changes. `seeds` (volume → path on this host): an added volume with a
   * seed is created with its seed pending (seed.ts fills it) and waits for the source to attach
   * it, even in a new stream; a seed for a volume the replica already has is ignored.
   */
  async setVolumes(
    wanted: readonly { name: string; kind: VolumeKind }[],
    durableSeq: number,
    seeds: ReadonlyMap<string, string> = new Map(),
  ): Promise<{ added: string[]; removed: string[] }> {
    return this.lock.run(async () => {
      for (const [i, w] of wanted.entries()) {
        const have = this.state.volumes.get(w.name);
        if (have !== undefined && have.kind !== w.kind) throw new ReplicaError('VOLUME', `volumes.${i}.kind: volume ${w.name} is a ${have.kind} volume in ${this.dir}, not ${w.kind}`);
        const problem = volumeNameProblem(w.name);
        if (problem !== undefined) throw new ReplicaError('VOLUME', `volumes.${i}.name: ${JSON.stringify(w.name)} ${problem}`);
      }
      const names = new Set(wanted.map((w) => w.name));
      const removed = [...this.state.volumes.keys()].filter((n) => !names.has(n));
      for (const name of removed) await this.removeLocked(name);
      const fresh = durableSeq === 0 && this.state.appliedSeq === 0;
      const added = wanted.filter((w) => !this.state.volumes.has(w.name));
      for (const w of added) {
        const seed = seeds.get(w.name);
        await this.addLocked(w.name, w.kind, durableSeq, fresh && seed === undefined, seed);
      }
      return { added: added.map((w) => w.name), removed };
    });
  }

  /** A volume's seed (see SeedState), if it was created with one. */
  seedOf(name: string): SeedState | undefined {
    const seed = this.state.volumes.get(name)?.seed;
    return seed === undefined ? undefined : { ...seed };
  }

  /** The volumes whose seed is still to be done (after a restart: done again from the start). */
  pendingSeeds(): { volume: string; kind: VolumeKind; path: string }[] {
    const out: { volume: string; kind: VolumeKind; path: string }[] = [];
    for (const [volume, v] of this.state.volumes) if (v.seed?.state === 'pending') out.push({ volume, kind: v.kind, path: v.seed.path });
    return out;
  }

  /**
   * Ends a volume's pending seed. With `ns` (fs) or `image: true` (block), the objects or the
   * image seed.ts wrote (durable already) become the volume's content in one commit; with `error`
   * the volume starts empty (its objects are removed, its image cut to nothing). False, changing
   * nothing, when the volume has no pending seed from `path` any more (removed meanwhile).
   */
  async finishSeed(volume: string, path: string, outcome: { ns: Namespace } | { image: true } | { error: string }): Promise<boolean> {
    return this.lock.run(async () => {
      const v = this.state.volumes.get(volume);
      if (v?.seed?.state !== 'pending' || v.seed.path !== path) return false;
      const next = cloneState(this.state);
      const nv: VolumeState = { ...v, seed: { path, state: 'error' in outcome ? 'failed' : 'done', ...('error' in outcome && { error: outcome.error }) } };
      if ('ns' in outcome) {
        if (v.kind !== 'fs') throw new ReplicaError('VOLUME', `volume ${volume} is a block volume: a seed gives it an image, not files`);
        nv.ns = outcome.ns.clone();
      } else if ('image' in outcome) {
        if (v.kind !== 'block') throw new ReplicaError('VOLUME', `volume ${volume} is a filesystem volume: a seed gives it files, not an image`);
      } else if (v.kind === 'fs') nv.ns = new Namespace();
      else await (await open(this.imagePath(volume), 'w')).close();
      next.volumes.set(volume, nv);
      await writeState(this.dir, next);
      this.state = next;
      if ('error' in outcome && v.kind === 'fs') await this.collectObjects(volume);
      return true;
    });
  }

  /** Set when an apply through this seq was interrupted after it began changing objects. */
  get pendingSeq(): number | undefined {
    return this.state.pending;
  }

  /**
   * Applies the journal's records after appliedSeq through the checkpoint `throughSeq` (or through
   * an interrupted apply's checkpoint, when that is later). A record that cannot apply fails it
   * before anything changes. If it fails later (I/O) or the process dies, the replica stays at its
   * previous appliedSeq with the interrupted seq noted; the next apply, materialise, verify or head
   * manifest finishes it first.
   */
  async apply(journal: JournalReader, throughSeq: number, options: ApplyOptions = {}): Promise<void> {
    await this.lock.run(async () => {
      const from = this.state.appliedSeq;
      if (throughSeq === from && this.state.pending === undefined) return;
      if (throughSeq < from) throw new ReplicaError('CHECKPOINT', `checkpoint ${throughSeq} is older than the replica (applied through ${from})`);
      if (throughSeq > journal.durableSeq) throw new ReplicaError('CHECKPOINT', `checkpoint ${throughSeq} is newer than the journal's durable seq ${journal.durableSeq}`);
      if (!journal.checkpoints().some((c) => c.seq === throughSeq)) throw new ReplicaError('CHECKPOINT', `seq ${throughSeq} is not a checkpoint of the journal`);
      await this.applyRecords(journal, Math.max(throughSeq, this.state.pending ?? 0), options);
    });
  }

  /** Finishes an interrupted apply, if there is one. Call with `lock` held. */
  async finishInterruptedApply(journal: JournalReader): Promise<void> {
    if (this.state.pending !== undefined) await this.applyRecords(journal, this.state.pending, {});
  }

  private async applyRecords(journal: JournalReader, through: number, options: ApplyOptions): Promise<void> {
    const from = this.state.appliedSeq;
    // Pass 1: decode and check every record against a copy of the namespace, touching no file.
    const next = cloneState(this.state);
    let checkpoint: AppliedCheckpoint | undefined;
    for await (const item of replay(journal, from + 1, through)) {
      if (item.kind === 'checkpoint') checkpoint = { seq: item.seq, ...item.checkpoint };
      if (item.kind !== 'op') continue;
      const fate = recordFate(next, item.volume, item.seq);
      if (fate === undefined) throw new ReplicaError('BAD_OP', `${opWhere(item.seq, item.volume, item.op)}: the replica has no volume ${item.volume}`);
      const v = next.volumes.get(item.volume);
      if (fate === 'skip' || v === undefined) continue;
      try {
        if (v.kind === 'block') checkBlockOp(v, item.op);
        else applyNamespaceOp(v.ns ?? new Namespace(), item.op);
      } catch (err: unknown) {
        if (err instanceof NamespaceProblem) throw new ReplicaError('BAD_OP', `${opWhere(item.seq, item.volume, item.op)}: ${err.message}`);
        throw err;
      }
    }
    // From here objects change ahead of the namespace: note it durably first.
    if (this.state.pending !== through) {
      const marked = cloneState(this.state);
      marked.pending = through;
      await writeState(this.dir, marked);
      this.state = marked;
    }
    // Pass 2: data only (positional, so a second run over a half-done first one ends the same).
    const before = liveIds(this.state);
    const fds = new FdCache({ syncOnClose: true });
    const created = new Set<string>();
    let count = 0;
    try {
      for await (const item of replay(journal, from + 1, through, NAMESPACE_OPS)) {
        if (item.kind === 'op' && recordFate(next, item.volume, item.seq) === 'apply') {
          const v = next.volumes.get(item.volume);
          if (v?.kind === 'block') await this.writeBlock(fds, item.volume, item.op);
          else await this.writeObject(fds, created, item.volume, item.op);
        }
        options.onStep?.('op', ++count);
      }
      await fds.closeAll();
    } catch (err: unknown) {
      await fds.closeAll().catch(() => undefined);
      throw err;
    }
    const createdIn = new Set([...created].map((key) => key.split('\0')[0] ?? ''));
    for (const volume of createdIn) await syncDir(join(this.volumeDir(volume), 'objects'));
    options.onStep?.('synced', count);
    next.appliedSeq = through;
    next.pending = undefined;
    if (checkpoint?.seq === through) next.checkpoint = checkpoint;
    await writeState(this.dir, next);
    this.state = next;
    options.onStep?.('committed', count);
    const after = liveIds(next);
    for (const key of new Set([...before, ...created])) {
      if (after.has(key)) continue;
      const [volume = '', id = ''] = key.split('\0');
      if (next.volumes.has(volume)) await rm(this.objectPath(volume, Number(id)), { force: true });
    }
  }

  private async writeBlock(fds: FdCache, volume: string, op: Op): Promise<void> {
    if (op.op !== 'write' && op.op !== 'truncate') return;
    const fh = await fds.get(`${volume}\0`, () => open(this.imagePath(volume), OPEN_RW));
    if (op.op === 'write') await writeAll(fh, op.data, op.offset);
    else await fh.truncate(op.size);
  }

  private async writeObject(fds: FdCache, created: Set<string>, volume: string, op: Op): Promise<void> {
    if (op.op === 'create') {
      const key = `${volume}\0${op.id}`;
      if (fds.has(key)) await (await fds.get(key, never)).truncate(0);
      else await fds.get(key, () => open(this.objectPath(volume, op.id), OPEN_CREATE, 0o600));
      created.add(key);
    } else if (op.op === 'write' || op.op === 'truncate') {
      const fh = await fds.get(`${volume}\0${op.id}`, () => this.openObject(volume, op.id));
      if (op.op === 'write') await writeAll(fh, op.data, op.offset);
      else await fh.truncate(op.size);
    }
  }

  private async openObject(volume: string, id: FileId): Promise<FileHandle> {
    try {
      return await open(this.objectPath(volume, id), OPEN_RW);
    } catch (err: unknown) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ReplicaError('CORRUPT', `volume ${volume}: object ${this.objectPath(volume, id)} of live id ${id} is missing`);
      throw err;
    }
  }

  /** Removes what a crash may have left: scratch, removed volumes, objects nothing names. */
  private async collectGarbage(): Promise<void> {
    await rm(this.scratchDir(), { recursive: true, force: true });
    await rm(join(this.dir, 'replica.json.tmp'), { force: true });
    for (const name of await readdir(join(this.dir, 'volumes'))) {
      if (!this.state.volumes.has(name)) await rm(join(this.dir, 'volumes', name), { recursive: true, force: true });
    }
    for (const [name, v] of this.state.volumes) if (v.kind === 'fs') await this.collectObjects(name);
  }

  private async collectObjects(volume: string): Promise<void> {
    const ns = this.state.volumes.get(volume)?.ns;
    if (ns === undefined) return;
    let names: string[];
    try {
      names = await readdir(join(this.volumeDir(volume), 'objects'));
    } catch (err: unknown) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ReplicaError('CORRUPT', `volume ${volume}: ${join(this.volumeDir(volume), 'objects')} is missing`);
      throw err;
    }
    for (const name of names) {
      if (!ns.files.has(Number(name)) || String(Number(name)) !== name) await rm(join(this.volumeDir(volume), 'objects', name), { force: true });
    }
  }
}

const NAMESPACE_OPS: ReadonlySet<OpName> = new Set(['mkdir', 'symlink', 'rename', 'unlink', 'chmod', 'digest']);

function checkBlockOp(v: VolumeState, op: Op): void {
  if (op.op !== 'write' && op.op !== 'truncate' && op.op !== 'digest') throw new NamespaceProblem('a block volume takes only write, truncate and digest');
  if (op.id !== 0) throw new NamespaceProblem('a block volume has only id 0');
  if (op.op === 'digest') v.digest = { size: op.size, digest: op.digest };
}

/** Applies an op to a namespace; data ops only check that their id is a live file. */
export function applyNamespaceOp(ns: Namespace, op: Op): string | undefined {
  switch (op.op) {
    case 'mkdir':
      ns.mkdir(op.path, op.mode);
      return undefined;
    case 'create':
      return ns.create(op.path, op.id, op.mode);
    case 'symlink':
      ns.symlink(op.path, op.target);
      return undefined;
    case 'write':
    case 'truncate':
      ns.file(op.id);
      return undefined;
    case 'rename':
      ns.rename(op.from, op.to);
      return undefined;
    case 'unlink':
      ns.unlink(op.path);
      return undefined;
    case 'chmod':
      ns.chmod(op.path, op.mode);
      return undefined;
    case 'digest':
      ns.digest(op.id, op.size, op.digest);
      return undefined;
  }
}

function never(): Promise<FileHandle> {
  throw new Error('unreachable: the handle is open');
}

function liveIds(state: ReplicaState): Set<string> {
  const out = new Set<string>();
  for (const [name, v] of state.volumes) if (v.ns !== undefined) for (const id of v.ns.files.keys()) out.add(`${name}\0${id}`);
  return out;
}

export async function writeAll(fh: FileHandle, data: Uint8Array, offset: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, offset + done);
    done += bytesWritten;
  }
}
