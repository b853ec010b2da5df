// Hashes of what is on disk, the way hash.ts defines them: block hashes and content digests of
// files and images, and the entries of a materialised tree (never following a symlink).
import { constants } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BLOCK_SIZE, HASH_BYTES, blockCount, blockHashInto, contentDigest } from '../hash.ts';

const READ_BLOCKS = 16;

export interface FileHashes {
  size: number;
  hashes: Buffer;
  digest: Buffer;
}

/** Block hashes and content digest of a regular file (opened without following a symlink). */
export async function hashFile(path: string): Promise<FileHashes> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const size = (await fh.stat()).size;
    const hashes = Buffer.alloc(blockCount(size) * HASH_BYTES);
    const buf = Buffer.allocUnsafe(BLOCK_SIZE * READ_BLOCKS);
    let pos = 0;
    let block = 0;
    while (pos < size) {
      const want = Math.min(buf.length, size - pos);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(buf, got, want - got, pos + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      for (let off = 0; off < got; off += BLOCK_SIZE) {
        blockHashInto(buf.subarray(off, Math.min(off + BLOCK_SIZE, got)), hashes, block * HASH_BYTES);
        block++;
      }
      pos += got;
      if (got < want) break;
    }
    const actual = hashes.subarray(0, block * HASH_BYTES);
    return { size: pos, hashes: actual, digest: contentDigest(pos, actual) };
  } finally {
    await fh.close();
  }
}

export type TreeEntry =
  | { type: 'dir'; mode: number }
  | { type: 'file'; mode: number; path: string }
  | { type: 'symlink'; target: string }
  | { type: 'other'; what: string };

/** Every entry under `root` (relative path → entry), depth first, symlinks read not followed. */
export async function walkTree(root: string): Promise<Map<string, TreeEntry>> {
  const out = new Map<string, TreeEntry>();
  const visit = async (rel: string): Promise<void> => {
    const names = await readdir(rel === '' ? root : join(root, rel));
    for (const name of names) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const full = join(root, path);
      const st = await lstat(full);
      const mode = st.mode & 0o7777;
      if (st.isDirectory()) {
        out.set(path, { type: 'dir', mode });
        await visit(path);
      } else if (st.isFile()) out.set(path, { type: 'file', mode, path: full });
      else if (st.isSymbolicLink()) out.set(path, { type: 'symlink', target: await readlink(full) });
      else out.set(path, { type: 'other', what: st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'a device' });
    }
  };
  await visit('');
  return out;
}
