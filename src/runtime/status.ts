// Status writes that happen only when the status changed: the difference between the status in
// the cache and the desired one, as a JSON merge patch (RFC 7386) to the status subresource. An
// empty difference (deep-equal, key order ignored) is no request at all, so a controller can
// recompute its whole status on every reconcile and write nothing at steady state.
//
// Why a computed merge patch rather than server-side apply: each kind's status has one writer
// (its controller), and the status must become exactly the desired one. A merge patch of the
// difference also removes fields someone else added (as null), so it converges; with apply, a
// field owned by another manager would never go away and the comparison would never settle.
// No resourceVersion precondition: the patch only touches fields that differ, and if the cache
// was stale the next watch event brings a reconcile that converges.
import type { KubeClient } from './client.ts';
import { mergePatchDiff } from './equal.ts';
import type { ResourceType } from './resources.ts';
import type { KubeObject } from './types.ts';

export const DEFAULT_FIELD_MANAGER = 'zcsp-manager';

type WithStatus = KubeObject & { status?: unknown };

/** The merge patch from the object's status to `desired`; undefined when they are equal. */
export function statusPatch(obj: WithStatus, desired: Record<string, unknown>): unknown {
  return mergePatchDiff(obj.status ?? {}, desired);
}

/**
 * Writes `desiredStatus` as the object's status if it differs from the status it has, through
 * the status subresource when the kind has one. Returns whether it wrote, and the object as the
 * API server returned it (or the given one).
 */
export async function patchStatusIfChanged<T extends WithStatus>(
  client: KubeClient,
  resource: ResourceType<T>,
  obj: T,
  desiredStatus: Record<string, unknown>,
  options: { fieldManager?: string } = {},
): Promise<{ changed: boolean; object: T }> {
  const patch = statusPatch(obj, desiredStatus);
  if (patch === undefined) return { changed: false, object: obj };
  const name = obj.metadata?.name ?? '';
  const object = await client.mergePatch(resource, name, obj.metadata?.namespace, { status: patch }, {
    fieldManager: options.fieldManager ?? DEFAULT_FIELD_MANAGER,
    ...(resource.statusSubresource === true && { subresource: 'status' }),
  });
  return { changed: true, object };
}
