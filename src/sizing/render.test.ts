// The plain-text report: the sentences each figure sits in, aligned as kubectl describe does.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderReport, renderTotals } from './render.ts';
import type { SizingReport, SizingTotals } from './types.ts';

// The journal's segment files beyond its records: 256 MiB.
const FILES = 268_435_456;

// The estate's report (403 TB, 10 % a day, 2:1, 24 h, failback), its figures written out.
const estate: SizingReport = {
  protectedBytes: 403e12,
  change: {
    averageBytesPerHour: 1_679_166_666_667, peakBytesPerHour: 1_679_166_666_667, averageCompressedBytesPerHour: 839_583_333_334,
    peakCompressedBytesPerHour: 839_583_333_334, dailyChangePercent: 10, compressionRatio: 2,
  },
  replicaBytes: 403e12,
  journal: { projectedBytes: 20_150_000_000_000, fileOverheadBytes: FILES, historyHours: 24, exceedsHardLimit: false, exceedsWarning: false },
  failoverTest: { claimBytes: 403e12, scratchBytes: 403e12 },
  failover: { claimBytes: 403e12, scratchBytes: 403e12 },
  reverseProtection: { replicaBytes: 403e12, journalBytes: 20_150_000_000_000 + FILES, totalBytes: 423_150_000_000_000 + FILES },
  recoverySite: { steadyBytes: 423_150_000_000_000 + FILES, duringTestBytes: 1_229_150_000_000_000 + FILES },
  protectedSite: { afterFailoverBytes: 423_150_000_000_000 + FILES },
  wan: { averageBitsPerSecond: 1_865_740_741, peakBitsPerSecond: 1_865_740_741, rpoBitsPerSecond: 1_865_740_741, rpoSeconds: 300 },
};

describe('renderReport', () => {
  it('prints each figure with what it is for', () => {
    const text = renderReport(estate);
    assert.match(text, /^Protected: +403 TB \(decimal units: 1 TB = 10\^12 bytes, 1 Gbit\/s = 10\^9 bit\/s\)$/m);
    assert.match(text, /^Change: +10% of the protected size a day: 1\.68 TB\/h on average, peak 1\.68 TB\/h; compression 2:1: 839\.59 GB\/h on average/m);
    assert.match(text, /^Replica: +403 TB on the recovery site/m);
    assert.match(text, /^Journal: +20\.15 TB projected for 1d of history \(hard limit: unlimited\)$/m);
    assert.match(text, /^Recovery site: +423\.16 TB \(replica \+ journal of 20\.16 TB, of which up to 268\.44 MB is segment files beyond the records: spares kept for reuse, the oldest partly applied\); 1\.23 PB during a failover test$/m);
    assert.match(text, /^Failover test: +403 TB of claims in the test namespace \+ 403 TB of scratch on the recovery VRA's volume while they restore$/m);
    assert.match(text, /^Failover: +403 TB of claims in the recovery namespace \+ 403 TB of scratch/m);
    assert.match(text, /^Failback: +423\.16 TB more on the protected site after a failover \(reverse replica 403 TB \+ journal 20\.16 TB\)$/m);
    assert.match(text, /^WAN: +1\.87 Gbit\/s on average, 1\.87 Gbit\/s at the peak; 1\.87 Gbit\/s holds the RPO target of 5m through the peak/m);
    assert.doesNotMatch(text, /Notes:/);
  });

  it('aligns the values', () => {
    const starts = renderReport(estate).split('\n').map((l) => /^\S[^:]*: +/.exec(l)?.[0].length);
    assert.equal(new Set(starts).size, 1, String(starts));
  });

  it('prints heading rows first, aligned with the figures', () => {
    const lines = renderReport(estate, { heading: [['VPG', 'acme/web'], ['A longer label', 'x']] }).split('\n');
    // The widest label, "A longer label:", sets the column: 16 characters.
    assert.equal(lines[0], `VPG:${' '.repeat(12)}acme/web`);
    assert.equal(lines[1], 'A longer label: x');
    assert.match(lines[2] ?? '', /^Protected: {6}403 TB/);
  });

  it('says how full the hard limit is, and how much history it holds', () => {
    const text = renderReport({
      ...estate,
      journal: { ...estate.journal, hardLimitBytes: 40_300_000_000_000, warningBytes: 30_225_000_000_000, percentOfHardLimit: 50, historyHoursAtHardLimit: 48 },
    });
    assert.match(text, /^Journal: +20\.15 TB projected for 1d of history: 50% of the hard limit 40\.3 TB \(warning at 30\.23 TB\); the hard limit holds 2d of history$/m);
  });

  it('says so loudly when the journal does not fit', () => {
    const text = renderReport({
      ...estate,
      journal: { ...estate.journal, hardLimitBytes: 16_120_000_000_000, percentOfHardLimit: 125, historyHoursAtHardLimit: 19.2, exceedsHardLimit: true, exceedsWarning: true },
    });
    assert.match(text, /125% of the hard limit 16\.12 TB\. OVER THE HARD LIMIT: the journal holds 19h12m of history; older changes are applied to the replica early$/m);
  });

  it('says when failback is not wanted, and lists notes', () => {
    const { reverseProtection: _, ...noFailback } = estate;
    const text = renderReport({ ...noFailback, protectedSite: { afterFailoverBytes: 0 }, change: { ...estate.change, compressionRatio: 1 } }, { notes: ['the peak is assumed'] });
    assert.match(text, /^Failback: +not wanted: nothing more on the protected site after a failover$/m);
    assert.match(text, /; no compression: /);
    assert.match(text, /\nNotes:\n {2}- the peak is assumed$/);
  });
});

describe('renderTotals', () => {
  const totals: SizingTotals = {
    vpgs: 2, vpgsOverHardLimit: 1, protectedBytes: 806e12, replicaBytes: 806e12, journalProjectedBytes: 40_300_000_000_000,
    failoverTestBytes: 1612e12, reverseProtectionBytes: 423_150_000_000_000, recoverySiteSteadyBytes: 846_300_000_000_000,
    recoverySiteDuringTestBytes: 2_458_300_000_000_000, wan: { averageBitsPerSecond: 3_731_481_482, peakBitsPerSecond: 3_731_481_482, rpoBitsPerSecond: 3_731_481_482 },
  };

  it('prints the sums, and says the peaks are summed conservatively', () => {
    const text = renderTotals(totals);
    assert.match(text, /^VPGs: +2 with figures; 1 over its journal hard limit$/m);
    assert.match(text, /^Protected: +806 TB/m);
    assert.match(text, /^Recovery site: +846\.3 TB \(replicas 806 TB \+ journals, projected at 40\.3 TB, each at most its hard limit, plus its segment files' overhead\)$/m);
    assert.match(text, /^Failover tests: +1\.62 PB of claims and scratch with every VPG tested at once; 2\.46 PB on the recovery site then$/m);
    assert.match(text, /^Failback: +423\.15 TB more on the protected sites/m);
    assert.match(text, /^WAN: +3\.74 Gbit\/s on average; 3\.74 Gbit\/s at the peak and 3\.74 Gbit\/s to hold the RPO targets, summed as if every VPG peaked at once \(conservative\)$/m);
  });

  it('says when no VPG wants failback', () => {
    assert.match(renderTotals({ ...totals, reverseProtectionBytes: 0, vpgsOverHardLimit: 0 }), /^VPGs: +2 with figures; none over its journal hard limit\n[\s\S]*^Failback: +no VPG wants it/m);
  });
});
