// Change rates and capacity figures: each volume's change rate as its protected VRA measures it
// (while protecting, or in an assessment), the VPG's sizing report computed from them with
// src/sizing, and the JournalWithinHardLimit condition, which warns before the history starts to
// shrink: when the journal the configured history needs at the measured rate does not fit under
// the hard limit.
import type { ChangeRate, VPGSizing } from '../../../crds/sizing.ts';
import { SizingError, estimate } from '../../../sizing/index.ts';
import { approxBytes } from './format.ts';
import type { Previous } from './previous.ts';
import type { VolumeChangeRate, VolumeEntry, VpgStatusInput } from './types.ts';

/** Below this much measurement the figures are not shown: a minute of changes says little. */
export const MIN_MEASURED_SECONDS = 60;

interface Verdict {
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

const up = (n: number): number => (Number.isFinite(n) ? Math.max(0, Math.ceil(n)) : 0);

/** The status form of a VRA's measurement. */
export function changeRateOf(r: VolumeChangeRate): ChangeRate {
  return {
    since: r.since,
    measuredSeconds: up(r.measuredSeconds),
    averageBytesPerHour: up(r.averageRawBytesPerHour),
    peakBytesPerHour: up(Math.max(r.peakRawBytesPerHour, r.averageRawBytesPerHour)),
    averageCompressedBytesPerHour: up(r.averageCompressedBytesPerHour),
    peakCompressedBytesPerHour: up(Math.max(r.peakCompressedBytesPerHour, r.averageCompressedBytesPerHour)),
  };
}

/** The reports' measurement of each volume; a VRA out of reach keeps the previous one. */
export function measuredRates(input: VpgStatusInput, prev: Previous): Map<string, { rate: ChangeRate; compressedBytes?: number; rawBytes?: number }> {
  const out = new Map<string, { rate: ChangeRate; compressedBytes?: number; rawBytes?: number }>();
  const reports = input.assessment?.kind === 'ok' ? input.assessment.status.volumes
    : input.source?.kind === 'ok' ? input.source.status.volumes ?? [] : undefined;
  if (reports !== undefined) {
    for (const v of reports) {
      if (v.changeRate !== undefined) out.set(v.name, { rate: changeRateOf(v.changeRate), compressedBytes: v.changeRate.compressedBytes, rawBytes: v.changeRate.rawBytes });
    }
    return out;
  }
  if (!prev.same) return out;
  for (const v of prev.status.volumes ?? []) if (v.changeRate !== undefined) out.set(v.claimName, { rate: v.changeRate });
  return out;
}

/**
 * The VPG's report: the volumes' rates summed (peaks too, which is conservative: they need not
 * coincide), the compression the stream achieved, the SLA's history and limits. Undefined until
 * every volume has been measured for a while.
 */
export function sizingOf(input: VpgStatusInput, volumes: readonly VolumeEntry[], rates: ReturnType<typeof measuredRates>): VPGSizing | undefined {
  const sla = input.sla;
  if (sla === undefined || input.blocker !== undefined || volumes.length === 0) return undefined;
  const measured = volumes.map((v) => rates.get(v.claimName));
  if (measured.some((m) => m === undefined || m.rate.measuredSeconds < MIN_MEASURED_SECONDS)) return undefined;
  const ms = measured.filter((m) => m !== undefined);
  const sum = (f: (r: ChangeRate) => number): number => ms.reduce((n, m) => n + f(m.rate), 0);
  const average = sum((r) => r.averageBytesPerHour);
  const averageCompressed = sum((r) => r.averageCompressedBytesPerHour);
  // Over the window, raw ÷ sent; from the hourly averages when the totals are not at hand.
  const raw = ms.every((m) => m.rawBytes !== undefined) ? ms.reduce((n, m) => n + (m.rawBytes ?? 0), 0) : average;
  const sent = ms.every((m) => m.compressedBytes !== undefined) ? ms.reduce((n, m) => n + (m.compressedBytes ?? 0), 0) : averageCompressed;
  const compressionRatio = sent > 0 && raw > sent ? raw / sent : 1;
  const protectedBytes = input.volumes.reduce((n, v) => n + (v.sizeBytes ?? 0), 0);
  const report = safely(() => estimate({
    protectedBytes,
    averageChangeBytesPerHour: average,
    peakChangeBytesPerHour: Math.max(average, sum((r) => r.peakBytesPerHour)),
    compressionRatio,
    historyHours: sla.historyHours,
    hardLimit: sla.hardLimitBytes === undefined ? { type: 'Unlimited' } : { type: 'Size', bytes: sla.hardLimitBytes },
    // The SLA's warning as resolved (unset: none), not estimate's default.
    warning: sla.warningBytes === undefined ? { type: 'Unlimited' } : { type: 'Size', bytes: sla.warningBytes },
    rpoSeconds: sla.rpoAlertSeconds,
    reverseProtection: true,
  }));
  if (report === undefined) return undefined;
  const since = ms.map((m) => m.rate.since).sort()[0];
  return {
    basis: {
      source: input.assessment === undefined ? 'Measured' : 'Assessment',
      measuredSeconds: Math.min(...ms.map((m) => m.rate.measuredSeconds)),
      ...(since !== undefined && { since }),
    },
    ...report,
  };
}

/** A report the figures cannot make (a VRA's report out of range) is no report, not a failed reconcile. */
function safely<T>(compute: () => T): T | undefined {
  try {
    return compute();
  } catch (err: unknown) {
    if (err instanceof SizingError) return undefined;
    throw err;
  }
}

/** Two significant digits in the unit shown (190Gi, 8.5Gi): the message moves only when the figure really does. */
function about(bytes: number): string {
  if (!(bytes > 0)) return '0';
  const unit = 2 ** (10 * Math.min(5, Math.floor(Math.log2(bytes) / 10)));
  const v = bytes / unit;
  const step = v >= 100 ? 10 : v >= 10 ? 1 : 0.1;
  return approxBytes(Math.round(v / step) * step * unit);
}
const hours = (h: number): string => (h >= 10 ? `${String(Math.round(h))}h` : `${h.toFixed(1)}h`);

/**
 * The JournalWithinHardLimit condition. Its messages carry no moving figure while all is well (the
 * status has them), so the measurement's drift does not rewrite the status; past the limit, what
 * it means, rounded.
 */
export function journalVerdict(input: VpgStatusInput, sizing: VPGSizing | undefined): Verdict {
  if (input.blocker !== undefined) return { status: 'Unknown', reason: 'NotMeasured', message: 'the VPG is not protected or assessed: nothing is measured' };
  if (sizing === undefined) {
    return { status: 'Unknown', reason: 'NotMeasured', message: `the change rate is not measured yet (it is, from ${String(MIN_MEASURED_SECONDS)} s after every volume's sync or assessment baseline)` };
  }
  const j = sizing.journal;
  const history = `${hours(j.historyHours)} of history`;
  if (j.hardLimitBytes === undefined) {
    return { status: 'True', reason: 'Unlimited', message: `the journal has no hard limit; status.sizing.journal has what ${history} takes at the measured change rate` };
  }
  if (j.exceedsHardLimit) {
    const holds = j.historyHoursAtHardLimit === undefined ? '' : `: once it fills, the history shrinks to about ${hours(j.historyHoursAtHardLimit)}`;
    return {
      status: 'False', reason: 'ProjectedOverHardLimit',
      message: `at the measured change rate ${history} needs about ${about(j.projectedBytes)} of journal, over the ${about(j.hardLimitBytes)} hard limit${holds}; raise the hard limit or shorten the history`,
    };
  }
  return j.exceedsWarning
    ? { status: 'True', reason: 'ProjectedOverWarning', message: `at the measured change rate ${history} fits under the ${about(j.hardLimitBytes)} hard limit, past the warning threshold (status.sizing.journal)` }
    : { status: 'True', reason: 'WithinHardLimit', message: `at the measured change rate ${history} fits under the ${about(j.hardLimitBytes)} hard limit (status.sizing.journal)` };
}
