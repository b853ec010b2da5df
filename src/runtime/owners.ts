// Owner references: the controller reference a child carries, and the way back from a child's
// event to the key of the owner to reconcile (controller-runtime's EnqueueRequestForOwner).
import { RuntimeError } from './errors.ts';
import { apiVersionOf, isKindOf, type ResourceType } from './resources.ts';
import { joinKey } from './store.ts';
import type { KubeObject, OwnerReference } from './types.ts';

/** The reference that makes `owner` the controller of a child (garbage collected with it). */
export function controllerReference(owner: KubeObject, ownerResource: ResourceType): OwnerReference {
  const name = owner.metadata?.name;
  const uid = owner.metadata?.uid;
  if (name === undefined || uid === undefined) {
    throw new RuntimeError('InvalidOptions', `an owner needs a name and uid (a stored object), got ${JSON.stringify({ name, uid })}`);
  }
  return { apiVersion: apiVersionOf(ownerResource), kind: ownerResource.kind, name, uid, controller: true, blockOwnerDeletion: true };
}

/** The child's controller reference, if it has one. */
export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/**
 * The keys of the owners of kind `ownerResource` that control `child`: the owner is in the
 * child's namespace, or cluster-scoped (owner references never cross namespaces).
 */
export function ownerKeysOf(child: KubeObject, ownerResource: ResourceType): string[] {
  return (child.metadata?.ownerReferences ?? [])
    .filter((r) => r.controller === true && isKindOf(ownerResource, r))
    .map((r) => joinKey(ownerResource.namespaced ? child.metadata?.namespace : undefined, r.name));
}
