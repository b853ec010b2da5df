import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appConsistentCondition, appConsistentStatus, dueInMs, hooksHash, type HooksSchedule } from './schedule.ts';

const hooks: HooksSchedule = {
  intervalMinutes: 60,
  preCheckpoint: [{ name: 'flush', workload: { kind: 'Deployment', name: 'db' }, command: ['sync'], timeoutSeconds: 30, onError: 'Fail' }],
};
const now = new Date('2026-11-28T10:00:00Z');

describe('the application-consistent schedule', () => {
  it('is due at once the first time and when the hooks change, then every intervalMinutes from the last start', () => {
    assert.equal(dueInMs(hooks, undefined, now), 0);
    const last = { startTime: '2026-11-28T09:30:00.000Z', result: 'Succeeded' as const, message: '', hooksHash: hooksHash(hooks) };
    assert.equal(dueInMs(hooks, last, now), 30 * 60_000);
    assert.equal(dueInMs(hooks, { ...last, startTime: '2026-11-28T08:00:00.000Z' }, now), 0);
    assert.equal(dueInMs({ ...hooks, intervalMinutes: 15 }, last, now), 0, 'other hooks (a new interval) run at once');
    // A run that took nothing is tried again a minute after it started.
    assert.equal(dueInMs(hooks, { ...last, startTime: '2026-11-28T09:59:30.000Z', result: 'HookFailed' }, now), 30_000);
    assert.equal(dueInMs(hooks, { ...last, startTime: '2026-11-28T09:59:30.000Z', result: 'CheckpointFailed' }, now), 30_000);
    assert.equal(dueInMs(hooks, { ...last, startTime: '2026-11-28T09:59:30.000Z', result: 'Degraded' }, now), 3_570_000, 'a checkpoint was taken: the interval');
    assert.equal(dueInMs({ intervalMinutes: 60 }, last, now), undefined, 'no hooks, no schedule');
    assert.equal(dueInMs(undefined, last, now), undefined);
  });

  it('says in the status what was taken and sets the AppConsistent condition, removed with the hooks', () => {
    const status = appConsistentStatus({
      result: 'HookFailed', startTime: now, endTime: new Date(now.getTime() + 2000), checkpoint: undefined, failures: [], message: 'x'.repeat(2000),
    }, hooks, undefined);
    assert.equal(status.message.length, 1024);
    assert.equal(status.checkpoint, undefined);
    const conditions = appConsistentCondition([], status, 3, now);
    assert.deepEqual(conditions.map((c) => [c.type, c.status, c.reason, c.observedGeneration]), [['AppConsistent', 'False', 'HookFailed', 3]]);
    const ok = appConsistentStatus({ result: 'Succeeded', startTime: now, endTime: now, checkpoint: { seq: 7, tag: 'app-consistent' }, failures: [], message: 'checkpoint 7' }, hooks, now);
    assert.deepEqual(ok.checkpoint, { id: '7', time: '2026-11-28T10:00:00.000Z', tag: 'app-consistent' });
    assert.equal(appConsistentCondition(conditions, ok, 3, now)[0]?.status, 'True');
    assert.deepEqual(appConsistentCondition(conditions, undefined, 3, now), []);
    // Before the first run, while a workload's pods start.
    const waiting = appConsistentCondition([], undefined, 3, now, 'Deployment ns/db has no Ready pod');
    assert.deepEqual(waiting.map((c) => [c.status, c.reason, c.message]), [['Unknown', 'WaitingForPods', 'the first run waits: Deployment ns/db has no Ready pod']]);
  });
});
