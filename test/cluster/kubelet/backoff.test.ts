import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CrashLoopBackoff, Deadline, goDuration, RetryBackoff, waitAtMost } from './backoff.ts';

describe('CrashLoopBackoff', () => {
  it('restarts at once the first time, then waits initial, doubling up to max', () => {
    const b = new CrashLoopBackoff(10_000, 40_000);
    let t = 0;
    const waits: number[] = [];
    for (let crash = 0; crash < 5; crash++) {
      t += 1000; // each run lasts a second
      const wait = b.remaining(t, t);
      waits.push(wait);
      t += wait;
      b.recordRestart(t - wait, t);
    }
    assert.deepEqual(waits, [0, 10_000, 20_000, 40_000, 40_000]);
  });

  it('counts the wait from when the container finished', () => {
    const b = new CrashLoopBackoff(10_000, 300_000);
    b.recordRestart(0, 0);
    assert.equal(b.remaining(5000, 8000), 7000);
    assert.equal(b.remaining(5000, 20_000), 0);
  });

  it('starts over after a container ran longer than twice the maximum', () => {
    const b = new CrashLoopBackoff(1000, 4000);
    b.recordRestart(0, 0);
    b.recordRestart(1000, 1000);
    assert.equal(b.currentMs, 2000);
    b.recordRestart(20_000, 20_000);
    assert.equal(b.currentMs, 1000);
  });
});

describe('RetryBackoff', () => {
  it('doubles to the maximum and resets', () => {
    const r = new RetryBackoff(100, 500);
    assert.deepEqual([r.next(), r.next(), r.next(), r.next()], [100, 200, 400, 500]);
    r.reset();
    assert.equal(r.next(), 100);
  });
});

describe('goDuration', () => {
  it('prints like Go', () => {
    assert.equal(goDuration(500), '500ms');
    assert.equal(goDuration(10_000), '10s');
    assert.equal(goDuration(160_000), '2m40s');
    assert.equal(goDuration(300_000), '5m0s');
    assert.equal(goDuration(1500), '1.5s');
  });
});

describe('Deadline', () => {
  it('can be brought forward but not pushed back', async () => {
    const start = Date.now();
    const d = new Deadline(start + 10_000);
    d.bringForward(start + 20_000);
    assert.equal(d.at, start + 10_000);
    d.bringForward(start + 30);
    await d.reached;
    assert.ok(Date.now() - start < 5000);
  });
});

describe('waitAtMost', () => {
  it('ends with the promise and leaves no timer behind, or ends at the limit', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    await waitAtMost(Promise.resolve(), 60_000);
    assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, before);
    const start = Date.now();
    await waitAtMost(new Promise(() => undefined), 30);
    assert.ok(Date.now() - start >= 25);
    // A rejection ends the wait too (the caller only waits; it does not handle the outcome).
    await waitAtMost(Promise.reject(new Error('gone')), 60_000).catch(() => undefined);
    assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, before);
  });
});
