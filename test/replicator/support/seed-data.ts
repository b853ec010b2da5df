// Volumes for the seeding tests: a tree of many files, and the changes a protected volume makes
// after an old copy of it was taken (what the recovery side seeds from after a failover): blocks
// rewritten in place, files added, removed and renamed, modes, symlinks, empty folders.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { chmod, mkdir, open, readFile, rename, rm, symlink, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { constants, zstdCompressSync } from 'node:zlib';
import type { Random } from './random.ts';

const KiB = 1024;
const BLOCK = 64 * KiB;

/** `cp -a`: modes, symlinks and empty folders as they are. */
export function copyTree(from: string, to: string): void {
  execFileSync('cp', ['-a', from, to]);
}

/** About `bytes` in files of 8–250 KiB spread over 16 folders (some nested), half compressible. */
export async function writeVolume(root: string, rnd: Random, bytes: number): Promise<number> {
  let total = 0;
  let i = 0;
  await mkdir(root, { recursive: true });
  while (total < bytes) {
    const dir = `d${i % 16}${i % 3 === 0 ? '/sub' : ''}`;
    await mkdir(join(root, dir), { recursive: true });
    const size = Math.min(bytes - total, 8 * KiB + rnd.int(242 * KiB));
    await writeFile(join(root, dir, `f${i}.bin`), rnd.bytes(size), { mode: rnd.chance(0.8) ? 0o644 : 0o600 });
    total += size;
    i++;
  }
  await symlink('d1/f1.bin', join(root, 'current'));
  await symlink('../d2', join(root, 'd3/up'));
  await mkdir(join(root, 'empty-everywhere'));
  return total;
}

function files(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const d of readdirSync(join(root, rel), { withFileTypes: true })) {
    const path = rel === '' ? d.name : `${rel}/${d.name}`;
    if (d.isDirectory()) out.push(...files(root, path));
    else if (d.isFile()) out.push(path);
  }
  return out.sort();
}

export interface Divergence {
  /** Blocks rewritten in place in files both sides have. */
  changedBlocks: number;
  /** Bytes of files the old copy does not have at their path (added or renamed on the source). */
  newFileBytes: number;
}

/**
 * What the protected volume did after the old copy was taken: `blockShare` of the blocks
 * rewritten in place (part of each), five files added, five removed, three renamed, a file grown
 * and one cut, a file's and a folder's mode, a symlink retargeted, empty folders on one side only.
 */
export async function diverge(root: string, rnd: Random, blockShare: number): Promise<Divergence> {
  const all = files(root);
  let changedBlocks = 0;
  for (const f of all) {
    const size = statSync(join(root, f)).size;
    const fh = await open(join(root, f), 'r+');
    try {
      for (let off = 0; off < size; off += BLOCK) {
        if (!rnd.chance(blockShare)) continue;
        const n = Math.min(4 * KiB, size - off);
        await fh.write(rnd.bytes(n), 0, n, off + rnd.int(Math.min(BLOCK, size - off) - n + 1));
        changedBlocks++;
      }
    } finally {
      await fh.close();
    }
  }
  let newFileBytes = 0;
  for (let i = 0; i < 5; i++) {
    const data = rnd.bytes(16 * KiB + rnd.int(100 * KiB));
    await writeFile(join(root, `d${i}`, `added${i}.bin`), data);
    newFileBytes += data.length;
  }
  const pick = all.filter((_, k) => k % 11 === 5);
  const [r1, r2, r3, ...rest] = pick;
  for (const [from, to] of [[r1, 'd7/renamed-a.bin'], [r2, `${r2 ?? ''}.old`], [r3, 'renamed-to-root.bin']] as const) {
    if (from === undefined) throw new Error('volume too small');
    newFileBytes += statSync(join(root, from)).size;
    await rename(join(root, from), join(root, to));
  }
  for (const f of rest.slice(0, 5)) await unlink(join(root, f));
  const grow = rest[6];
  const cut = rest[7];
  if (grow === undefined || cut === undefined) throw new Error('volume too small');
  const extra = rnd.bytes(70 * KiB);
  await writeFile(join(root, grow), Buffer.concat([await readFile(join(root, grow)), extra]));
  newFileBytes += extra.length;
  await truncate(join(root, cut), Math.floor(statSync(join(root, cut)).size / 3));
  await chmod(join(root, rest[8] ?? grow), 0o755);
  await chmod(join(root, 'd4'), 0o750);
  await unlink(join(root, 'current'));
  await symlink('d5/sub', join(root, 'current'));
  await mkdir(join(root, 'only-on-the-source/deeper'), { recursive: true });
  await rm(join(root, 'empty-everywhere'), { recursive: true });
  await writeFile(join(root, 'empty-everywhere'), 'a file where the copy has a folder');
  return { changedBlocks, newFileBytes };
}

/** Extra entries only the old copy has (its own later changes, stale files). */
export async function staleOnly(root: string): Promise<void> {
  await mkdir(join(root, 'stale/nested'), { recursive: true });
  await writeFile(join(root, 'stale/nested/old.log'), 'stale');
  await symlink('nowhere', join(root, 'stale-link'));
}

/** The volume's files zstd-compressed one by one (level 1, as the wire does; never larger than raw). */
export async function compressedBytes(root: string): Promise<{ raw: number; compressed: number }> {
  let raw = 0;
  let compressed = 0;
  for (const f of files(root)) {
    const data = await readFile(join(root, f));
    raw += data.length;
    const packed = zstdCompressSync(data, { params: { [constants.ZSTD_c_compressionLevel]: 1 } });
    compressed += Math.min(data.length, packed.length);
  }
  return { raw, compressed };
}

/** Overwrites whole 64 KiB blocks of an image with fresh bytes that do not compress. */
export async function changeBlocks(image: string, blocks: readonly number[]): Promise<void> {
  const fh = await open(image, 'r+');
  try {
    for (const b of blocks) await fh.write(randomBytes(BLOCK), 0, BLOCK, b * BLOCK);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
