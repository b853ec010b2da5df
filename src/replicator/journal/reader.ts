// Reading durable records back: exact ranges from the offset table, every CRC checked.
import type { FileHandle } from 'node:fs/promises';
import { JournalCorruptError } from './errors.ts';
import { HEADER_BYTES, readHeader, recordProblem } from './format.ts';
import { readAt } from './scan.ts';
import type { Segment } from './types.ts';

/** Reads go in runs of about this many bytes (or one record, when it is larger). */
const RUN_BYTES = 1024 * 1024;

export interface Run {
  records: { seq: number; bytes: Buffer }[];
  /** The damaged record that ended the run early: yield `records`, then throw this. */
  damage?: JournalCorruptError;
}

/**
 * Records from index i up to lastIndex (at most a run's worth) read in one go. The buffer is
 * fresh for each run so callers may keep the records, unless `buffer` gives one (of at least the
 * length asked for): then the records are views of it, good until it is reused.
 */
export async function readRun(fh: FileHandle, seg: Segment, i: number, lastIndex: number, buffer?: (length: number) => Buffer): Promise<Run> {
  const start = seg.offsets.at(i, seg.size);
  let j = i;
  while (j < lastIndex && seg.offsets.at(j + 2, seg.size) - start <= RUN_BYTES) j++;
  const end = seg.offsets.at(j + 1, seg.size);
  const buf = await readAt(fh, start, end - start, buffer?.(end - start)).catch((err: unknown) => {
    throw new JournalCorruptError(seg.path, start, `cannot read ${end - start} bytes: ${(err as Error).message}`);
  });
  const records: { seq: number; bytes: Buffer }[] = [];
  for (let k = i; k <= j; k++) {
    const pos = seg.offsets.at(k, seg.size) - start;
    const length = seg.offsets.at(k + 1, seg.size) - start - pos - HEADER_BYTES;
    const seq = seg.first + k;
    const h = readHeader(buf, pos);
    const problem = h.length !== length ? `record length ${h.length} where ${length} was written` : recordProblem(buf, pos, h, seq);
    if (problem !== undefined) return { records, damage: new JournalCorruptError(seg.path, start + pos, `${problem} (seq ${seq})`) };
    records.push({ seq, bytes: buf.subarray(pos + HEADER_BYTES, pos + HEADER_BYTES + length) });
  }
  return { records };
}
