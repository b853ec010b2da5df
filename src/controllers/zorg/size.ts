// Sizes as Kubernetes quantities, summed exactly (bigint bytes): a tenant's protected size is the
// sum of its VPGs' volume sizes, written back as a quantity.
import { QUANTITY_PATTERN } from '../../crds/quantity.ts';

const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** Bytes of a quantity ("10Gi", "1.5G", 1024), fractions of a byte rounded up; throws if it is not one. */
export function quantityBytes(quantity: string | number): bigint {
  const text = String(quantity);
  const match = /^\+?([0-9]*)(?:\.([0-9]*))?(.*)$/.exec(text);
  if (match === null || !QUANTITY_PATTERN.test(text)) throw new Error(`not a quantity: "${text}"`);
  const [, whole = '', fraction = '', suffix = ''] = match;
  let value = BigInt(`${whole}${fraction}` || '0');
  let pow10 = -fraction.length;
  const binary = BINARY[suffix];
  if (binary !== undefined) value *= 2n ** BigInt(binary);
  else pow10 += DECIMAL[suffix] ?? Number(suffix.slice(1));
  if (pow10 >= 0) return value * 10n ** BigInt(pow10);
  const divisor = 10n ** BigInt(-pow10);
  return (value + divisor - 1n) / divisor;
}

/** Bytes as a quantity: the largest binary unit that divides it exactly ("15Gi", "1536Mi", "1000"). */
export function formatBytes(bytes: bigint): string {
  if (bytes === 0n) return '0';
  for (const [suffix, pow] of Object.entries(BINARY).reverse()) {
    const unit = 2n ** BigInt(pow);
    if (bytes % unit === 0n) return `${bytes / unit}${suffix}`;
  }
  return String(bytes);
}
