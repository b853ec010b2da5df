// Test helpers: an in-memory journal (savable to a file for child processes), an independent
// in-memory model of the volumes, and a seeded random workload that drives both.
import { lstat, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeRecord, encodeRecord } from '../codec.ts';
import { BLOCK_SIZE, blockHash, contentDigest, volumeDigest, type DigestEntry } from '../hash.ts';
import type { CheckpointMark, FileId, Op, Record } from '../ops.ts';
import { walkTree } from './hashing.ts';
import type { JournalCheckpoint, JournalReader, ReadOptions } from './journal-reader.ts';

export class MemoryJournal implements JournalReader {
  private records: { seq: number; bytes: Buffer }[] = [];
  private first = 1;
  private next = 1;

  get durableSeq(): number {
    return this.next - 1;
  }

  append(record: Record): number {
    return this.appendBytes(encodeRecord(record, { compress: true }));
  }

  appendBytes(bytes: Buffer): number {
    const seq = this.next++;
    this.records.push({ seq, bytes });
    return seq;
  }

  checkpoints(): JournalCheckpoint[] {
    const out: JournalCheckpoint[] = [];
    for (const { seq, bytes } of this.records) {
      if (bytes[0] !== 10) continue;
      const r = decodeRecord(bytes);
      if (r.kind !== 'checkpoint') continue;
      const { time, tag, volumes } = r.checkpoint;
      out.push({ seq, time, tag, tags: tag === '' ? [] : [tag], volumes });
    }
    return out;
  }

  /**
   * `transient` is held to as strictly as it can be: each record comes in one shared buffer that
   * is overwritten with garbage as soon as the next is asked for, so a reader that keeps a view
   * of a record past its turn reads garbage and fails its test.
   */
  async *read(fromSeq: number, toSeq: number, options: ReadOptions = {}): AsyncGenerator<{ seq: number; bytes: Buffer }> {
    await Promise.resolve();
    let scratch = Buffer.alloc(0);
    for (let seq = Math.max(fromSeq, this.first); seq <= Math.min(toSeq, this.durableSeq); seq++) {
      const r = this.records[seq - this.first];
      if (r === undefined) continue;
      if (options.transient !== true) {
        yield r;
        continue;
      }
      if (scratch.length < r.bytes.length) scratch = Buffer.alloc(r.bytes.length);
      r.bytes.copy(scratch);
      yield { seq: r.seq, bytes: scratch.subarray(0, r.bytes.length) };
      scratch.fill(0xa5);
    }
  }

  bytesBetween(fromSeq: number, toSeq: number): number {
    let n = 0;
    for (const r of this.records) if (r.seq >= fromSeq && r.seq <= toSeq) n += r.bytes.length;
    return n;
  }

  dropThrough(seq: number): Promise<void> {
    const keep = this.records.filter((r) => r.seq > seq);
    this.first = Math.max(this.first, Math.min(seq + 1, this.next));
    this.records = keep;
    return Promise.resolve();
  }

  /** Removes one record (to make a gap). */
  removeRecord(seq: number): void {
    this.records = this.records.filter((r) => r.seq !== seq);
  }

  async save(path: string): Promise<void> {
    await writeFile(path, JSON.stringify({ first: this.first, records: this.records.map((r) => r.bytes.toString('base64')) }));
  }

  static async load(path: string): Promise<MemoryJournal> {
    const json = JSON.parse(await readFile(path, 'utf8')) as { first: number; records: string[] };
    const j = new MemoryJournal();
    j.first = json.first;
    j.next = json.first;
    for (const b of json.records) j.appendBytes(Buffer.from(b, 'base64'));
    return j;
  }
}

export type ModelEntry = { type: 'dir'; mode: number } | { type: 'file'; id: FileId } | { type: 'symlink'; target: string };
export interface FsModel {
  kind: 'fs';
  entries: Map<string, ModelEntry>;
  files: Map<FileId, { data: Buffer; mode: number }>;
}
export interface BlockModel {
  kind: 'block';
  data: Buffer;
}
export type VolumeModel = FsModel | BlockModel;

export function cloneModel(volumes: ReadonlyMap<string, VolumeModel>): Map<string, VolumeModel> {
  const out = new Map<string, VolumeModel>();
  for (const [name, v] of volumes) {
    if (v.kind === 'block') out.set(name, { kind: 'block', data: Buffer.from(v.data) });
    else out.set(name, { kind: 'fs', entries: new Map(v.entries), files: new Map([...v.files].map(([id, f]) => [id, { data: Buffer.from(f.data), mode: f.mode }])) });
  }
  return out;
}

function resize(data: Buffer, size: number): Buffer {
  if (size <= data.length) return Buffer.from(data.subarray(0, size));
  return Buffer.concat([data, Buffer.alloc(size - data.length)]);
}

/** Applies a (valid) op to the model the plain way. */
export function modelApply(v: VolumeModel, op: Op): void {
  if (v.kind === 'block') {
    if (op.op === 'write') {
      const end = op.offset + op.data.length;
      if (end > v.data.length) v.data = resize(v.data, end);
      v.data.set(op.data, op.offset);
    } else if (op.op === 'truncate') v.data = resize(v.data, op.size);
    return;
  }
  const dropIfUnlinked = (id: FileId): void => {
    for (const e of v.entries.values()) if (e.type === 'file' && e.id === id) return;
    v.files.delete(id);
  };
  switch (op.op) {
    case 'mkdir':
      v.entries.set(op.path, { type: 'dir', mode: op.mode });
      return;
    case 'create': {
      v.entries.set(op.path, { type: 'file', id: op.id });
      v.files.set(op.id, { data: Buffer.alloc(0), mode: op.mode });
      return;
    }
    case 'symlink':
      v.entries.set(op.path, { type: 'symlink', target: op.target });
      return;
    case 'write': {
      const f = v.files.get(op.id);
      if (f === undefined) throw new Error(`model: write to unknown id ${op.id}`);
      const end = op.offset + op.data.length;
      if (end > f.data.length) f.data = resize(f.data, end);
      f.data.set(op.data, op.offset);
      return;
    }
    case 'truncate': {
      const f = v.files.get(op.id);
      if (f === undefined) throw new Error(`model: truncate of unknown id ${op.id}`);
      f.data = resize(f.data, op.size);
      return;
    }
    case 'rename': {
      if (op.from === op.to) return;
      const e = v.entries.get(op.from);
      if (e === undefined) throw new Error(`model: rename of missing ${op.from}`);
      const replaced = v.entries.get(op.to);
      v.entries.delete(op.to);
      const moved: [string, ModelEntry][] = [];
      for (const [path, child] of v.entries) if (path === op.from || path.startsWith(`${op.from}/`)) moved.push([path, child]);
      for (const [path] of moved) v.entries.delete(path);
      for (const [path, child] of moved) v.entries.set(op.to + path.slice(op.from.length), child);
      if (replaced?.type === 'file') dropIfUnlinked(replaced.id);
      return;
    }
    case 'unlink': {
      const e = v.entries.get(op.path);
      v.entries.delete(op.path);
      if (e?.type === 'file') dropIfUnlinked(e.id);
      return;
    }
    case 'chmod': {
      const e = v.entries.get(op.path);
      if (e?.type === 'dir') v.entries.set(op.path, { type: 'dir', mode: op.mode });
      else if (e?.type === 'file') {
        const f = v.files.get(e.id);
        if (f !== undefined) f.mode = op.mode;
      }
      return;
    }
    case 'digest':
      return;
  }
}

export function dataDigest(data: Uint8Array): Buffer {
  const hashes: Buffer[] = [];
  for (let off = 0; off < data.length; off += BLOCK_SIZE) hashes.push(blockHash(data.subarray(off, off + BLOCK_SIZE)));
  return contentDigest(data.length, Buffer.concat(hashes));
}

export function modelDigest(v: VolumeModel): Buffer {
  if (v.kind === 'block') return dataDigest(v.data);
  const entries: DigestEntry[] = [];
  for (const [path, e] of v.entries) {
    if (e.type === 'dir') entries.push({ path, type: 'dir', mode: e.mode });
    else if (e.type === 'symlink') entries.push({ path, type: 'symlink', target: e.target });
    else {
      const f = v.files.get(e.id);
      if (f === undefined) throw new Error(`model: ${path} names unknown id ${e.id}`);
      entries.push({ path, type: 'file', mode: f.mode, digest: dataDigest(f.data) });
    }
  }
  return volumeDigest(entries);
}

/** A small seeded PRNG (mulberry32), so a failing seed can be replayed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    const v = items[this.int(items.length)];
    if (v === undefined) throw new Error('pick from an empty list');
    return v;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    // Runs of a repeated byte compress; random bytes do not: mix both so zstd and raw paths run.
    const fill = this.int(4) === 0;
    for (let i = 0; i < n; i++) b[i] = fill ? 0x61 + (i % 3) : this.int(256);
    return b;
  }
}

const FILE_MODES = [0o644, 0o600, 0o755, 0o444, 0o4755, 0o2755, 0o000, 0o640];
const DIR_MODES = [0o755, 0o700, 0o555, 0o1777, 0o2775];
const LINK_TARGETS = ['/etc/passwd', '/', '../../..', 'a', 'does/not/exist', '/tmp', '..'];

/**
 * Drives a journal and a model together with random valid ops, with checkpoints carrying the
 * model's digests. `snapshots` holds the model at every checkpoint (by seq).
 */
export class Workload {
  readonly journal: MemoryJournal;
  readonly model: Map<string, VolumeModel>;
  readonly snapshots = new Map<number, Map<string, VolumeModel>>();
  readonly rng: Rng;
  time = 1_700_000_000_000;
  private nextId = 1;
  private readonly dirty = new Set<string>();

  constructor(seed: number, volumes: readonly { name: string; kind: 'fs' | 'block' }[], journal = new MemoryJournal()) {
    this.rng = new Rng(seed);
    this.journal = journal;
    this.model = new Map(volumes.map((v): [string, VolumeModel] => [v.name, v.kind === 'fs' ? { kind: 'fs', entries: new Map(), files: new Map() } : { kind: 'block', data: Buffer.alloc(0) }]));
  }

  op(volume: string, op: Op): number {
    const v = this.model.get(volume);
    if (v === undefined) throw new Error(`workload: no volume ${volume}`);
    modelApply(v, op);
    if (op.op === 'write' || op.op === 'truncate' || op.op === 'create') this.dirty.add(`${volume}\0${op.id}`);
    return this.journal.append({ kind: 'op', volume, op });
  }

  /**
   * A checkpoint closing a pass: like the capture, first a digest op for every file changed since
   * its last one (`digests: false` leaves them out).
   */
  checkpoint(tag = '', digests = true): number {
    if (digests) {
      for (const key of this.dirty) {
        const [volume = '', idText = ''] = key.split('\0');
        const id = Number(idText);
        const v = this.model.get(volume);
        const data = v === undefined ? undefined : v.kind === 'block' ? v.data : v.files.get(id)?.data;
        if (data !== undefined) this.journal.append({ kind: 'op', volume, op: { op: 'digest', id, size: data.length, digest: dataDigest(data) } });
      }
      this.dirty.clear();
    }
    this.time += 1000;
    const mark: CheckpointMark = { time: this.time, tag, volumes: [...this.model].map(([volume, v]) => ({ volume, digest: modelDigest(v) })) };
    const seq = this.journal.append({ kind: 'checkpoint', checkpoint: mark });
    this.snapshots.set(seq, cloneModel(this.model));
    return seq;
  }

  /** `count` random ops over the volumes. */
  random(count: number): void {
    const names = [...this.model.keys()];
    for (let i = 0; i < count; i++) {
      const volume = this.rng.pick(names);
      const v = this.model.get(volume);
      if (v === undefined) continue;
      const op = v.kind === 'block' ? this.blockOp(v) : this.fsOp(v);
      if (op !== undefined) this.op(volume, op);
    }
  }

  private blockOp(v: BlockModel): Op {
    const r = this.rng;
    if (r.int(8) === 0) return { op: 'truncate', id: 0, size: r.int(600_000) };
    if (r.int(8) === 0) return { op: 'digest', id: 0, size: v.data.length, digest: dataDigest(v.data) };
    return { op: 'write', id: 0, offset: r.int(Math.max(v.data.length, 1) + 100_000), data: r.bytes(1 + r.int(r.int(4) === 0 ? 150_000 : 5000)) };
  }

  private fsOp(v: FsModel): Op | undefined {
    const r = this.rng;
    const dirs = ['', ...[...v.entries].filter(([, e]) => e.type === 'dir').map(([p]) => p)];
    const all = [...v.entries.keys()];
    const ids = [...v.files.keys()];
    const fresh = (): string => {
      const d = r.pick(dirs);
      const name = r.pick(['f', 'g', 'dir', 'x y', 'é', 'long-name']) + String(r.int(30));
      const p = d === '' ? name : `${d}/${name}`;
      return v.entries.has(p) ? `${p}-${r.int(1e9)}` : p;
    };
    switch (r.int(14)) {
      case 0:
      case 1:
        return { op: 'mkdir', path: fresh(), mode: r.pick(DIR_MODES) };
      case 2:
      case 3: {
        // Now and then a second name for a live file (a hard link), or a dead file's id again
        // (the source's inode numbers are reused).
        const dead = [...Array(this.nextId - 1).keys()].map((i) => i + 1).filter((id) => !v.files.has(id));
        const roll = r.int(10);
        const id = roll === 0 && ids.length > 0 ? r.pick(ids) : roll === 1 && dead.length > 0 ? r.pick(dead) : this.nextId++;
        return { op: 'create', path: fresh(), id, mode: r.pick(FILE_MODES) };
      }
      case 4:
        return { op: 'symlink', path: fresh(), target: r.pick(LINK_TARGETS) };
      case 5:
      case 6:
      case 7: {
        if (ids.length === 0) return undefined;
        const id = r.pick(ids);
        const size = v.files.get(id)?.data.length ?? 0;
        return { op: 'write', id, offset: r.int(size + 70_000), data: r.bytes(1 + r.int(r.int(5) === 0 ? 140_000 : 3000)) };
      }
      case 8: {
        if (ids.length === 0) return undefined;
        const id = r.pick(ids);
        return { op: 'truncate', id, size: r.int((v.files.get(id)?.data.length ?? 0) + 100_000) };
      }
      case 9: {
        if (all.length === 0) return undefined;
        const from = r.pick(all);
        const e = v.entries.get(from);
        // Over an existing file or symlink, or (for a folder) an empty folder; or to a new path.
        const candidates = all.filter((p) => {
          const t = v.entries.get(p);
          if (p === from || p.startsWith(`${from}/`) || from.startsWith(`${p}/`)) return false;
          if (e?.type === 'dir') return t?.type === 'dir' && ![...v.entries.keys()].some((q) => q.startsWith(`${p}/`));
          return t?.type === 'file' || t?.type === 'symlink';
        });
        let to = candidates.length > 0 && r.int(2) === 0 ? r.pick(candidates) : fresh();
        if (to.startsWith(`${from}/`)) to = fresh();
        if (to === from || to.startsWith(`${from}/`)) return undefined;
        return { op: 'rename', from, to };
      }
      case 10: {
        const removable = all.filter((p) => v.entries.get(p)?.type !== 'dir' || !all.some((q) => q.startsWith(`${p}/`)));
        if (removable.length === 0) return undefined;
        return { op: 'unlink', path: r.pick(removable) };
      }
      case 11: {
        const modable = all.filter((p) => v.entries.get(p)?.type !== 'symlink');
        if (modable.length === 0) return undefined;
        const path = r.pick(modable);
        return { op: 'chmod', path, mode: v.entries.get(path)?.type === 'dir' ? r.pick(DIR_MODES) : r.pick(FILE_MODES) };
      }
      default: {
        if (ids.length === 0) return undefined;
        const id = r.pick(ids);
        const data = v.files.get(id)?.data ?? Buffer.alloc(0);
        return { op: 'digest', id, size: data.length, digest: dataDigest(data) };
      }
    }
  }
}

/** Differences between a materialised target and the model: empty when equal, byte for byte. */
export async function diffWithModel(target: string, v: VolumeModel): Promise<string[]> {
  const out: string[] = [];
  if (v.kind === 'block') {
    const got = await readFile(target);
    if (!got.equals(v.data)) out.push(`image: ${got.length} bytes, model ${v.data.length} bytes, first difference at ${firstDiff(got, v.data)}`);
    return out;
  }
  const tree = await walkTree(target);
  for (const [path, e] of v.entries) {
    const got = tree.get(path);
    if (got === undefined) {
      out.push(`${path}: missing`);
      continue;
    }
    if (got.type !== e.type) {
      out.push(`${path}: is a ${got.type}, model has a ${e.type}`);
      continue;
    }
    if (e.type === 'dir' && got.type === 'dir' && got.mode !== e.mode) out.push(`${path}: mode 0o${got.mode.toString(8)}, model 0o${e.mode.toString(8)}`);
    if (e.type === 'symlink' && got.type === 'symlink' && got.target !== e.target) out.push(`${path}: target ${got.target}, model ${e.target}`);
    if (e.type === 'file' && got.type === 'file') {
      const f = v.files.get(e.id);
      if (f === undefined) throw new Error(`model: ${path} names unknown id ${e.id}`);
      if (got.mode !== f.mode) out.push(`${path}: mode 0o${got.mode.toString(8)}, model 0o${f.mode.toString(8)}`);
      const st = await lstat(join(target, path));
      if (!st.isFile()) out.push(`${path}: not a regular file`);
      const data = await readFile(join(target, path));
      if (!data.equals(f.data)) out.push(`${path}: ${data.length} bytes, model ${f.data.length} bytes, first difference at ${firstDiff(data, f.data)}`);
    }
  }
  for (const path of tree.keys()) if (!v.entries.has(path)) out.push(`${path}: not in the model`);
  for (const [path, e] of v.entries) if (e.type === 'symlink' && (await readlink(join(target, path))) !== e.target) out.push(`${path}: readlink differs`);
  return out;
}

function firstDiff(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}
