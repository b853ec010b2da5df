// Delta replication against rsync on the same data in the same run: a volume (one image file, or a
// tree of small files) is synchronised once by both, then, `rounds` times, 5 % of its 64 KiB
// blocks change at random and both ship the change over loopback, one right after the other.
// Ours: scan + ship + journal, timed from asking for a checkpoint to the recovery side having it
// on disk. Single rounds on a shared 2-core machine vary by half: medians are what count.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Pair, writeRandomFile } from '../../test/replicator/support/pair.ts';
import { Random } from '../../test/replicator/support/random.ts';
import { cpuSeconds, GiB, peakRssMiB, threadCpuSeconds, threadCpuSince } from '../proc.ts';
import { runRsync, startRsyncDaemon } from './rsync.ts';

const BLOCK = 64 * 1024;

export interface DeltaRound {
  changedBytes: number;
  ours: { seconds: number; cpuSeconds: number; bytesSent: number; threads: { source: Map<string, number>; target: Map<string, number> } };
  rsync: { seconds: number; cpuSeconds: number; bytesSent: number };
}

export interface DeltaResult {
  label: string;
  volumeBytes: number;
  initialSeconds: number;
  rounds: DeltaRound[];
  peakRssMiB: { source: number; target: number };
}

async function makeTree(root: string, totalBytes: number, files: number, rnd: Random): Promise<void> {
  const avg = totalBytes / files;
  let made = 0;
  for (let i = 0; i < files; i++) {
    const dir = join(root, `d${i % 100}`, `e${Math.floor(i / 100) % 20}`);
    await mkdir(dir, { recursive: true });
    const size = i === files - 1 ? Math.max(0, totalBytes - made) : Math.floor(avg * (0.2 + 1.6 * rnd.next()));
    await writeRandomFile(join(dir, `f${i}.dat`), size);
    made += size;
  }
}

async function listFiles(root: string): Promise<{ path: string; size: number }[]> {
  const out: { path: string; size: number }[] = [];
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    out.push({ path, size: (await stat(path)).size });
  }
  return out;
}

/** Overwrites `fraction` of all 64 KiB blocks (chosen at random across the files) with new bytes. */
async function changeBlocks(files: readonly { path: string; size: number }[], fraction: number, rnd: Random): Promise<number> {
  const blocks: [number, number][] = [];
  files.forEach((f, i) => {
    for (let b = 0; b * BLOCK < f.size; b++) blocks.push([i, b]);
  });
  const want = Math.round(blocks.length * fraction);
  for (let i = 0; i < want; i++) {
    const j = i + rnd.int(blocks.length - i);
    const a = blocks[i];
    const b = blocks[j];
    if (a === undefined || b === undefined) break;
    blocks[i] = b;
    blocks[j] = a;
  }
  let changed = 0;
  const byFile = new Map<number, number[]>();
  for (const [f, b] of blocks.slice(0, want)) byFile.set(f, [...(byFile.get(f) ?? []), b]);
  for (const [f, list] of byFile) {
    const file = files[f];
    if (file === undefined) continue;
    const fh = await open(file.path, 'r+');
    try {
      for (const b of list.sort((x, y) => x - y)) {
        const n = Math.min(BLOCK, file.size - b * BLOCK);
        await fh.write(randomBytes(n), 0, n, b * BLOCK);
        changed += n;
      }
    } finally {
      await fh.close();
    }
  }
  return changed;
}

export async function deltaBench(kind: 'image' | 'tree', bytes: number, files: number, rounds: number, log: (s: string) => void): Promise<DeltaResult> {
  const rnd = new Random(42);
  const pair = await Pair.start({
    volumes: [kind === 'image' ? 'disk' : 'files'],
    imageBytes: kind === 'image' ? bytes : 4096,
    checkpointIntervalMs: 3_600_000,
    prepare: async (p) => {
      if (kind === 'tree') await makeTree(p.volume, bytes, files, rnd);
    },
  });
  try {
    const source = kind === 'image' ? join(pair.dir, 'protected-image') : pair.volume;
    if (kind === 'image') {
      // rsync syncs a folder: give it one holding the same image file (a hard link, same bytes).
      await mkdir(source, { recursive: true });
      const { link } = await import('node:fs/promises');
      await link(pair.image, join(source, 'disk.img'));
    }
    log(`  ${kind}: initial sync of ${(bytes / GiB).toFixed(1)} GiB`);
    const t0 = performance.now();
    await pair.checkpoint('initial');
    const initialSeconds = (performance.now() - t0) / 1000;
    const daemon = await startRsyncDaemon(pair.dir, join(pair.dir, 'rsync-dst'));
    try {
      runRsync(daemon, source);
      const files0 = await listFiles(source);
      const done: DeltaRound[] = [];
      for (let round = 1; round <= rounds; round++) {
        const changedBytes = await changeBlocks(files0, 0.05, rnd);
        log(`  ${kind}: round ${round} of ${rounds}: changed ${(changedBytes / 1024 / 1024).toFixed(0)} MiB; shipping with zcsp, then rsync`);
        // Each tool starts with nothing waiting to be written back: the change just made (and the
        // other tool's last writes) would otherwise compete with whichever fsyncs first.
        spawnSync('sync');
        const cpu0 = cpuSeconds(pair.source.pid) + cpuSeconds(pair.target.pid);
        const wire0 = (await pair.sourceStatus()).wireBytes;
        const threads0 = { source: threadCpuSeconds(pair.source.pid), target: threadCpuSeconds(pair.target.pid) };
        const t1 = performance.now();
        await pair.checkpoint(`delta-${round}`);
        const oursSeconds = (performance.now() - t1) / 1000;
        const threads = { source: threadCpuSince(threads0.source, threadCpuSeconds(pair.source.pid)), target: threadCpuSince(threads0.target, threadCpuSeconds(pair.target.pid)) };
        const cpu1 = cpuSeconds(pair.source.pid) + cpuSeconds(pair.target.pid);
        const wire1 = (await pair.sourceStatus()).wireBytes;
        spawnSync('sync');
        done.push({ changedBytes, ours: { seconds: oursSeconds, cpuSeconds: cpu1 - cpu0, bytesSent: wire1 - wire0, threads }, rsync: runRsync(daemon, source) });
      }
      return {
        label: kind === 'image' ? `one ${(bytes / GiB).toFixed(0)} GiB image file` : `${files} files, ${(bytes / GiB).toFixed(0)} GiB`,
        volumeBytes: bytes,
        initialSeconds,
        rounds: done,
        peakRssMiB: { source: peakRssMiB(pair.source.pid), target: peakRssMiB(pair.target.pid) },
      };
    } finally {
      daemon.stop();
    }
  } finally {
    await pair.close();
  }
}
