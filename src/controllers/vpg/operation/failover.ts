// Live failover and move, step by step. Declared by spec.operation {type: Failover | Move}; the
// tenant decides with spec.operation.decision (or the commit policy does, at its deadline).
//
//   Prepare     Move, and Failover when the protected site answers: stop the protected
//               workloads (replicas kept in an annotation), wait for their pods to go, take a
//               final checkpoint and wait until the recovery site holds it (nothing written
//               before it is lost). Failover with the protected site down: straight on. Then
//               the checkpoint is chosen (a Move: the final one)                        → Recovering
//   Restore,    the volumes into claims of the recovery namespace, the workloads there
//   Start G     group by group (recover.ts)                                            → BeforeCommit
//   BeforeCommit  wait for decision, or commitPolicy's deadline (default AutoCommit after 10 min)
//   Commit      the recovered volumes and workloads are production now; the protected claims
//               are marked superseded; with reverseProtection a VPG in the other direction
//               protects them (its target starts from the old volumes: a delta sync). This VPG
//               stops replicating (status.failedOver).
//   Rollback    (decision Rollback, AutoRollback, or spec.operation removed before the commit)
//               the recovery is removed and the protected workloads start again; protection
//               never stopped.
// When it ends the operator removes spec.operation itself: a finished failover is not asked for again.
//
// Every decision (stage, checkpoint, deadline) is written to the status before the steps that
// depend on it, so a restarted operator resumes and decides nothing twice.
import type { VPG } from '../../../crds/vpg.ts';
import { ApiError } from '../../../runtime/index.ts';
import { VPGS } from '../../resources.ts';
import type { VraEndpoint } from '../vra-client.ts';
import { chooseFromJournal } from './choose.ts';
import { commitRecovery, type CommitInput } from './commit.ts';
import { finalCheckpoint, restartProtected, stopProtected } from './protected-side.ts';
import { errorText, hasEnded, removeRecovered, restoreVolumes, startWorkloads, type StepInput, type Where } from './recover.ts';
import { endStep, startStep, type HistoryEntry, type OperationRecord, type OperationResultUpdate } from './record.ts';

/** Unset commit policy: AutoCommit after this many minutes (as the schema says). */
const DEFAULT_COMMIT_MINUTES = 10;
const STOP_STEP = 'Stop protected workloads';
const FINAL_STEP = 'Final checkpoint';

/**
 * Whether a failover is recovering, or waits for its commit, without the protected site: it did
 * not answer when the failover started, so its workloads were not stopped and no final
 * checkpoint was asked for. Nothing more is asked of that site until a rollback: a VRA that does
 * not answer costs each request its timeout, and the recovery's steps (one reconcile each, and a
 * poll while the restore Jobs run) would each wait for it, all of it time to recover (RTO).
 */
export function recoveringWithoutProtectedSite(vpg: VPG): boolean {
  const op = vpg.status?.operation;
  if (op === undefined || op.type !== 'Failover' || vpg.spec.operation?.decision === 'Rollback') return false;
  return (op.stage === 'Recovering' || op.stage === 'BeforeCommit') && op.steps?.some((s) => s.name === STOP_STEP) !== true;
}

export interface FailoverInput extends StepInput {
  /** The protected VRA and the stream's id there, when the protected site answers (its source stream reports). */
  source: { vra: VraEndpoint; streamId: string } | undefined;
  commit: Omit<CommitInput, keyof StepInput | 'record'>;
}

export async function failover(i: FailoverInput): Promise<OperationResultUpdate | undefined> {
  const spec = i.vpg.spec.operation;
  const declared = spec !== undefined && spec.type !== 'FailoverTest' ? spec : undefined;
  const running = i.vpg.status?.operation;
  if (running !== undefined && running.type === 'FailoverTest') return undefined;
  if (running === undefined && declared === undefined) return undefined;
  if (running === undefined && i.vpg.status?.failedOver !== undefined) {
    return ended(i, undefined, 'Failed', `the VPG already failed over to ${i.vpg.status.failedOver.namespace}: fail back along the reverse VPG${i.vpg.status.failedOver.reverseVpg === undefined ? '' : ` ${i.vpg.status.failedOver.namespace}/${i.vpg.status.failedOver.reverseVpg}`}`);
  }
  const type = running?.type ?? declared?.type ?? 'Failover';
  const phase = type === 'Move' ? 'Moving' : 'FailingOver';
  const where: Where = { namespace: i.vpg.spec.recovery.namespace, isolate: false, action: type };
  let record: OperationRecord | undefined = running;
  if (record === undefined) {
    record = { type, stage: 'Preparing', startTime: i.now.toISOString(), steps: [{ name: 'Prepare', startTime: i.now.toISOString() }] };
    i.ctx.event(i.obj, { type: 'Normal', reason: type === 'Move' ? 'MoveStarted' : 'FailoverStarted', action: type, note: `${type === 'Move' ? 'move' : 'failover'} into namespace ${where.namespace}` });
  }
  const going = (r: OperationRecord, o: Partial<OperationResultUpdate> = {}): OperationResultUpdate => ({ record: r, phase, substatus: 'Recovering', ...o });

  // Withdrawn before the commit: rolled back.
  const rollingBack = record.stage === 'RollingBack' || declared === undefined || declared.decision === 'Rollback';
  if (rollingBack && record.stage !== 'Committing') return rollback(i, where, record, phase);

  switch (record.stage) {
    case 'Preparing':
      return prepare(i, record, going);
    case 'Recovering': {
      if (record.error?.startsWith('failed: ') === true) return going(record);
      const restored = await restoreVolumes(i, where, record);
      if (restored.state === 'failed') return failed(i, restored.record, restored.error, going);
      if (restored.state === 'working') return going(restored.record, restored.requeueAfterMs === undefined ? {} : { requeueAfterMs: restored.requeueAfterMs });
      const started = await startWorkloads(i, where, restored.record);
      if (started.state === 'failed') return failed(i, started.record, started.error, going);
      if (started.state === 'working') return going(started.record, started.requeueAfterMs === undefined ? {} : { requeueAfterMs: started.requeueAfterMs });
      const rto = Math.max(0, Math.round((i.now.getTime() - Date.parse(record.startTime)) / 1000));
      const policy = declared?.commitPolicy ?? { type: 'AutoCommit' as const, timeoutMinutes: DEFAULT_COMMIT_MINUTES };
      const deadline = policy.type === 'Manual' ? undefined : new Date(i.now.getTime() + (policy.timeoutMinutes ?? DEFAULT_COMMIT_MINUTES) * 60_000).toISOString();
      i.ctx.event(i.obj, { type: 'Normal', reason: 'BeforeCommit', action: type, note: `workloads running in ${where.namespace}, ${rto} s after the request; ${deadline === undefined ? 'waiting for spec.operation.decision' : `${policy.type} at ${deadline} unless decided before`}` });
      const { error: _e, ...rest } = started.record;
      return {
        record: {
          ...rest, stage: 'BeforeCommit', rtoSeconds: rto, progressPercent: 100, steps: startStep(rest.steps, 'Before commit', i.now),
          ...(deadline !== undefined && { commitDeadline: deadline }),
          message: `${rest.message ?? ''}; commit or roll back (spec.operation.decision)${deadline === undefined ? '' : `, else ${policy.type} at ${deadline}`}`,
        },
        phase, substatus: 'BeforeCommit', requeue: true,
      };
    }
    case 'BeforeCommit': {
      const policy = declared?.commitPolicy;
      const due = record.commitDeadline !== undefined && i.now.getTime() >= Date.parse(record.commitDeadline);
      const decide = declared?.decision ?? (due ? (policy?.type === 'AutoRollback' ? 'Rollback' : 'Commit') : undefined);
      if (decide === undefined) {
        const wait = record.commitDeadline === undefined ? undefined : Date.parse(record.commitDeadline) - i.now.getTime();
        return { record, phase, substatus: 'BeforeCommit', ...(wait !== undefined && { requeueAfterMs: wait }) };
      }
      if (decide === 'Rollback') return rollback(i, where, { ...record, stage: 'RollingBack', steps: startStep(endStep(record.steps, 'Before commit', i.now), 'Rollback', i.now) }, phase);
      const by = declared?.decision === undefined ? `by the commit policy (${policy?.type ?? 'AutoCommit'})` : 'as asked';
      i.ctx.event(i.obj, { type: 'Normal', reason: 'Committing', action: type, note: `committing ${by}` });
      return { record: { ...record, stage: 'Committing', message: `committing ${by}`, steps: startStep(endStep(record.steps, 'Before commit', i.now), 'Commit', i.now) }, phase, substatus: 'Committing', requeue: true };
    }
    case 'Committing': {
      const failedOver = await commitRecovery({ ...i, ...i.commit, record });
      const entryNote = failedOver.reverseVpg === undefined ? undefined : `protected back by VPG ${failedOver.namespace}/${failedOver.reverseVpg}`;
      const done = await ended(i, { ...record, steps: endStep(record.steps, 'Commit', i.now) }, 'Succeeded', entryNote);
      return { ...done, failedOver };
    }
    default:
      return going(record);
  }
}

async function prepare(i: FailoverInput, record: OperationRecord, going: (r: OperationRecord, o?: Partial<OperationResultUpdate>) => OperationResultUpdate): Promise<OperationResultUpdate> {
  const type = record.type;
  let steps = record.steps;
  const stopDecided = steps?.some((s) => s.name === STOP_STEP) === true;
  const waiting = (error: string): OperationResultUpdate => going({ ...record, steps, error, message: 'waiting to start' });
  // Decided once: whether the protected site takes part (a Move needs it).
  if (!stopDecided && i.source === undefined) {
    if (type === 'Move') return waiting('a move needs the protected site, and its VRA does not answer: wait for it, or fail over instead (spec.operation.type Failover)');
  }
  let checkpoint = record.checkpoint;
  if (stopDecided || i.source !== undefined) {
    if (!stopDecided) {
      steps = startStep(steps, STOP_STEP, i.now);
      // Written first: from here on the protected workloads are ours to stop and to restart.
      return going({ ...record, steps, message: 'stopping the protected workloads' }, { requeue: true });
    }
    if (!hasEnded(steps, STOP_STEP)) {
      const stopped = await stopProtected(i);
      if (stopped.pods > 0) return going({ ...record, steps, message: `stopping the protected workloads: ${stopped.pods} pod(s) left (${stopped.workloads.join(', ')})` }, { requeueAfterMs: 1000 });
      steps = startStep(endStep(steps, STOP_STEP, i.now), FINAL_STEP, i.now);
      i.ctx.event(i.obj, { type: 'Normal', reason: 'WorkloadsStopped', action: type, note: `protected workloads stopped: ${stopped.workloads.join(', ') || 'none named in spec.bootOrder'}` });
      return going({ ...record, steps, message: 'shipping a final checkpoint' }, { requeue: true });
    }
    if (!hasEnded(steps, FINAL_STEP)) {
      if (i.source === undefined) return waiting('the protected VRA stopped answering before the final checkpoint: it is retried');
      try {
        const seq = await finalCheckpoint(i, i.source.vra, i.source.streamId, `before ${type.toLowerCase()} at ${record.startTime}`);
        steps = endStep(steps, FINAL_STEP, i.now);
        i.ctx.event(i.obj, { type: 'Normal', reason: 'FinalCheckpoint', action: type, note: `checkpoint ${seq} holds everything the stopped workloads wrote` });
        if (type === 'Move' || i.vpg.spec.operation?.checkpoint.type === 'Latest') checkpoint = { id: String(seq), time: i.now.toISOString() };
      } catch (err: unknown) {
        return waiting(`the final checkpoint failed: ${errorText(err)}; it is retried`);
      }
    }
  }
  const chosen = await chooseFromJournal(i, checkpoint === undefined ? i.vpg.spec.operation?.checkpoint : { type: 'Named', name: checkpoint.id });
  if ('problem' in chosen) return waiting(chosen.problem);
  const { error: _cleared, ...rest } = record;
  return going({
    ...rest, stage: 'Recovering', checkpoint: chosen.checkpoint, progressPercent: 0,
    message: `restoring the volumes at checkpoint ${chosen.checkpoint.id} (${chosen.checkpoint.time})`,
    steps: startStep(endStep(steps, 'Prepare', i.now), 'Restore', i.now),
  }, { requeue: true });
}

function failed(i: StepInput, record: OperationRecord, error: string, going: (r: OperationRecord) => OperationResultUpdate): OperationResultUpdate {
  const text = `failed: ${error}`;
  if (record.error !== text) i.ctx.event(i.obj, { type: 'Warning', reason: 'RecoveryFailed', action: record.type, note: `${error}; roll back (spec.operation.decision Rollback) to restore the protected side` });
  return going({ ...record, error: text, message: 'failed: roll back to restore the protected side' });
}

/** Removes the recovery, starts the protected workloads again; protection never stopped. */
async function rollback(i: StepInput, where: Where, record: OperationRecord, phase: 'FailingOver' | 'Moving'): Promise<OperationResultUpdate> {
  let steps = record.steps;
  if (record.stage !== 'RollingBack') {
    steps = startStep(steps, 'Rollback', i.now);
    i.ctx.event(i.obj, { type: 'Normal', reason: 'RollingBack', action: record.type, note: `removing the recovery from ${where.namespace}; the protected workloads start again` });
  }
  const rolling: OperationRecord = { ...record, stage: 'RollingBack', steps, message: `rolling back: removing the recovery from ${where.namespace}` };
  const left = await removeRecovered(i, where.namespace);
  if (left.length > 0) return { record: { ...rolling, message: `rolling back: ${left.length} object(s) left in ${where.namespace} (${left.slice(0, 3).join(', ')})` }, phase, substatus: 'RollingBack', requeueAfterMs: 2000 };
  await restartProtected(i);
  return ended(i, { ...rolling, steps: endStep(steps, 'Rollback', i.now) }, 'RolledBack', record.error);
}

/** The operation is over: history, the status record goes, and spec.operation is removed (a finished operation is not asked for again). */
async function ended(i: StepInput, record: OperationRecord | undefined, result: HistoryEntry['result'], note: string | undefined): Promise<OperationResultUpdate> {
  const type = record?.type ?? i.vpg.spec.operation?.type ?? 'Failover';
  const entry: HistoryEntry = {
    type, startTime: record?.startTime ?? i.now.toISOString(), endTime: i.now.toISOString(), result,
    ...(record?.checkpoint !== undefined && { checkpoint: record.checkpoint }),
    ...(record?.rtoSeconds !== undefined && { rtoSeconds: record.rtoSeconds }),
    ...(note !== undefined && { message: note.slice(0, 1024) }),
  };
  i.ctx.event(i.obj, { type: result === 'Succeeded' ? 'Normal' : 'Warning', reason: `${type}${result}`, action: type, note: `${type === 'Move' ? 'move' : 'failover'} ${result.toLowerCase()}${note === undefined ? '' : `: ${note}`}` });
  await clearSpecOperation(i, type);
  return { record: undefined, history: entry };
}

async function clearSpecOperation(i: StepInput, type: string): Promise<void> {
  if (i.vpg.spec.operation === undefined) return;
  try {
    await i.ctx.client.jsonPatch(VPGS, i.vpg.metadata.name ?? '', i.vpg.metadata.namespace, [
      { op: 'test', path: '/spec/operation/type', value: type },
      { op: 'remove', path: '/spec/operation' },
    ]);
  } catch (err: unknown) {
    // 422: already removed, or replaced by another operation: not ours to remove.
    if (!(err instanceof ApiError && err.statusCode === 422)) throw err;
  }
}

