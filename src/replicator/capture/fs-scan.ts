// Looks at a volume's tree without following symlinks: what is where, with the stat fields that
// tell whether a file changed since it was last read. Entries that vanish or change while looked
// at are left out (the next pass sees them); sockets, fifos, devices and names that are not UTF-8
// (records carry UTF-8 paths) are skipped and counted.
import { lstatSync, readlinkSync, type BigIntStats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { MODE_MASK } from '../ops.ts';
import { pathProblem } from '../paths.ts';
import { errorCode } from './volume-capture.ts';

export type NodeType = 'file' | 'dir' | 'symlink';

/** One entry as seen on disk. `inode` is its identity (inodeOf): what renames keep. */
export interface Seen {
  type: NodeType;
  inode: string;
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
  mode: number;
  /** Hard links: a change through one name is hinted only for that name. */
  nlink: number;
  /** Symlinks only. */
  target?: string;
}

export interface ScanCounts {
  /** Sockets, fifos, block and character devices. */
  special: number;
  /** Names or link targets that are not valid UTF-8 or not valid volume paths. */
  badNames: number;
  /** Entries that vanished or changed type while looked at. */
  raced: number;
  /** Paths stat'ed: what a pass cost in looking, before any reading. */
  looked: number;
}

export function newCounts(): ScanCounts {
  return { special: 0, badNames: 0, raced: 0, looked: 0 };
}

/** Errors meaning "it is not there (any more) as a walkable thing": not failures. */
const GONE = new Set(['ENOENT', 'ENOTDIR', 'ELOOP']);

export function isGone(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && GONE.has(code);
}

/**
 * An entry's identity: device, inode and birth time. Inode numbers are reused at once (a folder
 * deleted and created again often gets the same one); the birth time tells them apart where
 * the filesystem records it (ext4, xfs, btrfs, tmpfs).
 */
export function inodeOf(s: Pick<BigIntStats, 'dev' | 'ino' | 'birthtimeNs'>): string {
  return `${s.dev}:${s.ino}:${s.birthtimeNs}`;
}

function utf8(name: Buffer): string | undefined {
  const s = name.toString('utf8');
  return Buffer.from(s).equals(name) ? s : undefined;
}

export function absOf(root: string, rel: string): string {
  return rel === '' ? root : join(root, rel);
}

/**
 * What looking at one path found: a plain object, so that it crosses from a worker thread (a
 * hinted pass looks at its paths there in batches, see hash-pool.ts). `raced`: a link that
 * vanished between lstat and readlink; `badName`: a link target that is no volume path.
 */
export type Looked =
  | { kind: 'seen'; seen: Seen }
  | { kind: 'gone' }
  | { kind: 'raced' }
  | { kind: 'badName' }
  | { kind: 'special' }
  | { kind: 'failed'; message: string; code?: string };

/** What an lstat says, a link's target read by `target` (Raced: it vanished or changed type). */
function classify(s: BigIntStats, target: () => Buffer | typeof RACED): Looked {
  const base = { inode: inodeOf(s), size: Number(s.size), mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs, mode: Number(s.mode) & MODE_MASK, nlink: Number(s.nlink) };
  if (s.isFile()) return { kind: 'seen', seen: { type: 'file', ...base } };
  if (s.isDirectory()) return { kind: 'seen', seen: { type: 'dir', ...base, size: 0 } };
  if (!s.isSymbolicLink()) return { kind: 'special' };
  const raw = target();
  if (raw === RACED) return { kind: 'raced' };
  const text = utf8(raw);
  if (text === undefined || text === '' || text.length > 4096) return { kind: 'badName' };
  return { kind: 'seen', seen: { type: 'symlink', ...base, size: 0, target: text } };
}

const RACED = Symbol('raced');

function failedLook(err: unknown): Looked {
  if (isGone(err)) return { kind: 'gone' };
  const code = errorCode(err);
  return { kind: 'failed', message: (err as Error).message, ...(code !== undefined && { code }) };
}

function linkRaced(err: unknown): boolean {
  return errorCode(err) === 'ENOENT' || errorCode(err) === 'EINVAL';
}

/** Looks at one path (absolute) with blocking calls: for a worker thread, never the main one. */
export function lookSync(abs: string): Looked {
  let s: BigIntStats;
  try {
    s = lstatSync(abs, { bigint: true });
  } catch (err: unknown) {
    return failedLook(err);
  }
  try {
    return classify(s, () => {
      try {
        return readlinkSync(abs, { encoding: 'buffer' });
      } catch (err: unknown) {
        if (linkRaced(err)) return RACED;
        throw err;
      }
    });
  } catch (err: unknown) {
    return failedLook(err);
  }
}

/** The same, without blocking. */
export async function look(abs: string): Promise<Looked> {
  let s: BigIntStats;
  try {
    s = await lstat(abs, { bigint: true });
  } catch (err: unknown) {
    return failedLook(err);
  }
  if (!s.isSymbolicLink()) return classify(s, () => RACED);
  let raw: Buffer | typeof RACED;
  try {
    raw = await readlink(abs, { encoding: 'buffer' });
  } catch (err: unknown) {
    if (!linkRaced(err)) return failedLook(err);
    raw = RACED;
  }
  return classify(s, () => raw);
}

/**
 * What a look means for a pass: the entry, or undefined when it is gone, special or unusable
 * (counted); a failure other than "gone" throws, with its code.
 */
export function counted(l: Looked, counts: ScanCounts): Seen | undefined {
  counts.looked++;
  switch (l.kind) {
    case 'seen':
      return l.seen;
    case 'gone':
      return undefined;
    case 'raced':
      counts.raced++;
      return undefined;
    case 'badName':
      counts.badNames++;
      return undefined;
    case 'special':
      counts.special++;
      return undefined;
    case 'failed':
      throw Object.assign(new Error(l.message), l.code === undefined ? {} : { code: l.code });
  }
}

/** Stats one path; undefined when it is gone, special or unusable (counted). */
export async function scanOne(root: string, rel: string, counts: ScanCounts): Promise<Seen | undefined> {
  return counted(await look(absOf(root, rel)), counts);
}

export interface ScanOptions {
  /** Only the folder's own entries; default false. */
  flat?: boolean;
  /** Called for each folder (with its inode when known) before it is listed. */
  onFolder?: (rel: string, inode: string | undefined) => void;
  /**
   * Looks at many paths (absolute) at once, results in order: a hash worker's batch (HashPool.look).
   * Without it, a folder's entries are looked at here, a few side by side.
   */
  lookMany?: (abs: string[]) => Promise<Looked[]>;
}

/** Paths looked at in one lookMany call (one message to a hash worker), at most. */
export const LOOK_MANY = 256;

/**
 * Adds everything under folder `rel` ('' = the root) to `out`, recursively unless `flat`.
 * The folder is stat'ed again after listing it, so a folder swapped for a symlink in between
 * (as `out` knew it) is not walked.
 */
export async function scanTree(root: string, rel: string, out: Map<string, Seen>, counts: ScanCounts, options: ScanOptions = {}): Promise<void> {
  const abs = absOf(root, rel);
  const before = rel === '' ? undefined : out.get(rel);
  let names: Buffer[];
  options.onFolder?.(rel, before?.inode);
  try {
    const dirents = await readdir(abs, { withFileTypes: true, encoding: 'buffer' });
    names = dirents.map((d) => d.name);
    if (before !== undefined) {
      const after = await lstat(abs, { bigint: true });
      if (!after.isDirectory() || inodeOf(after) !== before.inode) throw Object.assign(new Error('changed'), { code: 'ENOTDIR' });
    }
  } catch (err: unknown) {
    // The root itself gone is not a race: an empty view would remove everything on the replica.
    if (isGone(err) && rel !== '') {
      counts.raced++;
      return;
    }
    throw err;
  }
  const children: string[] = [];
  for (const raw of names) {
    const name = utf8(raw);
    const path = name === undefined ? undefined : rel === '' ? name : `${rel}/${name}`;
    if (path === undefined || pathProblem(path) !== undefined) {
      counts.badNames++;
      continue;
    }
    children.push(path);
  }
  // A folder's entries are looked at in batches on a hash worker, or a few at a time here: one at
  // a time is bound by thread-pool round trips.
  const dirs: string[] = [];
  const lookMany = options.lookMany;
  const step = lookMany === undefined ? 32 : LOOK_MANY;
  for (let i = 0; i < children.length; i += step) {
    const batch = children.slice(i, i + step);
    const seen =
      lookMany === undefined
        ? await Promise.all(batch.map((p) => scanOne(root, p, counts)))
        : (await lookMany(batch.map((p) => absOf(root, p)))).map((l) => counted(l, counts));
    if (seen.length !== batch.length) throw new Error(`looked at ${seen.length} of ${batch.length} entries of ${abs}`);
    seen.forEach((s, k) => {
      const p = batch[k];
      if (s === undefined || p === undefined) return;
      out.set(p, s);
      if (s.type === 'dir') dirs.push(p);
    });
  }
  if (options.flat === true) return;
  // Sibling folders side by side (disjoint subtrees), a few at a time.
  for (let i = 0; i < dirs.length; i += 4) await Promise.all(dirs.slice(i, i + 4).map((d) => scanTree(root, d, out, counts, options)));
}

/** Removes `rel` and everything under it from a view. */
/**
 * A view of the tree that remembers which paths were set or deleted since `touched` was last
 * cleared: what a hinted pass changed in it, the only paths where the replica can differ from
 * it (see FsCapture.look).
 */
export class TouchMap extends Map<string, Seen> {
  // Made empty only: given entries, Map's constructor would call set() before the fields exist.
  readonly touched = new Set<string>();
  // Kept as entries come and go, so a hinted pass costs what changed, not what the view holds
  // (walking every entry three times a pass: 21-26 ms at 200 000 files with 10 changed, 3 ms now).
  /** Files with more than one name. */
  readonly linked = new Set<string>();
  /** Bytes of the files in the view. */
  fileBytes = 0;
  /** A folder came, went or was replaced since the caller last cleared this (what change hints' watches follow). */
  foldersChanged = false;

  override set(path: string, seen: Seen): this {
    this.touched.add(path);
    this.account(path, super.get(path), seen);
    return super.set(path, seen);
  }

  override delete(path: string): boolean {
    this.touched.add(path);
    this.account(path, super.get(path), undefined);
    return super.delete(path);
  }

  override clear(): void {
    for (const path of this.keys()) this.touched.add(path);
    super.clear();
    this.linked.clear();
    this.fileBytes = 0;
    this.foldersChanged = true;
  }

  private account(path: string, was: Seen | undefined, now: Seen | undefined): void {
    if (was?.type === 'file') this.fileBytes -= was.size;
    if (now?.type === 'file') this.fileBytes += now.size;
    if (now?.type === 'file' && now.nlink > 1) this.linked.add(path);
    else if (was?.type === 'file' && was.nlink > 1) this.linked.delete(path);
    const wasDir = was?.type === 'dir' ? was.inode : undefined;
    const nowDir = now?.type === 'dir' ? now.inode : undefined;
    if (wasDir !== nowDir) this.foldersChanged = true;
  }
}

export function dropSubtree(view: Map<string, Seen>, rel: string): void {
  const was = view.get(rel);
  view.delete(rel);
  if (was?.type !== 'dir') return;
  const prefix = `${rel}/`;
  for (const k of view.keys()) if (k.startsWith(prefix)) view.delete(k);
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}
