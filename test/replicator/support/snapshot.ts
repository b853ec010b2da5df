// What a volume holds, byte for byte, in memory: taken of the source at a checkpoint and compared
// with what materialising that checkpoint gives. Modes and symlink targets count.
import { readdirSync, readFileSync, readlinkSync, lstatSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export type SnapshotEntry =
  | { type: 'dir'; mode: number }
  | { type: 'file'; mode: number; size: number; sha: string }
  | { type: 'symlink'; target: string };

export type Snapshot = Map<string, SnapshotEntry>;

export function snapshotTree(root: string): Snapshot {
  const out: Snapshot = new Map();
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const full = join(root, path);
      const st = lstatSync(full);
      if (st.isSymbolicLink()) out.set(path, { type: 'symlink', target: readlinkSync(full) });
      else if (st.isDirectory()) {
        out.set(path, { type: 'dir', mode: st.mode & 0o7777 });
        walk(path);
      } else if (st.isFile()) {
        out.set(path, { type: 'file', mode: st.mode & 0o7777, size: st.size, sha: createHash('sha256').update(readFileSync(full)).digest('hex') });
      }
    }
  };
  walk('');
  return out;
}

export function snapshotImage(path: string): { size: number; sha: string } {
  const data = readFileSync(path);
  return { size: data.length, sha: createHash('sha256').update(data).digest('hex') };
}

/** The differences, one line each (empty when equal): what a failing test prints. */
export function diffSnapshots(expected: Snapshot, actual: Snapshot): string[] {
  const out: string[] = [];
  for (const [path, e] of expected) {
    const a = actual.get(path);
    if (a === undefined) out.push(`missing ${e.type} ${path}`);
    else if (JSON.stringify(a) !== JSON.stringify(e)) out.push(`${path}: expected ${JSON.stringify(e)}, got ${JSON.stringify(a)}`);
  }
  for (const [path, a] of actual) if (!expected.has(path)) out.push(`unexpected ${a.type} ${path}`);
  return out;
}
