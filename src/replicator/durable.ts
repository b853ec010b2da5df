// Files that must survive a crash whole: written beside, fsync'd, renamed over, and the folder
// fsync'd so the rename itself is on disk. The replica's state, the VRA's stream configurations
// and TLS identity, and the journal's folders use these.
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Makes a creation, rename or removal of an entry of `dir` durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Replaces `path` with `data` atomically and durably: a crash leaves the old content or the new. */
export async function writeFileDurably(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await syncDir(dirname(path));
}
