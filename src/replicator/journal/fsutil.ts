import { open, unlink } from 'node:fs/promises';

/** Counts fsyncs (of files and folders) so stats() can show how well group commit coalesces. */
export interface SyncCounter {
  syncs: number;
}

/** Makes a file's creation, rename or removal in `dir` durable. */
export async function fsyncDir(dir: string, counter: SyncCounter): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
    counter.syncs++;
  } finally {
    await fh.close();
  }
}

export async function unlinkIfThere(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
