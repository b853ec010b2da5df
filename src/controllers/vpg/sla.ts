// What a VPG may do under its tenant: the SLA it gets (a ServiceProfile its Zorg allows, or its
// own where the Zorg allows that), the namespaces it may recover into, and whether the tenant's
// protected-size quota leaves room for it. Pure functions: the controller feeds them the cached
// objects; each refusal is a reason (CamelCase, for the condition) and a message naming the field.
import type { ServiceProfile } from '../../crds/service-profile.ts';
import type { VPG } from '../../crds/vpg.ts';
import type { Zorg } from '../../crds/zorg.ts';
import { formatBytes, quantityBytes } from '../zorg/size.ts';

export interface Blocker {
  reason: string;
  message: string;
}

type SlaFields = ServiceProfile['spec'];
type Limit = SlaFields['journal']['hardLimit'];

/** The SLA in effect, with the journal limits resolved to bytes. */
export interface EffectiveSla {
  /** The profile's name, or undefined for the VPG's own SLA. */
  profile: string | undefined;
  rpoAlertSeconds: number;
  historyHours: number;
  checkpointIntervalSeconds: number;
  wanCompression: boolean;
  priority: SlaFields['priority'];
  /** Undefined: unlimited. */
  hardLimitBytes: number | undefined;
  warningBytes: number | undefined;
  /** The hard limit as people read it: a size, or Unlimited. */
  limitText: string;
  /** Months between failover tests before the Tested condition turns False; 0: no reminders. */
  testReminderMonths: number;
}

export type SlaResult = { sla: EffectiveSla } | { blocker: Blocker };

/** The Zorg whose namespaces hold `namespace`, if any. */
export function zorgOf(zorgs: readonly Zorg[], namespace: string): Zorg | undefined {
  return zorgs.find((z) => z.spec.namespaces.includes(namespace));
}

/** The VPG's SLA: its profile (or the Zorg's default) if the Zorg allows it, or its own SLA if the Zorg allows that. */
export function resolveSla(vpg: VPG, zorg: Zorg, profile: (name: string) => ServiceProfile | undefined, protectedBytes: bigint): SlaResult {
  const zorgName = zorg.metadata.name ?? '';
  if (vpg.spec.sla !== undefined) {
    if (!zorg.spec.allowCustomSla) {
      return { blocker: { reason: 'CustomSlaNotAllowed', message: `spec.sla: Zorg ${zorgName} does not allow VPGs their own SLA (allowCustomSla is false); name a service profile instead (allowed: ${list(zorg.spec.allowedServiceProfiles)})` } };
    }
    return { sla: effective(undefined, vpg.spec.sla, protectedBytes) };
  }
  const name = vpg.spec.serviceProfile ?? zorg.spec.defaultServiceProfile;
  if (name === undefined) {
    return { blocker: { reason: 'NoServiceProfile', message: `spec.serviceProfile: not set, and Zorg ${zorgName} has no defaultServiceProfile; name one of ${list(zorg.spec.allowedServiceProfiles)}` } };
  }
  const field = vpg.spec.serviceProfile === undefined ? `Zorg ${zorgName} defaultServiceProfile` : 'spec.serviceProfile';
  if (!zorg.spec.allowedServiceProfiles.includes(name)) {
    return { blocker: { reason: 'ServiceProfileNotAllowed', message: `${field}: ${name} is not one of the profiles Zorg ${zorgName} allows (${list(zorg.spec.allowedServiceProfiles)})` } };
  }
  const found = profile(name);
  if (found === undefined) return { blocker: { reason: 'ServiceProfileNotFound', message: `${field}: ServiceProfile ${name} does not exist` } };
  return { sla: effective(name, found.spec, protectedBytes) };
}

/** The recovery namespaces must be the tenant's own. */
export function recoveryNamespacesProblem(vpg: VPG, zorg: Zorg): Blocker | undefined {
  for (const field of ['namespace', 'testNamespace'] as const) {
    const ns = vpg.spec.recovery[field];
    if (!zorg.spec.namespaces.includes(ns)) {
      return { reason: 'RecoveryNamespaceNotAllowed', message: `spec.recovery.${field}: ${ns} is not a namespace of Zorg ${zorg.metadata.name ?? ''} (${list(zorg.spec.namespaces)})` };
    }
  }
  return undefined;
}

/**
 * The tenant's maxProtectedSize: VPGs are admitted oldest first, so a new VPG cannot take the
 * room of one already protected. `earlierBytes` sums the protected sizes of the tenant's VPGs
 * created before this one.
 */
export function quotaProblem(zorg: Zorg, earlierBytes: bigint, ownBytes: bigint): Blocker | undefined {
  const max = zorg.spec.quotas?.maxProtectedSize;
  if (max === undefined) return undefined;
  const limit = quantityBytes(max);
  if (earlierBytes + ownBytes <= limit) return undefined;
  return {
    reason: 'QuotaExceeded',
    message: `spec.volumes: protecting ${formatBytes(ownBytes)} more would take Zorg ${zorg.metadata.name ?? ''} to ${formatBytes(earlierBytes + ownBytes)}, over its maxProtectedSize ${String(max)}`,
  };
}

function effective(profile: string | undefined, s: SlaFields | NonNullable<VPG['spec']['sla']>, protectedBytes: bigint): EffectiveSla {
  const hard = limitBytes(s.journal.hardLimit, protectedBytes);
  // Unset warning: 75 % of a Size or Percent hard limit (the schema's documented default).
  const warning = s.journal.warningThreshold !== undefined ? limitBytes(s.journal.warningThreshold, protectedBytes)
    : hard === undefined ? undefined : Math.floor(hard * 0.75);
  return {
    profile,
    rpoAlertSeconds: s.rpoAlertSeconds,
    historyHours: s.journal.historyHours,
    checkpointIntervalSeconds: s.checkpointIntervalSeconds,
    wanCompression: s.wanCompression,
    priority: s.priority,
    hardLimitBytes: hard,
    warningBytes: warning !== undefined && hard !== undefined && warning >= hard ? undefined : warning,
    limitText: hard === undefined ? 'Unlimited' : formatBytes(BigInt(hard)),
    testReminderMonths: s.testReminderMonths,
  };
}

/** A limit in bytes; a VRA journal needs at least 1 MiB to hold anything. */
function limitBytes(limit: Limit, protectedBytes: bigint): number | undefined {
  const MiB = 1024 * 1024;
  switch (limit.type) {
    case 'Unlimited':
      return undefined;
    case 'Size':
      return Math.max(MiB, Number(quantityBytes(limit.size ?? 0)));
    case 'Percent':
      return Math.max(MiB, Math.floor((Number(protectedBytes) * (limit.percent ?? 0)) / 100));
  }
}

function list(items: readonly string[]): string {
  return items.length === 0 ? 'none' : items.join(', ');
}
