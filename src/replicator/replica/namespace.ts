// A filesystem volume's namespace: path → folder / file (by id) / symlink, and per file id its
// mode, the paths that name it (more than one: hard links) and the last digest the source sent.
// Namespace ops change only this in-memory map, so the replica can replay them after a crash from
// its last committed copy, and materialise and verify can follow ids through renames.
import type { FileId } from '../ops.ts';
import { checkLinkTarget, pathProblem } from '../paths.ts';

export type NsEntry = { type: 'dir'; mode: number } | { type: 'file'; id: FileId } | { type: 'symlink'; target: string };

export interface FileInfo {
  mode: number;
  paths: Set<string>;
  digest?: { size: number; digest: Uint8Array };
}

/** Why an op cannot apply; the caller adds seq, volume and op. */
export class NamespaceProblem extends Error {
  override readonly name = 'NamespaceProblem';
}

/** The on-disk form (JSON). */
export interface NamespaceJson {
  entries: ([string, 'd', number] | [string, 'f', number] | [string, 'l', string])[];
  files: ([number, number] | [number, number, number, string])[];
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

export class Namespace {
  readonly entries = new Map<string, NsEntry>();
  readonly files = new Map<FileId, FileInfo>();
  /** Entries directly inside each folder ('' is the root). */
  private readonly childCount = new Map<string, number>([['', 0]]);

  clone(): Namespace {
    const ns = new Namespace();
    for (const [path, e] of this.entries) ns.entries.set(path, e);
    for (const [id, f] of this.files) ns.files.set(id, { ...f, paths: new Set(f.paths) });
    for (const [path, n] of this.childCount) ns.childCount.set(path, n);
    return ns;
  }

  /** Throws unless the file id names a live file. */
  file(id: FileId): FileInfo {
    const f = this.files.get(id);
    if (f === undefined) throw new NamespaceProblem(`id ${id} is not a file of the volume`);
    return f;
  }

  mkdir(path: string, mode: number): void {
    this.checkNew(path);
    this.add(path, { type: 'dir', mode });
    this.childCount.set(path, 0);
  }

  /** A new file at `path`; returns a path already naming the id (a hard link), if any. */
  create(path: string, id: FileId, mode: number): string | undefined {
    this.checkNew(path);
    const f = this.files.get(id);
    const linkedFrom = f === undefined ? undefined : f.paths.values().next().value;
    if (f === undefined) this.files.set(id, { mode, paths: new Set([path]) });
    else {
      f.mode = mode;
      f.paths.add(path);
      delete f.digest;
    }
    this.add(path, { type: 'file', id });
    return linkedFrom;
  }

  symlink(path: string, target: string): void {
    this.checkNew(path);
    try {
      checkLinkTarget('target', target);
    } catch (err: unknown) {
      throw new NamespaceProblem((err as Error).message);
    }
    this.add(path, { type: 'symlink', target });
  }

  /** Removes a file, symlink or empty folder; returns what it was. */
  unlink(path: string): NsEntry {
    const e = this.existing(path);
    if (e.type === 'dir' && (this.childCount.get(path) ?? 0) > 0) throw new NamespaceProblem(`${JSON.stringify(path)} is a folder that is not empty`);
    this.remove(path, e);
    return e;
  }

  /** Moves `from` to `to`, replacing a file, symlink or empty folder there; returns what it replaced. */
  rename(from: string, to: string): NsEntry | undefined {
    const e = this.existing(from);
    this.checkPathShape(to);
    this.checkParent(to);
    if (from === to) return undefined;
    if (e.type === 'dir' && to.startsWith(`${from}/`)) throw new NamespaceProblem(`cannot move folder ${JSON.stringify(from)} into itself (${JSON.stringify(to)})`);
    const replaced = this.entries.get(to);
    if (replaced !== undefined) this.unlink(to);
    this.entries.delete(from);
    const fromParent = parentOf(from);
    this.childCount.set(fromParent, (this.childCount.get(fromParent) ?? 1) - 1);
    this.add(to, e);
    if (e.type === 'file') {
      const paths = this.file(e.id).paths;
      paths.delete(from);
      paths.add(to);
    }
    if (e.type === 'dir') {
      const prefix = `${from}/`;
      const moved: [string, NsEntry][] = [];
      for (const [path, child] of this.entries) if (path.startsWith(prefix)) moved.push([path, child]);
      for (const [path, child] of moved) {
        const dest = `${to}/${path.slice(prefix.length)}`;
        this.entries.delete(path);
        this.entries.set(dest, child);
        if (child.type === 'file') {
          const paths = this.file(child.id).paths;
          paths.delete(path);
          paths.add(dest);
        }
        if (child.type === 'dir') {
          this.childCount.set(dest, this.childCount.get(path) ?? 0);
          this.childCount.delete(path);
        }
      }
      this.childCount.set(to, moved.filter(([path]) => !path.slice(prefix.length).includes('/')).length);
      this.childCount.delete(from);
    }
    return replaced;
  }

  chmod(path: string, mode: number): void {
    const e = this.existing(path);
    if (e.type === 'symlink') throw new NamespaceProblem(`${JSON.stringify(path)} is a symlink (its mode is not kept)`);
    if (e.type === 'dir') this.entries.set(path, { type: 'dir', mode });
    else this.file(e.id).mode = mode;
  }

  digest(id: FileId, size: number, digest: Uint8Array): void {
    this.file(id).digest = { size, digest };
  }

  /** Entries sorted so every folder comes before what it holds. */
  sorted(): [string, NsEntry][] {
    return [...this.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  toJSON(): NamespaceJson {
    const entries: NamespaceJson['entries'] = [];
    for (const [path, e] of this.entries) {
      if (e.type === 'dir') entries.push([path, 'd', e.mode]);
      else if (e.type === 'file') entries.push([path, 'f', e.id]);
      else entries.push([path, 'l', e.target]);
    }
    const files: NamespaceJson['files'] = [];
    for (const [id, f] of this.files) {
      if (f.digest === undefined) files.push([id, f.mode]);
      else files.push([id, f.mode, f.digest.size, Buffer.from(f.digest.digest).toString('hex')]);
    }
    return { entries, files };
  }

  /** Rebuilds and checks a namespace read from disk (every parent a folder, every id known). */
  static fromJSON(json: NamespaceJson): Namespace {
    const ns = new Namespace();
    for (const row of json.files) {
      const [id, mode, size, hex] = row;
      const info: FileInfo = { mode, paths: new Set() };
      if (size !== undefined && hex !== undefined) info.digest = { size, digest: Buffer.from(hex, 'hex') };
      ns.files.set(id, info);
    }
    const rows = [...json.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const row of rows) {
      const path = row[0];
      ns.checkNew(path);
      if (row[1] === 'd') {
        ns.add(path, { type: 'dir', mode: row[2] });
        ns.childCount.set(path, 0);
      } else if (row[1] === 'f') {
        const f = ns.file(row[2]);
        f.paths.add(path);
        ns.add(path, { type: 'file', id: row[2] });
      } else ns.add(path, { type: 'symlink', target: row[2] });
    }
    for (const [id, f] of ns.files) if (f.paths.size === 0) throw new NamespaceProblem(`file id ${id} has no path`);
    return ns;
  }

  private existing(path: string): NsEntry {
    this.checkPathShape(path);
    const e = this.entries.get(path);
    if (e === undefined) throw new NamespaceProblem(`${JSON.stringify(path)} does not exist`);
    return e;
  }

  private checkPathShape(path: string): void {
    const problem = pathProblem(path);
    if (problem !== undefined) throw new NamespaceProblem(`path ${JSON.stringify(path)} ${problem}`);
  }

  private checkParent(path: string): void {
    const parent = parentOf(path);
    if (parent === '') return;
    const p = this.entries.get(parent);
    if (p === undefined) throw new NamespaceProblem(`parent ${JSON.stringify(parent)} of ${JSON.stringify(path)} does not exist`);
    if (p.type !== 'dir') throw new NamespaceProblem(`parent ${JSON.stringify(parent)} of ${JSON.stringify(path)} is a ${p.type === 'file' ? 'file' : 'symlink'}, not a folder`);
  }

  private checkNew(path: string): void {
    this.checkPathShape(path);
    if (this.entries.has(path)) throw new NamespaceProblem(`${JSON.stringify(path)} already exists`);
    this.checkParent(path);
  }

  private add(path: string, e: NsEntry): void {
    this.entries.set(path, e);
    const parent = parentOf(path);
    this.childCount.set(parent, (this.childCount.get(parent) ?? 0) + 1);
  }

  private remove(path: string, e: NsEntry): void {
    this.entries.delete(path);
    const parent = parentOf(path);
    this.childCount.set(parent, (this.childCount.get(parent) ?? 1) - 1);
    if (e.type === 'dir') this.childCount.delete(path);
    if (e.type === 'file') {
      const f = this.file(e.id);
      f.paths.delete(path);
      if (f.paths.size === 0) this.files.delete(e.id);
    }
  }
}
