// Who uses a ServiceProfile, and the profile's status: pure functions over the cached Zorgs and VPGs.
//
// A profile is in use while a Zorg allows it (allowedServiceProfiles or defaultServiceProfile) or
// a VPG uses it: by name (spec.serviceProfile), or through its Zorg's defaultServiceProfile when
// it names none and has no SLA of its own. The objects are read defensively (an invalid Zorg or
// VPG still counts as a user if it names the profile).
import { setStatusCondition, type Condition, type CustomObject, type EventSpec } from '../../runtime/index.ts';

export interface ProfileUsage {
  /** Zorgs that allow the profile, sorted. */
  zorgs: string[];
  /** VPGs that use it, "namespace/name", sorted. */
  vpgs: string[];
}

const field = (obj: CustomObject, name: string): unknown => (typeof obj.spec === 'object' && obj.spec !== null ? (obj.spec as Record<string, unknown>)[name] : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The profiles a Zorg refers to: the allowed ones and its default. */
export function profilesOfZorg(zorg: CustomObject): string[] {
  const def = str(field(zorg, 'defaultServiceProfile'));
  return [...new Set([...strings(field(zorg, 'allowedServiceProfiles')), ...(def === undefined ? [] : [def])])];
}

/** namespace → the default profiles of the Zorgs that list it (one, unless Zorgs conflict over it). */
export function defaultProfilesByNamespace(zorgs: readonly CustomObject[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const zorg of zorgs) {
    const def = str(field(zorg, 'defaultServiceProfile'));
    if (def === undefined) continue;
    for (const ns of strings(field(zorg, 'namespaces'))) map.set(ns, [...new Set([...(map.get(ns) ?? []), def])]);
  }
  return map;
}

/** The profiles a VPG uses: the one it names, else its Zorg's default unless it has its own SLA. */
export function profilesOfVpg(vpg: CustomObject, defaults: ReadonlyMap<string, readonly string[]>): string[] {
  const named = str(field(vpg, 'serviceProfile'));
  if (named !== undefined) return [named];
  if (field(vpg, 'sla') !== undefined) return [];
  return [...(defaults.get(vpg.metadata?.namespace ?? '') ?? [])];
}

export function profileUsage(profile: string, zorgs: readonly CustomObject[], vpgs: readonly CustomObject[]): ProfileUsage {
  const defaults = defaultProfilesByNamespace(zorgs);
  return {
    zorgs: zorgs.filter((z) => profilesOfZorg(z).includes(profile)).map((z) => z.metadata?.name ?? '').sort(),
    vpgs: vpgs.filter((v) => profilesOfVpg(v, defaults).includes(profile)).map((v) => `${v.metadata?.namespace ?? ''}/${v.metadata?.name ?? ''}`).sort(),
  };
}

export function inUse(usage: ProfileUsage): boolean {
  return usage.zorgs.length > 0 || usage.vpgs.length > 0;
}

/** "a, b, c and 7 more": a bounded list for a condition message. */
export function bounded(items: readonly string[], max = 10): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

/** Who uses the profile, for people. */
export function describeUsage(usage: ProfileUsage): string {
  const parts: string[] = [];
  if (usage.zorgs.length > 0) parts.push(`allowed by ${usage.zorgs.length} Zorg(s): ${bounded(usage.zorgs)}`);
  if (usage.vpgs.length > 0) parts.push(`used by ${usage.vpgs.length} VPG(s): ${bounded(usage.vpgs)}`);
  return parts.length === 0 ? 'no Zorg allows it and no VPG uses it' : parts.join('; ');
}

export interface ProfileObservation {
  generation: number | undefined;
  /** undefined: the spec is valid; else why not. */
  invalid: string | undefined;
  usage: ProfileUsage;
  deleting: boolean;
}

/**
 * The profile's status. Conditions: Ready (the spec is valid: InvalidSpec otherwise) and Deletable
 * (NotInUse, or InUse with the users; while the profile is being deleted the message says the
 * deletion waits for them).
 */
export function profileStatus(current: { conditions?: unknown } | undefined, o: ProfileObservation, now: Date = new Date()): Record<string, unknown> {
  const generation = o.generation === undefined ? {} : { observedGeneration: o.generation };
  let conditions = Array.isArray(current?.conditions) ? (current.conditions as Condition[]) : [];
  conditions = setStatusCondition(conditions, o.invalid === undefined
    ? { type: 'Ready', status: 'True', reason: 'Valid', message: 'the profile is valid', ...generation }
    : { type: 'Ready', status: 'False', reason: 'InvalidSpec', message: o.invalid.slice(0, 32_768), ...generation }, now).conditions;
  const used = inUse(o.usage);
  const who = describeUsage(o.usage);
  conditions = setStatusCondition(conditions, used
    ? { type: 'Deletable', status: 'False', reason: 'InUse', message: o.deleting ? `deletion waits until the profile is unused: ${who}` : who, ...generation }
    : { type: 'Deletable', status: 'True', reason: 'NotInUse', message: who, ...generation }, now).conditions;
  return { ...generation, conditions, vpgCount: o.usage.vpgs.length };
}

/**
 * Events for a status change: a Warning when the spec turns invalid, and one whenever a blocked
 * deletion's list of users changes (so the provider sees who still holds the profile).
 */
export function profileEvents(before: readonly Condition[] | undefined, after: readonly Condition[], deleting: boolean): EventSpec[] {
  const events: EventSpec[] = [];
  const prev = (type: string): Condition | undefined => before?.find((c) => c.type === type);
  const ready = after.find((c) => c.type === 'Ready');
  if (ready?.status === 'False' && (prev('Ready')?.status !== 'False' || prev('Ready')?.reason !== ready.reason)) {
    events.push({ type: 'Warning', reason: ready.reason, action: 'Validate', note: ready.message });
  }
  const deletable = after.find((c) => c.type === 'Deletable');
  if (deleting && deletable?.status === 'False' && prev('Deletable')?.message !== deletable.message) {
    events.push({ type: 'Warning', reason: 'DeletionBlocked', action: 'Delete', note: deletable.message });
  }
  return events;
}
