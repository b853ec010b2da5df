// When the next application-consistent checkpoint is due, and what the status says of the last
// one. The schedule rests on status.appConsistent (its start time, and a hash of the hooks it
// ran), so a restarted operator carries on where it was; changed hooks run at once, and a run
// that took nothing (a workload still starting, a hook failing) is tried again a minute later
// rather than a whole interval.
import { createHash } from 'node:crypto';
import { canonicalJson, setStatusCondition, type Condition } from '../../../runtime/index.ts';
import type { AppConsistentOutcome, AppConsistentResult, HooksSpec } from './run.ts';

export const CONDITION_APP_CONSISTENT = 'AppConsistent';
/** The condition's reason for each result (docs/troubleshooting.md explains them). */
const REASONS = { Succeeded: 'Succeeded', Degraded: 'Degraded', HookFailed: 'HookFailed', CheckpointFailed: 'CheckpointFailed' } as const;
const MESSAGE_MAX = 1024;
/** After a run that took no checkpoint, the next one comes this soon (or at the interval, if sooner). */
export const RETRY_AFTER_FAILURE_MS = 60_000;

type ConditionLike = Omit<Condition, 'observedGeneration'> & { observedGeneration?: number | undefined };

export interface HooksSchedule extends HooksSpec {
  intervalMinutes: number;
}

export interface AppConsistentStatus {
  startTime: string;
  result: AppConsistentResult;
  checkpoint?: { id: string; time: string; tag?: string | undefined } | undefined;
  message: string;
  hooksHash: string;
}

/** A hash of the hooks as specified: another means they changed since the last run. */
export function hooksHash(hooks: HooksSchedule): string {
  return createHash('sha256').update(canonicalJson(hooks)).digest('hex').slice(0, 16);
}

export function hasHooks(hooks: HooksSchedule | undefined): hooks is HooksSchedule {
  return hooks !== undefined && ((hooks.preCheckpoint?.length ?? 0) > 0 || (hooks.postCheckpoint?.length ?? 0) > 0);
}

/** Milliseconds until the next run is due (0: now); undefined without hooks. */
export function dueInMs(hooks: HooksSchedule | undefined, last: AppConsistentStatus | undefined, now: Date): number | undefined {
  if (!hasHooks(hooks)) return undefined;
  if (last === undefined || last.hooksHash !== hooksHash(hooks)) return 0;
  const started = Date.parse(last.startTime);
  if (Number.isNaN(started)) return 0;
  const interval = hooks.intervalMinutes * 60_000;
  const wait = last.result === 'HookFailed' || last.result === 'CheckpointFailed' ? Math.min(interval, RETRY_AFTER_FAILURE_MS) : interval;
  return Math.max(0, started + wait - now.getTime());
}

export function appConsistentStatus(o: AppConsistentOutcome, hooks: HooksSchedule, checkpointTime: Date | undefined): AppConsistentStatus {
  return {
    startTime: o.startTime.toISOString(),
    result: o.result,
    ...(o.checkpoint !== undefined && { checkpoint: { id: String(o.checkpoint.seq), time: (checkpointTime ?? o.endTime).toISOString(), tag: o.checkpoint.tag } }),
    message: cut(o.message),
    hooksHash: hooksHash(hooks),
  };
}

/**
 * The AppConsistent condition for the last run, or Unknown (WaitingForPods) before the first one
 * while a workload's pods start; removed when the VPG has no hooks.
 */
export function appConsistentCondition(given: readonly ConditionLike[] | undefined, last: AppConsistentStatus | undefined, generation: number, now: Date, waiting?: string): Condition[] {
  // As the status schema types them (an optional field may be undefined).
  const conditions = (given ?? []).map(({ observedGeneration, ...c }): Condition => (observedGeneration === undefined ? c : { ...c, observedGeneration }));
  if (last === undefined && waiting !== undefined) {
    return setStatusCondition(conditions, { type: CONDITION_APP_CONSISTENT, status: 'Unknown', reason: 'WaitingForPods', message: `the first run waits: ${waiting}`, observedGeneration: generation }, now).conditions;
  }
  if (last === undefined) return conditions.filter((c) => c.type !== CONDITION_APP_CONSISTENT);
  return setStatusCondition(conditions, {
    type: CONDITION_APP_CONSISTENT, status: last.result === 'Succeeded' ? 'True' : 'False', reason: REASONS[last.result],
    message: `${last.startTime}: ${last.message}`, observedGeneration: generation,
  }, now).conditions;
}

function cut(text: string): string {
  return text.length <= MESSAGE_MAX ? text : `${text.slice(0, MESSAGE_MAX - 1)}…`;
}
