// Recovery: materialise a checkpoint of an fs volume (a replica of the volume in 8 MiB files, plus
// a journal of random 1 MiB writes after the replica's point) against `cp -a` of the replica's
// objects, the same bytes. Each round runs both, in alternating order, each after a `sync` and
// timed both to return and to durable (a `sync` after it included). cp does not fsync its output;
// materialise does (it is durable by default), so its two times nearly agree and the ratio is
// taken to durable. The `sync` before each run keeps writeback of the other's pages out of it.
// Each run's output is removed before the next run starts, so both start alike: on this kind of VM a run that starts while the other's 2 GiB output
// is still there takes several times longer (cp -a: 2.5–2.9 s instead of 0.56 s; most likely the
// VM host must back fresh memory first, while pages just freed are at hand: not confirmed).
// Figures are medians of RUNS rounds.
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeRecord } from '../../src/replicator/codec.ts';
import { Journal } from '../../src/replicator/journal/journal.ts';
import type { Record } from '../../src/replicator/ops.ts';
import { materialise } from '../../src/replicator/replica/materialise.ts';
import { Replica } from '../../src/replicator/replica/replica.ts';
import { GiB, MiB, percentile } from '../proc.ts';

export interface RecoveryResult {
  /** Stored journal bytes after the replica's point (records compress about half). */
  journalBytes: number;
  runs: number;
  /** Medians to durable. */
  cpSeconds: number;
  materialiseSeconds: number;
  /** Medians to return. */
  cpReturnSeconds: number;
  materialiseReturnSeconds: number;
}

const RUNS = 5;
const FILE = 8 * MiB;
const CHUNK = MiB;
const FILES_PER_DIR = 64;
const FILES_PER_APPLY = 32;

const median = (xs: readonly number[]): number => percentile(xs, 50);
const since = (t0: number): number => (performance.now() - t0) / 1000;

function sync(): void {
  const r = spawnSync('sync');
  if (r.status !== 0) throw new Error('sync failed');
}

/** Half random, half a repeated pattern: like real data, some of it compresses. */
function chunk(): Buffer {
  const b = Buffer.alloc(CHUNK, 'pattern ');
  randomFillSync(b, 0, CHUNK / 2);
  return b;
}

export async function recoveryBench(dir: string, volumeBytes: number, journalBytes: number, log: (s: string) => void): Promise<RecoveryResult> {
  const files = Math.max(1, Math.round(volumeBytes / FILE));
  const journal = await Journal.open(join(dir, 'journal'));
  try {
    const replica = await Replica.open(join(dir, 'replica'), [{ name: 'data', kind: 'fs' }]);
    let seq = journal.durableSeq;
    const append = async (records: readonly Record[]): Promise<number> => {
      await journal.append(records.map((r) => ({ seq: ++seq, bytes: encodeRecord(r, { compress: true }) })));
      return seq;
    };
    // A checkpoint names the volumes it holds (a volume's first sync is done by then); the digest
    // is not checked here (no verify), so any 32 bytes do.
    const checkpoint = (): Promise<number> => append([{ kind: 'checkpoint', checkpoint: { time: Date.now(), tag: '', volumes: [{ volume: 'data', digest: Buffer.alloc(32) }] } }]);

    // Fill the replica a few files at a time, applying as we go so the journal never holds it all.
    const t0 = performance.now();
    for (let f = 1; f <= files; f++) {
      const folder = `d${Math.floor((f - 1) / FILES_PER_DIR)}`;
      const records: Record[] = [];
      if ((f - 1) % FILES_PER_DIR === 0) records.push({ kind: 'op', volume: 'data', op: { op: 'mkdir', path: folder, mode: 0o755 } });
      records.push({ kind: 'op', volume: 'data', op: { op: 'create', path: `${folder}/f${f}`, id: f, mode: 0o644 } });
      for (let off = 0; off < FILE; off += CHUNK) records.push({ kind: 'op', volume: 'data', op: { op: 'write', id: f, offset: off, data: chunk() } });
      await append(records);
      if (f % FILES_PER_APPLY === 0 || f === files) {
        const at = await checkpoint();
        await replica.apply(journal, at);
        await journal.dropThrough(at);
      }
    }
    log(`  recovery: replica of ${files} files, ${((files * FILE) / GiB).toFixed(2)} GiB, built in ${since(t0).toFixed(1)} s`);

    // Random 1 MiB writes after the replica's point until the journal stores journalBytes of them.
    let writes = 0;
    while (journal.bytesBetween(replica.appliedSeq + 1, journal.durableSeq) < journalBytes) {
      const batch: Record[] = [];
      for (let k = 0; k < 16; k++, writes++) {
        const id = 1 + Math.floor(Math.random() * files);
        batch.push({ kind: 'op', volume: 'data', op: { op: 'write', id, offset: Math.floor(Math.random() * (FILE / CHUNK)) * CHUNK, data: chunk() } });
      }
      await append(batch);
    }
    const target = await checkpoint();
    const stored = journal.bytesBetween(replica.appliedSeq + 1, target);
    log(`  recovery: journal after the replica: ${writes} writes of 1 MiB, ${(stored / MiB).toFixed(0)} MiB stored`);

    const timed = async (fn: () => unknown): Promise<{ ret: number; durable: number }> => {
      sync();
      const t = performance.now();
      await fn();
      const ret = since(t);
      sync();
      return { ret, durable: since(t) };
    };
    const cp = (run: number): Promise<{ ret: number; durable: number }> =>
      timed(() => {
        const r = spawnSync('cp', ['-a', join(replica.dir, 'volumes/data/objects'), join(dir, `cp${run}`)]);
        if (r.status !== 0) throw new Error(`cp failed: ${r.stderr.toString()}`);
      });
    const mat = (run: number): Promise<{ ret: number; durable: number }> =>
      timed(() => materialise({ replica, journal, checkpointSeq: target, targets: new Map([['data', join(dir, `m${run}`)]]) }));

    const runs: { cp: { ret: number; durable: number }; m: { ret: number; durable: number } }[] = [];
    for (let run = 0; run < RUNS; run++) {
      const cpFirst = run % 2 === 0;
      const cpRun = async (): Promise<{ ret: number; durable: number }> => {
        const r = await cp(run);
        await rm(join(dir, `cp${run}`), { recursive: true, force: true });
        return r;
      };
      const mRun = async (): Promise<{ ret: number; durable: number }> => {
        const r = await mat(run);
        await rm(join(dir, `m${run}`), { recursive: true, force: true });
        return r;
      };
      const c1 = cpFirst ? await cpRun() : undefined;
      const m = await mRun();
      const c = c1 ?? (await cpRun());
      runs.push({ cp: c, m });
      log(`  recovery run ${run + 1}/${RUNS} (${cpFirst ? 'cp first' : 'materialise first'}): cp -a ${c.ret.toFixed(2)} s (${c.durable.toFixed(2)} s to durable), materialise ${m.ret.toFixed(2)} s (${m.durable.toFixed(2)} s to durable)`);
    }
    return {
      journalBytes: stored,
      runs: RUNS,
      cpSeconds: median(runs.map((r) => r.cp.durable)),
      materialiseSeconds: median(runs.map((r) => r.m.durable)),
      cpReturnSeconds: median(runs.map((r) => r.cp.ret)),
      materialiseReturnSeconds: median(runs.map((r) => r.m.ret)),
    };
  } finally {
    await journal.close();
  }
}
