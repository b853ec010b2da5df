// A Site's capacity figures: the totals of the VPGs that recover to it (replicas, journals, test
// volumes and scratch, inbound bandwidth) and of those protected at it (outbound bandwidth, and
// what reverse protection would need here after a failover), beside the space its VRA volumes
// have. Assessments count too: they say what protecting those volumes would take.
import type { SiteStatus } from '../../crds/site.ts';
import type { CustomObject } from '../../runtime/index.ts';
import { sizingTotals } from '../sizing-totals.ts';

export type SiteSizing = NonNullable<SiteStatus['sizing']>;

/** The Sites a VPG concerns: its protected and its recovery site. */
export function sitesOfVpg(vpg: CustomObject): string[] {
  const spec = vpg.spec as { protectedSite?: unknown; recoverySite?: unknown } | undefined;
  return [spec?.protectedSite, spec?.recoverySite].filter((s): s is string => typeof s === 'string' && s !== '');
}

/** Undefined while no VPG of the site has figures yet. */
export function siteSizing(vpgs: readonly CustomObject[], site: string, vraVolumeBytes: bigint, vras: number): SiteSizing | undefined {
  const of = (field: 'protectedSite' | 'recoverySite') => vpgs.filter((v) => (v.spec as Record<string, unknown> | undefined)?.[field] === site);
  const asRecoverySite = sizingTotals(of('recoverySite'));
  const asProtectedSite = sizingTotals(of('protectedSite'));
  if (asRecoverySite === undefined && asProtectedSite === undefined) return undefined;
  return {
    asRecoverySite: asRecoverySite ?? EMPTY,
    asProtectedSite: asProtectedSite ?? EMPTY,
    ...(vras > 0 && { vraCapacityBytes: Number(vraVolumeBytes) * vras }),
  };
}

const EMPTY: SiteSizing['asRecoverySite'] = {
  vpgs: 0, vpgsOverHardLimit: 0, protectedBytes: 0, replicaBytes: 0, journalProjectedBytes: 0, failoverTestBytes: 0,
  reverseProtectionBytes: 0, recoverySiteSteadyBytes: 0, recoverySiteDuringTestBytes: 0,
  wan: { averageBitsPerSecond: 0, peakBitsPerSecond: 0, rpoBitsPerSecond: 0 },
};
