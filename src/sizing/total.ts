// Totals over VPGs: what a Zorg, or a Site as recovery or protected site, needs in all.
import type { SizingReport, SizingTotals } from './types.ts';

const sum = (reports: readonly SizingReport[], figure: (r: SizingReport) => number): number =>
  reports.reduce((s, r) => s + figure(r), 0);

/**
 * Sums the VPGs' figures. Bandwidth peaks (and the bandwidths that hold each RPO, which follow the
 * peaks) are summed as if every VPG peaked in the same interval: conservative, since busy
 * intervals rarely coincide. Test space is every VPG tested at once.
 */
export function total(reports: readonly SizingReport[]): SizingTotals {
  return {
    vpgs: reports.length,
    vpgsOverHardLimit: reports.filter((r) => r.journal.exceedsHardLimit).length,
    protectedBytes: sum(reports, (r) => r.protectedBytes),
    replicaBytes: sum(reports, (r) => r.replicaBytes),
    journalProjectedBytes: sum(reports, (r) => r.journal.projectedBytes),
    failoverTestBytes: sum(reports, (r) => r.failoverTest.claimBytes + r.failoverTest.scratchBytes),
    reverseProtectionBytes: sum(reports, (r) => r.reverseProtection?.totalBytes ?? 0),
    recoverySiteSteadyBytes: sum(reports, (r) => r.recoverySite.steadyBytes),
    recoverySiteDuringTestBytes: sum(reports, (r) => r.recoverySite.duringTestBytes),
    wan: {
      averageBitsPerSecond: sum(reports, (r) => r.wan.averageBitsPerSecond),
      peakBitsPerSecond: sum(reports, (r) => r.wan.peakBitsPerSecond),
      rpoBitsPerSecond: sum(reports, (r) => r.wan.rpoBitsPerSecond),
    },
  };
}
