// What the runtime needs to know to reach a kind over REST: group, version, plural, scope. Spelled
// out rather than discovered: every kind a controller touches is known when it is written, and a
// discovery round trip at start (or a stale discovery cache) is one more thing to fail.
import type { ConfigMap, CustomObject, Event, KubeObject, Lease, Secret } from './types.ts';

export interface ResourceType<T extends KubeObject = KubeObject> {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** The REST resource name: configmaps, vpgs. */
  readonly plural: string;
  readonly namespaced: boolean;
  /** The kind has the status subresource (status writes go to …/status). */
  readonly statusSubresource?: boolean;
  /** Type only: the shape of the kind's objects. */
  readonly _object?: T;
}

export function defineResource<T extends KubeObject = KubeObject>(r: Omit<ResourceType<T>, '_object'>): ResourceType<T> {
  return Object.freeze({ ...r });
}

export function apiVersionOf(r: ResourceType): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

/** "configmaps" or "vpgs.zcsp.io": how kubectl and the metrics name a resource. */
export function resourceName(r: ResourceType): string {
  return r.group === '' ? r.plural : `${r.plural}.${r.group}`;
}

/** The REST path of the collection (namespace given) or of one object (name given). */
export function resourcePath(
  r: ResourceType,
  options: { namespace?: string | undefined; name?: string | undefined; subresource?: string | undefined } = {},
): string {
  const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const ns = r.namespaced && options.namespace !== undefined && options.namespace !== '' ? `/namespaces/${encodeURIComponent(options.namespace)}` : '';
  let path = `${base}${ns}/${r.plural}`;
  if (options.name !== undefined) path += `/${encodeURIComponent(options.name)}`;
  if (options.subresource !== undefined) path += `/${options.subresource}`;
  return path;
}

/** Whether an object is of this resource's kind (its apiVersion group and kind match). */
export function isKindOf(r: ResourceType, ref: { apiVersion?: string | undefined; kind?: string | undefined }): boolean {
  if (ref.kind !== r.kind || ref.apiVersion === undefined) return false;
  const slash = ref.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : ref.apiVersion.slice(0, slash);
  return group === r.group;
}

/** A zcsp.io kind from src/crds (vpgKind, siteKind, …): namespaced or not, always with status. */
export function resourceForKind(kind: { kind: string; plural: string; scope: 'Cluster' | 'Namespaced' }, group = 'zcsp.io', version = 'v1alpha1'): ResourceType<CustomObject> {
  return defineResource<CustomObject>({ group, version, kind: kind.kind, plural: kind.plural, namespaced: kind.scope === 'Namespaced', statusSubresource: true });
}

export const CONFIG_MAPS = defineResource<ConfigMap>({ group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true });
export const SECRETS = defineResource<Secret>({ group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true });
export const NAMESPACES = defineResource({ group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false, statusSubresource: true });
export const NODES = defineResource({ group: '', version: 'v1', kind: 'Node', plural: 'nodes', namespaced: false, statusSubresource: true });
export const PODS = defineResource({ group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true, statusSubresource: true });
export const SERVICES = defineResource({ group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true, statusSubresource: true });
export const SERVICE_ACCOUNTS = defineResource({ group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true });
export const PERSISTENT_VOLUME_CLAIMS = defineResource({ group: '', version: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', namespaced: true, statusSubresource: true });
export const DEPLOYMENTS = defineResource({ group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true, statusSubresource: true });
export const DAEMON_SETS = defineResource({ group: 'apps', version: 'v1', kind: 'DaemonSet', plural: 'daemonsets', namespaced: true, statusSubresource: true });
export const LEASES = defineResource<Lease>({ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', namespaced: true });
export const EVENTS = defineResource<Event>({ group: 'events.k8s.io', version: 'v1', kind: 'Event', plural: 'events', namespaced: true });
