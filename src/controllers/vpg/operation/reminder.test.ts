import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addMonths, testedCondition } from './reminder.ts';

const at = (iso: string): Date => new Date(iso);

describe('test reminder', () => {
  it('adds calendar months, clamped to the month\'s end', () => {
    assert.equal(addMonths(at('2026-01-31T12:00:00Z'), 1).toISOString(), '2026-02-28T12:00:00.000Z');
    assert.equal(addMonths(at('2028-01-31T00:00:00Z'), 1).toISOString(), '2028-02-29T00:00:00.000Z');
    assert.equal(addMonths(at('2026-08-15T00:00:00Z'), 6).toISOString(), '2027-02-15T00:00:00.000Z');
    assert.equal(addMonths(at('2026-12-31T00:00:00Z'), 12).toISOString(), '2027-12-31T00:00:00.000Z');
  });
  it('is True after a test, False once the interval passed, and due at the boundary', () => {
    const base = { months: 3, created: '2026-01-01T00:00:00Z', generation: 4 };
    const fresh = testedCondition({ ...base, now: at('2026-05-01T00:00:00Z'), lastTestStart: '2026-04-01T00:00:00Z' });
    assert.equal(fresh.condition.status, 'True');
    assert.equal(fresh.condition.reason, 'TestedRecently');
    assert.equal(fresh.condition.observedGeneration, 4);
    assert.equal(fresh.dueAt?.toISOString(), '2026-07-01T00:00:00.000Z');
    const due = testedCondition({ ...base, now: at('2026-07-01T00:00:00Z'), lastTestStart: '2026-04-01T00:00:00Z' });
    assert.equal(due.condition.status, 'False');
    assert.equal(due.condition.reason, 'TestOverdue');
    assert.match(due.condition.message, /last failover test 2026-04-01T00:00:00Z: a failover test was due by 2026-07-01T00:00:00.000Z \(every 3 months\)/);
  });
  it('counts from the VPG\'s creation when it was never tested', () => {
    const never = testedCondition({ months: 1, created: '2026-01-01T00:00:00Z', generation: 1, now: at('2026-01-15T00:00:00Z'), lastTestStart: undefined });
    assert.equal(never.condition.reason, 'NotYetDue');
    const late = testedCondition({ months: 1, created: '2026-01-01T00:00:00Z', generation: 1, now: at('2026-02-02T00:00:00Z'), lastTestStart: undefined });
    assert.equal(late.condition.reason, 'TestOverdue');
    assert.match(late.condition.message, /never tested; protected since 2026-01-01/);
  });
  it('is off with testReminderMonths 0', () => {
    const off = testedCondition({ months: 0, created: '2020-01-01T00:00:00Z', generation: 1, now: at('2026-01-01T00:00:00Z'), lastTestStart: undefined });
    assert.equal(off.condition.status, 'True');
    assert.equal(off.condition.reason, 'RemindersOff');
    assert.equal(off.dueAt, undefined);
  });
});
