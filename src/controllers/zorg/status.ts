// A Zorg's status from what its reconcile observed: a pure function, so that the same world gives
// the same status and no write (conditions keep their lastTransitionTime while their status holds).
//
// Conditions (each with observedGeneration):
//   NamespacesReady       every namespace of the spec is the Zorg's (NamespaceConflict, NamespaceTerminating)
//   RBACReady             Roles and RoleBindings applied in them
//   ResourceQuotaReady    the ResourceQuota applied and taken in by the quota controller (QuotaPending)
//   NetworkPoliciesReady  the VRA egress and ZCC ingress policies applied
//   ZCCConfigured         a ZCC object serves the Zorg (ZCCConflict, ZCCTerminating); not whether it runs
//   ServiceProfilesReady  every allowed ServiceProfile exists (ServiceProfileNotFound, ServiceProfileDeleting)
//   QuotaExceeded         True when the tenant-wide VPG count or protected size is past its quota
//   Ready                 all of the first six are True (QuotaExceeded does not count)
// A failure to write a child (reason ApplyFailed, the API server's message) shows on the condition
// of that child's kind.
import { setStatusCondition, type Condition, type ConditionStatus, type EventSpec } from '../../runtime/index.ts';
import type { SizingTotals } from '../../crds/sizing.ts';
import { formatBytes, quantityBytes } from './size.ts';

export interface NamespaceObservation {
  name: string;
  state: 'Ready' | 'Conflict' | 'Terminating';
  message?: string;
}

export type ZccObservation = { state: 'Exists'; names: string[] } | { state: 'Terminating' | 'Conflict'; message: string };

export interface ZorgObservation {
  generation: number | undefined;
  namespaces: readonly NamespaceObservation[];
  members: number;
  /** What failed to be written, by the condition it belongs to. */
  failures: Partial<Record<'namespaces' | 'rbac' | 'quota' | 'networkPolicies' | 'zcc', string>>;
  /** Namespaces whose ResourceQuota the quota controller has not taken in yet. */
  quotasPending: readonly string[];
  zcc: ZccObservation;
  profiles: { allowed: number; missing: readonly string[]; deleting: readonly string[] };
  vpgCount: number;
  protectedBytes: bigint;
  /** Capacity the tenant's VPGs need (their status.sizing summed); undefined until one has figures. */
  sizing?: SizingTotals | undefined;
  quotas: { maxVPGs?: number | undefined; maxProtectedSize?: string | number | undefined } | undefined;
}

export const READY_PARTS = ['NamespacesReady', 'RBACReady', 'ResourceQuotaReady', 'NetworkPoliciesReady', 'ZCCConfigured', 'ServiceProfilesReady'] as const;

interface Verdict {
  status: ConditionStatus;
  reason: string;
  message: string;
}

const ok = (reason: string, message: string): Verdict => ({ status: 'True', reason, message });
const bad = (reason: string, message: string): Verdict => ({ status: 'False', reason, message });
const applyFailed = (message: string): Verdict => bad('ApplyFailed', message);
const list = (items: readonly string[]): string => items.join(', ');

function namespacesVerdict(o: ZorgObservation): Verdict {
  if (o.failures.namespaces !== undefined) return applyFailed(o.failures.namespaces);
  const conflicts = o.namespaces.filter((n) => n.state === 'Conflict');
  const terminating = o.namespaces.filter((n) => n.state === 'Terminating');
  const problems = [...conflicts, ...terminating].map((n) => n.message ?? n.name).join('; ');
  if (conflicts.length > 0) return bad('NamespaceConflict', problems);
  if (terminating.length > 0) return bad('NamespaceTerminating', problems);
  return ok('NamespacesReady', `${o.namespaces.length} namespace(s): ${list(o.namespaces.map((n) => n.name))}`);
}

function zccVerdict(o: ZorgObservation): Verdict {
  if (o.failures.zcc !== undefined) return applyFailed(o.failures.zcc);
  if (o.zcc.state === 'Exists') return ok('ZCCExists', `served by ZCC ${list(o.zcc.names)}`);
  return bad(o.zcc.state === 'Conflict' ? 'ZCCConflict' : 'ZCCTerminating', o.zcc.message);
}

function profilesVerdict(o: ZorgObservation): Verdict {
  const { missing, deleting } = o.profiles;
  const problems = [
    ...missing.map((p) => `ServiceProfile ${p} does not exist`),
    ...deleting.map((p) => `ServiceProfile ${p} is being deleted`),
  ].join('; ');
  if (missing.length > 0) return bad('ServiceProfileNotFound', problems);
  if (deleting.length > 0) return bad('ServiceProfileDeleting', problems);
  return ok('ServiceProfilesFound', o.profiles.allowed === 0 ? 'no allowed ServiceProfiles: VPGs set their own SLA' : `all ${o.profiles.allowed} allowed ServiceProfile(s) exist`);
}

function quotaVerdict(o: ZorgObservation): Verdict {
  const exceeded: { reason: string; message: string }[] = [];
  const usage: string[] = [];
  const maxVPGs = o.quotas?.maxVPGs;
  if (maxVPGs !== undefined) {
    usage.push(`${o.vpgCount} of ${maxVPGs} VPGs`);
    if (o.vpgCount > maxVPGs) exceeded.push({ reason: 'TooManyVPGs', message: `${o.vpgCount} VPGs, the quota is ${maxVPGs}` });
  }
  const maxSize = o.quotas?.maxProtectedSize;
  if (maxSize !== undefined) {
    usage.push(`${formatBytes(o.protectedBytes)} of ${String(maxSize)} protected`);
    if (o.protectedBytes > quantityBytes(maxSize)) {
      exceeded.push({ reason: 'ProtectedSizeExceeded', message: `${formatBytes(o.protectedBytes)} protected, the quota is ${String(maxSize)}` });
    }
  }
  const first = exceeded[0];
  if (first !== undefined) return { status: 'True', reason: first.reason, message: exceeded.map((e) => e.message).join('; ') };
  return { status: 'False', reason: 'WithinQuota', message: usage.length === 0 ? 'no quotas' : list(usage) };
}

function verdicts(o: ZorgObservation): Record<(typeof READY_PARTS)[number] | 'QuotaExceeded', Verdict> {
  const managed = o.namespaces.filter((n) => n.state === 'Ready').length;
  return {
    NamespacesReady: namespacesVerdict(o),
    RBACReady: o.failures.rbac !== undefined ? applyFailed(o.failures.rbac)
      : ok('RolesBound', `tenant Roles and RoleBindings for ${o.members} member(s) in ${managed} namespace(s)`),
    ResourceQuotaReady: o.failures.quota !== undefined ? applyFailed(o.failures.quota)
      : o.quotasPending.length > 0 ? bad('QuotaPending', `waiting for the quota controller to take in the ResourceQuota of ${list(o.quotasPending)}`)
      : o.quotas?.maxVPGs === undefined ? ok('NoQuota', 'no maxVPGs: no ResourceQuota')
      : ok('QuotaEnforced', `count/vpgs.zcsp.io limited to ${o.quotas.maxVPGs} in each namespace`),
    NetworkPoliciesReady: o.failures.networkPolicies !== undefined ? applyFailed(o.failures.networkPolicies)
      : ok('PoliciesApplied', o.zcc.state === 'Exists' ? 'replication traffic may reach only the Zorg\'s ZCC' : 'no ZCC: replication traffic may reach DNS only'),
    ZCCConfigured: zccVerdict(o),
    ServiceProfilesReady: profilesVerdict(o),
    QuotaExceeded: quotaVerdict(o),
  };
}

/** The Zorg's status; `current` is its status now (for the conditions' transition times). */
export function zorgStatus(current: { conditions?: unknown } | undefined, o: ZorgObservation, now: Date = new Date()): Record<string, unknown> {
  const v = verdicts(o);
  const notReady = READY_PARTS.filter((t) => v[t].status !== 'True');
  const ready: Verdict = notReady.length === 0
    ? ok('Ready', 'the tenant\'s namespaces, roles, quota, network policies and ZCC are in place')
    : bad(v[notReady[0] ?? 'NamespacesReady'].reason, notReady.map((t) => `${t}: ${v[t].message}`).join('; '));
  let conditions = Array.isArray(current?.conditions) ? (current.conditions as Condition[]) : [];
  const generation = o.generation === undefined ? {} : { observedGeneration: o.generation };
  for (const [type, verdict] of [...Object.entries(v), ['Ready', ready] as const]) {
    conditions = setStatusCondition(conditions, { type, ...verdict, message: verdict.message.slice(0, 32_768), ...generation }, now).conditions;
  }
  return {
    ...generation,
    conditions,
    namespaces: o.namespaces.map((n) => ({ name: n.name, state: n.state, ...(n.message !== undefined && { message: n.message.slice(0, 1024) }) })),
    vpgCount: o.vpgCount,
    protectedSize: formatBytes(o.protectedBytes),
    ...(o.sizing !== undefined && { sizing: o.sizing }),
  };
}

/** Whether a condition reports a problem: QuotaExceeded when True, the others when False. */
function isProblem(c: Condition): boolean {
  return c.type === 'QuotaExceeded' ? c.status === 'True' : c.status === 'False';
}

/**
 * The Events for what changed between two condition lists: a Warning when a condition turns into
 * a problem (or its reason changes), a Normal one when Ready turns True. Only transitions, so a
 * restarted operator that finds the same world records nothing.
 */
export function conditionEvents(before: readonly Condition[] | undefined, after: readonly Condition[]): EventSpec[] {
  const events: EventSpec[] = [];
  for (const c of after) {
    const prev = before?.find((p) => p.type === c.type);
    const changed = prev === undefined || prev.status !== c.status || prev.reason !== c.reason;
    if (!changed) continue;
    if (c.type === 'Ready') {
      if (c.status === 'True') events.push({ type: 'Normal', reason: 'Ready', action: 'Reconcile', note: c.message });
    } else if (isProblem(c)) {
      events.push({ type: 'Warning', reason: c.reason, action: 'Reconcile', note: `${c.type}: ${c.message}` });
    }
  }
  return events;
}
