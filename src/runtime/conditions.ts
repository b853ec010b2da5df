// Status conditions, as apimachinery's meta.SetStatusCondition keeps them: one per type;
// lastTransitionTime moves only when the status flips, so recomputing the same conditions on
// every reconcile yields the same status and no write. Pure functions over a new array: the
// objects they come from are frozen cache entries.

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** metav1.Condition. */
export interface Condition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** A condition to set: lastTransitionTime is filled in when the status changes. */
export type NewCondition = Omit<Condition, 'lastTransitionTime'> & { lastTransitionTime?: string };

/** metav1.Time: RFC 3339 in whole seconds, as the API server writes it. */
export function metaTime(date: Date = new Date()): string {
  return new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** metav1.MicroTime: RFC 3339 with six fractional digits (Leases, Events). */
export function microTime(date: Date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function findStatusCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isStatusConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findStatusCondition(conditions, type)?.status === 'True';
}

/**
 * Sets `next` in `conditions`: added if its type is new; otherwise status, reason, message and
 * observedGeneration are updated, and lastTransitionTime only if the status changed. Returns the
 * new list and whether anything changed.
 */
export function setStatusCondition(
  conditions: readonly Condition[] | undefined,
  next: NewCondition,
  now: Date = new Date(),
): { conditions: Condition[]; changed: boolean } {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const existing = list[i];
  if (existing === undefined) {
    list.push(withOptional({ ...next, lastTransitionTime: next.lastTransitionTime ?? metaTime(now) }));
    return { conditions: list, changed: true };
  }
  const updated: Condition = withOptional({
    ...existing,
    status: next.status,
    reason: next.reason,
    message: next.message,
    observedGeneration: next.observedGeneration,
    lastTransitionTime: existing.status === next.status ? existing.lastTransitionTime : next.lastTransitionTime ?? metaTime(now),
  });
  const changed = updated.status !== existing.status || updated.reason !== existing.reason || updated.message !== existing.message
    || updated.observedGeneration !== existing.observedGeneration || updated.lastTransitionTime !== existing.lastTransitionTime;
  list[i] = updated;
  return { conditions: changed ? list : [...(conditions ?? [])], changed };
}

/** Removes the condition of that type; `changed` says whether there was one. */
export function removeStatusCondition(conditions: readonly Condition[] | undefined, type: string): { conditions: Condition[]; changed: boolean } {
  const list = (conditions ?? []).filter((c) => c.type !== type);
  return { conditions: list, changed: list.length !== (conditions ?? []).length };
}

/** Drops an undefined observedGeneration key: written out it would differ from a live object without one. */
function withOptional(c: Omit<Condition, 'observedGeneration'> & { observedGeneration?: number | undefined }): Condition {
  const { observedGeneration, ...rest } = c;
  return observedGeneration === undefined ? rest : { ...rest, observedGeneration };
}
