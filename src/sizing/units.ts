// Figures as people type them on a command line: sizes (403TB, 1.5PiB), percentages (10%),
// history (24h, 2d), compression (2 or 2:1), hard limits (unlimited, 10%, 50TB). Only the
// unambiguous forms: each refusal names the flag and says what to write instead.
import { SizingError, type HardLimit } from './types.ts';

const DECIMAL: Readonly<Record<string, bigint>> = { k: 10n ** 3n, M: 10n ** 6n, G: 10n ** 9n, T: 10n ** 12n, P: 10n ** 15n, E: 10n ** 18n };
const BINARY: Readonly<Record<string, bigint>> = { Ki: 2n ** 10n, Mi: 2n ** 20n, Gi: 2n ** 30n, Ti: 2n ** 40n, Pi: 2n ** 50n, Ei: 2n ** 60n };

/** Each unit as written: decimal with or without B (kB, TB, T as in Kubernetes), binary with or without B (TiB, Ti), bytes (B or none). */
const UNITS: ReadonlyMap<string, bigint> = new Map([
  ['', 1n], ['B', 1n],
  ...Object.entries(DECIMAL).flatMap(([p, v]) => [[p, v], [`${p}B`, v]] as const),
  ...Object.entries(BINARY).flatMap(([p, v]) => [[p, v], [`${p}B`, v]] as const),
]);

const NUMBER = '(\\d+(?:\\.\\d+)?|\\.\\d+)';
const SIZE_HINT = 'e.g. 403TB, 1.5PB, 500GiB, 2Ti or plain bytes (decimal kB MB GB TB PB EB, binary KiB MiB GiB TiB PiB EiB)';

/** The decimal text × unit, rounded up to a whole byte, without floating-point error on the way. */
function exactBytes(number: string, unit: bigint): number {
  const [whole = '', fraction = ''] = number.split('.');
  const scale = 10n ** BigInt(fraction.length);
  const bytes = (BigInt(`${whole}${fraction}` || '0') * unit + scale - 1n) / scale;
  return Number(bytes);
}

export function parseSize(flag: string, text: string): number {
  const match = new RegExp(`^${NUMBER} ?([A-Za-z]*)$`).exec(text.trim());
  if (match === null) throw new SizingError(flag, `"${text}" is not a size (${SIZE_HINT})`);
  const [, number = '', suffix = ''] = match;
  const unit = UNITS.get(suffix);
  if (unit !== undefined) return exactBytes(number, unit);
  if (suffix === 'K' || suffix === 'KB') {
    throw new SizingError(flag, `"${text}": ${suffix} is read as 1000 or 1024 bytes; write kB (1000) or KiB (1024)`);
  }
  if (suffix.endsWith('b') || suffix.endsWith('bit')) {
    throw new SizingError(flag, `"${text}": ${suffix} reads as bits; sizes are in bytes (write ${suffix.replace(/bit$|b$/, 'B')})`);
  }
  throw new SizingError(flag, `"${text}": unknown unit "${suffix}" (${SIZE_HINT})`);
}

/** "10%" → 10. The sign is required: 0.1 could be a fraction or a tenth of a percent. */
export function parsePercent(flag: string, text: string): number {
  const match = new RegExp(`^${NUMBER} ?%$`).exec(text.trim());
  if (match === null) {
    const bare = new RegExp(`^${NUMBER}$`).test(text.trim());
    throw new SizingError(flag, bare ? `"${text}": write the percentage with its sign, e.g. ${text.trim()}%` : `"${text}" is not a percentage (e.g. 10%)`);
  }
  return Number(match[1]);
}

const HOURS: Readonly<Record<string, number>> = { d: 24, h: 1, m: 1 / 60 };

/** A span in hours: 24h, 90m, 2d, 1d12h. A bare number is refused: hours or days? */
export function parseHours(flag: string, text: string): number {
  const t = text.trim();
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)(d|h|m)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== t) {
    const bare = new RegExp(`^${NUMBER}$`).test(t);
    throw new SizingError(flag, bare ? `"${text}": give the unit, e.g. ${t}h (or m, d)` : `"${text}" is not a span of time (e.g. 24h, 90m, 2d, 1d12h)`);
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * (HOURS[p[2] ?? ''] ?? 0), 0);
}

/**
 * Compression as raw bytes per byte sent: "2", "2:1", "1.5". A percentage is refused: "50%" may
 * mean 50 % saved or 50 % left, which agree only at 50.
 */
export function parseCompression(flag: string, text: string): number {
  const t = text.trim();
  if (t.endsWith('%')) {
    throw new SizingError(flag, `"${text}": a percentage is ambiguous (saved, or left?); give the ratio of raw to compressed bytes, e.g. 2 or 2:1 (1: no compression)`);
  }
  const match = new RegExp(`^${NUMBER}(?: ?: ?${NUMBER})?$`).exec(t);
  if (match === null) throw new SizingError(flag, `"${text}" is not a compression ratio (e.g. 2 or 2:1 for half the bytes sent; 1 for no compression)`);
  const raw = Number(match[1]);
  const sent = match[2] === undefined ? 1 : Number(match[2]);
  if (sent === 0) throw new SizingError(flag, `"${text}": the second figure of a ratio must be more than 0`);
  return raw / sent;
}

/** unlimited, a percentage of the protected size (10%), or a size (50TB). */
export function parseHardLimit(flag: string, text: string): HardLimit {
  const t = text.trim();
  if (t.toLowerCase() === 'unlimited') return { type: 'Unlimited' };
  if (t.endsWith('%')) return { type: 'Percent', percent: parsePercent(flag, t) };
  try {
    return { type: 'Size', bytes: parseSize(flag, t) };
  } catch (err: unknown) {
    if (!(err instanceof SizingError)) throw err;
    throw new SizingError(flag, `"${text}" is not a hard limit: unlimited, a percentage of the protected size (e.g. 10%) or a size (e.g. 50TB)`);
  }
}

/** A plain positive number: a multiple (1.5, 3). */
export function parseFactor(flag: string, text: string): number {
  const match = new RegExp(`^${NUMBER}$`).exec(text.trim());
  if (match === null) throw new SizingError(flag, `"${text}" is not a number (e.g. 1.5)`);
  return Number(match[1]);
}
