// Kubernetes resource quantities ("250m", "1Gi", "1e3") and the downward API's resourceFieldRef,
// computed the way the kubelet does (pkg/api/v1/resource: round up to a whole number of divisors).
import type { V1Container } from '@kubernetes/client-node';

const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

/** The value of a quantity in base units (cores, bytes); throws on a malformed quantity. */
export function parseQuantity(quantity: string | number): number {
  if (typeof quantity === 'number') return quantity;
  const match = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/.exec(quantity.trim());
  if (match === null) throw new Error(`invalid quantity "${quantity}"`);
  const number = Number(match[1]);
  const suffix = match[2] ?? '';
  if (match[3] !== undefined) return number * 10 ** Number(match[3]);
  return number * (BINARY[suffix] ?? DECIMAL[suffix] ?? 1);
}

export interface NodeAllocatable {
  cpu: string;
  memory: string;
  'ephemeral-storage': string;
}

/**
 * The string a resourceFieldRef resolves to. Unset limits fall back to the node's allocatable
 * (as the kubelet does); unset requests are 0. CPU rounds up in millicores, the rest in units.
 */
export function resolveResourceFieldRef(
  container: Pick<V1Container, 'name' | 'resources'>,
  resource: string,
  divisor: string | number | undefined,
  allocatable: NodeAllocatable,
): string {
  const [kind, name] = resource.split('.', 2) as [string, string | undefined];
  if ((kind !== 'limits' && kind !== 'requests') || (name !== 'cpu' && name !== 'memory' && name !== 'ephemeral-storage')) {
    throw new Error(`unsupported resourceFieldRef resource "${resource}" (container ${container.name})`);
  }
  const declared = container.resources?.[kind]?.[name];
  const raw = declared ?? (kind === 'limits' ? allocatable[name] : '0');
  const value = parseQuantity(raw);
  const div = parseQuantity(divisor ?? '1');
  if (div <= 0) throw new Error(`resourceFieldRef divisor must be positive, got "${String(divisor)}"`);
  if (name === 'cpu') {
    // Kubernetes compares milli-values: a quantity's MilliValue rounds up.
    const milli = Math.ceil(round(value * 1000));
    const divMilli = Math.ceil(round(div * 1000));
    return String(Math.ceil(milli / divMilli));
  }
  return String(Math.ceil(round(value / div)));
}

/** Removes floating-point noise (0.1 * 3 = 0.30000000000000004) before rounding up. */
function round(x: number): number {
  return Math.round(x * 1e9) / 1e9;
}
