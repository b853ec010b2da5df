// Apply killed with SIGKILL (in a child process) at random points; reopening and applying again
// must give exactly the model.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { materialise } from './materialise.ts';
import { Replica } from './replica.ts';
import { Workload, diffWithModel, type VolumeModel } from './replica.test-support.ts';

const VOLUMES = [
  { name: 'data', kind: 'fs' as const },
  { name: 'disk', kind: 'block' as const },
];
const CHILD = join(import.meta.dirname, 'crash-child.test-support.ts');

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'replica-crash-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

function run(args: string[], killAfterMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

describe('apply killed with SIGKILL', () => {
  const points: { step: string; count: number; killAfterMs?: number }[] = [
    { step: 'op', count: 1 },
    { step: 'op', count: 0 },
    { step: 'op', count: 0 },
    { step: 'synced', count: 0 },
    { step: 'committed', count: 0 },
    { step: 'never', count: 0, killAfterMs: 250 },
  ];
  for (const [i, p] of points.entries()) {
    it(`at ${p.step}${p.killAfterMs === undefined ? '' : ` (killed from outside after ${p.killAfterMs} ms)`} #${i}`, async () => {
      const dir = join(root, `r${i}`);
      const w = new Workload(700 + i, VOLUMES);
      const replica = await Replica.open(dir, VOLUMES);
      w.random(80);
      const c1 = w.checkpoint();
      await replica.apply(w.journal, c1);
      w.random(150);
      w.checkpoint();
      w.random(150);
      const c3 = w.checkpoint();
      const journalFile = join(root, `j${i}.json`);
      await w.journal.save(journalFile);
      const count = p.step === 'op' && p.count === 0 ? 2 + w.rng.int(250) : p.count;
      const result = await run([dir, journalFile, String(c3), p.step, String(count)], p.killAfterMs);
      if (p.killAfterMs === undefined) assert.equal(result.signal, 'SIGKILL', result.stderr);
      else assert.ok(result.signal === 'SIGKILL' || result.code === 0, result.stderr);
      const reopened = await Replica.open(dir, VOLUMES);
      if (p.step === 'op' || p.step === 'synced') assert.equal(reopened.pendingSeq, c3);
      if (p.step === 'committed') assert.equal(reopened.appliedSeq, c3);
      else if (p.killAfterMs === undefined) assert.equal(reopened.appliedSeq, c1);
      await reopened.apply(w.journal, c3);
      assert.equal(reopened.appliedSeq, c3);
      const out = join(root, `out${i}`);
      await mkdir(out);
      const targets = new Map(VOLUMES.map((v) => [v.name, join(out, v.name)]));
      await materialise({ replica: reopened, journal: w.journal, checkpointSeq: c3, targets });
      for (const [volume, target] of targets) assert.deepEqual(await diffWithModel(target, w.snapshots.get(c3)?.get(volume) as VolumeModel), [], volume);
    });
  }
});
