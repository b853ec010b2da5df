// Totals over VPGs: sums of each figure, counted by hand from two small reports.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { estimate } from './estimate.ts';
import { total } from './total.ts';

const GB = 1e9;
// Each journal's segment files beyond its records: 256 MiB.
const FILES = 256 * 2 ** 20;

describe('total', () => {
  // a: 100 GB, 1 GB/h raw 2:1 (0.5 GB/h sent), peak 4 GB/h raw (2 GB/h sent), 24 h, unlimited, failback.
  const a = estimate({
    protectedBytes: 100 * GB, averageChangeBytesPerHour: 1 * GB, peakChangeBytesPerHour: 4 * GB, compressionRatio: 2, historyHours: 24,
    hardLimit: { type: 'Unlimited' }, rpoSeconds: 300, reverseProtection: true,
  });
  // b: 50 GB, 3 GB/h raw uncompressed, steady, 10 h, hard limit 20 GB (journal 30 GB: over), no failback.
  const b = estimate({
    protectedBytes: 50 * GB, averageChangeBytesPerHour: 3 * GB, peakChangeBytesPerHour: 3 * GB, compressionRatio: 1, historyHours: 10,
    hardLimit: { type: 'Size', bytes: 20 * GB }, rpoSeconds: 60, reverseProtection: false,
  });
  const t = total([a, b]);

  it('counts the VPGs and those over their hard limit', () => {
    assert.equal(t.vpgs, 2);
    assert.equal(t.vpgsOverHardLimit, 1);
  });

  it('sums the space', () => {
    assert.equal(t.protectedBytes, 150 * GB);
    assert.equal(t.replicaBytes, 150 * GB);
    // a: 0.5 GB/h × 24 h = 12 GB; b: 3 GB/h × 10 h = 30 GB projected.
    assert.equal(t.journalProjectedBytes, 42 * GB);
    // Tests of both at once: (100 + 100) + (50 + 50) GB.
    assert.equal(t.failoverTestBytes, 300 * GB);
    // Only a wants failback: 100 GB replica + 12 GB journal + its files.
    assert.equal(t.reverseProtectionBytes, 112 * GB + FILES);
    // a: 100 + 12; b: 50 + 20 (its journal stops at the limit); two journals' files.
    assert.equal(t.recoverySiteSteadyBytes, 182 * GB + 2 * FILES);
    assert.equal(t.recoverySiteDuringTestBytes, 482 * GB + 2 * FILES);
  });

  it('sums the bandwidth, peaks as if they coincided', () => {
    // a: 0.5 GB/h → 1 111 111.1 bit/s; peak 2 GB/h → 4 444 444.4; RPO: 2 GB/h × 300/600 = 1 GB/h → 2 222 222.2.
    // b: 3 GB/h → 6 666 666.7 for all three.
    assert.equal(t.wan.averageBitsPerSecond, 1_111_112 + 6_666_667);
    assert.equal(t.wan.peakBitsPerSecond, 4_444_445 + 6_666_667);
    assert.equal(t.wan.rpoBitsPerSecond, 2_222_223 + 6_666_667);
  });

  it('is all zeros for no VPGs', () => {
    const none = total([]);
    assert.equal(none.vpgs, 0);
    assert.equal(none.recoverySiteSteadyBytes, 0);
    assert.deepEqual(none.wan, { averageBitsPerSecond: 0, peakBitsPerSecond: 0, rpoBitsPerSecond: 0 });
  });
});
