// One error class for the replica and recovery side, with a stable code a caller can switch on
// and a message that names the seq, volume, op and path (or the file and field) at fault.

export type ReplicaErrorCode =
  /** A record cannot be applied: unknown volume or id, bad path, wrong entry type. */
  | 'BAD_OP'
  /** The journal does not hold what was asked for (gap, end before the checkpoint). */
  | 'JOURNAL'
  /** Not a checkpoint, older than the replica, or newer than durable. */
  | 'CHECKPOINT'
  /** A materialise or verify target is unusable (not empty, not a folder, exists). */
  | 'TARGET'
  /** A volume name the replica does not know, or one it knows with another kind. */
  | 'VOLUME'
  /** The replica's own files are not what it wrote. */
  | 'CORRUPT'
  /** A seed's local copy cannot be read: missing, of the wrong kind, unreadable (seed.ts). */
  | 'SEED';

export class ReplicaError extends Error {
  override readonly name = 'ReplicaError';
  readonly code: ReplicaErrorCode;
  constructor(code: ReplicaErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
