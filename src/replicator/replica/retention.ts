// Retention: the journal keeps the configured history; checkpoints older than it are applied to
// the replica and their records dropped. When the journal is over its hard limit, the oldest
// checkpoints are applied early until it is under (the actual history shrinks, and the plan says
// by how much). planRetention is pure; runRetention carries a plan out.
import type { JournalReader } from './journal-reader.ts';
import type { Replica } from './replica.ts';

export interface RetentionInput {
  checkpoints: readonly { seq: number; time: number }[];
  appliedSeq: number;
  nowMs: number;
  historyMs: number;
  /** Bytes the journal holds after appliedSeq. */
  journalBytes: number;
  /** Stored bytes of records fromSeq..toSeq inclusive. */
  bytesBetween: (fromSeq: number, toSeq: number) => number;
  hardLimitBytes?: number;
  warningBytes?: number;
}

export interface RetentionPlan {
  /** The checkpoint to apply the replica through, when one should be. */
  applyThrough?: number;
  reason?: 'history' | 'hard-limit';
  /** Age of the oldest checkpoint still recoverable once the plan is carried out. */
  actualHistoryMs: number;
  /** Journal bytes once the plan is carried out. */
  journalBytesAfter: number;
  /** At or over the warning threshold (or over the hard limit). */
  warning: boolean;
  /** Still over the hard limit even after applying every checkpoint (the records after the last one stay). */
  overHardLimit: boolean;
}

export interface RetentionPolicy {
  historyMs: number;
  hardLimitBytes?: number;
  warningBytes?: number;
}

export function planRetention(input: RetentionInput): RetentionPlan {
  const { appliedSeq, nowMs, historyMs, journalBytes, bytesBetween, hardLimitBytes, warningBytes } = input;
  const sorted = [...input.checkpoints].sort((a, b) => a.seq - b.seq);
  const pending = sorted.filter((c) => c.seq > appliedSeq);
  const horizon = nowMs - historyMs;
  let index = -1;
  for (let i = 0; i < pending.length; i++) if ((pending[i]?.time ?? Infinity) <= horizon) index = i;
  let reason: RetentionPlan['reason'] = index >= 0 ? 'history' : undefined;
  const remaining = (i: number): number => {
    const cp = pending[i];
    return cp === undefined ? journalBytes : journalBytes - bytesBetween(appliedSeq + 1, cp.seq);
  };
  if (hardLimitBytes !== undefined) {
    while (remaining(index) > hardLimitBytes && index < pending.length - 1) {
      index++;
      reason = 'hard-limit';
    }
  }
  const after = remaining(index);
  const overHardLimit = hardLimitBytes !== undefined && after > hardLimitBytes;
  const applied = pending[index];
  const oldest = applied ?? sorted.find((c) => c.seq === appliedSeq) ?? pending[0];
  const plan: RetentionPlan = {
    actualHistoryMs: oldest === undefined ? 0 : Math.max(0, nowMs - oldest.time),
    journalBytesAfter: after,
    warning: overHardLimit || (warningBytes !== undefined && after >= warningBytes),
    overHardLimit,
  };
  if (applied !== undefined && reason !== undefined) {
    plan.applyThrough = applied.seq;
    plan.reason = reason;
  }
  return plan;
}

/** Plans, applies the replica through the planned checkpoint, then drops what the replica holds. */
export async function runRetention(replica: Replica, journal: JournalReader, policy: RetentionPolicy, now: number = Date.now()): Promise<RetentionPlan> {
  const applied = replica.appliedSeq;
  const durable = journal.durableSeq;
  const input: RetentionInput = {
    checkpoints: journal.checkpoints().filter((c) => c.seq <= durable),
    appliedSeq: applied,
    nowMs: now,
    historyMs: policy.historyMs,
    journalBytes: durable > applied ? journal.bytesBetween(applied + 1, durable) : 0,
    bytesBetween: (from, to) => journal.bytesBetween(from, to),
  };
  if (policy.hardLimitBytes !== undefined) input.hardLimitBytes = policy.hardLimitBytes;
  if (policy.warningBytes !== undefined) input.warningBytes = policy.warningBytes;
  const plan = planRetention(input);
  if (plan.applyThrough !== undefined) await replica.apply(journal, plan.applyThrough);
  if (replica.appliedSeq > 0) await journal.dropThrough(replica.appliedSeq);
  return plan;
}
