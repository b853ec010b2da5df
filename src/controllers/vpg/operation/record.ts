// status.operation as the operation steps read and write it, and what a step returns to the
// reconcile: the new record (undefined: the operation ended), lastTest and a history entry when it
// ended, and the phase and substatus it puts the VPG in.
import type { VPGStatus } from '../../../crds/vpg.ts';
import type { OperationPhase, Substatus } from '../status/index.ts';

export type OperationRecord = NonNullable<VPGStatus['operation']>;
export type Steps = OperationRecord['steps'];
export type HistoryEntry = NonNullable<VPGStatus['history']>[number];

export interface OperationResultUpdate {
  record: OperationRecord | undefined;
  lastTest?: VPGStatus['lastTest'];
  /** A committed failover or move: where the VPG's workloads went (set), or back home (null: cleared). */
  failedOver?: VPGStatus['failedOver'] | null;
  history?: HistoryEntry;
  phase?: OperationPhase;
  substatus?: Substatus;
  /** Reconcile again at once (a decision was recorded and the next step depends on it). */
  requeue?: boolean;
  requeueAfterMs?: number;
}

/** At most this many finished operations in status.history (the schema's bound). */
export const MAX_HISTORY = 10;

export function startStep(steps: Steps, name: string, now: Date): NonNullable<Steps> {
  const kept = (steps ?? []).filter((s) => s.name !== name);
  return [...kept, { name, startTime: now.toISOString() }].slice(-24);
}

export function endStep(steps: Steps, name: string, now: Date): NonNullable<Steps> {
  return (steps ?? []).map((s) => (s.name === name && s.endTime === undefined ? { ...s, endTime: now.toISOString() } : s));
}

/** The history with `entry` first (at most MAX_HISTORY; an entry already recorded is not added twice). */
export function withHistory(history: VPGStatus['history'], entry: HistoryEntry): NonNullable<VPGStatus['history']> {
  const rest = (history ?? []).filter((h) => !(h.type === entry.type && h.startTime === entry.startTime));
  return [entry, ...rest].slice(0, MAX_HISTORY);
}
