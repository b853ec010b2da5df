// A process that ingests into a journal as fast as it can and prints each acknowledged seq, for
// crash.test.ts to SIGKILL at a random moment. Usage: node crash-writer.test-support.ts <dir>
import { Journal } from './journal.ts';
import { records } from './testkit.ts';

const SEGMENT_BYTES = 256 * 1024;
const isCheckpoint = (seq: number): boolean => seq % 25 === 0;

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: crash-writer.test-support.ts <dir>');
const j = await Journal.open(dir, { segmentBytes: SEGMENT_BYTES });
process.stdout.write(`open ${j.durableSeq}\n`);
let next = j.durableSeq + 1;
let dropped = j.stats().firstSeq - 1;
const inflight = new Set<Promise<void>>();
for (;;) {
  const n = 1 + (next % 13);
  const batch = records(next, next + n - 1, isCheckpoint);
  const last = next + n - 1;
  next += n;
  const p: Promise<void> = j.append(batch).then(async () => {
    process.stdout.write(`acked ${last}\n`);
    if (last - dropped > 3000) {
      dropped = last - 1000;
      await j.dropThrough(dropped);
    }
  });
  inflight.add(p);
  void p.finally(() => inflight.delete(p));
  if (inflight.size >= 8) await Promise.race(inflight);
}
