// Figures in human units. Decimal throughout (1 TB = 10^12 bytes, 1 Gbit/s = 10^9 bit/s), as
// storage and links are sold; rounded up, like the figures themselves, so a shown capacity is
// never less than the exact one.

const BYTE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'] as const;
const BIT_UNITS = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s', 'Pbit/s'] as const;

export const UNITS_NOTE = 'decimal units: 1 TB = 10^12 bytes, 1 Gbit/s = 10^9 bit/s';

/** At most two decimals, in the largest unit of which there is at least one. */
function scaled(n: number, units: readonly string[]): string {
  const value = BigInt(Math.ceil(n));
  let i = 0;
  let unit = 1n;
  while (i < units.length - 1 && value >= unit * 1000n) {
    unit *= 1000n;
    i++;
  }
  let hundredths = (value * 100n + unit - 1n) / unit;
  if (hundredths >= 100_000n && i < units.length - 1) {
    // 999.999 GB rounds up to 1000 GB: say 1 TB.
    unit *= 1000n;
    i++;
    hundredths = (value * 100n + unit - 1n) / unit;
  }
  const whole = hundredths / 100n;
  const fraction = hundredths % 100n;
  const text = fraction === 0n ? String(whole) : `${String(whole)}.${fraction.toString().padStart(2, '0').replace(/0$/, '')}`;
  return `${text} ${units[i] ?? ''}`;
}

export const bytesText = (bytes: number): string => scaled(bytes, BYTE_UNITS);
export const rateText = (bytesPerHour: number): string => `${bytesText(bytesPerHour)}/h`;
export const bitsText = (bitsPerSecond: number): string => scaled(bitsPerSecond, BIT_UNITS);

/** 45s, 5m, 19h12m, 1d, 30d: the two largest units, rounded down (a span held is not overstated). */
export function spanText(seconds: number): string {
  const s = Math.floor(seconds + 1e-6);
  if (s < 1) return '0s';
  const units: readonly (readonly [number, string])[] = [[86_400, 'd'], [3600, 'h'], [60, 'm'], [1, 's']];
  const first = units.findIndex(([size]) => s >= size);
  const [bigSize, bigName] = units[first] ?? [1, 's'];
  const big = Math.floor(s / bigSize);
  const next = units[first + 1];
  if (next === undefined) return `${String(big)}${bigName}`;
  const small = Math.floor((s - big * bigSize) / next[0]);
  return small === 0 ? `${String(big)}${bigName}` : `${String(big)}${bigName}${String(small)}${next[1]}`;
}

export const hoursText = (hours: number): string => spanText(hours * 3600);

/** 50%, 12.5%, 9.99%. */
export const percentText = (percent: number): string => `${String(Number(percent.toFixed(2)))}%`;

/** 2:1, 1.5:1; 1:1 is no compression. */
export const ratioText = (ratio: number): string => `${String(Number(ratio.toFixed(2)))}:1`;
