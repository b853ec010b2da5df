// The routes of a ZCC: which Sites its tenant's traffic may reach. The ZCC controller computes them
// (the recovery sites of the Zorg's VPGs) and writes them into a ConfigMap in the provider
// namespace; the connector reads that one ConfigMap with its own ServiceAccount. Policy is decided
// in one place (the controller, which reads every tenant's VPGs), and the connector, the process
// exposed to tenant networks, can read neither VPGs nor any tenant namespace.
import { z } from 'zod';
import { childName, canonicalJson, type ConfigMap } from '../runtime/index.ts';

/** The key of the routes document in the ConfigMap. */
export const ROUTES_KEY = 'routes.json';

const RoutesSchema = z.object({
  v: z.literal(1),
  zorg: z.string().min(1),
  recoverySites: z.array(z.string().min(1)),
});
export type Routes = z.output<typeof RoutesSchema>;

/** The ConfigMap that holds a ZCC's routes. */
export function routesConfigMapName(zcc: string): string {
  return childName(['zcc', zcc, 'routes'], 253);
}

/** The routes document: canonical (sorted, no duplicates), so an unchanged policy writes nothing. */
export function encodeRoutes(zorg: string, recoverySites: Iterable<string>): string {
  return canonicalJson({ v: 1, zorg, recoverySites: [...new Set(recoverySites)].sort() });
}

/** The routes in a ConfigMap; undefined when it is missing or unreadable (nothing is routed then). */
export function parseRoutes(cm: ConfigMap | undefined): Routes | undefined {
  const text = cm?.data?.[ROUTES_KEY];
  if (text === undefined) return undefined;
  try {
    const result = RoutesSchema.safeParse(JSON.parse(text));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}
