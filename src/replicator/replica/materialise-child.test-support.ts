// A child process for the test of a materialise by a user other than root, run as one (setpriv):
// folders and files whose final modes shut their owner out must still be filled, moded and synced.
//   node materialise-child.test-support.ts <dir>
// Materialises the scenario below into <dir>/durable and <dir>/scratch (durable: false).
import { join } from 'node:path';
import { materialise } from './materialise.ts';
import { Replica } from './replica.ts';
import { Workload } from './replica.test-support.ts';

export const VOLUMES = [{ name: 'data', kind: 'fs' as const }];

/**
 * A replica checkpoint and a journal checkpoint after it; returns the latter. Owner-shut modes
 * both in the replica's files and in the journal's records.
 */
export function lockedOutScenario(w: Workload): { replicaSeq: number; journalSeq: number } {
  w.op('data', { op: 'mkdir', path: 'ro', mode: 0o755 });
  w.op('data', { op: 'create', path: 'ro/secret', id: 1, mode: 0o000 });
  w.op('data', { op: 'write', id: 1, offset: 0, data: Buffer.from('secret in the replica') });
  w.op('data', { op: 'mkdir', path: 'ro/shut', mode: 0o000 });
  w.op('data', { op: 'create', path: 'ro/shut/inside', id: 2, mode: 0o400 });
  w.op('data', { op: 'write', id: 2, offset: 0, data: Buffer.from('inside a shut folder') });
  const replicaSeq = w.checkpoint();
  w.op('data', { op: 'create', path: 'ro/shut/late', id: 3, mode: 0o200 });
  w.op('data', { op: 'write', id: 3, offset: 0, data: Buffer.from('written from the journal') });
  w.op('data', { op: 'write', id: 1, offset: 0, data: Buffer.from('SECRET') });
  w.op('data', { op: 'symlink', path: 'ro/shut/link', target: '../secret' });
  w.op('data', { op: 'mkdir', path: 'ro/shut/deeper', mode: 0o100 });
  w.op('data', { op: 'chmod', path: 'ro', mode: 0o500 });
  return { replicaSeq, journalSeq: w.checkpoint() };
}

if (import.meta.main) {
  const dir = process.argv[2] ?? '';
  const w = new Workload(1, VOLUMES);
  const { replicaSeq, journalSeq } = lockedOutScenario(w);
  const replica = await Replica.open(join(dir, 'replica'), VOLUMES);
  await replica.apply(w.journal, replicaSeq);
  await materialise({ replica, journal: w.journal, checkpointSeq: journalSeq, targets: new Map([['data', join(dir, 'durable')]]) });
  await materialise({ replica, journal: w.journal, checkpointSeq: journalSeq, targets: new Map([['data', join(dir, 'scratch')]]), durable: false });
}
