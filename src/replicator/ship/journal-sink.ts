// What the receiver needs of a journal (src/replicator/journal implements it; see the README of
// src/replicator): appends in seq order, durable when the promise resolves.

export interface JournalSink {
  /** The last seq on disk (0: empty). */
  readonly durableSeq: number;
  /** The newest checkpoint on disk: its seq and capture time. */
  lastCheckpoint(): { seq: number; time: number } | undefined;
  /**
   * Appends records that follow durableSeq without a gap; durable when it resolves. Keeps nothing
   * of the batch's buffers once it settles: the receiver uses that memory again. A record's `crc`,
   * when given, is the CRC-32 (zlib) of its bytes, already worked out: it is stored as it is.
   */
  append(batch: readonly { seq: number; bytes: Buffer; crc?: number }[]): Promise<void>;
}
