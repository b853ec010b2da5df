import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Replica } from './replica.ts';
import { Workload } from './replica.test-support.ts';
import { planRetention, runRetention, type RetentionInput } from './retention.ts';

const H = 3_600_000;

// A journal of one record per seq, 100 bytes each; checkpoints at seqs 10, 20, … 60, one an hour,
// the first at t = 0 h, so checkpoint 10·k was taken at (k − 1) h.
const checkpoints = [10, 20, 30, 40, 50, 60].map((seq) => ({ seq, time: (seq / 10 - 1) * H }));
const base = (over: Partial<RetentionInput>): RetentionInput => {
  const appliedSeq = over.appliedSeq ?? 0;
  return {
    checkpoints,
    appliedSeq,
    nowMs: 6 * H,
    historyMs: 3 * H,
    journalBytes: (65 - appliedSeq) * 100,
    bytesBetween: (from, to) => Math.max(0, to - from + 1) * 100,
    ...over,
  };
};

describe('planRetention', () => {
  it('applies the newest checkpoint older than the history', () => {
    // now 6 h, history 3 h: checkpoints at 0, 1, 2 and 3 h are at least 3 h old; the newest is seq 40.
    assert.deepEqual(planRetention(base({})), { applyThrough: 40, reason: 'history', actualHistoryMs: 3 * H, journalBytesAfter: 2500, warning: false, overHardLimit: false });
  });

  it('applies nothing while every checkpoint is within the history, and reports the history it has', () => {
    // history 10 h: nothing is old enough; the oldest recoverable checkpoint (seq 10, t 0) is 6 h old.
    assert.deepEqual(planRetention(base({ historyMs: 10 * H })), { actualHistoryMs: 6 * H, journalBytesAfter: 6500, warning: false, overHardLimit: false });
  });

  it('counts the replica own checkpoint as the oldest recoverable one', () => {
    // The replica is at 40 (t 3 h) and nothing newer is old enough: actual history 3 h.
    assert.deepEqual(planRetention(base({ appliedSeq: 40, historyMs: 3.5 * H })), { actualHistoryMs: 3 * H, journalBytesAfter: 2500, warning: false, overHardLimit: false });
  });

  it('applies early past the history when over the hard limit, and the history shrinks', () => {
    // After 40 the journal holds 2500 bytes; the limit is 1600: applying through 50 leaves 1500.
    assert.deepEqual(planRetention(base({ hardLimitBytes: 1600 })), { applyThrough: 50, reason: 'hard-limit', actualHistoryMs: 2 * H, journalBytesAfter: 1500, warning: false, overHardLimit: false });
  });

  it('applies early even when nothing is older than the history', () => {
    assert.deepEqual(planRetention(base({ historyMs: 10 * H, hardLimitBytes: 5000 })), { applyThrough: 20, reason: 'hard-limit', actualHistoryMs: 5 * H, journalBytesAfter: 4500, warning: false, overHardLimit: false });
  });

  it('warns at the warning threshold', () => {
    assert.equal(planRetention(base({ warningBytes: 2500 })).warning, true);
    assert.equal(planRetention(base({ warningBytes: 2501 })).warning, false);
  });

  it('stays over the hard limit when the records after the last checkpoint alone exceed it', () => {
    // After 60 only seqs 61..65 (500 bytes) remain; the limit is 300.
    assert.deepEqual(planRetention(base({ hardLimitBytes: 300 })), { applyThrough: 60, reason: 'hard-limit', actualHistoryMs: 1 * H, journalBytesAfter: 500, warning: true, overHardLimit: true });
  });

  it('with no checkpoints at all has no history and nothing to apply', () => {
    assert.deepEqual(planRetention(base({ checkpoints: [], hardLimitBytes: 100 })), { actualHistoryMs: 0, journalBytesAfter: 6500, warning: true, overHardLimit: true });
  });
});

describe('runRetention', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'replica-retention-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('applies what aged out and drops it from the journal', async () => {
    const volumes = [{ name: 'data', kind: 'fs' as const }];
    const replica = await Replica.open(join(root, 'r'), volumes);
    const w = new Workload(61, volumes);
    const seqs: number[] = [];
    for (let i = 0; i < 4; i++) {
      w.random(20);
      seqs.push(w.checkpoint());
    }
    // Checkpoint times are w.time steps of 1 s; keep the last two within a 1.5 s history.
    const now = w.time;
    const plan = await runRetention(replica, w.journal, { historyMs: 1500 }, now);
    assert.equal(plan.applyThrough, seqs[1]);
    assert.equal(replica.appliedSeq, seqs[1]);
    assert.deepEqual(w.journal.checkpoints().map((c) => c.seq), seqs.slice(2));
    assert.equal(w.journal.bytesBetween(1, seqs[1] ?? 0), 0);
    // A second round with nothing new to age out changes nothing.
    const again = await runRetention(replica, w.journal, { historyMs: 1500 }, now);
    assert.equal(again.applyThrough, undefined);
    assert.equal(replica.appliedSeq, seqs[1]);
    // The hard limit forces the rest.
    const forced = await runRetention(replica, w.journal, { historyMs: 1500, hardLimitBytes: 0 }, now);
    assert.equal(forced.reason, 'hard-limit');
    assert.equal(replica.appliedSeq, seqs[3]);
    assert.deepEqual(w.journal.checkpoints(), []);
  });
});
