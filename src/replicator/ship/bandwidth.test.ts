import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from './bandwidth.ts';

describe('TokenBucket', () => {
  it('lets through no more than burst + rate × elapsed (its own clock), and makes takers wait', async () => {
    const rate = 20 * 1024 * 1024;
    const bucket = new TokenBucket({ rate, burstBytes: 64 * 1024 });
    const sizes = Array.from({ length: 60 }, (_, i) => 32 * 1024 + i * 512);
    await Promise.all(sizes.map((n) => bucket.take(n)));
    const s = bucket.stats;
    assert.equal(s.grantedBytes, sizes.reduce((a, b) => a + b, 0));
    assert.ok(s.waits > 0, 'takes beyond the burst waited');
    assert.ok(s.plannedWaitMs > 0);
    const last = sizes.at(-1) ?? 0;
    const elapsedMs = (s.lastGrantAt ?? 0) - (s.firstGrantAt ?? 0);
    assert.ok(s.grantedBytes - last <= bucket.burst + (rate * elapsedMs) / 1000 + 1, `granted ${s.grantedBytes} in ${elapsedMs} ms at ${rate} B/s`);
  });

  it('unlimited: never waits', async () => {
    const bucket = new TokenBucket();
    for (let i = 0; i < 100; i++) await bucket.take(8 * 1024 * 1024);
    assert.equal(bucket.stats.waits, 0);
    assert.equal(bucket.stats.grantedBytes, 800 * 1024 * 1024);
  });

  it('a rate change reaches a waiting take at once', async () => {
    const bucket = new TokenBucket({ rate: 1, burstBytes: 1 });
    await bucket.take(1000); // into debt: at 1 B/s the next take would wait ~17 minutes
    const waiting = bucket.take(10);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(bucket.stats.grantedBytes, 1000, 'the second take is still waiting');
    bucket.setRate(undefined);
    await waiting;
    assert.equal(bucket.stats.grantedBytes, 1010);
    assert.equal(bucket.rate, undefined);
    bucket.setRate(1024);
    assert.equal(bucket.rate, 1024);
  });

  it('close() fails waiting takes; bad rates are refused', async () => {
    const bucket = new TokenBucket({ rate: 1, burstBytes: 1 });
    await bucket.take(100);
    const waiting = bucket.take(1);
    bucket.close();
    await assert.rejects(waiting, /bandwidth limiter closed/);
    assert.throws(() => new TokenBucket({ rate: 0 }), /bandwidth 0 bytes\/s is not a positive number/);
    assert.throws(() => bucket.setRate(Number.NaN), RangeError);
  });
});
