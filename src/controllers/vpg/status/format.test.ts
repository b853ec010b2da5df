import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { approxBytes, formatDuration } from './format.ts';

const GiB = 2 ** 30;
const H = 3600;

describe('formatting', () => {
  it('formats durations for people', () => {
    assert.equal(formatDuration(86_280), '23h58m');
    assert.equal(formatDuration(252), '4m12s');
    assert.equal(formatDuration(12.4), '12s');
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(720 * H), '720h0m');
  });

  it('formats sizes as quantities of about three digits', () => {
    assert.equal(approxBytes(0), '0');
    assert.equal(approxBytes(512), '512');
    assert.equal(approxBytes(1024), '1Ki');
    assert.equal(approxBytes(1.5 * GiB), '1.5Gi');
    assert.equal(approxBytes(GiB + 1), '1Gi');
    assert.equal(approxBytes(1.256 * GiB), '1.26Gi');
    assert.equal(approxBytes(12.34 * GiB), '12.3Gi');
    assert.equal(approxBytes(820 * 2 ** 20 + 5), '820Mi');
    assert.equal(approxBytes(1023.9 * 2 ** 20), '1024Mi');
    assert.equal(approxBytes(100 * GiB), '100Gi');
    assert.equal(approxBytes(10 * GiB), '10Gi');
    assert.equal(approxBytes(2 * GiB), '2Gi');
    assert.equal(approxBytes(-5), '0');
  });
});
