// The followers fed the successive versions of a VPG, as the watch would deliver them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { followEnd, followProtect, followStart, followTag, type Follower, type Step } from './follow.ts';
import { TAG_ANNOTATION, type HistoryEntry, type OperationStatus, type Vpg } from './vpg.ts';

const t0 = Date.parse('2025-03-01T10:00:00Z');
const old: HistoryEntry = { type: 'FailoverTest', startTime: '2025-02-01T10:00:00Z', endTime: '2025-02-01T10:20:00Z', result: 'Succeeded' };

function vpg(status: NonNullable<Vpg['status']>, annotations?: Record<string, string>): Vpg {
  return { metadata: { name: 'web', namespace: 'acme', ...(annotations !== undefined && { annotations }) }, status };
}
const op = (o: Partial<OperationStatus> & Pick<OperationStatus, 'stage'>): OperationStatus =>
  ({ type: 'FailoverTest', startTime: '2025-03-01T10:00:01Z', ...o });

/** Feeds the versions one second apart; returns every line and the first outcome. */
function feed<T>(follower: Follower<T>, versions: readonly Vpg[]): { lines: string[]; done: T | undefined; at: number } {
  const lines: string[] = [];
  for (const [i, v] of versions.entries()) {
    const step: Step<T> = follower.observe(v, t0 + (i + 1) * 1000);
    lines.push(...step.lines);
    if (step.done !== undefined) return { lines, done: step.done, at: i };
  }
  return { lines, done: undefined, at: -1 };
}

describe('followStart', () => {
  const start = (target: 'Running' | 'BeforeCommit' = 'Running', type: 'FailoverTest' | 'Failover' = 'FailoverTest') =>
    followStart({ type, target, generation: 4, historyBefore: [old], startedAt: t0 });

  it('prints each change of stage or message with the seconds since the start, and is done at the target', () => {
    const r = feed(start(), [
      vpg({ observedGeneration: 4, history: [old] }),
      vpg({ observedGeneration: 4, operation: op({ stage: 'Preparing' }), history: [old] }),
      vpg({ observedGeneration: 4, operation: op({ stage: 'Preparing' }), rpoSeconds: 3, history: [old] }),
      vpg({ observedGeneration: 4, operation: op({ stage: 'Recovering', message: 'restoring 1 of 2 volumes' }), history: [old] }),
      vpg({ observedGeneration: 4, operation: op({ stage: 'Recovering', message: 'restoring 2 of 2 volumes' }), history: [old] }),
      vpg({ observedGeneration: 4, operation: op({ stage: 'Running' }), history: [old] }),
    ]);
    assert.deepEqual(r.lines, [
      '[   2s] Preparing',
      '[   4s] Recovering: restoring 1 of 2 volumes',
      '[   5s] Recovering: restoring 2 of 2 volumes',
      '[   6s] Running',
    ]);
    assert.equal(r.done?.kind, 'reached');
    assert.equal(r.at, 5);
  });

  it('shows the controller\'s error (it retries) and the percentage, without a line per percent', () => {
    const r = feed(start(), [
      vpg({ operation: op({ stage: 'Preparing', message: 'waiting to start', error: 'no checkpoint has the tag "nightly"' }) }),
      vpg({ operation: op({ stage: 'Preparing', message: 'waiting to start', error: 'no checkpoint has the tag "nightly"' }), rpoSeconds: 2 }),
      vpg({ operation: op({ stage: 'Recovering', message: 'restoring 1 volume(s)', progressPercent: 10 }) }),
      vpg({ operation: op({ stage: 'Recovering', message: 'restoring 1 volume(s)', progressPercent: 60 }) }),
    ]);
    assert.deepEqual(r.lines, [
      '[   1s] Preparing: waiting to start (error, retrying: no checkpoint has the tag "nightly")',
      '[   3s] Recovering 10%: restoring 1 volume(s)',
    ]);
  });

  it('ends at an error no retry cures (the controller says "failed: …"), printing it', () => {
    const r = feed(start(), [
      vpg({ operation: op({ stage: 'Recovering', message: 'restoring 0 of 1', error: 'the recovery VRA is not ready' }) }),
      vpg({ operation: op({ stage: 'Recovering', message: 'failed: stop the test to clean up', error: 'failed: the restore of volume data failed: BackoffLimitExceeded' }) }),
    ]);
    assert.equal(r.done?.kind, 'failed');
    assert.equal(r.at, 1);
    assert.match(r.lines[1] ?? '', /failed: the restore of volume data failed/);
  });

  it('ignores a status that has not seen the new generation (what it shows is from before)', () => {
    const r = feed(start(), [
      vpg({ observedGeneration: 3, operation: op({ stage: 'Running' }), history: [old] }),
      vpg({ observedGeneration: 4, operation: op({ stage: 'Preparing' }), history: [old] }),
    ]);
    assert.deepEqual(r.lines, ['[   2s] Preparing']);
    assert.equal(r.done, undefined);
  });

  it('is done when the history gains the operation\'s entry, even if the target was never seen', () => {
    const failed: HistoryEntry = { type: 'FailoverTest', startTime: '2025-03-01T10:00:01Z', endTime: '2025-03-01T10:00:09Z', result: 'Failed', message: 'checkpoint not found' };
    const r = feed(start(), [
      vpg({ observedGeneration: 4, operation: op({ stage: 'Preparing' }), history: [old] }),
      vpg({ observedGeneration: 4, history: [failed, old] }),
    ]);
    assert.deepEqual(r.done, { kind: 'ended', entry: failed, vpg: vpg({ observedGeneration: 4, history: [failed, old] }) });
  });

  it('does not take another operation\'s stage or entry for its own', () => {
    const otherEnded: HistoryEntry = { ...old, type: 'Move', startTime: '2025-03-01T10:00:00Z' };
    const r = feed(start('BeforeCommit', 'Failover'), [
      vpg({ observedGeneration: 4, operation: op({ type: 'Move', stage: 'BeforeCommit' }), history: [old] }),
      vpg({ observedGeneration: 4, history: [otherEnded, old] }),
    ]);
    assert.deepEqual(r, { lines: [], done: undefined, at: -1 });
  });
});

describe('followEnd', () => {
  const end = () => followEnd({ type: 'Failover', generation: 6, historyBefore: [old], startedAt: t0 });
  const committed: HistoryEntry = { type: 'Failover', startTime: '2025-03-01T09:50:00Z', endTime: '2025-03-01T10:00:05Z', result: 'Succeeded' };

  it('prints the stages and is done with the new history entry once the operation is gone', () => {
    const r = feed(end(), [
      vpg({ observedGeneration: 5, operation: op({ type: 'Failover', stage: 'BeforeCommit' }), history: [old] }),
      vpg({ observedGeneration: 6, operation: op({ type: 'Failover', stage: 'Committing', message: 'starting reverse protection' }), history: [old] }),
      vpg({ observedGeneration: 6, history: [committed, old] }),
    ]);
    assert.deepEqual(r.lines, ['[   2s] Committing: starting reverse protection']);
    assert.equal(r.done?.entry, committed);
  });

  it('ends without an entry when the operation was withdrawn before it started', () => {
    const r = feed(end(), [vpg({ observedGeneration: 6, history: [old] })]);
    assert.equal(r.at, 0);
    assert.equal(r.done?.entry, undefined);
  });
});

describe('followTag', () => {
  const before = [{ id: 'cp-10', time: '2025-03-01T09:00:00Z', tag: 'nightly' }];
  const tag = () => followTag({ tag: 'nightly', taggedBefore: before, startedAt: t0, graceMs: 5000 });
  const made = { id: 'cp-99', time: '2025-03-01T10:00:02Z', tag: 'nightly' };

  it('is done when a new checkpoint with the tag is listed and the request is gone, in either order', () => {
    const pending = { [TAG_ANNOTATION]: 'nightly' };
    const listedFirst = feed(tag(), [
      vpg({ checkpoints: { count: 1, tagged: before } }, pending),
      vpg({ checkpoints: { count: 2, tagged: [made, ...before] } }, pending),
      vpg({ checkpoints: { count: 2, tagged: [made, ...before] } }),
    ]);
    assert.deepEqual([listedFirst.at, listedFirst.done], [2, { ok: true, checkpoint: made }]);
    const removedFirst = feed(tag(), [
      vpg({ checkpoints: { count: 1, tagged: before } }),
      vpg({ checkpoints: { count: 2, tagged: [made, ...before] } }),
    ]);
    assert.deepEqual([removedFirst.at, removedFirst.done], [1, { ok: true, checkpoint: made }]);
    assert.deepEqual(removedFirst.lines, ['[   1s] the controller took the request; waiting for the checkpoint to be listed']);
  });

  it('does not take an older checkpoint with the same tag; gives up when none is listed after the grace', () => {
    const r = feed(tag(), Array.from({ length: 7 }, () => vpg({ checkpoints: { count: 1, tagged: before } })));
    assert.equal(r.at, 5);
    assert.deepEqual(r.done, { ok: false, message: 'the request was removed but no checkpoint tagged "nightly" was listed within 5s: see the VPG\'s conditions and events' });
  });
});

describe('followProtect', () => {
  it('waits for the status of the switch, prints each phase, and is done once it is not Assessing', () => {
    const r = feed(followProtect({ generation: 3, startedAt: t0 }), [
      vpg({ observedGeneration: 2, phase: 'Assessing' }),
      vpg({ observedGeneration: 2, phase: 'Initializing' }),
      vpg({ observedGeneration: 3, phase: 'Assessing', substatus: 'Baseline' }),
      vpg({ observedGeneration: 3, phase: 'Assessing', substatus: 'Baseline' }),
      vpg({ observedGeneration: 3, phase: 'Initializing', substatus: 'InitialSync', sync: { type: 'Initial', startTime: '2025-03-01T10:00:05Z', progressPercent: 0 } }),
    ]);
    assert.deepEqual(r.lines, ['[   3s] Assessing (Baseline)', '[   5s] Initializing (InitialSync)']);
    assert.equal(r.at, 4, 'an older generation\'s Initializing does not count');
    assert.equal(r.done?.status?.phase, 'Initializing');
  });
  it('is not done while the status has no phase', () => {
    const r = feed(followProtect({ generation: 1, startedAt: t0 }), [vpg({ observedGeneration: 1 })]);
    assert.equal(r.done, undefined);
    assert.deepEqual(r.lines, []);
  });
});
