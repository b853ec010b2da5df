// Finds renames: a path that vanished and a path that appeared with the same inode and type.
// A folder's rename moves its children with it, so a child's pair is left out when moving the
// folder already puts the child where it now is.
import type { ManifestEntry } from '../manifest.ts';
import { parentsOf } from '../paths.ts';
import type { Seen } from './fs-scan.ts';

export interface RenamePair {
  from: string;
  to: string;
}

/**
 * `recorded` is the stat each manifest path had when last synced (no entry: unknown, e.g. after
 * adopt). Returns the renames to perform, children implied by their folder's rename left out.
 * With `scope`, only those paths can have vanished or appeared (a hinted pass: everywhere else
 * the tree is as the last pass left it).
 */
export function findRenames(
  entries: ReadonlyMap<string, ManifestEntry>,
  recorded: ReadonlyMap<string, Pick<Seen, 'inode'>>,
  current: ReadonlyMap<string, Seen>,
  scope?: ReadonlySet<string>,
): RenamePair[] {
  // key → vanished path; null when two vanished paths share it (hard links): no guessing.
  const vanished = new Map<string, string | null>();
  for (const path of scope ?? entries.keys()) {
    const entry = entries.get(path);
    if (entry === undefined || entry.type === 'symlink') continue;
    const rec = recorded.get(path);
    if (rec === undefined) continue;
    const now = current.get(path);
    if (now?.type === entry.type && now.inode === rec.inode) continue;
    const key = `${entry.type}:${rec.inode}`;
    vanished.set(key, vanished.has(key) ? null : path);
  }
  if (vanished.size === 0) return [];
  const moves = new Map<string, string>();
  for (const path of scope ?? current.keys()) {
    const now = current.get(path);
    if (now === undefined || now.type === 'symlink') continue;
    const entry = entries.get(path);
    if (entry?.type === now.type && recorded.get(path)?.inode === now.inode) continue;
    const key = `${now.type}:${now.inode}`;
    const from = vanished.get(key);
    if (typeof from !== 'string') continue;
    vanished.set(key, null);
    moves.set(from, path);
  }
  const out: RenamePair[] = [];
  for (const [from, to] of moves) {
    let natural = from;
    const ancestors = parentsOf(from);
    for (let i = ancestors.length - 1; i >= 0; i--) {
      const a = ancestors[i];
      const dest = a === undefined ? undefined : moves.get(a);
      if (a !== undefined && dest !== undefined) {
        natural = dest + from.slice(a.length);
        break;
      }
    }
    if (natural !== to) out.push({ from, to });
  }
  return out;
}
