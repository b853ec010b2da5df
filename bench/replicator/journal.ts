// Journal ingest of incompressible 64 KiB records against dd's fsync'd sequential write of the
// same amount, in the same folder. The disk is shared with whatever else runs, so only neighbours
// compare: each journal run has a dd run next to it, their order alternating from one round to
// the next, and `sync` runs before each timed run so neither pays for the other's writeback
// (primePages says what else comes before each).
// Every figure is the median of RUNS rounds; the ratio to dd is the median of the neighbours'
// ratios. The steady-state row is a journal as it runs for months: history kept, the oldest
// segments dropped and their files reused for new ones.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeRecord } from '../../src/replicator/codec.ts';
import { Journal } from '../../src/replicator/journal/journal.ts';
import { MiB, percentile } from '../proc.ts';

export interface JournalRow {
  label: string;
  /** Median seconds. */
  seconds: number;
  /** Median fsyncs (segment, index and folder) of one run. */
  syncs: number;
  /** Median of dd's seconds over this run's, each journal run against the dd run next to it. */
  ofDd: number;
}

export interface JournalResult {
  bytes: number;
  runs: number;
  /** Median seconds of all dd runs. */
  dd: { seconds: number };
  journal: JournalRow[];
}

const RUNS = 3;
const RECORD = 64 * 1024;
/**
 * Steady state: the journal already holds this much history, and as it grows the oldest records
 * are dropped (as retention does once they are applied), so new segments are written over spares.
 */
const HISTORY = 256 * MiB;
const CONFIGS = [
  { label: 'batches of 16, 8 in flight', batch: 16, inflight: 8, steady: false },
  { label: 'batches of 64, 4 in flight', batch: 64, inflight: 4, steady: false },
  { label: 'one record a call, 64 in flight', batch: 1, inflight: 64, steady: false },
  { label: 'batches of 16, 32 in flight (the sender\'s 32 MiB window)', batch: 16, inflight: 32, steady: false },
  { label: 'batches of 16, 8 in flight, steady state', batch: 16, inflight: 8, steady: true },
] as const;

const median = (xs: readonly number[]): number => percentile(xs, 50);

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? r.stderr.toString().trim()}`);
}

/**
 * Pages this VM's kernel frees go back to its host (free page reporting) a few seconds later, and
 * the first write to such a page costs ~9 µs: page-cache writes into it ran at ~420 MB/s, against
 * several GB/s into pages freed a moment before. Which kind a run got depended on what ran before
 * it and how long reporting took (after the delta benchmark frees gigabytes, longer than any fixed
 * wait), and swung the ratio to dd from 0.3 to 1.5. So before each timed run, dd's and the
 * journal's alike, as much as it will write is written to a scratch file and deleted (never
 * flushed: deleting dirty pages drops them): the run then writes into pages freed a moment ago, as
 * on a machine whose memory has all been used before (bare metal, a VM that has run a while).
 */
function primePages(dir: string, mib: number): void {
  run('sync', []);
  const scratch = join(dir, 'prime.scratch');
  run('dd', ['if=/dev/zero', `of=${scratch}`, 'bs=1M', `count=${mib}`]);
  run('rm', ['-f', scratch]);
}

export async function journalBench(dir: string, bytes: number, log: (s: string) => void): Promise<JournalResult> {
  const mib = Math.max(1, Math.round(bytes / MiB));
  const total = mib * MiB;
  const src = join(dir, 'dd.src');
  const out = join(dir, 'dd.out');
  run('dd', ['if=/dev/urandom', `of=${src}`, 'bs=1M', `count=${mib}`]);

  const ddRun = (): number => {
    primePages(dir, mib);
    const t0 = performance.now();
    run('dd', [`if=${src}`, `of=${out}`, 'bs=1M', 'conv=fdatasync']);
    const seconds = (performance.now() - t0) / 1000;
    run('rm', ['-f', out]);
    return seconds;
  };

  // A pool of distinct incompressible records, reused: encoding is the sender's cost, not the journal's.
  const pool = Array.from({ length: 64 }, (_, i) => encodeRecord({ kind: 'op', volume: 'data', op: { op: 'write', id: 1, offset: i * RECORD, data: randomBytes(RECORD) } }));
  const count = total / RECORD;

  const historyRecords = HISTORY / RECORD;
  // Retention drops through applied checkpoints now and then, not after every append: here, once
  // a segment's worth is out of the history.
  const segmentRecords = (64 * MiB) / RECORD;
  const journalRun = async (name: string, batchRecords: number, inflight: number, steady: boolean): Promise<{ seconds: number; syncs: number; cpuSeconds: number }> => {
    const jdir = join(dir, name);
    const j = await Journal.open(jdir);
    try {
      // Appends `records` from `seq` on; in steady state, drops what falls out of the history.
      const ingest = async (from: number, records: number): Promise<void> => {
        let seq = from;
        const end = from + records - 1;
        const running = new Set<Promise<void>>();
        while (seq <= end) {
          const batch: { seq: number; bytes: Buffer }[] = [];
          for (let k = 0; k < batchRecords && seq <= end; k++, seq++) batch.push({ seq, bytes: pool[seq % pool.length] ?? Buffer.alloc(1) });
          const last = seq - 1;
          const p: Promise<void> = j.append(batch).then(async () => {
            if (steady && last - (j.stats().firstSeq - 1) > historyRecords + segmentRecords) await j.dropThrough(last - historyRecords);
            running.delete(p);
          });
          running.add(p);
          if (running.size >= inflight) await Promise.race(running);
        }
        await Promise.all(running);
      };
      let first = 1;
      if (steady) {
        // Fill the history, and a little more so dropped segments wait as spares.
        const warm = historyRecords + 3 * segmentRecords;
        await ingest(first, warm);
        first += warm;
      }
      primePages(dir, mib);
      const syncs0 = j.stats().syncs;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await ingest(first, count);
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      return { seconds, syncs: j.stats().syncs - syncs0, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
    } finally {
      await j.close();
      await rm(jdir, { recursive: true, force: true });
    }
  };

  const dd: number[] = [];
  const rows = CONFIGS.map(() => ({ seconds: [] as number[], syncs: [] as number[], ofDd: [] as number[] }));
  for (let round = 0; round < RUNS; round++) {
    for (const [i, c] of CONFIGS.entries()) {
      const ddFirst = round % 2 === 0;
      const d1 = ddFirst ? ddRun() : undefined;
      const j = await journalRun(`j-${round}-${i}`, c.batch, c.inflight, c.steady);
      const ddSeconds = d1 ?? ddRun();
      dd.push(ddSeconds);
      const row = rows[i];
      row?.seconds.push(j.seconds);
      row?.syncs.push(j.syncs);
      row?.ofDd.push(ddSeconds / j.seconds);
      log(`  journal round ${round + 1}/${RUNS}, ${c.label} (${ddFirst ? 'dd first' : 'journal first'}): ${(mib / j.seconds).toFixed(0)} MiB/s, ${j.syncs} fsyncs, ${j.cpuSeconds.toFixed(2)} CPU s; dd ${(mib / ddSeconds).toFixed(0)} MiB/s`);
    }
  }
  await rm(src, { force: true });
  return {
    bytes: total,
    runs: RUNS,
    dd: { seconds: median(dd) },
    journal: CONFIGS.map((c, i) => {
      const row = rows[i];
      return { label: c.label, seconds: median(row?.seconds ?? []), syncs: median(row?.syncs ?? []), ofDd: median(row?.ofDd ?? []) };
    }),
  };
}
