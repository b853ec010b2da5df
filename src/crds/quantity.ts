// Kubernetes resource quantities ("150Gi", "500m", "1e3", 1024), compared exactly, as the API
// server's CEL `quantity()` library does: the zod mirror of a CEL rule must give the same verdict
// on edge cases such as "1Gi" vs "1073741824", so no floating point.

/** Non-negative quantities: Kubernetes' own pattern for resource.Quantity, without the minus sign. */
export const QUANTITY_PATTERN =
  /^\+?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;

const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** value = digits × 10^pow10 × 2^pow2 */
interface Exact {
  digits: bigint;
  pow10: number;
  pow2: number;
}

function exact(quantity: string | number): Exact {
  const text = String(quantity);
  const match = /^\+?([0-9]*)(?:\.([0-9]*))?(.*)$/.exec(text);
  if (match === null || !QUANTITY_PATTERN.test(text)) throw new Error(`not a quantity: "${text}"`);
  const [, whole = '', fraction = '', suffix = ''] = match;
  const digits = BigInt(`${whole}${fraction}` || '0');
  const pow10 = -fraction.length;
  const binary = BINARY[suffix];
  if (binary !== undefined) return { digits, pow10, pow2: binary };
  const decimal = DECIMAL[suffix];
  if (decimal !== undefined) return { digits, pow10: pow10 + decimal, pow2: 0 };
  return { digits, pow10: pow10 + Number(suffix.slice(1)), pow2: 0 }; // an exponent: e3, E-2
}

/** Negative, zero or positive as a is below, equal to or above b. */
export function compareQuantities(a: string | number, b: string | number): number {
  const x = exact(a);
  const y = exact(b);
  // Scale both onto the smaller powers so only non-negative exponents remain.
  const p10 = Math.min(x.pow10, y.pow10);
  const p2 = Math.min(x.pow2, y.pow2);
  const scale = (v: Exact): bigint => v.digits * 10n ** BigInt(v.pow10 - p10) * 2n ** BigInt(v.pow2 - p2);
  const [sx, sy] = [scale(x), scale(y)];
  return sx < sy ? -1 : sx > sy ? 1 : 0;
}
