// A child process for the crash tests: applies a saved journal to a replica and kills itself with
// SIGKILL at the given point (no finally blocks, no flushes: a real crash).
//   node crash-child.test-support.ts <replicaDir> <journalFile> <throughSeq> <step> <count>
import { Replica, type ApplyStep } from './replica.ts';
import { MemoryJournal } from './replica.test-support.ts';

const [dir = '', journalFile = '', through = '', step = '', count = ''] = process.argv.slice(2);
const journal = await MemoryJournal.load(journalFile);
const replica = await Replica.open(dir, [
  { name: 'data', kind: 'fs' },
  { name: 'disk', kind: 'block' },
]);
await replica.apply(journal, Number(through), {
  onStep: (s: ApplyStep, n: number) => {
    if (s === step && (s !== 'op' || n === Number(count))) process.kill(process.pid, 'SIGKILL');
  },
});
