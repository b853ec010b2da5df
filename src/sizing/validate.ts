// Checks a SizingInput before any arithmetic: a NaN or a negative size would otherwise come out as
// a confident-looking figure. Each refusal names the field and what is wrong with it.
import { SizingError, type HardLimit, type SizingInput } from './types.ts';

/** The ServiceProfile allows a Percent limit of 1–1000 % of the protected size. */
export const MAX_LIMIT_PERCENT = 1000;
export const MIN_HISTORY_HOURS = 1;
export const MAX_HISTORY_HOURS = 720;

const shown = (n: number): string => String(n);

export function nonNegative(field: string, n: number): void {
  if (!Number.isFinite(n)) throw new SizingError(field, `${shown(n)} is not a number`);
  if (n < 0) throw new SizingError(field, `${shown(n)} is negative`);
}

export function positive(field: string, n: number): void {
  if (!Number.isFinite(n)) throw new SizingError(field, `${shown(n)} is not a number`);
  if (n <= 0) throw new SizingError(field, `${shown(n)} must be more than 0`);
}

/** A percentage in (0, max]. */
export function percentage(field: string, n: number, max: number): void {
  if (!Number.isFinite(n)) throw new SizingError(field, `${shown(n)} is not a number`);
  if (n <= 0 || n > max) throw new SizingError(field, `${shown(n)} % is outside (0, ${max}] %`);
}

function limit(field: string, l: HardLimit): void {
  switch (l.type) {
    case 'Unlimited':
      return;
    case 'Size':
      positive(`${field}.bytes`, l.bytes);
      return;
    case 'Percent':
      percentage(`${field}.percent`, l.percent, MAX_LIMIT_PERCENT);
      return;
  }
}

export function validateInput(input: SizingInput): void {
  nonNegative('protectedBytes', input.protectedBytes);
  nonNegative('averageChangeBytesPerHour', input.averageChangeBytesPerHour);
  nonNegative('peakChangeBytesPerHour', input.peakChangeBytesPerHour);
  if (input.peakChangeBytesPerHour < input.averageChangeBytesPerHour) {
    throw new SizingError('peakChangeBytesPerHour', `${shown(input.peakChangeBytesPerHour)} is below the average ${shown(input.averageChangeBytesPerHour)}: the peak is the busiest interval, at least the average`);
  }
  if (!Number.isFinite(input.compressionRatio)) throw new SizingError('compressionRatio', `${shown(input.compressionRatio)} is not a number`);
  if (input.compressionRatio < 1) {
    throw new SizingError('compressionRatio', `${shown(input.compressionRatio)} is below 1: it is raw bytes per byte sent (2 for 2:1; 1 for no compression)`);
  }
  if (!Number.isFinite(input.historyHours)) throw new SizingError('historyHours', `${shown(input.historyHours)} is not a number`);
  if (input.historyHours < MIN_HISTORY_HOURS || input.historyHours > MAX_HISTORY_HOURS) {
    throw new SizingError('historyHours', `${shown(input.historyHours)} hours is outside ${MIN_HISTORY_HOURS}–${MAX_HISTORY_HOURS} hours, the journal history a ServiceProfile allows`);
  }
  limit('hardLimit', input.hardLimit);
  if (input.warning !== undefined) limit('warning', input.warning);
  positive('rpoSeconds', input.rpoSeconds);
  if (input.bucketSeconds !== undefined) positive('bucketSeconds', input.bucketSeconds);
}
