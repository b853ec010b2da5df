// Worked examples: each expected figure is worked out by hand in the comments (decimal units:
// 1 GB = 10^9 bytes), then written as the arithmetic that gives it, never by calling the code.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { estimate, roundUp } from './estimate.ts';
import { SizingError, type SizingInput } from './types.ts';

const GB = 1e9;
const TB = 1e12;
const GiB = 2 ** 30;
// The journal's segment files beyond its records (spares, the oldest partly applied): 256 MiB.
const FILES = 256 * 2 ** 20;

/** A database VPG of 500 GB, measured: 2 GB/h raw on average, its busiest 5 minutes at 12 GB/h. */
const db: SizingInput = {
  protectedBytes: 500 * GB,
  averageChangeBytesPerHour: 2 * GB,
  peakChangeBytesPerHour: 12 * GB,
  compressionRatio: 2.5,
  historyHours: 24,
  hardLimit: { type: 'Size', bytes: 150 * GiB },
  rpoSeconds: 300,
  reverseProtection: false,
};

describe('estimate: a 500 GB database, 150 GiB hard limit, no failback', () => {
  const r = estimate(db);

  it('compresses the change 2.5:1', () => {
    // 2 GB/h ÷ 2.5 = 0.8 GB/h on average; 12 GB/h ÷ 2.5 = 4.8 GB/h at the peak.
    assert.equal(r.change.averageCompressedBytesPerHour, 800_000_000);
    assert.equal(r.change.peakCompressedBytesPerHour, 4_800_000_000);
    // 2 GB/h × 24 h = 48 GB a day, of 500 GB: 9.6 %.
    assert.ok(Math.abs(r.change.dailyChangePercent - 9.6) < 1e-9, String(r.change.dailyChangePercent));
  });

  it('projects the journal for 24 h and measures it against the hard limit', () => {
    // 0.8 GB/h × 24 h = 19.2 GB.
    assert.equal(r.journal.projectedBytes, 19_200_000_000);
    // 150 GiB = 150 × 2^30 = 161 061 273 600 bytes; 19.2 GB of it is 11.92…%.
    assert.equal(r.journal.hardLimitBytes, 161_061_273_600);
    assert.ok(Math.abs((r.journal.percentOfHardLimit ?? NaN) - (19.2e9 / 161_061_273_600) * 100) < 1e-9);
    // No warning set: 75 % of the hard limit, 120 795 955 200 bytes.
    assert.equal(r.journal.warningBytes, 120_795_955_200);
    // The hard limit holds 161 061 273 600 ÷ 0.8 GB/h = 201.3 h of history.
    assert.ok(Math.abs((r.journal.historyHoursAtHardLimit ?? NaN) - 161_061_273_600 / 800_000_000) < 1e-9);
    assert.equal(r.journal.exceedsHardLimit, false);
    assert.equal(r.journal.exceedsWarning, false);
  });

  it('needs the replica and journal on the recovery site, and twice the protected size more during a test', () => {
    assert.equal(r.replicaBytes, 500 * GB);
    // 500 GB + 19.2 GB + the journal's files = 519.2 GB + 256 MiB; during a test 500 GB of
    // claims and 500 GB of scratch more.
    assert.equal(r.journal.fileOverheadBytes, FILES);
    assert.equal(r.recoverySite.steadyBytes, 519_200_000_000 + FILES);
    assert.equal(r.recoverySite.duringTestBytes, 1_519_200_000_000 + FILES);
    assert.deepEqual(r.failoverTest, { claimBytes: 500 * GB, scratchBytes: 500 * GB });
    assert.deepEqual(r.failover, { claimBytes: 500 * GB, scratchBytes: 500 * GB });
  });

  it('needs nothing on the protected site without failback', () => {
    assert.equal(r.reverseProtection, undefined);
    assert.equal(r.protectedSite.afterFailoverBytes, 0);
  });

  it('sizes the WAN: average, peak, and what holds a 300 s RPO through a 300 s peak', () => {
    // 0.8 GB/h × 8 bit ÷ 3600 s = 1 777 777.8 bit/s, rounded up.
    assert.equal(r.wan.averageBitsPerSecond, 1_777_778);
    // 4.8 GB/h × 8 ÷ 3600 = 10 666 666.7 bit/s.
    assert.equal(r.wan.peakBitsPerSecond, 10_666_667);
    // A link at bw < peak falls (peak − bw)·300 s behind and needs that ÷ bw to catch up:
    // ≤ 300 s when bw ≥ peak·300/(300 + 300) = 2.4 GB/h, more than the average 0.8 GB/h.
    // 2.4 GB/h × 8 ÷ 3600 = 5 333 333.3 bit/s.
    assert.equal(r.wan.rpoBitsPerSecond, 5_333_334);
    assert.equal(r.wan.rpoSeconds, 300);
  });
});

describe('estimate: a 1 TB VPG over a Percent hard limit, with failback', () => {
  // 10 GB/h raw, steady (peak = average), no compression, 72 h of history; hard limit 50 % of
  // the protected size (500 GB), warning at 40 % (400 GB); RPO 60 s over 60 s buckets.
  const r = estimate({
    protectedBytes: 1 * TB, averageChangeBytesPerHour: 10 * GB, peakChangeBytesPerHour: 10 * GB, compressionRatio: 1, historyHours: 72,
    hardLimit: { type: 'Percent', percent: 50 }, warning: { type: 'Percent', percent: 40 }, rpoSeconds: 60, bucketSeconds: 60, reverseProtection: true,
  });

  it('projects 720 GB of journal, 144 % of the 500 GB hard limit, which holds 50 h', () => {
    // 10 GB/h × 72 h = 720 GB; 720 ÷ 500 = 144 %; 500 GB ÷ 10 GB/h = 50 h.
    assert.equal(r.journal.projectedBytes, 720 * GB);
    assert.equal(r.journal.hardLimitBytes, 500 * GB);
    assert.equal(r.journal.warningBytes, 400 * GB);
    assert.ok(Math.abs((r.journal.percentOfHardLimit ?? NaN) - 144) < 1e-9);
    assert.ok(Math.abs((r.journal.historyHoursAtHardLimit ?? NaN) - 50) < 1e-9);
    assert.equal(r.journal.exceedsHardLimit, true);
    assert.equal(r.journal.exceedsWarning, true);
  });

  it('counts the journal at the hard limit, the most it can hold, in the space both sites need', () => {
    // Recovery site: 1 TB replica + 500 GB journal (not 720 GB: the VRA stops it at the limit)
    // + its files.
    assert.equal(r.recoverySite.steadyBytes, 1500 * GB + FILES);
    // + 1 TB of test claims + 1 TB of scratch.
    assert.equal(r.recoverySite.duringTestBytes, 3500 * GB + FILES);
    // After a failover the reverse VPG keeps a 1 TB replica and a journal under the same limit.
    assert.deepEqual(r.reverseProtection, { replicaBytes: 1 * TB, journalBytes: 500 * GB + FILES, totalBytes: 1500 * GB + FILES });
    assert.equal(r.protectedSite.afterFailoverBytes, 1500 * GB + FILES);
  });

  it('needs the average to hold the RPO when nothing bursts', () => {
    // 10 GB/h × 8 ÷ 3600 = 22 222 222.2 bit/s; peak·60/(60 + 60) = half the average, so the average rules.
    assert.equal(r.wan.averageBitsPerSecond, 22_222_223);
    assert.equal(r.wan.peakBitsPerSecond, 22_222_223);
    assert.equal(r.wan.rpoBitsPerSecond, 22_222_223);
  });
});

describe('estimate: edges', () => {
  const base: SizingInput = {
    protectedBytes: 10 * GB, averageChangeBytesPerHour: 1000, peakChangeBytesPerHour: 1000, compressionRatio: 3, historyHours: 1,
    hardLimit: { type: 'Unlimited' }, rpoSeconds: 300, reverseProtection: false,
  };

  it('rounds bytes and bits up, never down', () => {
    // 1000 B/h ÷ 3 = 333.3 B/h: 334 bytes of journal for 1 h; 333.3 × 8 ÷ 3600 = 0.74 bit/s → 1.
    const r = estimate(base);
    assert.equal(r.change.averageCompressedBytesPerHour, 334);
    assert.equal(r.journal.projectedBytes, 334);
    assert.equal(r.wan.averageBitsPerSecond, 1);
  });

  it('rounds an exact figure to itself despite floating-point noise', () => {
    assert.equal(roundUp(24 * (40.3e12 / 24)), 40.3e12);
    assert.equal(roundUp(1.5), 2);
    assert.equal(roundUp(0), 0);
  });

  it('leaves out what an unlimited journal has no figure for', () => {
    const r = estimate(base);
    for (const field of ['hardLimitBytes', 'warningBytes', 'percentOfHardLimit', 'historyHoursAtHardLimit'] as const) assert.equal(field in r.journal, false, field);
    assert.equal(r.journal.exceedsHardLimit, false);
  });

  it('gives no history at the hard limit when nothing changes (it would hold any)', () => {
    const r = estimate({ ...base, averageChangeBytesPerHour: 0, peakChangeBytesPerHour: 0, hardLimit: { type: 'Size', bytes: 5 * GB } });
    assert.equal(r.journal.projectedBytes, 0);
    assert.equal(r.journal.historyHoursAtHardLimit, undefined);
    assert.equal(r.journal.percentOfHardLimit, 0);
    assert.equal(r.wan.rpoBitsPerSecond, 0);
  });

  it('resolves limits as the controller does: at least 1 MiB, and no warning at or past the hard limit', () => {
    // 1 % of 10 MB is 100 kB: raised to 1 MiB = 1 048 576 bytes.
    const tiny = estimate({ ...base, protectedBytes: 10_000_000, hardLimit: { type: 'Percent', percent: 1 } });
    assert.equal(tiny.journal.hardLimitBytes, 1_048_576);
    const late = estimate({ ...base, hardLimit: { type: 'Size', bytes: 100 * GB }, warning: { type: 'Size', bytes: 200 * GB } });
    assert.equal(late.journal.hardLimitBytes, 100 * GB);
    assert.equal(late.journal.warningBytes, undefined);
    const none = estimate({ ...base, hardLimit: { type: 'Size', bytes: 100 * GB }, warning: { type: 'Unlimited' } });
    assert.equal(none.journal.warningBytes, undefined);
  });

  it('refuses figures it cannot size, naming the field', () => {
    const cases: [Partial<SizingInput>, string, RegExp][] = [
      [{ protectedBytes: -1 }, 'protectedBytes', /-1 is negative/],
      [{ protectedBytes: NaN }, 'protectedBytes', /NaN is not a number/],
      [{ averageChangeBytesPerHour: Infinity }, 'averageChangeBytesPerHour', /not a number/],
      [{ peakChangeBytesPerHour: 999 }, 'peakChangeBytesPerHour', /999 is below the average 1000/],
      [{ compressionRatio: 0.5 }, 'compressionRatio', /0\.5 is below 1/],
      [{ historyHours: 0.5 }, 'historyHours', /0\.5 hours is outside 1–720/],
      [{ historyHours: 721 }, 'historyHours', /721 hours is outside 1–720/],
      [{ hardLimit: { type: 'Percent', percent: 0 } }, 'hardLimit.percent', /0 % is outside \(0, 1000\]/],
      [{ hardLimit: { type: 'Percent', percent: 1001 } }, 'hardLimit.percent', /1001 % is outside/],
      [{ hardLimit: { type: 'Size', bytes: 0 } }, 'hardLimit.bytes', /must be more than 0/],
      [{ warning: { type: 'Size', bytes: -5 } }, 'warning.bytes', /must be more than 0/],
      [{ rpoSeconds: 0 }, 'rpoSeconds', /must be more than 0/],
      [{ bucketSeconds: NaN }, 'bucketSeconds', /not a number/],
    ];
    for (const [change, field, message] of cases) {
      assert.throws(() => estimate({ ...base, ...change }), (err: unknown) => {
        assert.ok(err instanceof SizingError, String(err));
        assert.equal(err.field, field);
        assert.match(err.message, new RegExp(`^${field.replace('.', '\\.')}: `));
        assert.match(err.problem, message);
        return true;
      }, field);
    }
  });
});
