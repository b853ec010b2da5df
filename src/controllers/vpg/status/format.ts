// Figures and messages as the status shows them to people.

/** Seconds for people: "23h58m", "4m12s", "12s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${s}s`;
}

/** Bytes as a quantity of about three significant digits ("1.25Gi", "820Mi", "512"): figures for people. */
export function approxBytes(bytes: number): string {
  const b = Math.max(0, Math.round(bytes));
  const units: [string, number][] = [['Pi', 2 ** 50], ['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]];
  for (const [suffix, unit] of units) {
    if (b < unit) continue;
    const v = b / unit;
    const decimals = v >= 100 ? 0 : v >= 10 ? 1 : 2;
    const scale = 10 ** decimals;
    const rounded = Math.round(v * scale) / scale;
    const text = rounded.toFixed(decimals);
    return `${decimals === 0 ? text : text.replace(/\.?0+$/, '')}${suffix}`;
  }
  return String(b);
}

/** A whole percent from 0 to 100, rounded down. */
export const percent = (p: number): number => Math.min(100, Math.max(0, Math.floor(p)));

/** Text of at most n characters, an ellipsis marking the cut. */
export const cut = (s: string, n = 1024): string => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);
