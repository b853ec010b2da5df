// What a capture is to the rest of the data plane: something that compares a volume with what
// the replica will hold and pushes the difference into a sink.
import type { Manifest } from '../manifest.ts';
import type { Record } from '../ops.ts';

/**
 * Where capture pushes records (the Sender). Resolves with the seq the record got, or false when
 * the stream takes no more now: the pass stops and the next pass finds the rest.
 *
 * `done`, when given, is the sink's to call exactly once, when nothing reads the record's write
 * data any more: at once when the sink refuses the record, copies it or fails, else when it lets
 * the record go (the sender: once the receiver has it durable). The data is a view of memory the
 * capture uses again after that (block-arena.ts). A sink that never calls it loses nothing but
 * that memory: captures then read into memory of their own, as without an arena.
 */
export interface RecordSink {
  /**
   * `dataCrc`: a write's data's CRC-32 (zlib's), when the capture worked it out where it read the
   * data (ChunkScan.crcs); a sink that frames the data uses it instead of reading it again.
   */
  push(record: Record, done?: () => void, dataCrc?: number): Promise<number | false>;
}

export interface PassResult {
  /** False when the sink refused a record: the manifest holds what was accepted. */
  complete: boolean;
  /** Content bytes read from the volume. */
  bytesRead: number;
  /** Bytes sent in write ops. */
  bytesChanged: number;
  /** Op records accepted by the sink. */
  ops: number;
}

export interface VolumeCapture {
  /** The VolumeName used in records. */
  readonly volume: string;
  readonly kind: 'fs' | 'block';
  /**
   * Compares the volume with the manifest and pushes what differs; the manifest is updated as
   * each op is accepted, so it always means "the replica once everything pushed is applied".
   * `progress` gets the bytes compared so far (read, or known unchanged), of sizeBytes().
   */
  pass(sink: RecordSink, progress?: (bytesDone: number) => void): Promise<PassResult>;
  /** A copy of the manifest. */
  manifest(): Manifest;
  /** Takes the replica's manifest (delta sync); an empty one means the replica is empty. */
  adopt(manifest: Manifest): void;
  /** volumeDigest (fs) or contentDigest (block) of the manifest: what a checkpoint carries. */
  digest(): Uint8Array;
  /** Bytes a full pass compares (the progress total). */
  sizeBytes(): Promise<number>;
  close(): void;
}

export type CaptureErrorCode = 'BAD_MANIFEST' | 'BAD_OPTION' | 'READ_FAILED' | 'PASS_RUNNING' | 'CLOSED';

export class CaptureError extends Error {
  override readonly name = 'CaptureError';
  readonly code: CaptureErrorCode;
  constructor(code: CaptureErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Thrown inside a pass when the sink says false; the pass ends incomplete. */
export class SinkStopped extends Error {
  override readonly name = 'SinkStopped';
}

export type { Logger as Log } from '../log.ts';

export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}
