// A Zorg's quotas as a ResourceQuota in each of its namespaces.
//
// ResourceQuota is per namespace; a Zorg's quotas are per tenant. Each namespace gets the whole
// maxVPGs as its count/vpgs.zcsp.io limit (no namespace may ever exceed the tenant's total), and
// the tenant-wide totals (VPGs across namespaces, protected size) are reported in the Zorg's
// status (QuotaExceeded) and enforced by the VPG controller, which refuses to protect past them.
// maxProtectedSize is not a requests.storage quota: that would cap the tenant's own PVCs, not
// what it protects.
import { deepEqual } from '../../runtime/index.ts';
import { QUOTA_NAME } from './labels.ts';
import type { ResourceQuota } from './types.ts';

export const VPG_COUNT_RESOURCE = 'count/vpgs.zcsp.io';

/** The ResourceQuota of a tenant namespace; undefined when the Zorg sets no maxVPGs. */
export function desiredQuota(namespace: string, quotas: { maxVPGs?: number | undefined } | undefined, labels: Record<string, string>): ResourceQuota | undefined {
  if (quotas?.maxVPGs === undefined) return undefined;
  return { metadata: { name: QUOTA_NAME, namespace, labels }, spec: { hard: { [VPG_COUNT_RESOURCE]: String(quotas.maxVPGs) } } };
}

/**
 * Whether the quota controller has taken in the quota as desired: its status.hard is the desired
 * spec.hard and status.used counts every limited resource. Until then the API server refuses to
 * create the objects it counts ("status unknown for quota"), so the tenant cannot create VPGs yet.
 * (A quota controller that only just learnt of the vpgs resource, e.g. right after the CRDs were
 * installed, counts them at its next discovery sync, within about 30 s.)
 */
export function quotaEnforced(desired: ResourceQuota, live: ResourceQuota | undefined): boolean {
  if (live === undefined || !deepEqual(live.status?.hard ?? {}, desired.spec.hard)) return false;
  const used = live.status?.used ?? {};
  return Object.keys(desired.spec.hard).every((r) => used[r] !== undefined);
}

/**
 * How long a quota may wait for its usage to be counted before it is recreated: short against
 * the quota controller's 30 s discovery period, so a quota is counted soon after the discovery
 * that makes it countable; a recreation costs two requests.
 */
export const QUOTA_STUCK_AFTER_MS = 10_000;

/**
 * Whether the quota controller took the quota in but will not count VPGs for it until its next
 * full resync (every 5 minutes by default): the quota was created before the quota controller
 * discovered the vpgs resource (it does every 30 s, e.g. right after the CRDs are installed), and
 * only a new quota (or a change of spec.hard) makes it look again. Such a quota is recreated, at
 * most once per QUOTA_STUCK_AFTER_MS: until it is counted, the API server refuses VPGs anyway.
 */
export function quotaStuck(desired: ResourceQuota, live: ResourceQuota | undefined, now: Date, afterMs = QUOTA_STUCK_AFTER_MS): boolean {
  if (live === undefined || quotaEnforced(desired, live) || !deepEqual(live.status?.hard ?? {}, desired.spec.hard)) return false;
  const created = Date.parse(live.metadata?.creationTimestamp ?? '');
  return Number.isFinite(created) && now.getTime() - created >= afterMs;
}
