// What flows from a protected volume to its journal: operations on one volume, and checkpoints
// across all volumes of a VPG. The same values are encoded once (codec.ts) and those bytes are
// what the wire carries and what the journal stores, so the receiver never re-encodes.

/** A volume of a VPG, by the name the VPG gives it (the PVC's name): a DNS subdomain. */
export type VolumeName = string;

/**
 * A file's identity on the replica. The source assigns it (from the inode it saw) and keeps it
 * across renames, so data records follow a file wherever it moves. Block volumes use id 0.
 * Ids are positive integers below 2^48.
 */
export type FileId = number;

/** Paths are relative to the volume root, '/'-separated, checked by paths.ts. */
export type Op =
  | { op: 'mkdir'; path: string; mode: number }
  /** A new, empty regular file (replacing nothing: the source unlinks first). */
  | { op: 'create'; path: string; id: FileId; mode: number }
  | { op: 'symlink'; path: string; target: string }
  /** Bytes at an offset of a file (fs) or of the image (block, id 0). */
  | { op: 'write'; id: FileId; offset: number; data: Uint8Array }
  /** Set the length of a file or image (shrinks or zero-extends). */
  | { op: 'truncate'; id: FileId; size: number }
  /** Moves an entry, replacing what is at `to` (a file or symlink, or an empty folder). */
  | { op: 'rename'; from: string; to: string }
  /** Removes a file, symlink or empty folder (the source removes children first). */
  | { op: 'unlink'; path: string }
  | { op: 'chmod'; path: string; mode: number }
  /**
   * A file's content digest (hash.ts) as the capture read it: recorded so a materialised copy can
   * be verified against the source, not against itself.
   */
  | { op: 'digest'; id: FileId; size: number; digest: Uint8Array };

export type OpName = Op['op'];

/** A record of a stream: an op on a volume, or a checkpoint closing a pass over all volumes. */
export type Record =
  | { kind: 'op'; volume: VolumeName; op: Op }
  | { kind: 'checkpoint'; checkpoint: CheckpointMark };

export interface CheckpointMark {
  /** Capture time, ms since the epoch: one timestamp for all volumes of the VPG. */
  time: number;
  /** A user's tag ("before-upgrade", "tested at …"); empty when untagged. */
  tag: string;
  /** Digest of each volume's whole state at this checkpoint (hash.ts volumeDigest). */
  volumes: readonly { volume: VolumeName; digest: Uint8Array }[];
}

/** Modes carry the permission bits and setuid/setgid/sticky only (no file type bits). */
export const MODE_MASK = 0o7777;
/** Ids, offsets and sizes fit 48 bits (256 TiB): the codec writes them as 6 bytes. */
export const MAX_UINT48 = 2 ** 48 - 1;
/** One write carries at most this much data (before compression). */
export const MAX_WRITE_BYTES = 4 * 1024 * 1024;

export type VolumeKind = 'fs' | 'block';

/**
 * Why an op cannot be applied to a volume of this kind, or undefined. A block volume takes only
 * writes, truncates and digests of its one image (id 0); a filesystem volume's files have ids
 * above 0. Checked by the receiver before anything is journaled, and again by the replica.
 */
export function opProblemFor(kind: VolumeKind, op: Op): string | undefined {
  const id = 'id' in op ? op.id : undefined;
  if (kind === 'block') {
    if (op.op !== 'write' && op.op !== 'truncate' && op.op !== 'digest') return `${op.op} is not an operation on a block volume (only write, truncate and digest)`;
    if (id !== 0) return `${op.op} on a block volume names id ${String(id)}; a block volume has only id 0`;
    return undefined;
  }
  if (id === 0) return `${op.op} on a filesystem volume names id 0; file ids start at 1`;
  return undefined;
}
