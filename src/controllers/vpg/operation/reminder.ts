// The test reminder, as Zerto's: a VPG should be failover-tested every testReminderMonths months
// (its SLA's). The condition Tested says whether that holds: True while the last test (or, never
// tested, the VPG's creation) is within the interval, False with reason TestOverdue once it is
// not. A test that starts resets it at once: the reminder counts from the start of the last test
// that ran its workloads (or any, when it had none to run).
import type { Condition } from '../../../runtime/index.ts';

export interface ReminderInput {
  now: Date;
  /** 0: no reminders. */
  months: number;
  /** When the last test started, if any. */
  lastTestStart: string | undefined;
  created: string | undefined;
  generation: number;
}

/** Calendar months later, clamped to the month's last day (Jan 31 + 1 month = Feb 28/29). */
export function addMonths(from: Date, months: number): Date {
  const d = new Date(from.getTime());
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return d;
}

export interface Reminder {
  condition: Omit<Condition, 'lastTransitionTime'>;
  /** When the condition turns False (the controller requeues for it). */
  dueAt?: Date;
}

export function testedCondition(i: ReminderInput): Reminder {
  const g = { observedGeneration: i.generation };
  if (i.months === 0) return { condition: { type: 'Tested', status: 'True', reason: 'RemindersOff', message: 'the SLA asks for no failover test reminders (testReminderMonths 0)', ...g } };
  const base = i.lastTestStart ?? i.created;
  if (base === undefined) return { condition: { type: 'Tested', status: 'Unknown', reason: 'NoDate', message: 'the VPG has no creation time', ...g } };
  const due = addMonths(new Date(base), i.months);
  const what = i.lastTestStart === undefined ? 'never tested; protected since' : 'last failover test';
  if (i.now.getTime() < due.getTime()) {
    return { condition: { type: 'Tested', status: 'True', reason: i.lastTestStart === undefined ? 'NotYetDue' : 'TestedRecently', message: `${what} ${base}; next test due by ${due.toISOString()} (every ${i.months} months)`, ...g }, dueAt: due };
  }
  return { condition: { type: 'Tested', status: 'False', reason: 'TestOverdue', message: `${what} ${base}: a failover test was due by ${due.toISOString()} (every ${i.months} months); run one with kubectl zcsp test`, ...g } };
}
