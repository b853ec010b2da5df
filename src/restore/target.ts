// Where a restore writes, and how it makes that safe to fail and to run again (the writers are
// writers.ts).
//
// A folder (fs volume): everything goes into DIR/.zcsp-restore-partial first. Only once the end
// marker and every checksum were checked and every file is fsync'd does it move into place:
// DIR/.zcsp-restore-moving (written durably) lists the top-level names about to be renamed from
// the partial folder into DIR, then they are renamed, folder modes set and folders fsync'd, --verify
// run, and the marker removed. So DIR holds either nothing of a restore, or a partial folder and
// maybe a marker: a failed run (killed, cut off, refused) leaves only what the next run recognises
// as its own and clears first (the partial folder, and the names the marker lists).
//
// An image (block volume): a new file is written as FILE.zcsp-restore-partial beside it, fsync'd
// and renamed over; a block device is written in place (a re-run overwrites it whole).
import { lstat, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDir } from '../replicator/durable.ts';

export const PARTIAL = '.zcsp-restore-partial';
export const MOVING = '.zcsp-restore-moving';
/** A fresh ext4 volume has an empty lost+found: a folder holding only that counts as empty. */
const IGNORABLE = 'lost+found';

/** A problem with the target or the restore that the user must see as is (no stack). */
export class RestoreError extends Error {
  override readonly name = 'RestoreError';
}

export type TargetPlan =
  | { what: 'missing' }
  | { what: 'folder' }
  | { what: 'device'; size: number | undefined };

/**
 * Looks at --into before anything is fetched: clears what a failed run left, and refuses a folder
 * that is not empty or an existing regular file.
 */
export async function inspectTarget(into: string): Promise<TargetPlan> {
  const st = await lstat(into).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  });
  if (st === undefined) {
    await rm(`${into}${PARTIAL}`, { force: true });
    return { what: 'missing' };
  }
  if (st.isBlockDevice()) return { what: 'device', size: await deviceSize(st.rdev) };
  if (st.isFile()) throw new RestoreError(`--into ${into} exists: an image is restored into a new file or a block device, a volume into an empty folder`);
  if (!st.isDirectory()) throw new RestoreError(`--into ${into} is neither a folder nor a block device (a symlink is refused too)`);
  await clearLeftovers(into);
  const names = (await readdir(into)).filter((n) => n !== IGNORABLE);
  const lostFound = await readdir(join(into, IGNORABLE)).catch(() => []);
  if (names.length > 0 || lostFound.length > 0) {
    const example = names[0] ?? `${IGNORABLE}/${lostFound[0] ?? ''}`;
    throw new RestoreError(`--into ${into} is not empty (${names.length + (lostFound.length > 0 ? 1 : 0)} entries, e.g. ${JSON.stringify(example)}): restore writes only into an empty folder`);
  }
  return { what: 'folder' };
}

/** What a failed run left in a folder: the names its marker lists, its partial folder, the marker. */
export async function clearLeftovers(dir: string): Promise<void> {
  const marker = join(dir, MOVING);
  const listed = await readFile(marker, 'utf8').then((t) => JSON.parse(t) as unknown, () => undefined);
  if (Array.isArray(listed)) {
    for (const name of listed) {
      if (typeof name === 'string' && name !== '' && !name.includes('/') && name !== '.' && name !== '..') await rm(join(dir, name), { recursive: true, force: true });
    }
  }
  await rm(join(dir, PARTIAL), { recursive: true, force: true });
  await rm(marker, { force: true });
  await syncDir(dir);
}

/** The size of a block device from sysfs (Linux); undefined when it cannot be read. */
async function deviceSize(rdev: number): Promise<number | undefined> {
  const major = (rdev >>> 8) & 0xfff;
  const minor = (rdev & 0xff) | ((rdev >>> 12) & 0xfff00);
  const sectors = await readFile(`/sys/dev/block/${major}:${minor}/size`, 'utf8').catch(() => undefined);
  return sectors === undefined ? undefined : Number(sectors.trim()) * 512;
}
