// RPO under a sustained random-write load: a separate writer process overwrites random 64 KiB
// blocks of a dataset at a fixed rate while the source VRA protects it; every 250 ms we read the
// source's RPO (now − capture time of the newest checkpoint the recovery side has on disk).
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Pair, waitUntil, writeRandomFile } from '../../test/replicator/support/pair.ts';
import { MiB, peakRssMiB, percentile } from '../proc.ts';

export interface RpoResult {
  rateMBps: number;
  achievedMBps: number;
  seconds: number;
  samples: number;
  p50: number;
  p99: number;
  max: number;
  checkpointIntervalMs: number;
  peakRssMiB: { source: number; target: number };
}

const WRITER = `
const { openSync, writeSync, fsyncSync } = require('node:fs');
const { randomBytes } = require('node:crypto');
const [dir, files, fileBytes, rate, seconds] = process.argv.slice(1).map((v, i) => i === 0 ? v : Number(v));
const fds = Array.from({ length: files }, (_, i) => openSync(dir + '/data-' + i, 'r+'));
const block = 65536, pool = randomBytes(64 * 1024 * 1024);
let written = 0; const t0 = Date.now();
const tick = () => {
  const elapsed = (Date.now() - t0) / 1000;
  if (elapsed >= seconds) { process.stdout.write(String(written)); process.exit(0); }
  while (written < rate * elapsed) {
    const fd = fds[Math.floor(Math.random() * files)];
    const off = Math.floor(Math.random() * (fileBytes / block)) * block;
    const src = Math.floor(Math.random() * (pool.length / block)) * block;
    writeSync(fd, pool, src, block, off);
    written += block;
  }
  setTimeout(tick, 10);
};
tick();
`;

export async function rpoBench(options: { rateMBps: number; seconds: number; datasetBytes: number; checkpointIntervalMs: number }, log: (s: string) => void): Promise<RpoResult> {
  const files = 32;
  const fileBytes = Math.floor(options.datasetBytes / files / (64 * 1024)) * 64 * 1024;
  const pair = await Pair.start({
    volumes: ['files'],
    checkpointIntervalMs: options.checkpointIntervalMs,
    prepare: async (p) => {
      await mkdir(p.volume, { recursive: true });
      for (let i = 0; i < files; i++) await writeRandomFile(join(p.volume, `data-${i}`), fileBytes);
    },
  });
  try {
    log(`  rpo: initial sync of ${(files * fileBytes / MiB).toFixed(0)} MiB`);
    await pair.checkpoint('initial');
    await waitUntil('protecting', async () => (await pair.sourceStatus()).state === 'protecting');
    log(`  rpo: ${options.rateMBps} MB/s of random 64 KiB writes for ${options.seconds} s`);
    const writer = spawn(process.execPath, ['-e', WRITER, pair.volume, String(files), String(fileBytes), String(options.rateMBps * 1e6), String(options.seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    writer.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    const done = new Promise<void>((resolve) => writer.once('exit', () => resolve()));
    const samples: number[] = [];
    const writing = { running: true };
    void done.then(() => { writing.running = false; });
    // Measure once the first checkpoint under load has landed (the start is not steady state).
    await new Promise((r) => setTimeout(r, 2 * options.checkpointIntervalMs));
    while (writing.running) {
      const s = await pair.sourceStatus();
      if (s.rpoSeconds !== undefined) samples.push(s.rpoSeconds);
      await new Promise((r) => setTimeout(r, 250));
    }
    await done;
    return {
      rateMBps: options.rateMBps,
      achievedMBps: Number(out) / 1e6 / options.seconds,
      seconds: options.seconds,
      samples: samples.length,
      p50: percentile(samples, 50),
      p99: percentile(samples, 99),
      max: Math.max(...samples),
      checkpointIntervalMs: options.checkpointIntervalMs,
      peakRssMiB: { source: peakRssMiB(pair.source.pid), target: peakRssMiB(pair.target.pid) },
    };
  } finally {
    await pair.close();
  }
}
