// Hypothetical figures, and the estate a provider asks about: 403 TB protected, 10 % daily
// change, 24 h of history, 2:1 compression, failback wanted, RPO 300 s. Every expected figure is
// worked out in the comments and written as that arithmetic (decimal: 1 TB = 10^12 bytes).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assumptionsOf, fromDailyChange, type DailyChangeFigures } from './daily-change.ts';
import { estimate } from './estimate.ts';
import { total } from './total.ts';
import { SizingError } from './types.ts';

const TB = 10 ** 12;
// The journal's segment files beyond its records (spares, the oldest partly applied): 256 MiB.
const FILES = 256 * 2 ** 20;

const estate: DailyChangeFigures = {
  protectedBytes: 403 * TB,
  dailyChangePercent: 10,
  compressionRatio: 2,
  historyHours: 24,
  hardLimit: { type: 'Unlimited' },
  rpoSeconds: 300,
  reverseProtection: true,
};

// 10 % of 403 TB changes a day: 40.3 TB raw; 2:1 compressed, 20.15 TB a day is sent and journaled.
const SENT_PER_DAY = (403 * TB * 10) / 100 / 2; // 20 150 000 000 000 bytes
const SENT_PER_HOUR = SENT_PER_DAY / 24;

describe('the estate: 403 TB, 10 % a day, 24 h, 2:1, failback, RPO 300 s', () => {
  const r = estimate(fromDailyChange(estate));

  it('turns the daily change into hourly rates', () => {
    // 40.3 TB ÷ 24 h = 1.679 TB/h raw; half of it sent. The peak is the average unless told.
    assert.equal(r.change.averageBytesPerHour, Math.ceil((403 * TB * 0.1) / 24));
    assert.equal(r.change.averageCompressedBytesPerHour, Math.ceil(SENT_PER_HOUR));
    assert.equal(r.change.peakBytesPerHour, r.change.averageBytesPerHour);
    assert.ok(Math.abs(r.change.dailyChangePercent - 10) < 1e-9);
    assert.equal(r.change.compressionRatio, 2);
  });

  it('projects a 20.15 TB journal for 24 h of history', () => {
    // 20.15 TB a day × 24 h of history = 20.15 TB.
    assert.equal(r.journal.projectedBytes, 20_150_000_000_000);
    assert.equal(r.journal.projectedBytes, SENT_PER_DAY);
    assert.equal(r.journal.hardLimitBytes, undefined);
    assert.equal(r.journal.exceedsHardLimit, false);
  });

  it('needs about 1.87 Gbit/s of WAN on average', () => {
    // 20.15 TB a day × 8 bit ÷ 86 400 s = 1 865 740 740.7 bit/s, rounded up.
    assert.equal(r.wan.averageBitsPerSecond, Math.ceil((20_150_000_000_000 * 8) / 86_400));
    assert.equal(r.wan.averageBitsPerSecond, 1_865_740_741);
    // A steady rate: the peak is the average, and the average holds the RPO.
    assert.equal(r.wan.peakBitsPerSecond, 1_865_740_741);
    assert.equal(r.wan.rpoBitsPerSecond, 1_865_740_741);
  });

  it('needs 403 TB of claims and 403 TB of scratch for a failover test, and the same for a failover', () => {
    assert.deepEqual(r.failoverTest, { claimBytes: 403 * TB, scratchBytes: 403 * TB });
    assert.deepEqual(r.failover, { claimBytes: 403 * TB, scratchBytes: 403 * TB });
  });

  it('needs 403 TB + 20.15 TB on the recovery site, 806 TB more during a test', () => {
    assert.equal(r.recoverySite.steadyBytes, 403 * TB + 20_150_000_000_000 + FILES);
    assert.equal(r.recoverySite.duringTestBytes, 403 * TB + 20_150_000_000_000 + FILES + 2 * 403 * TB);
  });

  it('needs 403 TB + 20.15 TB on the protected site after a failover with reverse protection', () => {
    // The reverse replica is a copy of the old volumes; its journal grows as the forward one did.
    assert.deepEqual(r.reverseProtection, { replicaBytes: 403 * TB, journalBytes: 20_150_000_000_000 + FILES, totalBytes: 423_150_000_000_000 + FILES });
    assert.equal(r.protectedSite.afterFailoverBytes, 423_150_000_000_000 + FILES);
  });

  it('holds 48 h of history under a hard limit of 10 % of the protected size (40.3 TB), half of it used', () => {
    const limited = estimate(fromDailyChange({ ...estate, hardLimit: { type: 'Percent', percent: 10 } }));
    // 10 % of 403 TB = 40.3 TB; 20.15 TB is 50 % of it; at 20.15 TB a day it holds 2 days = 48 h.
    assert.equal(limited.journal.hardLimitBytes, 40_300_000_000_000);
    assert.ok(Math.abs((limited.journal.percentOfHardLimit ?? NaN) - 50) < 1e-9);
    assert.ok(Math.abs((limited.journal.historyHoursAtHardLimit ?? NaN) - 48) < 1e-9);
    // The default warning: 75 % of 40.3 TB = 30.225 TB, not reached.
    assert.equal(limited.journal.warningBytes, 30_225_000_000_000);
    assert.equal(limited.journal.exceedsHardLimit, false);
    assert.equal(limited.journal.exceedsWarning, false);
  });

  it('exceeds a hard limit of 4 % (16.12 TB): it holds 19.2 h of the 24 h, and the journal stops at the limit', () => {
    const tight = estimate(fromDailyChange({ ...estate, hardLimit: { type: 'Percent', percent: 4 } }));
    // 4 % of 403 TB = 16.12 TB; 20.15 ÷ 16.12 = 125 %; 16.12 TB ÷ (20.15 TB ÷ 24 h) = 19.2 h.
    assert.equal(tight.journal.hardLimitBytes, 16_120_000_000_000);
    assert.ok(Math.abs((tight.journal.percentOfHardLimit ?? NaN) - 125) < 1e-9);
    assert.ok(Math.abs((tight.journal.historyHoursAtHardLimit ?? NaN) - 19.2) < 1e-9);
    assert.equal(tight.journal.exceedsHardLimit, true);
    assert.equal(tight.journal.exceedsWarning, true);
    // The projection stays 20.15 TB; the space is the limit: 403 + 16.12 TB (and the journal's
    // files) on each site.
    assert.equal(tight.journal.projectedBytes, 20_150_000_000_000);
    assert.equal(tight.recoverySite.steadyBytes, 419_120_000_000_000 + FILES);
    assert.equal(tight.protectedSite.afterFailoverBytes, 419_120_000_000_000 + FILES);
  });

  it('holds 11.9 h under a 10 TB hard limit', () => {
    const sized = estimate(fromDailyChange({ ...estate, hardLimit: { type: 'Size', bytes: 10 * TB } }));
    // 10 TB ÷ (20.15 TB ÷ 24 h) = 240 ÷ 20.15 = 11.91 h.
    assert.ok(Math.abs((sized.journal.historyHoursAtHardLimit ?? NaN) - 240 / 20.15) < 1e-9);
    assert.equal(sized.journal.exceedsHardLimit, true);
  });

  it('sizes the link for bursts with a peak factor', () => {
    const bursty = estimate(fromDailyChange({ ...estate, peakFactor: 3 }));
    // Peak 3 × 20.15 TB a day sent = 60.45 TB a day as a rate: 60.45e12 × 8 ÷ 86 400 = 5 597 222 222.2 bit/s.
    assert.equal(bursty.wan.peakBitsPerSecond, Math.ceil((60_450_000_000_000 * 8) / 86_400));
    // To hold 300 s through a 300 s peak: peak × 300 ÷ 600 = 1.5 × the average: 30.225 TB a day as a rate.
    assert.equal(bursty.wan.rpoBitsPerSecond, Math.ceil((30_225_000_000_000 * 8) / 86_400));
    assert.equal(bursty.wan.averageBitsPerSecond, 1_865_740_741);
  });

  it('sums two such estates', () => {
    const t = total([r, estimate(fromDailyChange({ ...estate, reverseProtection: false }))]);
    assert.equal(t.vpgs, 2);
    assert.equal(t.protectedBytes, 806 * TB);
    assert.equal(t.journalProjectedBytes, 2 * 20_150_000_000_000);
    // Failback only for the first: 423.15 TB and its journal's files.
    assert.equal(t.reverseProtectionBytes, 423_150_000_000_000 + FILES);
    assert.equal(t.wan.averageBitsPerSecond, 2 * 1_865_740_741);
  });
});

describe('fromDailyChange', () => {
  it('says when the peak is assumed', () => {
    assert.match(assumptionsOf(estate).join('\n'), /the peak is taken as the average/);
    assert.match(assumptionsOf({ ...estate, peakFactor: 1.5 }).join('\n'), /the peak is taken as 1\.5 × the average/);
  });

  it('refuses figures it cannot size, naming the field', () => {
    for (const [change, field, message] of [
      [{ dailyChangePercent: 0 }, 'dailyChangePercent', /0 % is outside \(0, 100\]/],
      [{ dailyChangePercent: 150 }, 'dailyChangePercent', /150 % is outside \(0, 100\]/],
      [{ dailyChangePercent: NaN }, 'dailyChangePercent', /not a number/],
      [{ protectedBytes: 0 }, 'protectedBytes', /must be more than 0/],
      [{ peakFactor: 0.5 }, 'peakFactor', /0\.5 is below 1/],
      [{ compressionRatio: 0.9 }, 'compressionRatio', /below 1/],
      [{ historyHours: 1000 }, 'historyHours', /outside 1–720/],
    ] as const) {
      assert.throws(() => fromDailyChange({ ...estate, ...change }), (err: unknown) => err instanceof SizingError && err.field === field && message.test(err.problem), field);
    }
  });
});
