import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, backoffDelay, validateBackoff } from './backoff.ts';

describe('backoff', () => {
  it('doubles from base to max', () => {
    const b = new Backoff({ baseMs: 500, maxMs: 30_000, jitter: 0 });
    assert.deepEqual(Array.from({ length: 8 }, () => b.next()), [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    b.reset();
    assert.equal(b.next(), 500);
  });
  it('stays finite for huge attempt counts', () => {
    assert.equal(backoffDelay(1e6, { baseMs: 1, maxMs: 1000, jitter: 0 }), 1000);
  });
  it('refuses nonsense options with a stable code', () => {
    assert.throws(() => validateBackoff({ baseMs: 0, maxMs: 1 }), { code: 'InvalidOptions' });
    assert.throws(() => validateBackoff({ baseMs: 10, maxMs: 1 }), { code: 'InvalidOptions' });
    assert.throws(() => validateBackoff({ baseMs: 1, maxMs: 10, jitter: 2 }), { code: 'InvalidOptions' });
  });
});
