// What the replica needs from a journal (src/replicator/journal satisfies it), and the one loop
// that walks its records: seqs must follow each other without a gap up to the last one asked for.
import { decodeRecord, recordType } from '../codec.ts';
import type { CheckpointMark, Op, OpName, VolumeName } from '../ops.ts';
import { ReplicaError } from './errors.ts';

export interface ReadOptions {
  /** The caller is done with each record's bytes before asking for the next: they may be reused. */
  transient?: boolean;
}

export interface JournalCheckpoint {
  seq: number;
  time: number;
  tag: string;
  tags: readonly string[];
  volumes: readonly { volume: string; digest: Uint8Array }[];
}

export interface JournalReader {
  readonly durableSeq: number;
  checkpoints(): readonly JournalCheckpoint[];
  /** Records fromSeq..toSeq inclusive, in order. */
  read(fromSeq: number, toSeq: number, options?: ReadOptions): AsyncIterable<{ seq: number; bytes: Buffer }>;
  /** Stored bytes of records fromSeq..toSeq inclusive. */
  bytesBetween(fromSeq: number, toSeq: number): number;
  dropThrough(seq: number): Promise<void>;
}

/** A decoded record; `stored` is its size in the journal. */
export type ReplayItem =
  | { seq: number; stored: number; kind: 'op'; volume: VolumeName; op: Op }
  | { seq: number; stored: number; kind: 'checkpoint'; checkpoint: CheckpointMark }
  | { seq: number; stored: number; kind: 'skipped'; type: OpName };

/**
 * Records fromSeq..toSeq decoded, checking that none is missing. Types in `skip` are not decoded
 * (a verify has no use for write data, and decoding decompresses it).
 */
export async function* replay(journal: JournalReader, fromSeq: number, toSeq: number, skip?: ReadonlySet<OpName>): AsyncGenerator<ReplayItem> {
  if (toSeq < fromSeq) return;
  let expected = fromSeq;
  // Each record is decoded into memory of its own before the next is read (decodeItem).
  for await (const { seq, bytes } of journal.read(fromSeq, toSeq, { transient: true })) {
    if (seq > toSeq && expected > toSeq) break;
    if (seq !== expected) throw new ReplicaError('JOURNAL', `journal gave seq ${seq} where seq ${expected} was next (reading ${fromSeq}..${toSeq})`);
    expected++;
    yield decodeItem(seq, bytes, skip);
    if (seq === toSeq) break;
  }
  if (expected !== toSeq + 1) throw new ReplicaError('JOURNAL', `journal ended at seq ${expected - 1}, before seq ${toSeq} (reading ${fromSeq}..${toSeq})`);
}

function decodeItem(seq: number, bytes: Buffer, skip: ReadonlySet<OpName> | undefined): ReplayItem {
  try {
    const type = recordType(bytes);
    const stored = bytes.length;
    if (type !== 'checkpoint' && skip?.has(type) === true) return { seq, stored, kind: 'skipped', type };
    const record = decodeRecord(bytes, { own: true });
    if (record.kind === 'checkpoint') return { seq, stored, kind: 'checkpoint', checkpoint: record.checkpoint };
    return { seq, stored, kind: 'op', volume: record.volume, op: record.op };
  } catch (err: unknown) {
    throw new ReplicaError('JOURNAL', `seq ${seq}: ${(err as Error).message}`);
  }
}

/** Where an op points, for error messages. */
export function opWhere(seq: number, volume: string, op: Op): string {
  let target: string;
  switch (op.op) {
    case 'mkdir':
    case 'create':
    case 'symlink':
    case 'unlink':
    case 'chmod':
      target = `path ${JSON.stringify(op.path)}`;
      break;
    case 'rename':
      target = `from ${JSON.stringify(op.from)} to ${JSON.stringify(op.to)}`;
      break;
    case 'write':
    case 'truncate':
    case 'digest':
      target = `id ${op.id}`;
      break;
  }
  return `seq ${seq} volume ${volume} ${op.op} ${target}`;
}
