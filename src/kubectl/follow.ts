// What each waiting command looks for in the VPG's successive states. A follower sees every
// version of the object (and the time), returns the progress lines to print and, once it has
// what it waits for, the outcome. No I/O: the watch loop (wait.ts) feeds it.
import { elapsed } from './format.ts';
import {
  TAG_ANNOTATION, historyOf, newHistoryEntry, statusIsCurrent,
  type CheckpointRef, type HistoryEntry, type OperationStage, type OperationStatus, type OperationType, type Vpg,
} from './vpg.ts';

export interface Step<T> {
  lines: string[];
  done?: T;
}

export interface Follower<T> {
  observe(vpg: Vpg, now: number): Step<T>;
}

/**
 * Prints a line whenever the operation's stage, message or error changes (the percentage rides
 * along but does not make a line of its own: it moves on every status write).
 */
function stageTracker(type: OperationType, startedAt: number): (op: OperationStatus | undefined, now: number) => string[] {
  let last: string | undefined;
  return (op, now) => {
    if (op?.type !== type) return [];
    const key = `${op.stage}\n${op.message ?? ''}\n${op.error ?? ''}`;
    if (key === last) return [];
    last = key;
    const percent = op.progressPercent === undefined ? '' : ` ${op.progressPercent}%`;
    const message = op.message === undefined ? '' : `: ${op.message}`;
    const error = op.error === undefined ? '' : ` (error, retrying: ${op.error})`;
    return [`${elapsed(startedAt, now)} ${op.stage}${percent}${message}${error}`];
  };
}

export type StartOutcome =
  | { kind: 'reached'; operation: OperationStatus; vpg: Vpg }
  | { kind: 'ended'; entry: HistoryEntry; vpg: Vpg }
  /** A step failed for good (status.operation.error "failed: …"): the operation waits to be stopped or rolled back. */
  | { kind: 'failed'; operation: OperationStatus; vpg: Vpg };

/** The controller's prefix of an error no retry will cure. */
export const FAILED_PREFIX = 'failed: ';

/**
 * After declaring an operation (generation: the spec's generation with it): done when the
 * operation reaches `target` (Running for a test, BeforeCommit for a failover or move), or when
 * the history gains its entry (it failed, or went through without stopping at the target).
 */
export function followStart(o: {
  type: OperationType; target: OperationStage; generation: number; historyBefore: readonly HistoryEntry[]; startedAt: number;
}): Follower<StartOutcome> {
  const track = stageTracker(o.type, o.startedAt);
  return {
    observe(vpg, now) {
      if (!statusIsCurrent(vpg, o.generation)) return { lines: [] };
      const entry = newHistoryEntry(o.historyBefore, historyOf(vpg), o.type);
      if (entry !== undefined) return { lines: [], done: { kind: 'ended', entry, vpg } };
      const op = vpg.status?.operation;
      const lines = track(op, now);
      if (op?.type === o.type && op.stage === o.target) return { lines, done: { kind: 'reached', operation: op, vpg } };
      if (op?.type === o.type && op.error?.startsWith(FAILED_PREFIX) === true) return { lines, done: { kind: 'failed', operation: op, vpg } };
      return { lines };
    },
  };
}

export interface EndOutcome {
  /** Undefined when the operation ended without one (withdrawn before it started). */
  entry: HistoryEntry | undefined;
  vpg: Vpg;
}

/**
 * After ending an operation (removing a test, deciding a failover): done once the status,
 * current with the change, no longer shows the operation; the controller drops
 * status.operation in the same write that adds the history entry.
 */
export function followEnd(o: {
  type: OperationType; generation: number; historyBefore: readonly HistoryEntry[]; startedAt: number;
}): Follower<EndOutcome> {
  const track = stageTracker(o.type, o.startedAt);
  return {
    observe(vpg, now) {
      if (!statusIsCurrent(vpg, o.generation)) return { lines: [] };
      const op = vpg.status?.operation;
      const lines = track(op, now);
      if (op?.type === o.type) return { lines };
      return { lines, done: { entry: newHistoryEntry(o.historyBefore, historyOf(vpg), o.type), vpg } };
    },
  };
}

export type TagOutcome = { ok: true; checkpoint: CheckpointRef } | { ok: false; message: string };

/**
 * After asking for a tagged checkpoint: done when status.checkpoints.tagged lists a new
 * checkpoint with the tag and the annotation is gone. If the annotation goes and no such
 * checkpoint shows up within graceMs, the controller dropped the request.
 */
export function followTag(o: { tag: string; taggedBefore: readonly CheckpointRef[]; startedAt: number; graceMs: number }): Follower<TagOutcome> {
  const before = new Set(o.taggedBefore.map((t) => t.id));
  let goneAt: number | undefined;
  return {
    observe(vpg, now) {
      const pending = vpg.metadata?.annotations?.[TAG_ANNOTATION] === o.tag;
      const found = (vpg.status?.checkpoints?.tagged ?? []).find((t) => t.tag === o.tag && !before.has(t.id));
      if (pending) return { lines: [] };
      if (found !== undefined) return { lines: [], done: { ok: true, checkpoint: found } };
      const lines: string[] = [];
      if (goneAt === undefined) {
        goneAt = now;
        lines.push(`${elapsed(o.startedAt, now)} the controller took the request; waiting for the checkpoint to be listed`);
      }
      if (now - goneAt >= o.graceMs) {
        return {
          lines,
          done: { ok: false, message: `the request was removed but no checkpoint tagged "${o.tag}" was listed within ${Math.round(o.graceMs / 1000)}s: see the VPG's conditions and events` },
        };
      }
      return { lines };
    },
  };
}

/**
 * After switching an assessment to Protect (generation: the spec's with mode Protect): done once
 * the status, current with the change, has left phase Assessing. Prints each phase and substatus.
 */
export function followProtect(o: { generation: number; startedAt: number }): Follower<Vpg> {
  let last: string | undefined;
  return {
    observe(vpg, now) {
      const phase = vpg.status?.phase;
      if (!statusIsCurrent(vpg, o.generation) || phase === undefined) return { lines: [] };
      const substatus = vpg.status?.substatus;
      const key = `${phase}/${substatus ?? ''}`;
      const lines = key === last ? [] : [`${elapsed(o.startedAt, now)} ${phase}${substatus === undefined ? '' : ` (${substatus})`}`];
      last = key;
      return phase === 'Assessing' ? { lines } : { lines, done: vpg };
    },
  };
}
