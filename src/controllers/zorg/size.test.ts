import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, quantityBytes } from './size.ts';

describe('sizes', () => {
  it('reads quantities exactly', () => {
    assert.equal(quantityBytes('10Gi'), 10n * 2n ** 30n);
    assert.equal(quantityBytes('1.5Gi'), 3n * 2n ** 29n);
    assert.equal(quantityBytes('1G'), 1_000_000_000n);
    assert.equal(quantityBytes('1e3'), 1000n);
    assert.equal(quantityBytes(1024), 1024n);
    assert.equal(quantityBytes('1500m'), 2n, 'fractions of a byte round up');
    assert.equal(quantityBytes('0'), 0n);
    assert.throws(() => quantityBytes('ten'), /not a quantity/);
  });

  it('writes the largest exact binary unit', () => {
    assert.equal(formatBytes(0n), '0');
    assert.equal(formatBytes(15n * 2n ** 30n), '15Gi');
    assert.equal(formatBytes(3n * 2n ** 29n), '1536Mi');
    assert.equal(formatBytes(2n ** 40n), '1Ti');
    assert.equal(formatBytes(1000n), '1000');
  });
});
