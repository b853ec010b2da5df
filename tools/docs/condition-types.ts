// The condition types each kind's status carries, from the controllers' own pure status
// functions, run on a small world in which every condition applies (most are set on every
// reconcile; a Site's CapacitySufficient only once VPGs recovering there have figures, a VPG's
// AppConsistent only with hooks).
import { appConsistentCondition } from '../../src/controllers/vpg/hooks/schedule.ts';
import { applyOperation } from '../../src/controllers/vpg/operation/apply.ts';
import { vpgStatus } from '../../src/controllers/vpg/status/index.ts';
import { profileStatus } from '../../src/controllers/service-profile/usage.ts';
import type { SiteSizing } from '../../src/controllers/site/sizing.ts';
import { siteStatus } from '../../src/controllers/site/status.ts';
import { zccStatus } from '../../src/controllers/zcc/status.ts';
import { zorgStatus } from '../../src/controllers/zorg/status.ts';
import type { Kind } from './reasons.ts';

const typesOf = (status: { conditions?: unknown }): string[] =>
  (Array.isArray(status.conditions) ? (status.conditions as { type: string }[]) : []).map((c) => c.type);

const totals = (vpgs: number): SiteSizing['asRecoverySite'] => ({
  vpgs, vpgsOverHardLimit: 0, protectedBytes: 0, replicaBytes: 0, journalProjectedBytes: 0, failoverTestBytes: 0,
  reverseProtectionBytes: 0, recoverySiteSteadyBytes: 0, recoverySiteDuringTestBytes: 0,
  wan: { averageBitsPerSecond: 0, peakBitsPerSecond: 0, rpoBitsPerSecond: 0 },
});
const siteSizing: SiteSizing = { asRecoverySite: totals(1), asProtectedSite: totals(0), vraCapacityBytes: 1 };

export function conditionTypes(): Map<Exclude<Kind, 'Any kind'>, string[]> {
  const now = new Date('2025-01-01T00:00:00Z');
  const vpg = vpgStatus({ now, generation: 1, previous: undefined, sla: undefined, volumes: [], protectedVraReady: false, recoveryVraReady: false });
  return new Map<Exclude<Kind, 'Any kind'>, string[]>([
    ['Zorg', typesOf(zorgStatus(undefined, {
      generation: 1, namespaces: [], members: 0, failures: {}, quotasPending: [], zcc: { state: 'Exists', names: [] },
      profiles: { allowed: 0, missing: [], deleting: [] }, vpgCount: 0, protectedBytes: 0n, quotas: undefined,
    }, now))],
    ['ServiceProfile', typesOf(profileStatus(undefined, { generation: 1, invalid: undefined, usage: { zorgs: [], vpgs: [] }, deleting: false }, now))],
    ['Site', typesOf(siteStatus({ previous: undefined, generation: 1, selector: {}, reports: [], orphaned: [], sizing: siteSizing, now }))],
    ['ZCC', typesOf(zccStatus({ previous: undefined, generation: 1, replicas: 1, deployment: undefined, service: undefined, now }))],
    ['VPG', [
      ...typesOf(applyOperation(vpg.status, undefined, { now, generation: 1, created: now.toISOString(), reminderMonths: 6 }).status),
      ...typesOf({ conditions: appConsistentCondition([], { startTime: now.toISOString(), result: 'Succeeded', message: '', hooksHash: 'h' }, 1, now) }),
    ]],
  ]);
}
