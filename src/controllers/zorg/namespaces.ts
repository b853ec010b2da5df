// A Zorg's namespaces: whether a namespace of its spec can be its own, what it looks like, and how
// it is let go.
//
// The operator creates the namespaces a Zorg names, labelled zcsp.io/zorg=<zorg> and controlled by
// the Zorg (an owner reference: deleting the Zorg deletes them, with everything in them). It never
// takes over a namespace it did not create: one that exists already, or belongs to another Zorg,
// is a conflict, unless the provider annotated it zcsp.io/adopt=<zorg>.
//
// A namespace removed from the spec is not deleted (it holds the tenant's data): the operator
// removes what it put there (Roles, RoleBindings, quota, network policies), then its owner
// reference and labels, and marks it adoptable by the same Zorg, which can list it again.
import { APPLIED_HASH_ANNOTATION, controllerOf, type KubeObject, type OwnerReference } from '../../runtime/index.ts';
import { ADOPT_ANNOTATION, ZORG_LABEL } from './labels.ts';
import type { Namespace } from './types.ts';

export type NamespaceClaim =
  | { state: 'Absent' }
  | { state: 'Owned' }
  | { state: 'Adoptable' }
  | { state: 'Terminating'; message: string }
  | { state: 'Conflict'; message: string };

export interface ZorgRef {
  name: string;
  uid: string;
}

/** Whether an owner reference points at a Zorg. */
export function isZorgRef(ref: OwnerReference): boolean {
  return ref.kind === 'Zorg' && ref.apiVersion.startsWith('zcsp.io/');
}

/** Whether the Zorg `zorg` (this very one: its uid) is the object's controller. */
export function isControlledBy(obj: KubeObject, zorg: ZorgRef): boolean {
  const ref = controllerOf(obj);
  return ref !== undefined && ref.uid === zorg.uid && isZorgRef(ref);
}

/** What a Zorg may do with the namespace `name` it lists, given the namespace as it is (or undefined). */
export function claimNamespace(name: string, live: Namespace | undefined, zorg: ZorgRef, providerNamespace: string): NamespaceClaim {
  if (name === providerNamespace) {
    return { state: 'Conflict', message: `namespace ${name} is the provider's namespace (the operator's own); a tenant cannot have it` };
  }
  if (live === undefined) return { state: 'Absent' };
  if (live.metadata?.deletionTimestamp !== undefined) {
    return { state: 'Terminating', message: `namespace ${name} is being deleted; it is created again once it is gone` };
  }
  if (isControlledBy(live, zorg)) return { state: 'Owned' };
  const ref = controllerOf(live);
  if (ref !== undefined) {
    const owner = isZorgRef(ref) ? `Zorg ${ref.name}${ref.name === zorg.name ? ` (uid ${ref.uid}, an earlier Zorg of this name)` : ''}` : `${ref.kind} ${ref.name}`;
    return { state: 'Conflict', message: `namespace ${name} belongs to ${owner}` };
  }
  if (live.metadata?.annotations?.[ADOPT_ANNOTATION] === zorg.name) return { state: 'Adoptable' };
  return {
    state: 'Conflict',
    message: `namespace ${name} exists and was not created for this Zorg; to hand it over, annotate it ${ADOPT_ANNOTATION}=${zorg.name}`,
  };
}

/** The namespace as the operator keeps it (the owner reference is added by ensure). */
export function desiredNamespace(name: string, labels: Record<string, string>): Namespace {
  return { metadata: { name, labels: { ...labels } } };
}

/**
 * The merge patch that lets a namespace go: our labels, applied-hash annotation and owner
 * reference removed, adoptable by the same Zorg. Carries the resourceVersion: the owner
 * references are replaced whole, so a concurrent change must fail (409) rather than be lost.
 */
export function releasePatch(live: Namespace, zorg: ZorgRef, managedByLabel: string): Record<string, unknown> {
  const ownerReferences = (live.metadata?.ownerReferences ?? []).filter((r) => r.uid !== zorg.uid);
  const labels: Record<string, null> = {};
  for (const key of [ZORG_LABEL, managedByLabel]) {
    if (live.metadata?.labels?.[key] !== undefined) labels[key] = null;
  }
  return {
    metadata: {
      resourceVersion: live.metadata?.resourceVersion,
      labels,
      annotations: { [APPLIED_HASH_ANNOTATION]: null, [ADOPT_ANNOTATION]: zorg.name },
      ownerReferences,
    },
  };
}
