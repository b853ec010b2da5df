import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Journal } from './journal.ts';
import { readAll, records, withDir } from './testkit.ts';

const NODE = '/work/main/node_modules/.bin/node';
const WRITER = fileURLToPath(new URL('./crash-writer.test-support.ts', import.meta.url));
const SEGMENT_BYTES = 256 * 1024;
const isCheckpoint = (seq: number): boolean => seq % 25 === 0;

/** Runs the writer until it has acknowledged `acks` appends (and a little more), then SIGKILLs it. */
async function runAndKill(dir: string, acks: number, extraMs: number): Promise<{ opened: number; acked: number }> {
  const child = spawn(NODE, [WRITER, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let opened = -1;
  let acked = 0;
  let count = 0;
  let stderr = '';
  let rest = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((res) => child.on('exit', () => res()));
  await new Promise<void>((res, rej) => {
    child.on('exit', () => rej(new Error(`writer exited before it was killed: ${stderr}`)));
    child.stdout.on('data', (d: Buffer) => {
      const lines = (rest + d.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        const [what, n] = line.split(' ');
        if (what === 'open') opened = Number(n);
        if (what === 'acked') {
          acked = Math.max(acked, Number(n));
          if (++count === acks) setTimeout(res, extraMs);
        }
      }
    });
  });
  child.kill('SIGKILL');
  await exited;
  // Acks printed before the kill are still in the pipe.
  for (const line of rest.split('\n')) if (line.startsWith('acked ')) acked = Math.max(acked, Number(line.slice(6)));
  return { opened, acked };
}

describe('Journal under SIGKILL', () => {
  it('keeps every acknowledged seq across repeated kills mid-ingest', { timeout: 60_000 }, () =>
    withDir(async (dir) => {
      let durable = 0;
      const rounds = [
        [20, 0],
        [200, 37],
        [50, 113],
        [400, 5],
        [100, 71],
      ] as const;
      for (const [acks, extra] of rounds) {
        const { opened, acked } = await runAndKill(dir, acks, extra);
        assert.equal(opened, durable, 'the writer saw what the last check saw');
        const j = await Journal.open(dir, { segmentBytes: SEGMENT_BYTES });
        assert.ok(j.durableSeq >= acked, `durable ${j.durableSeq} < acknowledged ${acked}`);
        const first = j.stats().firstSeq;
        assert.ok(first <= acked, `dropped past what was acknowledged: first ${first}, acked ${acked}`);
        const got = await readAll(j, first, j.durableSeq);
        assert.equal(got.length, j.durableSeq - first + 1);
        const want = records(first, j.durableSeq, isCheckpoint);
        for (let i = 0; i < got.length; i++) assert.ok(got[i]?.bytes.equals(want[i]?.bytes ?? Buffer.alloc(0)), `seq ${first + i} reads back what was written`);
        const cps = j.checkpoints().map((c) => c.seq);
        assert.deepEqual(cps, want.filter((r) => isCheckpoint(r.seq)).map((r) => r.seq));
        durable = j.durableSeq;
        await j.close();
      }
    }));
});
