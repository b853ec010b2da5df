// `ensure`: make a child exist as desired, by server-side apply (field manager, force, owner
// reference), and write nothing when it already is.
//
// Deciding "nothing changed" without a request, so that a restarted operator with a fresh cache
// makes zero writes, takes two checks, both against the live object in the informer cache:
//
// 1. A hash of the applied configuration, stored on the child in an annotation. A different hash
//    means the desired state changed; applying the new configuration then also removes fields we
//    set before and no longer want (server-side apply drops fields a manager stops applying).
// 2. Every field we apply is in the live object with the same value (a subset check: the API
//    server's defaults and other managers' fields are allowed). A mismatch means someone changed a
//    field we own (drift): re-applying with force restores it.
//
// Comparing against managedFields instead would need a faithful decoder of the fieldsV1 format
// (keyed list items, sets, atomic maps); a dry-run apply per reconcile would be a request per
// reconcile. The hash + subset pair is stateless (the state is on the child itself) and cheap.
// Caveat: values the API server normalises (a quantity "1000m" stored as "1") never match the
// subset check; `ensure` warns when the applied result does not contain what was applied, so such
// desired values get written in canonical form.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { KubeClient } from './client.ts';
import { canonicalJson, isSubset } from './equal.ts';
import { controllerReference } from './owners.ts';
import { apiVersionOf, resourceName, type ResourceType } from './resources.ts';
import { DEFAULT_FIELD_MANAGER } from './status.ts';
import type { KubeObject } from './types.ts';

export const APPLIED_HASH_ANNOTATION = 'zcsp.io/applied-hash';

export type EnsureResult<T> = { changed: false; reason: 'unchanged'; object: T } | { changed: true; reason: 'created' | 'updated' | 'drifted'; object: T };

export interface EnsureOptions<T extends KubeObject> {
  /** The owner that controls the child: an owner reference with controller=true is set. */
  owner?: { object: KubeObject; resource: ResourceType } | undefined;
  /**
   * The child as the cache has it: an object, or null when the cache knows there is none.
   * undefined reads it from the API server (one GET).
   */
  live?: T | null | undefined;
  fieldManager?: string | undefined;
  logger?: Logger | undefined;
}

/** The configuration `ensure` applies: desired + apiVersion/kind + owner reference + hash. */
export function appliedConfiguration<T extends KubeObject>(resource: ResourceType<T>, desired: T, owner?: EnsureOptions<T>['owner']): T {
  const metadata = { ...desired.metadata };
  if (owner !== undefined) {
    const ref = controllerReference(owner.object, owner.resource);
    metadata.ownerReferences = [...(metadata.ownerReferences ?? []).filter((r) => r.uid !== ref.uid), ref];
  }
  const { [APPLIED_HASH_ANNOTATION]: _ignored, ...annotations } = metadata.annotations ?? {};
  const unhashed = { ...desired, apiVersion: apiVersionOf(resource), kind: resource.kind, metadata: { ...metadata, annotations } };
  const hash = createHash('sha256').update(canonicalJson(unhashed)).digest('hex').slice(0, 16);
  return { ...unhashed, metadata: { ...metadata, annotations: { ...annotations, [APPLIED_HASH_ANNOTATION]: hash } } };
}

/** Whether the live object already is what `applied` asks for. */
export function isUpToDate(applied: KubeObject, live: KubeObject | undefined): 'unchanged' | 'created' | 'updated' | 'drifted' {
  if (live === undefined) return 'created';
  if (live.metadata?.annotations?.[APPLIED_HASH_ANNOTATION] !== applied.metadata?.annotations?.[APPLIED_HASH_ANNOTATION]) return 'updated';
  return isSubset(applied, live) ? 'unchanged' : 'drifted';
}

export async function ensure<T extends KubeObject>(client: KubeClient, resource: ResourceType<T>, desired: T, options: EnsureOptions<T> = {}): Promise<EnsureResult<T>> {
  const applied = appliedConfiguration(resource, desired, options.owner);
  const name = applied.metadata?.name;
  if (name === undefined || name === '') throw new TypeError(`ensure ${resourceName(resource)}: the desired object needs a name`);
  const live = options.live === undefined ? await client.tryGet(resource, name, applied.metadata?.namespace) : options.live ?? undefined;
  const verdict = isUpToDate(applied, live);
  if (verdict === 'unchanged' && live !== undefined) return { changed: false, reason: 'unchanged', object: live };
  const object = await client.apply(resource, applied, { fieldManager: options.fieldManager ?? DEFAULT_FIELD_MANAGER, force: true });
  if (!isSubset(applied, object)) {
    options.logger?.warn({ resource: resourceName(resource), name }, 'the API server changed applied values (normalised them?): this child will be re-applied on every reconcile; write its desired values in canonical form');
  }
  return { changed: true, reason: verdict === 'unchanged' ? 'updated' : verdict, object };
}
