// The storage and bandwidth one VPG needs, from its change rate and SLA, as the product stores
// things: the recovery VRA keeps a replica (a full copy) and a journal of every change record as
// sent (compressed) for the configured history; a test or failover restores full copies through
// scratch exports; reverse protection keeps a replica and journal on the old protected site; the
// WAN carries the compressed change.
import { fileOverheadBytes } from '../replicator/journal/footprint.ts';
import type { HardLimit, SizingInput, SizingReport } from './types.ts';
import { validateInput } from './validate.ts';

export const DEFAULT_BUCKET_SECONDS = 300;
/** The warning threshold when the SLA sets none: 75 % of a Size or Percent hard limit. */
export const DEFAULT_WARNING_FRACTION = 0.75;
/** A VRA journal needs at least 1 MiB to hold anything, so the controller never configures less. */
const MIN_LIMIT_BYTES = 1024 * 1024;
const SECONDS_PER_HOUR = 3600;

/**
 * Up to the next integer: capacity is never under-estimated. A few ulps of floating-point noise
 * (24 × (x ÷ 24) is not always x) must not add a byte to an exact figure.
 */
export function roundUp(x: number): number {
  return Math.ceil(x - Math.abs(x) * 4 * Number.EPSILON);
}

/** A limit in bytes, as the VPG controller resolves it for the VRA (undefined: unlimited). */
export function limitBytes(limit: HardLimit, protectedBytes: number): number | undefined {
  switch (limit.type) {
    case 'Unlimited':
      return undefined;
    case 'Size':
      return Math.max(MIN_LIMIT_BYTES, Math.floor(limit.bytes));
    case 'Percent':
      return Math.max(MIN_LIMIT_BYTES, Math.floor((protectedBytes * limit.percent) / 100));
  }
}

function warningBytes(input: SizingInput, hard: number | undefined): number | undefined {
  const warning = input.warning !== undefined ? limitBytes(input.warning, input.protectedBytes)
    : hard === undefined ? undefined : Math.floor(hard * DEFAULT_WARNING_FRACTION);
  // A warning at or past the hard limit never fires first: the controller drops it, and so do we.
  return warning !== undefined && hard !== undefined && warning >= hard ? undefined : warning;
}

const bitsPerSecond = (bytesPerHour: number): number => roundUp((bytesPerHour * 8) / SECONDS_PER_HOUR);

export function estimate(input: SizingInput): SizingReport {
  validateInput(input);
  const p = input.protectedBytes;
  const averageCompressed = input.averageChangeBytesPerHour / input.compressionRatio;
  const peakCompressed = input.peakChangeBytesPerHour / input.compressionRatio;
  const bucket = input.bucketSeconds ?? DEFAULT_BUCKET_SECONDS;

  const projected = roundUp(averageCompressed * input.historyHours);
  const hard = limitBytes(input.hardLimit, p);
  const warning = warningBytes(input, hard);
  // The journal's records never pass the hard limit (the VRA applies the oldest to the replica
  // early); its files hold a little more: spare segments, and the oldest segment partly applied.
  const fileOverhead = fileOverheadBytes();
  const journalSpace = (hard === undefined ? projected : Math.min(projected, hard)) + fileOverhead;
  const full = roundUp(p);

  const journal: SizingReport['journal'] = {
    projectedBytes: projected,
    fileOverheadBytes: fileOverhead,
    historyHours: input.historyHours,
    exceedsHardLimit: hard !== undefined && projected > hard,
    exceedsWarning: warning !== undefined && projected > warning,
  };
  if (hard !== undefined) {
    journal.hardLimitBytes = hard;
    journal.percentOfHardLimit = (projected / hard) * 100;
    if (averageCompressed > 0) journal.historyHoursAtHardLimit = hard / averageCompressed;
  }
  if (warning !== undefined) journal.warningBytes = warning;

  const reverse = input.reverseProtection ? { replicaBytes: full, journalBytes: journalSpace, totalBytes: full + journalSpace } : undefined;
  const steady = full + journalSpace;

  // A link of bandwidth bw below the peak falls (peak − bw)·B behind over the busiest bucket of
  // B seconds, which takes that ÷ bw to send: the RPO R holds while bw ≥ peak·B ÷ (B + R).
  const rpoBytesPerHour = Math.max(averageCompressed, (peakCompressed * bucket) / (bucket + input.rpoSeconds));

  return {
    protectedBytes: full,
    change: {
      averageBytesPerHour: roundUp(input.averageChangeBytesPerHour),
      peakBytesPerHour: roundUp(input.peakChangeBytesPerHour),
      averageCompressedBytesPerHour: roundUp(averageCompressed),
      peakCompressedBytesPerHour: roundUp(peakCompressed),
      dailyChangePercent: p > 0 ? ((input.averageChangeBytesPerHour * 24) / p) * 100 : 0,
      compressionRatio: input.compressionRatio,
    },
    replicaBytes: full,
    journal,
    failoverTest: { claimBytes: full, scratchBytes: full },
    failover: { claimBytes: full, scratchBytes: full },
    ...(reverse !== undefined && { reverseProtection: reverse }),
    recoverySite: { steadyBytes: steady, duringTestBytes: steady + full + full },
    protectedSite: { afterFailoverBytes: reverse?.totalBytes ?? 0 },
    wan: {
      averageBitsPerSecond: bitsPerSecond(averageCompressed),
      peakBitsPerSecond: bitsPerSecond(peakCompressed),
      rpoBitsPerSecond: bitsPerSecond(rpoBytesPerHour),
      rpoSeconds: input.rpoSeconds,
    },
  };
}
