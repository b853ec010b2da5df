// A RecordSink for tests that applies what it gets to mirror folders (fs volumes) and image files
// (block volumes), strictly: a create over an existing entry, a write to an unknown id, a digest
// that does not match the mirror's content, a checkpoint whose digests do not match the mirrors,
// all throw. Every record goes through the codec first, as it would on the wire.
import { lstat, open, readFile, readdir, readlink, rename, rmdir, symlink, truncate, unlink, mkdir, chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeRecord, encodeRecord } from '../codec.ts';
import { BLOCK_SIZE, blockHash, contentDigest, volumeDigest, type DigestEntry } from '../hash.ts';
import type { Manifest } from '../manifest.ts';
import type { Op, Record } from '../ops.ts';
import type { RecordSink } from './volume-capture.ts';

export function hashesOf(data: Uint8Array): Buffer {
  const parts: Buffer[] = [];
  for (let off = 0; off < data.length; off += BLOCK_SIZE) parts.push(blockHash(data.subarray(off, off + BLOCK_SIZE)));
  return Buffer.concat(parts);
}

export function digestOfBytes(data: Uint8Array): Buffer {
  return contentDigest(data.length, hashesOf(data));
}

export interface TreeEntry {
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  data?: Buffer;
  target?: string;
}

/** Everything under a folder (sockets, fifos and devices left out), by relative path. */
export async function readTree(root: string, rel = '', out = new Map<string, TreeEntry>()): Promise<Map<string, TreeEntry>> {
  const names = (await readdir(rel === '' ? root : join(root, rel))).sort();
  for (const name of names) {
    const p = rel === '' ? name : `${rel}/${name}`;
    const abs = join(root, p);
    const s = await lstat(abs);
    const mode = s.mode & 0o7777;
    if (s.isFile()) out.set(p, { type: 'file', mode, data: await readFile(abs) });
    else if (s.isSymbolicLink()) out.set(p, { type: 'symlink', mode: 0, target: await readlink(abs) });
    else if (s.isDirectory()) {
      out.set(p, { type: 'dir', mode });
      await readTree(root, p, out);
    }
  }
  return out;
}

export async function treeDigest(root: string): Promise<Buffer> {
  const list: DigestEntry[] = [];
  for (const [path, e] of await readTree(root)) {
    if (e.type === 'file') list.push({ path, type: 'file', mode: e.mode, digest: digestOfBytes(e.data ?? Buffer.alloc(0)) });
    else if (e.type === 'dir') list.push({ path, type: 'dir', mode: e.mode });
    else list.push({ path, type: 'symlink', target: e.target ?? '' });
  }
  return volumeDigest(list);
}

/** Differences between two trees, as readable lines (empty: equal). */
export async function diffTrees(source: string, mirror: string): Promise<string[]> {
  const a = await readTree(source);
  const b = await readTree(mirror);
  const out: string[] = [];
  for (const [p, x] of a) {
    const y = b.get(p);
    if (y === undefined) out.push(`missing ${p}`);
    else if (x.type !== y.type) out.push(`${p}: ${x.type} vs ${y.type}`);
    else if (x.type !== 'symlink' && x.mode !== y.mode) out.push(`${p}: mode ${x.mode.toString(8)} vs ${y.mode.toString(8)}`);
    else if (x.target !== y.target) out.push(`${p}: target ${x.target ?? ''} vs ${y.target ?? ''}`);
    else if (x.data !== undefined && y.data !== undefined && !x.data.equals(y.data)) out.push(`${p}: content differs (${x.data.length} vs ${y.data.length} bytes)`);
  }
  for (const p of b.keys()) if (!a.has(p)) out.push(`extra ${p}`);
  return out;
}

/**
 * What a manifest gets wrong about a mirror folder. Blocks a cut pass left unknown (a truncate
 * accepted, the writes after it not) are all-zero hashes and match anything.
 */
export async function manifestProblems(m: Manifest, root: string): Promise<string[]> {
  if (m.kind !== 'fs') throw new Error('fs manifests only');
  const tree = await readTree(root);
  const out: string[] = [];
  for (const [p, e] of m.entries) {
    const t = tree.get(p);
    if (t?.type !== e.type) out.push(`${p}: manifest ${e.type}, mirror ${t?.type ?? 'nothing'}`);
    else if (e.type === 'symlink') {
      if (e.target !== t.target) out.push(`${p}: target`);
    } else if (e.mode !== t.mode) out.push(`${p}: mode ${e.mode.toString(8)} vs ${t.mode.toString(8)}`);
    else if (e.type === 'file') {
      const data = t.data ?? Buffer.alloc(0);
      if (data.length !== e.size) out.push(`${p}: size ${e.size} vs ${data.length}`);
      const have = hashesOf(data);
      for (let i = 0; i * 16 < e.hashes.length; i++) {
        const want = Buffer.from(e.hashes.subarray(i * 16, i * 16 + 16));
        if (!want.equals(Buffer.alloc(16)) && !want.equals(have.subarray(i * 16, i * 16 + 16))) out.push(`${p}: block ${i}`);
      }
    }
  }
  for (const p of tree.keys()) if (!m.entries.has(p)) out.push(`${p}: not in the manifest`);
  return out;
}

interface FsMirror {
  kind: 'fs';
  root: string;
  ids: Map<number, string>;
}
interface BlockMirror {
  kind: 'block';
  image: string;
}

export class MirrorSink implements RecordSink {
  seq = 0;
  readonly records: Record[] = [];
  /** Accept this many more records, then refuse (false) until raised again. */
  budget = Infinity;
  /** Called before each record is applied (to change the source mid-pass). */
  onRecord: ((r: Record) => Promise<void>) | undefined;
  private readonly mirrors = new Map<string, FsMirror | BlockMirror>();

  fsVolume(volume: string, root: string): this {
    this.mirrors.set(volume, { kind: 'fs', root, ids: new Map() });
    return this;
  }

  blockVolume(volume: string, image: string): this {
    this.mirrors.set(volume, { kind: 'block', image });
    return this;
  }

  /** After a capture adopts a manifest: the ids it knows are where the manifest says. */
  adoptIds(volume: string, m: Manifest): void {
    const mirror = this.mirrors.get(volume);
    if (mirror?.kind !== 'fs' || m.kind !== 'fs') throw new Error(`no fs mirror for ${volume}`);
    mirror.ids.clear();
    for (const [p, e] of m.entries) if (e.type === 'file') mirror.ids.set(e.id, p);
  }

  ops(name?: Op['op']): Op[] {
    const out: Op[] = [];
    for (const r of this.records) if (r.kind === 'op' && (name === undefined || r.op.op === name)) out.push(r.op);
    return out;
  }

  writtenBytes(): number {
    let n = 0;
    for (const op of this.ops('write')) if (op.op === 'write') n += op.data.length;
    return n;
  }

  checkpoints(): Extract<Record, { kind: 'checkpoint' }>['checkpoint'][] {
    const out = [];
    for (const r of this.records) if (r.kind === 'checkpoint') out.push(r.checkpoint);
    return out;
  }

  async push(record: Record, done?: () => void): Promise<number | false> {
    let decoded: Record;
    try {
      if (this.budget <= 0) return false;
      this.budget--;
      // A copy: the write's data may be arena memory, used again once done() is called.
      decoded = decodeRecord(encodeRecord(record, { compress: true }));
    } finally {
      done?.();
    }
    await this.onRecord?.(decoded);
    await this.apply(decoded);
    this.records.push(decoded);
    return ++this.seq;
  }

  private async apply(r: Record): Promise<void> {
    if (r.kind === 'checkpoint') {
      for (const v of r.checkpoint.volumes) {
        const mirror = this.mirrors.get(v.volume);
        if (mirror === undefined) throw new Error(`checkpoint names unknown volume ${v.volume}`);
        const have = mirror.kind === 'fs' ? await treeDigest(mirror.root) : digestOfBytes(await readFile(mirror.image));
        if (!have.equals(v.digest)) throw new Error(`checkpoint digest of ${v.volume} does not match the mirror`);
      }
      return;
    }
    const mirror = this.mirrors.get(r.volume);
    if (mirror === undefined) throw new Error(`op on unknown volume ${r.volume}`);
    if (mirror.kind === 'block') return this.applyBlock(mirror, r.op);
    return this.applyFs(mirror, r.op);
  }

  private async applyBlock(m: BlockMirror, op: Op): Promise<void> {
    if (op.op === 'write' && op.id === 0) return writeAt(m.image, op.offset, op.data);
    if (op.op === 'truncate' && op.id === 0) return truncate(m.image, op.size);
    throw new Error(`block volume got ${op.op} ${JSON.stringify(op).slice(0, 100)}`);
  }

  private async applyFs(m: FsMirror, op: Op): Promise<void> {
    const abs = (p: string): string => join(m.root, p);
    const parentIsDir = async (p: string): Promise<void> => {
      const i = p.lastIndexOf('/');
      if (i < 0) return;
      const s = await lstat(abs(p.slice(0, i)));
      if (!s.isDirectory()) throw new Error(`parent of ${p} is not a folder`);
    };
    const pathOf = (id: number): string => {
      const p = m.ids.get(id);
      if (p === undefined) throw new Error(`${op.op} of unknown file id ${id}`);
      return p;
    };
    switch (op.op) {
      case 'mkdir':
        await parentIsDir(op.path);
        await mkdir(abs(op.path));
        await chmod(abs(op.path), op.mode);
        return;
      case 'create': {
        await parentIsDir(op.path);
        if (m.ids.has(op.id)) throw new Error(`create reuses file id ${op.id}`);
        await writeFile(abs(op.path), '', { flag: 'wx' });
        await chmod(abs(op.path), op.mode);
        m.ids.set(op.id, op.path);
        return;
      }
      case 'symlink':
        await parentIsDir(op.path);
        await symlink(op.target, abs(op.path));
        return;
      case 'write':
        return writeAt(abs(pathOf(op.id)), op.offset, op.data);
      case 'truncate':
        return truncate(abs(pathOf(op.id)), op.size);
      case 'chmod':
        await chmod(abs(op.path), op.mode);
        return;
      case 'digest': {
        const data = await readFile(abs(pathOf(op.id)));
        if (data.length !== op.size || !digestOfBytes(data).equals(op.digest)) {
          throw new Error(`digest of file ${op.id} (${pathOf(op.id)}) does not match the mirror`);
        }
        return;
      }
      case 'unlink': {
        const s = await lstat(abs(op.path));
        if (s.isDirectory()) await rmdir(abs(op.path));
        else await unlink(abs(op.path));
        for (const [id, p] of m.ids) if (p === op.path) m.ids.delete(id);
        return;
      }
      case 'rename': {
        await parentIsDir(op.to);
        await rename(abs(op.from), abs(op.to));
        for (const [id, p] of m.ids) if (p === op.to) m.ids.delete(id);
        for (const [id, p] of m.ids) {
          if (p === op.from) m.ids.set(id, op.to);
          else if (p.startsWith(`${op.from}/`)) m.ids.set(id, op.to + p.slice(op.from.length));
        }
        return;
      }
    }
  }
}

async function writeAt(path: string, offset: number, data: Uint8Array): Promise<void> {
  const h = await open(path, 'r+');
  try {
    await h.write(data, 0, data.length, offset);
  } finally {
    await h.close();
  }
}
