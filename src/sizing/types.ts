// The shapes of the sizing arithmetic: what goes in (a change rate and an SLA), what comes out (a
// VPG's report, and totals over VPGs). A VPG's, Zorg's and Site's status carry the outputs as they
// are (src/crds/sizing.ts), so a field renamed here is a field renamed in the API.

/** The journal's hard limit as the SLA gives it: Percent is of the VPG's protected size. */
export type HardLimit = { type: 'Unlimited' } | { type: 'Size'; bytes: number } | { type: 'Percent'; percent: number };

/**
 * The journal's warning threshold, modelled as the ServiceProfile models it: a limit of the same
 * kinds as the hard limit (Percent of the protected size, not of the hard limit).
 */
export type WarningThreshold = HardLimit;

export interface SizingInput {
  protectedBytes: number;
  /** Raw (as captured, before compression). */
  averageChangeBytesPerHour: number;
  /** Raw; at least the average. The busiest measurement bucket, as an hourly rate. */
  peakChangeBytesPerHour: number;
  /** Raw bytes per byte sent, at least 1 (1: no compression). */
  compressionRatio: number;
  /** The configured journal history, 1–720. */
  historyHours: number;
  hardLimit: HardLimit;
  /** Unset: 75 % of a Size or Percent hard limit, as the ServiceProfile documents. */
  warning?: WarningThreshold | undefined;
  /** The RPO target: the SLA's rpoAlertSeconds. */
  rpoSeconds: number;
  /** The measurement bucket the peak was taken over; default 300. */
  bucketSeconds?: number | undefined;
  /** Failback wanted: a failover protects the recovered volumes back to the protected site. */
  reverseProtection: boolean;
}

export interface SizingReport {
  protectedBytes: number;
  change: {
    averageBytesPerHour: number;
    peakBytesPerHour: number;
    averageCompressedBytesPerHour: number;
    peakCompressedBytesPerHour: number;
    dailyChangePercent: number;
    compressionRatio: number;
  };
  /** A full copy of the protected volumes on the recovery VRA's volume. */
  replicaBytes: number;
  journal: {
    /** Average compressed change per hour × the configured history. */
    projectedBytes: number;
    /**
     * What the journal's files hold beyond the records the projection and the hard limit count,
     * at most (spare segments, the oldest segment partly applied): counted in the space figures.
     */
    fileOverheadBytes: number;
    historyHours: number;
    /** Absent: Unlimited. */
    hardLimitBytes?: number | undefined;
    warningBytes?: number | undefined;
    percentOfHardLimit?: number | undefined;
    /** Hard limit ÷ average compressed change per hour; absent when Unlimited or nothing changes. */
    historyHoursAtHardLimit?: number | undefined;
    exceedsHardLimit: boolean;
    exceedsWarning: boolean;
  };
  /** Claims in the test namespace, and the exports' scratch copies on the recovery VRA's volume while they restore. */
  failoverTest: { claimBytes: number; scratchBytes: number };
  failover: { claimBytes: number; scratchBytes: number };
  /** Only when failback is wanted: the reverse VPG's replica and journal on the old protected site. */
  reverseProtection?: { replicaBytes: number; journalBytes: number; totalBytes: number } | undefined;
  /**
   * Replica + journal, the journal as large as it can get: the projection, or the hard limit when
   * that is smaller (the VRA applies the oldest records early rather than pass it), plus its files'
   * overhead. During a test, plus the test's claims and scratch.
   */
  recoverySite: { steadyBytes: number; duringTestBytes: number };
  /** Reverse replica + journal after a failover with failback wanted; 0 without. */
  protectedSite: { afterFailoverBytes: number };
  wan: { averageBitsPerSecond: number; peakBitsPerSecond: number; rpoBitsPerSecond: number; rpoSeconds: number };
}

/** Sums over VPGs: a Zorg's, or a Site's as protected or recovery site. */
export interface SizingTotals {
  vpgs: number;
  vpgsOverHardLimit: number;
  protectedBytes: number;
  replicaBytes: number;
  journalProjectedBytes: number;
  /** Every VPG's failover test at once: claims + scratch. */
  failoverTestBytes: number;
  reverseProtectionBytes: number;
  recoverySiteSteadyBytes: number;
  recoverySiteDuringTestBytes: number;
  /** Peaks and RPO bandwidths are summed as if every VPG peaked at once: conservative. */
  wan: { averageBitsPerSecond: number; peakBitsPerSecond: number; rpoBitsPerSecond: number };
}

/** A figure that cannot be sized: names the field (of SizingInput, or the caller's flag) and what is wrong. */
export class SizingError extends Error {
  override readonly name = 'SizingError';
  readonly field: string;
  readonly problem: string;
  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.field = field;
    this.problem = problem;
  }
}
