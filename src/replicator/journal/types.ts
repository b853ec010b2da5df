import type { OffsetTable } from './offsets.ts';

export interface CheckpointInfo {
  seq: number;
  time: number;
  /** The tag the checkpoint record carries ('' if none). */
  tag: string;
  /** Tags added later with addTag, oldest first. */
  tags: readonly string[];
  volumes: readonly { volume: string; digest: Uint8Array }[];
}

export interface JournalStats {
  /** Bytes of all segment files (what the journal holds on disk). */
  bytes: number;
  segments: number;
  /** The first seq read() can return: droppedThrough + 1. */
  firstSeq: number;
  durableSeq: number;
  oldest?: CheckpointInfo;
  newest?: CheckpointInfo;
  /** fsyncs (files and folders) since open. */
  syncs: number;
  /** Dropped segment files kept for reuse (on disk beside `bytes`, up to spareSegments × segmentBytes). */
  spares: number;
}

/** The journal logs only repairs (what open cut or rebuilt). */
export type { Logger as JournalLogger } from '../log.ts';

/** One segment file as the journal keeps it in memory. */
export interface Segment {
  first: number;
  path: string;
  /** Durable bytes (what fsync covered). */
  size: number;
  /** Start of each durable record. */
  offsets: OffsetTable;
}

export interface CheckpointState {
  info: CheckpointInfo;
  segment: number;
  offset: number;
  bytes: Buffer;
}

export function lastSeqOf(seg: Segment): number {
  return seg.first + seg.offsets.count - 1;
}
