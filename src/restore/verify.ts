// `zcsp restore --verify`: the restored volume against the digest the *source* computed when it
// captured the checkpoint (carried in the export's header), not against the VRA's copy. Equal
// digests mean the volume is what the protected side had, end to end (../replicator/hash.ts).
import { constants } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BLOCK_SIZE, HASH_BYTES, blockCount, blockHashInto, contentDigest, volumeDigest, type DigestEntry } from '../replicator/hash.ts';
import { hashFile } from '../replicator/replica/hashing.ts';

/** volumeDigest of the entries under `root` that belong to the top-level `names` (others, e.g. lost+found, are not the restore's). */
export async function treeDigest(root: string, names: readonly string[]): Promise<string> {
  const entries: DigestEntry[] = [];
  const visit = async (path: string): Promise<void> => {
    const full = join(root, path);
    const st = await lstat(full);
    const mode = st.mode & 0o7777;
    if (st.isDirectory()) {
      entries.push({ path, type: 'dir', mode });
      for (const name of await readdir(full)) await visit(`${path}/${name}`);
    } else if (st.isSymbolicLink()) entries.push({ path, type: 'symlink', target: await readlink(full) });
    else if (st.isFile()) entries.push({ path, type: 'file', mode, digest: (await hashFile(full)).digest });
    else throw new Error(`${JSON.stringify(path)} is neither a folder, a file nor a symlink`);
  };
  for (const name of names) await visit(name);
  return volumeDigest(entries).toString('hex');
}

/** contentDigest of the first `size` bytes of a file or block device (a device is larger than its image). */
export async function imageDigest(path: string, size: number): Promise<string> {
  const fh = await open(path, constants.O_RDONLY);
  try {
    const hashes = Buffer.alloc(blockCount(size) * HASH_BYTES);
    const buf = Buffer.allocUnsafe(BLOCK_SIZE * 16);
    for (let pos = 0, block = 0; pos < size;) {
      const want = Math.min(buf.length, size - pos);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(buf, got, want - got, pos + got);
        if (bytesRead === 0) throw new Error(`${path} ends at byte ${pos + got}, short of the image's ${size}`);
        got += bytesRead;
      }
      for (let off = 0; off < got; off += BLOCK_SIZE) blockHashInto(buf.subarray(off, Math.min(off + BLOCK_SIZE, got)), hashes, (block++) * HASH_BYTES);
      pos += got;
    }
    return contentDigest(size, hashes).toString('hex');
  } finally {
    await fh.close();
  }
}
