// Finalizers, for state outside the API server (a journal on a VRA): add one before creating
// that state, remove it once the state is cleaned up. A merge patch replaces the whole
// finalizers list, so it carries the resourceVersion it was computed from: if anyone changed the
// object meanwhile (another finalizer added or removed) the API server refuses with 409 and the
// reconcile retries on the fresh object, instead of dropping someone else's finalizer.
import type { KubeClient } from './client.ts';
import { RuntimeError } from './errors.ts';
import type { ResourceType } from './resources.ts';
import { DEFAULT_FIELD_MANAGER } from './status.ts';
import type { KubeObject } from './types.ts';

export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) === true;
}

/** The object is being deleted (it waits for finalizers). */
export function isDeleting(obj: KubeObject): boolean {
  return obj.metadata?.deletionTimestamp !== undefined;
}

async function setFinalizers<T extends KubeObject>(client: KubeClient, resource: ResourceType<T>, obj: T, finalizers: string[], fieldManager: string): Promise<T> {
  const name = obj.metadata?.name;
  const resourceVersion = obj.metadata?.resourceVersion;
  if (name === undefined || resourceVersion === undefined) {
    throw new RuntimeError('InvalidOptions', 'finalizers can only be changed on a stored object (name and resourceVersion)');
  }
  return client.mergePatch(resource, name, obj.metadata?.namespace, { metadata: { resourceVersion, finalizers } }, { fieldManager });
}

/** Adds the finalizer if missing (no request otherwise). Refused on an object being deleted. */
export async function addFinalizer<T extends KubeObject>(
  client: KubeClient, resource: ResourceType<T>, obj: T, finalizer: string, options: { fieldManager?: string } = {},
): Promise<{ changed: boolean; object: T }> {
  if (hasFinalizer(obj, finalizer)) return { changed: false, object: obj };
  // The API server refuses new finalizers on an object being deleted anyway; say why here.
  if (isDeleting(obj)) throw new RuntimeError('InvalidOptions', `cannot add finalizer ${finalizer} to an object being deleted`);
  const object = await setFinalizers(client, resource, obj, [...(obj.metadata?.finalizers ?? []), finalizer], options.fieldManager ?? DEFAULT_FIELD_MANAGER);
  return { changed: true, object };
}

/** Removes the finalizer if present (no request otherwise). */
export async function removeFinalizer<T extends KubeObject>(
  client: KubeClient, resource: ResourceType<T>, obj: T, finalizer: string, options: { fieldManager?: string } = {},
): Promise<{ changed: boolean; object: T }> {
  if (!hasFinalizer(obj, finalizer)) return { changed: false, object: obj };
  const object = await setFinalizers(client, resource, obj, (obj.metadata?.finalizers ?? []).filter((f) => f !== finalizer), options.fieldManager ?? DEFAULT_FIELD_MANAGER);
  return { changed: true, object };
}
