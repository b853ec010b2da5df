// Sizing: the storage and bandwidth disaster recovery needs, for a VPG, for totals over VPGs, and
// for hypothetical figures. Pure arithmetic; the operator, kubectl zcsp and the console share it.
export { SizingError, type HardLimit, type SizingInput, type SizingReport, type SizingTotals, type WarningThreshold } from './types.ts';
export { DEFAULT_BUCKET_SECONDS, DEFAULT_WARNING_FRACTION, estimate, limitBytes, roundUp } from './estimate.ts';
export { total } from './total.ts';
export { DEFAULT_PEAK_FACTOR, assumptionsOf, fromDailyChange, type DailyChangeFigures } from './daily-change.ts';
export { parseCompression, parseFactor, parseHardLimit, parseHours, parsePercent, parseSize } from './units.ts';
export { renderReport, renderTotals, type RenderOptions } from './render.ts';
export { UNITS_NOTE, bitsText, bytesText, hoursText, percentText, rateText, ratioText, spanText } from './format.ts';
export { MAX_HISTORY_HOURS, MAX_LIMIT_PERCENT, MIN_HISTORY_HOURS, validateInput } from './validate.ts';
