import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FailureLimiter } from './rate-limit.ts';

describe('FailureLimiter', () => {
  it('refuses an address after the limit of failures until the oldest leaves the window', () => {
    let now = 1_000_000;
    const limiter = new FailureLimiter({ limit: 3, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 3; i++) {
      assert.equal(limiter.retryAfterMs('10.0.0.1'), 0);
      limiter.fail('10.0.0.1');
      now += 1000;
    }
    assert.equal(limiter.retryAfterMs('10.0.0.1'), 57_000, 'the first failure leaves the window in 57 s');
    assert.equal(limiter.retryAfterMs('10.0.0.2'), 0, 'other addresses are not affected');
    now += 57_000;
    assert.equal(limiter.retryAfterMs('10.0.0.1'), 0);
  });

  it('forgets addresses whose failures are all old', () => {
    let now = 0;
    const limiter = new FailureLimiter({ limit: 2, windowMs: 1000, now: () => now });
    limiter.fail('a');
    limiter.fail('b');
    assert.equal(limiter.size, 2);
    now = 5000;
    limiter.sweep();
    assert.equal(limiter.size, 0);
  });
});
