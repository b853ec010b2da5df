// The downward API's fieldRef paths, for env vars and downwardAPI volume files.
import type { V1Pod } from '@kubernetes/client-node';

/** Values the pod object may not carry yet when a container starts: the kubelet knows them first. */
export interface RuntimeFields {
  podIPs: readonly string[];
  hostIPs: readonly string[];
}

export function resolveFieldRef(pod: V1Pod, fieldPath: string, runtime: RuntimeFields): string {
  const meta = pod.metadata ?? {};
  const subscript = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(fieldPath);
  if (subscript !== null) {
    const map = subscript[1] === 'labels' ? meta.labels : meta.annotations;
    return map?.[subscript[2] ?? ''] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
      return formatMap(meta.labels ?? {});
    case 'metadata.annotations':
      return formatMap(meta.annotations ?? {});
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
      return runtime.podIPs[0] ?? '';
    case 'status.podIPs':
      return runtime.podIPs.join(',');
    case 'status.hostIP':
      return runtime.hostIPs[0] ?? '';
    case 'status.hostIPs':
      return runtime.hostIPs.join(',');
    default:
      throw new Error(`unsupported fieldRef fieldPath "${fieldPath}"`);
  }
}

/**
 * `key="value"` lines in key order, the format of the labels/annotations files (the kubelet's
 * FormatMap uses Go's %q; JSON string quoting agrees with it for printable text).
 */
export function formatMap(map: Readonly<Record<string, string>>): string {
  return Object.keys(map)
    .sort()
    .map((key) => `${key}=${JSON.stringify(map[key])}`)
    .join('\n');
}
