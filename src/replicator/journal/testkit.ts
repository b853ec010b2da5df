// Records and folders for the journal's tests (real files under the system's temp folder).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRecord } from '../codec.ts';

/** A record whose bytes follow from its seq, so a reader can check it without keeping a copy. */
export function opRecord(seq: number, size = 1 + ((seq * 7919) % 3000)): { seq: number; bytes: Buffer } {
  const bytes = Buffer.allocUnsafe(Math.max(size, 2));
  bytes[0] = 4; // a 'write' op: the journal only reads the type byte of op records
  let x = (seq * 2654435761) >>> 0;
  for (let i = 1; i < bytes.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return { seq, bytes };
}

export function checkpointRecord(seq: number, tag = '', time = 1_764_000_000_000 + seq): { seq: number; bytes: Buffer } {
  return { seq, bytes: encodeRecord({ kind: 'checkpoint', checkpoint: { time, tag, volumes: [{ volume: 'data', digest: Buffer.alloc(32, seq & 0xff) }] } }) };
}

/** Records from..to: ops, with a checkpoint wherever `isCheckpoint` says. */
export function records(from: number, to: number, isCheckpoint: (seq: number) => boolean = () => false, size?: number): { seq: number; bytes: Buffer }[] {
  const out: { seq: number; bytes: Buffer }[] = [];
  for (let s = from; s <= to; s++) out.push(isCheckpoint(s) ? checkpointRecord(s) : opRecord(s, size));
  return out;
}

export async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'zcsp-journal-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function readAll(j: { read(a: number, b: number): AsyncIterable<{ seq: number; bytes: Buffer }> }, from: number, to: number): Promise<{ seq: number; bytes: Buffer }[]> {
  const out: { seq: number; bytes: Buffer }[] = [];
  for await (const r of j.read(from, to)) out.push(r);
  return out;
}
