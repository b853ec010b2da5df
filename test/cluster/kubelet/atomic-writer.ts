// The kubelet's AtomicWriter layout for configMap, secret, downwardAPI and projected volumes, so a
// container sees an update all at once and apps that watch `..data` (as many do) work here too:
//
//   <dir>/..2024_05_01_10_00_00.123.aB3dE9/   the files of one version
//   <dir>/..data -> ..2024_05_01_10_00_00.123.aB3dE9
//   <dir>/<name> -> ..data/<name>               one symlink per top-level name
//
// An update writes a new version folder, renames a fresh `..data_tmp` symlink over `..data`
// (atomic), fixes the top-level symlinks, and removes the old version.
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';

export interface FileProjection {
  data: Buffer;
  /** Permission bits, e.g. 0o644. */
  mode: number;
}

/** Relative path in the volume → content. */
export type Payload = ReadonlyMap<string, FileProjection>;

const DATA = '..data';
const DATA_TMP = '..data_tmp';

/** Writes the payload if it differs from what is there; returns whether it wrote. */
export async function writeAtomically(dir: string, payload: Payload): Promise<boolean> {
  for (const path of payload.keys()) validatePath(path);
  await mkdir(dir, { recursive: true });
  const current = await readCurrent(dir);
  if (current !== undefined && samePayload(current, payload)) return false;

  const previous = await readlink(join(dir, DATA)).catch(() => undefined);
  const version = await mkdtemp(join(dir, `..${stamp(new Date())}.`));
  await chmod(version, 0o755);
  for (const [path, file] of payload) {
    const target = join(version, path);
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
    await writeFile(target, file.data);
    await chmod(target, file.mode);
  }

  await rm(join(dir, DATA_TMP), { force: true });
  await symlink(basename(version), join(dir, DATA_TMP));
  await rename(join(dir, DATA_TMP), join(dir, DATA));

  const names = new Set([...payload.keys()].map((p) => p.split('/')[0] as string));
  for (const name of names) {
    const link = join(dir, name);
    const existing = await lstat(link).catch(() => undefined);
    if (existing === undefined) await symlink(posix.join(DATA, name), link);
  }
  for (const entry of await readdir(dir)) {
    if (entry.startsWith('..') || names.has(entry)) continue;
    await rm(join(dir, entry), { recursive: true, force: true });
  }
  if (previous !== undefined && previous !== basename(version)) await rm(join(dir, previous), { recursive: true, force: true });
  return true;
}

/** The files of the current version, or undefined when nothing was written yet. */
export async function readCurrent(dir: string): Promise<Map<string, FileProjection> | undefined> {
  const root = join(dir, DATA);
  const exists = await stat(root).catch(() => undefined);
  if (exists?.isDirectory() !== true) return undefined;
  const files = new Map<string, FileProjection>();
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(root, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) await walk(path);
      else {
        const full = join(root, path);
        files.set(path, { data: await readFile(full), mode: (await stat(full)).mode & 0o777 });
      }
    }
  };
  await walk('');
  return files;
}

function samePayload(a: Payload, b: Payload): boolean {
  if (a.size !== b.size) return false;
  for (const [path, file] of b) {
    const other = a.get(path);
    if (other === undefined || other.mode !== (file.mode & 0o777) || !other.data.equals(file.data)) return false;
  }
  return true;
}

/** Item paths as the API validates them: relative, no "..", not starting with "..". */
export function validatePath(path: string): void {
  if (path === '' || path.startsWith('/') || path.split('/').some((p) => p === '..' || p === '') || path.startsWith('..')) {
    throw new Error(`invalid volume file path "${path}"`);
  }
}

function stamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}`;
}
