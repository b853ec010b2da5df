// A failover test, step by step. Declared by spec.operation {type: FailoverTest}; ended by removing
// it. Each reconcile reads status.operation (what was decided: the stage, the checkpoint) and
// the objects in the test namespace (what was done), and takes the next step; every decision is
// written to the status before the steps that depend on it, so an operator restarted at any point
// resumes where it was and never decides twice (the checkpoint is chosen once).
//
//   Prepare   choose the checkpoint (the journal's list on the recovery VRA)        → Recovering
//   Restore   the volumes into new claims of the test namespace (recover.ts)
//   Start G   the boot groups' workloads there, fenced off by NetworkPolicy         → Running
//   Stop      (spec.operation removed) delete all of it, wait until it is gone, tag the
//             checkpoint "tested at …", record lastTest and history; status.operation goes.
//
// Replication is untouched throughout: the export is a scratch copy of the checkpoint.
import type { VPGStatus } from '../../../crds/vpg.ts';
import { chooseFromJournal, describeChoice } from './choose.ts';
import { errorText, removeRecovered, restoreVolumes, startWorkloads, type StepInput, type Where } from './recover.ts';
import { endStep, startStep, type OperationRecord, type OperationResultUpdate } from './record.ts';
import { recoverySide } from './recovery-side.ts';
import { tagCheckpoint } from './tags.ts';

/** Runs the test's next step; undefined when the VPG has no test declared or running. */
export async function failoverTest(i: StepInput): Promise<OperationResultUpdate | undefined> {
  const declared = i.vpg.spec.operation?.type === 'FailoverTest';
  const running = i.vpg.status?.operation;
  if (running !== undefined && running.type !== 'FailoverTest') return undefined;
  if (running === undefined && !declared) return undefined;
  const where: Where = { namespace: i.vpg.spec.recovery.testNamespace, isolate: true, action: 'FailoverTest' };
  let record: OperationRecord | undefined = running;
  if (record === undefined) {
    record = { type: 'FailoverTest', stage: 'Preparing', startTime: i.now.toISOString(), steps: [{ name: 'Prepare', startTime: i.now.toISOString() }] };
    i.ctx.event(i.obj, { type: 'Normal', reason: 'TestStarted', action: 'FailoverTest', note: `failover test into namespace ${where.namespace} (checkpoint ${describeChoice(i.vpg.spec.operation?.checkpoint)})` });
  }
  if (!declared || record.stage === 'Stopping') return stop(i, where, record);
  const testing = (r: OperationRecord, o: Partial<OperationResultUpdate> = {}): OperationResultUpdate => ({ record: r, phase: 'Testing', substatus: 'Recovering', ...o });
  switch (record.stage) {
    case 'Preparing': {
      const chosen = await chooseFromJournal(i, i.vpg.spec.operation?.checkpoint);
      if ('problem' in chosen) return testing({ ...record, error: chosen.problem, message: 'waiting to start' });
      const { error: _cleared, ...rest } = record;
      // Written before anything is made from it: a restart recovers this same checkpoint.
      return testing({
        ...rest, stage: 'Recovering', checkpoint: chosen.checkpoint, progressPercent: 0,
        message: `restoring the volumes at checkpoint ${chosen.checkpoint.id} (${chosen.checkpoint.time})`,
        steps: startStep(endStep(record.steps, 'Prepare', i.now), 'Restore', i.now),
      }, { requeue: true });
    }
    case 'Recovering': {
      if (record.error !== undefined && record.error.startsWith('failed: ')) return testing(record);
      const restored = await restoreVolumes(i, where, record);
      if (restored.state === 'failed') return failed(i, restored.record, restored.error);
      if (restored.state === 'working') return testing(restored.record, restored.requeueAfterMs === undefined ? {} : { requeueAfterMs: restored.requeueAfterMs });
      const started = await startWorkloads(i, where, restored.record);
      if (started.state === 'failed') return failed(i, started.record, started.error);
      if (started.state === 'working') return testing(started.record, started.requeueAfterMs === undefined ? {} : { requeueAfterMs: started.requeueAfterMs });
      const rto = Math.max(0, Math.round((i.now.getTime() - Date.parse(record.startTime)) / 1000));
      i.ctx.event(i.obj, { type: 'Normal', reason: 'TestRunning', action: 'FailoverTest', note: `test running in namespace ${where.namespace} at checkpoint ${record.checkpoint?.id ?? '?'}, ${rto} s after it was asked for` });
      const { error: _e, ...rest } = started.record;
      return { record: { ...rest, stage: 'Running', rtoSeconds: rto, progressPercent: 100, message: `test running: ${rest.message ?? ''}; stop it by removing spec.operation` }, phase: 'Testing' };
    }
    default:
      // Running: nothing to do until the test is stopped.
      return { record, phase: 'Testing' };
  }
}

/** A step failed for good: the test waits to be stopped (which cleans up). */
function failed(i: StepInput, record: OperationRecord, error: string): OperationResultUpdate {
  const text = `failed: ${error}`;
  if (record.error !== text) i.ctx.event(i.obj, { type: 'Warning', reason: 'TestFailed', action: 'FailoverTest', note: `${error}; stop the test (remove spec.operation) to clean up` });
  return { record: { ...record, error: text, message: 'failed: stop the test to clean up' }, phase: 'Testing', substatus: 'Recovering' };
}

/** Removes everything the test made; once it is all gone, tags the checkpoint and records the test. */
async function stop(i: StepInput, where: Where, record: OperationRecord): Promise<OperationResultUpdate> {
  let steps = record.steps;
  if (record.stage !== 'Stopping') {
    steps = startStep(steps, 'Stop', i.now);
    i.ctx.event(i.obj, { type: 'Normal', reason: 'TestStopping', action: 'FailoverTest', note: `removing the test's workloads and volumes from namespace ${where.namespace}` });
  }
  const stopping: OperationRecord = { ...record, stage: 'Stopping', steps, message: `removing the test from namespace ${where.namespace}` };
  const left = await removeRecovered(i, where.namespace);
  if (left.length > 0) {
    return { record: { ...stopping, message: `removing the test from ${where.namespace}: ${left.length} object(s) left (${left.slice(0, 3).join(', ')})` }, phase: 'Testing', substatus: 'StoppingTest', requeueAfterMs: 2000 };
  }
  const ran = record.rtoSeconds !== undefined;
  const result = record.error !== undefined ? 'Failed' : ran ? 'Succeeded' : 'Stopped';
  let tagNote: string | undefined;
  if (ran && record.checkpoint !== undefined) {
    const side = recoverySide(i.ctx.cache, i.config, i.vpg);
    tagNote = 'problem' in side || i.client === undefined
      ? `checkpoint ${record.checkpoint.id} not tagged: ${'problem' in side ? side.problem : 'no VRA credentials'}`
      : await tagCheckpoint(i.client, side.side, record.checkpoint.id, `tested at ${record.startTime}`).catch((err: unknown) => `checkpoint ${record.checkpoint?.id ?? ''} not tagged: ${errorText(err)}`);
    if (tagNote === undefined) i.ctx.event(i.obj, { type: 'Normal', reason: 'CheckpointTagged', action: 'FailoverTest', note: `checkpoint ${record.checkpoint.id} tagged "tested at ${record.startTime}"` });
  }
  const end = i.now.toISOString();
  const note = record.error ?? tagNote;
  const history: NonNullable<VPGStatus['history']>[number] = {
    type: 'FailoverTest', startTime: record.startTime, endTime: end, result,
    ...(record.checkpoint !== undefined && { checkpoint: record.checkpoint }),
    ...(record.rtoSeconds !== undefined && { rtoSeconds: record.rtoSeconds }),
    ...(note !== undefined && { message: note.slice(0, 1024) }),
  };
  i.ctx.event(i.obj, { type: result === 'Failed' ? 'Warning' : 'Normal', reason: 'TestStopped', action: 'FailoverTest', note: `failover test ${result.toLowerCase()}${record.error === undefined ? '' : `: ${record.error}`}` });
  return {
    record: undefined,
    history,
    ...(record.checkpoint !== undefined && {
      lastTest: { startTime: record.startTime, endTime: end, checkpoint: record.checkpoint, result, ...(record.rtoSeconds !== undefined && { rtoSeconds: record.rtoSeconds }) },
    }),
  };
}
