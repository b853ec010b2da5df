// The VPG as the plugin sees it: the types of the fields it reads and writes (from the one schema
// source in src/crds) and the few facts it derives from them.
import type { VPGSpec, VPGStatus } from '../crds/vpg.ts';
import type { CustomObject } from '../runtime/index.ts';

export type OperationSpec = NonNullable<VPGSpec['operation']>;
export type OperationType = OperationSpec['type'];
export type CheckpointChoice = OperationSpec['checkpoint'];
export type CommitPolicy = NonNullable<OperationSpec['commitPolicy']>;
export type OperationStatus = NonNullable<VPGStatus['operation']>;
export type OperationStage = OperationStatus['stage'];
export type HistoryEntry = NonNullable<VPGStatus['history']>[number];
export type CheckpointRef = NonNullable<NonNullable<VPGStatus['checkpoints']>['latest']>;
export type LastTest = NonNullable<VPGStatus['lastTest']>;

export interface Vpg extends CustomObject {
  spec?: VPGSpec;
  status?: VPGStatus;
}

/**
 * Asks the controller for a checkpoint with this tag now. The controller takes it, lists it in
 * status.checkpoints.tagged and removes the annotation.
 */
export const TAG_ANNOTATION = 'zcsp.io/tag-checkpoint';

/** What the plugin's writes are recorded under in managedFields (who changed the spec). */
export const FIELD_MANAGER = 'kubectl-zcsp';

export const OPERATION_NAMES: Readonly<Record<OperationType, string>> = {
  FailoverTest: 'failover test',
  Failover: 'failover',
  Move: 'move',
};

/**
 * Whether the status describes this generation of the spec (or a later one). Before the
 * controller has seen a change, status.operation may still show what was there before it.
 */
export function statusIsCurrent(vpg: Vpg, generation: number): boolean {
  const observed = vpg.status?.observedGeneration;
  return observed === undefined || observed >= generation;
}

const historyKey = (e: HistoryEntry): string => `${e.type}|${e.startTime}|${e.endTime}`;

/**
 * The newest entry of `type` in `now` that was not in `before`: the operation that ended since
 * `before` was read. (The history is capped, so older entries drop off; they never look new.)
 */
export function newHistoryEntry(before: readonly HistoryEntry[], now: readonly HistoryEntry[], type: OperationType): HistoryEntry | undefined {
  const seen = new Set(before.map(historyKey));
  return now.find((e) => e.type === type && !seen.has(historyKey(e)));
}

export const historyOf = (vpg: Vpg): readonly HistoryEntry[] => vpg.status?.history ?? [];
