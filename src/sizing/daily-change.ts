// Hypothetical figures as a provider states them before anything is measured: a protected size,
// a daily change as a percentage of it, and how bursty the change is.
import { SizingError, type HardLimit, type SizingInput, type WarningThreshold } from './types.ts';
import { percentage, positive, validateInput } from './validate.ts';

export interface DailyChangeFigures {
  protectedBytes: number;
  /** Raw change per day, as a percentage (0–100] of the protected size. */
  dailyChangePercent: number;
  /** The peak as a multiple of the average; default 1 (no burst: peak = average). */
  peakFactor?: number | undefined;
  compressionRatio: number;
  historyHours: number;
  hardLimit: HardLimit;
  warning?: WarningThreshold | undefined;
  rpoSeconds: number;
  reverseProtection: boolean;
}

export const DEFAULT_PEAK_FACTOR = 1;

export function fromDailyChange(f: DailyChangeFigures): SizingInput {
  // A percentage of nothing is nothing: a hypothetical estate has a size.
  positive('protectedBytes', f.protectedBytes);
  percentage('dailyChangePercent', f.dailyChangePercent, 100);
  const factor = f.peakFactor ?? DEFAULT_PEAK_FACTOR;
  if (!Number.isFinite(factor)) throw new SizingError('peakFactor', `${String(factor)} is not a number`);
  if (factor < 1) throw new SizingError('peakFactor', `${String(factor)} is below 1: the peak is at least the average`);
  const average = (f.protectedBytes * f.dailyChangePercent) / 100 / 24;
  const input: SizingInput = {
    protectedBytes: f.protectedBytes,
    averageChangeBytesPerHour: average,
    peakChangeBytesPerHour: average * factor,
    compressionRatio: f.compressionRatio,
    historyHours: f.historyHours,
    hardLimit: f.hardLimit,
    rpoSeconds: f.rpoSeconds,
    reverseProtection: f.reverseProtection,
  };
  if (f.warning !== undefined) input.warning = f.warning;
  validateInput(input);
  return input;
}

/** What the report rests on besides the figures given, for the reader to weigh. */
export function assumptionsOf(f: DailyChangeFigures): string[] {
  const factor = f.peakFactor ?? DEFAULT_PEAK_FACTOR;
  return [
    factor === 1
      ? 'the peak is taken as the average (a steady change rate): a bursty workload needs more bandwidth to hold the RPO; give a peak factor (e.g. 3) to size for bursts'
      : `the peak is taken as ${String(factor)} × the average`,
  ];
}
