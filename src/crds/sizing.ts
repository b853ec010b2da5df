// The capacity figures a status carries: a VPG's sizing report, and the totals of a Zorg's or a
// Site's VPGs. The operator computes them with src/sizing (the one place the arithmetic lives)
// from the change rate the protected VRA measures; `kubectl zcsp sizing` and the console print
// them. Bytes and bits are integers rounded up (capacity is never under-estimated).
import { z } from 'zod';
import { timestamp } from './common.ts';

const bytes = (description: string) => z.int().min(0).describe(description);
const rate = (description: string) => z.int().min(0).describe(description);
const percent = (description: string) => z.number().min(0).describe(description);

/** One volume's change rate, as its protected VRA measures it. */
export const ChangeRate = z.strictObject({
  since: timestamp('When the measurement of this volume began.'),
  measuredSeconds: z.int().min(0).describe('Seconds of measurement in the window (time the VRA was down or the volume was syncing does not count).'),
  averageBytesPerHour: rate('Bytes changed per hour on average, as captured (raw).'),
  peakBytesPerHour: rate('The busiest measurement interval (5 minutes) as bytes per hour, raw.'),
  averageCompressedBytesPerHour: rate('Bytes per hour on average as sent: after WAN compression, what the link carries and the journal keeps.'),
  peakCompressedBytesPerHour: rate('The busiest interval as bytes per hour after compression.'),
}).describe('The volume\'s change rate over the last 7 days of measurement.');
export type ChangeRate = z.output<typeof ChangeRate>;

const SizingBasis = z.strictObject({
  source: z.enum(['Measured', 'Assessment']).describe('Measured: from the changes replication ships. Assessment: from an assessment (spec.mode Assess), nothing shipped.'),
  measuredSeconds: z.int().min(0).describe('Seconds of measurement behind the figures (of the least measured volume).'),
  since: timestamp('When measurement began (of the earliest volume).').optional(),
}).describe('What the figures rest on: a short measurement extrapolates a short sample.');

/** A VPG's report: the fields are src/sizing's SizingReport, plus its basis. */
export const VPGSizing = z.strictObject({
  basis: SizingBasis,
  protectedBytes: bytes('Total size of the protected volumes.'),
  change: z.strictObject({
    averageBytesPerHour: rate('Average change, raw, bytes per hour (sum over the volumes).'),
    peakBytesPerHour: rate('Peak change, raw, bytes per hour (sum of each volume\'s peak: conservative).'),
    averageCompressedBytesPerHour: rate('Average change after compression, bytes per hour.'),
    peakCompressedBytesPerHour: rate('Peak change after compression, bytes per hour.'),
    dailyChangePercent: percent('Average daily change as a percentage of the protected size.'),
    compressionRatio: z.number().min(1).describe('Raw bytes per byte sent (1: nothing saved).'),
  }).describe('The change rate the figures are computed from.'),
  replicaBytes: bytes('Space the replica takes on the recovery site (the protected size).'),
  journal: z.strictObject({
    projectedBytes: bytes('Journal size the configured history takes at the average change rate.'),
    fileOverheadBytes: bytes('What the journal\'s files hold beyond its records, at most: spare segments kept for reuse and the oldest segment partly applied. Counted in the space figures.'),
    historyHours: z.number().min(0).describe('The configured history, in hours.'),
    hardLimitBytes: bytes('The journal hard limit in bytes; absent when Unlimited.').optional(),
    warningBytes: bytes('The journal warning threshold in bytes, if any.').optional(),
    percentOfHardLimit: percent('Projected size as a percentage of the hard limit.').optional(),
    historyHoursAtHardLimit: z.number().min(0).describe('Hours of history the hard limit holds at the average change rate.').optional(),
    exceedsHardLimit: z.boolean().describe('The configured history does not fit under the hard limit: once the journal fills, the actual history shrinks.'),
    exceedsWarning: z.boolean().describe('The projected journal passes the warning threshold.'),
  }).describe('The journal on the recovery site.'),
  failoverTest: z.strictObject({
    claimBytes: bytes('The test\'s volumes in the test namespace (full copies).'),
    scratchBytes: bytes('Scratch copies on the recovery VRA\'s volume while the test restores.'),
  }).describe('What a failover test takes on the recovery site, on top of the replica and journal.'),
  failover: z.strictObject({
    claimBytes: bytes('The recovered volumes in the recovery namespace.'),
    scratchBytes: bytes('Scratch copies on the recovery VRA\'s volume while they restore.'),
  }).describe('What a live failover or move takes on the recovery site.'),
  reverseProtection: z.strictObject({
    replicaBytes: bytes('The reverse replica on the protected site\'s VRA (seeded from the old volumes).'),
    journalBytes: bytes('The reverse journal for the configured history, at most the hard limit, plus its files\' overhead.'),
    totalBytes: bytes('Both.'),
  }).optional().describe('Extra space the protected site needs after a failover with reverse protection (failback).'),
  recoverySite: z.strictObject({
    steadyBytes: bytes('Replica and journal (the projection, or the hard limit when smaller: the journal never passes it; plus its files\' overhead).'),
    duringTestBytes: bytes('Steady, plus a failover test\'s volumes and scratch.'),
  }).describe('Space on the recovery site.'),
  protectedSite: z.strictObject({
    afterFailoverBytes: bytes('Reverse replica and journal after a failover with reverse protection; 0 without.'),
  }).describe('Extra space on the protected site.'),
  wan: z.strictObject({
    averageBitsPerSecond: rate('Bandwidth for the average change after compression.'),
    peakBitsPerSecond: rate('Bandwidth for the peak change after compression.'),
    rpoBitsPerSecond: rate('Bandwidth that holds the RPO target through the busiest interval: max(average, peak × interval ÷ (interval + RPO)).'),
    rpoSeconds: z.int().min(0).describe('The RPO target used (the SLA\'s rpoAlertSeconds).'),
  }).describe('Replication bandwidth between the sites.'),
}).describe('Capacity figures for this VPG at its measured change rate: `kubectl zcsp sizing` prints them.');
export type VPGSizing = z.output<typeof VPGSizing>;

/** Totals over VPGs (a Zorg's; a Site's as protected or recovery site): src/sizing's SizingTotals. */
export const SizingTotals = z.strictObject({
  vpgs: z.int().min(0).describe('VPGs with figures (those still without a measured change rate are not counted).'),
  vpgsOverHardLimit: z.int().min(0).describe('Of them, VPGs whose projected journal exceeds its hard limit.'),
  protectedBytes: bytes('Protected size.'),
  replicaBytes: bytes('Replicas.'),
  journalProjectedBytes: bytes('Projected journals.'),
  failoverTestBytes: bytes('Failover tests of all of them at once: volumes and scratch.'),
  reverseProtectionBytes: bytes('Reverse protection after a failover of all of them (failback).'),
  recoverySiteSteadyBytes: bytes('Replicas and journals.'),
  recoverySiteDuringTestBytes: bytes('Replicas, journals and every test at once.'),
  wan: z.strictObject({
    averageBitsPerSecond: rate('Sum of the averages.'),
    peakBitsPerSecond: rate('Sum of the peaks (conservative: peaks rarely coincide).'),
    rpoBitsPerSecond: rate('Sum of the bandwidths that hold each RPO.'),
  }).describe('Replication bandwidth.'),
});
export type SizingTotals = z.output<typeof SizingTotals>;
