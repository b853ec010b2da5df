// What vpgStatus (index.ts) reads and returns, and the constants of its rules: what the controller
// found of the stream's two ends on their VRAs, the SLA in effect, and the status and events it gets
// back.
import type { VPGStatus } from '../../../crds/vpg.ts';
import type { SourceStatus } from '../../../vra/source-stream.ts';
import type { TargetStatus } from '../../../vra/target-stream.ts';
import type { ChangeRate } from '../../../vra/change-rate.ts';

/** Moving figures are rewritten when this old, or when RPO or history moved this far (damping.ts). */
export const REFRESH_SECONDS = 30;
// The history rule (verdict.ts): below these shares of the expected history, a warning, an error;
// a shortfall under the tolerance never counts.
export const HISTORY_WARNING_RATIO = 0.85;
export const HISTORY_ERROR_RATIO = 0.75;
export const HISTORY_TOLERANCE_SECONDS = 60;
/** At most this many tagged checkpoints in the status (the schema's bound). */
export const MAX_TAGGED = 32;

export type Phase = NonNullable<VPGStatus['phase']>;
export type Substatus = NonNullable<VPGStatus['substatus']>;
export type OperationPhase = Extract<Phase, 'Testing' | 'FailingOver' | 'Moving' | 'FailedOver'>;
// The status's parts, for this folder's modules (index.ts does not export them).
export type Journal = NonNullable<VPGStatus['journal']>;
export type Checkpoints = NonNullable<VPGStatus['checkpoints']>;
export type CheckpointRef = NonNullable<Checkpoints['latest']>;
export type Sync = NonNullable<VPGStatus['sync']>;
export type SyncType = Sync['type'];
export type VolumeEntry = NonNullable<VPGStatus['volumes']>[number];
export type VolumeState = VolumeEntry['state'];
export type Placement = NonNullable<VPGStatus['placement']>;

/** What is read of a volume's change rate as its protected VRA measures it. */
export type VolumeChangeRate = Pick<ChangeRate,
  'since' | 'measuredSeconds' | 'rawBytes' | 'compressedBytes' | 'averageRawBytesPerHour' | 'averageCompressedBytesPerHour' | 'peakRawBytesPerHour' | 'peakCompressedBytesPerHour'>;

/** One volume as the source reports it, when it reports per-volume states. */
export interface SourceVolumeReport {
  /** The stream's volume name: the PersistentVolumeClaim's name. */
  name: string;
  state: 'initial-sync' | 'delta-sync' | 'bitmap-sync' | 'protecting';
  percent?: number | undefined;
  /** Present once the volume's changes are counted (after its sync). */
  changeRate?: VolumeChangeRate | undefined;
}

/** What is read of the protected VRA's report of an assessment (GET /v1/streams/{id}, role assess). */
export interface AssessReport {
  /** measuring once every volume has its baseline pass. */
  state: 'baseline' | 'measuring';
  volumes: readonly { name: string; state: 'baseline' | 'measuring'; changeRate?: VolumeChangeRate | undefined; problem?: string | undefined }[];
  lastError?: string | undefined;
}

/** What is read of the protected VRA's report (GET /v1/streams/{id} of a source). */
export type SourceReport = Pick<SourceStatus, 'state' | 'connected' | 'lastError' | 'rpoSeconds' | 'durableCheckpoint' | 'progress' | 'wireBytes'> & {
  volumes?: readonly SourceVolumeReport[] | undefined;
};

/** What is read of the recovery VRA's report (GET /v1/streams/{id} of a target). */
export type TargetReport = Pick<TargetStatus,
  'journalBytes' | 'checkpoints' | 'oldestCheckpoint' | 'newestCheckpoint' | 'actualHistorySeconds' | 'journalWarning' | 'journalOverHardLimit'>;

/** One end of the stream as the controller found it on its VRA. */
export type StreamObservation<S> =
  | { kind: 'ok'; status: S }
  /** The VRA did not answer (timeout, refused connection, pod without an IP). */
  | { kind: 'unreachable'; error: string }
  /** The VRA has the stream but it could not start, or refused its configuration. */
  | { kind: 'failed'; error: string }
  /** The VRA has no such stream (yet, or any more). */
  | { kind: 'missing' };

export interface TaggedCheckpoint {
  seq: number;
  time: string;
  tag: string;
}

export interface SlaInput {
  rpoAlertSeconds: number;
  historyHours: number;
  checkpointIntervalSeconds: number;
  /** The journal hard limit; undefined: Unlimited. */
  hardLimitBytes?: number | undefined;
  /** Journal usage that raises a warning; undefined: none. */
  warningBytes?: number | undefined;
  /** The hard limit as people read it ("150Gi", "Unlimited"); default: hardLimitBytes formatted. */
  limitText?: string | undefined;
}

export interface Blocker {
  /** CamelCase, for the Ready condition and the event. */
  reason: string;
  message: string;
  /** Default NeedsConfiguration. */
  phase?: 'NeedsConfiguration' | 'Error' | undefined;
}

export interface VpgStatusInput {
  now: Date;
  /** metadata.generation: the conditions' observedGeneration. */
  generation: number;
  /**
   * The VPG's status now, as read (any shape: each field that does not match the schema is ignored).
   * Conditions keep their transition times from it; journal.since, sync.startTime and the figures
   * come from it; events compare against its phase, substatus and condition reasons.
   */
  previous: unknown;
  /** The SLA in effect; undefined only with a blocker (it is then not needed). */
  sla: SlaInput | undefined;
  /**
   * Why the spec cannot be honoured (a missing PVC, a profile not allowed, the quota, no VRA at a
   * site, volumes on several nodes...). The status then shows only that (and the placement).
   */
  blocker?: Blocker | undefined;
  /** Copied to status.placement. A changed streamId starts the journal's figures afresh. */
  placement?: { protectedNode?: string | undefined; recoveryNode?: string | undefined; streamId?: string | undefined } | undefined;
  /** The protected volumes, resolved. */
  volumes: readonly { claimName: string; sizeBytes?: number | undefined }[];
  /** The protected VRA's end of the stream; undefined: not configured there yet. */
  source?: StreamObservation<SourceReport> | undefined;
  /** The recovery VRA's end, with its tagged checkpoints when they were read (undefined: keep the previous list). */
  target?: (StreamObservation<TargetReport> & { tagged?: readonly TaggedCheckpoint[] | undefined }) | undefined;
  /**
   * spec.mode Assess: the protected VRA's assessment (nothing is replicated; source and target
   * are then undefined). Undefined while protecting.
   */
  assessment?: StreamObservation<AssessReport> | undefined;
  /** The VRA pods are Ready. */
  protectedVraReady: boolean;
  recoveryVraReady: boolean;
  /**
   * An operation in progress (failover test, failover, move) owns phase and substatus; the rest
   * (conditions, figures) is computed as usual, and protection events wait until it ends.
   */
  operation?: { phase: OperationPhase; substatus?: Substatus | undefined } | undefined;
}

export interface VpgEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  note: string;
}

export interface VpgStatusResult {
  /**
   * The whole status. operation, lastTest and history belong to the operation logic: they are
   * copied from the previous status as they are (the controller sets or removes them on this);
   * every other field is computed here.
   */
  status: VPGStatus;
  events: VpgEvent[];
}
