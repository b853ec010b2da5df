// Puts an operation step's outcome into the status the protection computed: status.operation
// (kept, replaced or removed), lastTest, history, and the Tested condition (the test reminder).
import type { VPGStatus } from '../../../crds/vpg.ts';
import { setStatusCondition } from '../../../runtime/index.ts';
import { withHistory, type OperationResultUpdate } from './record.ts';
import { testedCondition } from './reminder.ts';

export interface ApplyContext {
  now: Date;
  generation: number;
  created: string | undefined;
  /** The SLA's testReminderMonths; undefined while no SLA is in effect (the condition stays as it was). */
  reminderMonths: number | undefined;
}

export function applyOperation(status: VPGStatus, op: OperationResultUpdate | undefined, c: ApplyContext): { status: VPGStatus; dueInMs: number | undefined } {
  const out: VPGStatus = { ...status };
  if (op !== undefined) {
    if (op.record === undefined) delete out.operation;
    else out.operation = op.record;
    if (op.lastTest !== undefined) out.lastTest = op.lastTest;
    if (op.failedOver === null) delete out.failedOver;
    else if (op.failedOver !== undefined) out.failedOver = op.failedOver;
    if (op.history !== undefined) out.history = withHistory(out.history, op.history);
  }
  let dueInMs: number | undefined;
  if (c.reminderMonths !== undefined) {
    // A test that is running counts as done: the reminder would only nag during it.
    const start = out.operation?.type === 'FailoverTest' ? out.operation.startTime : out.lastTest?.startTime;
    const r = testedCondition({ now: c.now, months: c.reminderMonths, lastTestStart: start, created: c.created, generation: c.generation });
    const conditions = (out.conditions ?? []).map(({ observedGeneration, ...rest }) => (observedGeneration === undefined ? rest : { ...rest, observedGeneration }));
    out.conditions = setStatusCondition(conditions, r.condition, c.now).conditions;
    // Timers beyond a day are pointless: the VPG is reconciled every few seconds anyway.
    if (r.dueAt !== undefined) dueInMs = Math.min(86_400_000, Math.max(0, r.dueAt.getTime() - c.now.getTime()));
  }
  return { status: out, dueInMs };
}
