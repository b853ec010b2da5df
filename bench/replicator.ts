// The data plane's benchmarks, each measured side by side with its yardstick in the same run:
//   delta      a 5 % change of a volume shipped by zcsp and by rsync --no-whole-file over loopback
//              (an image file, and a tree of many files)
//   journal    journal ingest of incompressible records against dd's fsync'd sequential writes
//   rpo        RPO under a sustained random-write load
//   recovery   materialising a volume at a checkpoint with journal after it, against cp
// Prints a table per section.
//   npm run bench:replicator -- [--gib 2] [--files 20000] [--rounds 3] [--only delta,journal,rpo,recovery]
//                               [--rpo-seconds 60] [--rpo-rate 50] [--rpo-interval 2000]
// First: the thread pool sized as in the executable, whose materialise this runs in-process.
import '../src/thread-pool.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { deltaBench, type DeltaResult } from './replicator/delta.ts';
import { journalBench } from './replicator/journal.ts';
import { GiB, MiB, percentile } from './proc.ts';
import { recoveryBench } from './replicator/recovery.ts';
import { rpoBench } from './replicator/rpo.ts';

const { values } = parseArgs({
  options: {
    gib: { type: 'string', default: '2' },
    files: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string', default: 'delta,journal,rpo,recovery' },
    'rpo-seconds': { type: 'string', default: '60' },
    'rpo-rate': { type: 'string', default: '50' },
    'rpo-interval': { type: 'string', default: '2000' },
    'journal-mib': { type: 'string', default: '1024' },
    'recovery-journal-mib': { type: 'string', default: '500' },
  },
});

function positive(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: "${v}" must be a positive number`);
  return n;
}

const bytes = Math.round(positive('gib', values.gib) * GiB);
const files = Math.round(positive('files', values.files));
const only = new Set(values.only.split(','));
const log = (s: string): void => void process.stderr.write(`${s}\n`);
const mb = (n: number): string => (n / MiB).toFixed(1);
const s = (n: number): string => n.toFixed(2);

if (only.has('delta')) {
  const rounds = Math.round(positive('rounds', values.rounds));
  const rows: DeltaResult[] = [];
  log('delta replication against rsync');
  rows.push(await deltaBench('image', bytes, 1, rounds, log));
  rows.push(await deltaBench('tree', bytes, files, rounds, log));
  const median = (r: DeltaResult, f: (x: DeltaResult['rounds'][number]) => number): number => percentile(r.rounds.map(f), 50);
  const spread = (r: DeltaResult, f: (x: DeltaResult['rounds'][number]) => number): string => {
    const v = r.rounds.map(f);
    return v.length < 2 ? s(median(r, f)) : `${s(median(r, f))} (${s(Math.min(...v))}–${s(Math.max(...v))})`;
  };
  console.log(`\n## Delta replication: 5 % of 64 KiB blocks changed, shipped over loopback; medians (and ranges) of ${rounds} rounds\n`);
  console.log('| volume | changed MiB | zcsp s | rsync s | speed-up (of the medians) | zcsp CPU s | rsync CPU s | zcsp MiB sent | rsync MiB sent | zcsp initial sync s |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    const ours = median(r, (x) => x.ours.seconds);
    const theirs = median(r, (x) => x.rsync.seconds);
    const ratios = r.rounds.map((x) => x.rsync.seconds / x.ours.seconds);
    console.log(`| ${r.label} | ${mb(median(r, (x) => x.changedBytes))} | ${spread(r, (x) => x.ours.seconds)} | ${spread(r, (x) => x.rsync.seconds)} | ${(theirs / ours).toFixed(1)}× (rounds ${Math.min(...ratios).toFixed(1)}–${Math.max(...ratios).toFixed(1)}×) | ${s(median(r, (x) => x.ours.cpuSeconds))} | ${s(median(r, (x) => x.rsync.cpuSeconds))} | ${mb(median(r, (x) => x.ours.bytesSent))} | ${mb(median(r, (x) => x.rsync.bytesSent))} | ${s(r.initialSeconds)} |`);
  }
  console.log(`\nPeak RSS (MiB): ${rows.map((r) => `${r.label}: source ${r.peakRssMiB.source.toFixed(0)}, target ${r.peakRssMiB.target.toFixed(0)}`).join('; ')}`);
  // Where zcsp's CPU went, by kind of thread, in its median round (V8Worker: V8's GC and compiler helpers).
  console.log('\nzcsp CPU seconds by thread, median round:\n');
  console.log('| volume | VRA | MainThread | WorkerThread (hash workers) | V8Worker (GC, compiler) | libuv-worker (file I/O) |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    const sorted = [...r.rounds].sort((a, b) => a.ours.seconds - b.ours.seconds);
    const mid = sorted[Math.floor((sorted.length - 1) / 2)];
    if (mid === undefined) continue;
    for (const side of ['source', 'target'] as const) {
      const t = mid.ours.threads[side];
      const v = (k: string): string => s(t.get(k) ?? 0);
      console.log(`| ${r.label} | ${side} | ${v('MainThread')} | ${v('WorkerThread')} | ${v('V8Worker')} | ${v('libuv-worker')} |`);
    }
  }
}

if (only.has('journal')) {
  log('journal ingest against dd');
  const dir = await mkdtemp(join(tmpdir(), 'zcsp-bench-journal-'));
  try {
    const r = await journalBench(dir, Math.round(positive('journal-mib', values['journal-mib']) * MiB), log);
    console.log(`\n## Journal ingest of incompressible 64 KiB records (group commit, fsync before ack), median of ${r.runs} runs, each next to a dd run\n`);
    console.log('| what | MiB | seconds | MiB/s | fsyncs |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    console.log(`| dd bs=1M conv=fdatasync | ${mb(r.bytes)} | ${s(r.dd.seconds)} | ${(r.bytes / MiB / r.dd.seconds).toFixed(0)} | 1 |`);
    for (const j of r.journal) console.log(`| journal, ${j.label} | ${mb(r.bytes)} | ${s(j.seconds)} | ${(r.bytes / MiB / j.seconds).toFixed(0)} (${j.ofDd.toFixed(2)} of dd) | ${j.syncs} |`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (only.has('rpo')) {
  log('RPO under load');
  const r = await rpoBench({
    rateMBps: positive('rpo-rate', values['rpo-rate']),
    seconds: positive('rpo-seconds', values['rpo-seconds']),
    datasetBytes: 512 * MiB,
    checkpointIntervalMs: positive('rpo-interval', values['rpo-interval']),
  }, log);
  console.log(`\n## RPO under ${r.rateMBps} MB/s of random 64 KiB writes (achieved ${r.achievedMBps.toFixed(1)} MB/s), checkpoint interval ${r.checkpointIntervalMs} ms, ${r.seconds} s\n`);
  console.log('| samples | p50 s | p99 s | max s | source peak RSS MiB | target peak RSS MiB |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
  console.log(`| ${r.samples} | ${s(r.p50)} | ${s(r.p99)} | ${s(r.max)} | ${r.peakRssMiB.source.toFixed(0)} | ${r.peakRssMiB.target.toFixed(0)} |`);
}

if (only.has('recovery')) {
  log('recovery against cp');
  const dir = await mkdtemp(join(tmpdir(), 'zcsp-bench-recovery-'));
  try {
    const r = await recoveryBench(dir, bytes, Math.round(positive('recovery-journal-mib', values['recovery-journal-mib']) * MiB), log);
    console.log(`\n## Recovery: materialise a ${mb(bytes)} MiB volume at a checkpoint with ${mb(r.journalBytes)} MiB of journal after the replica, median of ${r.runs} alternating runs\n`);
    console.log('| what | seconds to return | seconds to durable | ratio to cp (durable) |');
    console.log('| --- | ---: | ---: | ---: |');
    console.log(`| cp -a of the volume | ${s(r.cpReturnSeconds)} | ${s(r.cpSeconds)} | 1.00 |`);
    console.log(`| materialise | ${s(r.materialiseReturnSeconds)} | ${s(r.materialiseSeconds)} | ${(r.materialiseSeconds / r.cpSeconds).toFixed(2)} |`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
