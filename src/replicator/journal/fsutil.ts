import { rename, unlink } from 'node:fs/promises';
import { syncDir } from '../durable.ts';

/** Counts fsyncs (of files and folders) so stats() can show how well group commit coalesces. */
export interface SyncCounter {
  syncs: number;
}

/** Makes a file's creation, rename or removal in `dir` durable. */
export async function fsyncDir(dir: string, counter: SyncCounter): Promise<void> {
  await syncDir(dir);
  counter.syncs++;
}

export async function unlinkIfThere(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Renames `from` to `to`; false when `from` is not there. */
export async function renameIfThere(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to);
    return true;
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
