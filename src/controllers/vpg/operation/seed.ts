// Where a reverse VPG's target starts from: the volumes the failover left behind at the old
// protected site, read on their node by that node's VRA. A committed failover writes it on the
// reverse VPG (annotation zcsp.io/seed); the reverse VPG then keeps its journal on exactly that
// VRA, which seeds the new replica from the old volumes locally, so the first sync from the
// recovered volumes sends only what changed (a delta sync, not a full copy).
import { z } from 'zod';
import { ANNOTATION_SEED } from './labels.ts';

export const Seed = z.strictObject({
  /** The node whose VRA can read the old volumes. */
  node: z.string().min(1),
  /** Claim (volume) name → the path the VRA reads it at. */
  volumes: z.record(z.string(), z.string().startsWith('/')),
});
export type Seed = z.output<typeof Seed>;

/** The seed a VPG carries, if any (a malformed one is ignored: the sync is then a full one). */
export function seedOf(obj: { metadata?: { annotations?: Record<string, string> | undefined } }): Seed | undefined {
  const text = obj.metadata?.annotations?.[ANNOTATION_SEED];
  if (text === undefined) return undefined;
  try {
    const parsed = Seed.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
