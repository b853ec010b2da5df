// Which volumes a VPG protects and where they live: claim → bound PersistentVolume → the node that
// holds it and the path the node keeps it at, as the source VRA will read it (the node's paths
// appear under /host in the VRA, for the folders its Site lets it read).
//
// Where a volume lives on its node:
// - hostPath and local PVs: the path in the PV, on the node its node affinity names.
// - CSI filesystem volumes: the kubelet's mount for a pod that uses the claim,
//   /var/lib/kubelet/pods/<pod uid>/volumes/kubernetes.io~csi/<pv>/mount, on that pod's node.
//   Without a running pod the volume is not mounted anywhere the VRA could read it.
// Anything else (block CSI volumes, in-tree cloud disks) is refused with the reason.
import type { VPG } from '../../crds/vpg.ts';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from '../../kube/objects.ts';
import { quantityBytes } from '../zorg/size.ts';
import type { Blocker } from './sla.ts';

export interface ResolvedVolume {
  claimName: string;
  pvName: string;
  node: string;
  /** The volume's path on its node. */
  nodePath: string;
  kind: 'fs' | 'block';
  sizeBytes: bigint;
}

export interface VolumeLookup {
  /** The claims of the VPG's namespace. */
  claims: readonly PersistentVolumeClaim[];
  pv(name: string): PersistentVolume | undefined;
  /** Running pods of the VPG's namespace (only needed for CSI volumes). */
  pods: readonly Pod[];
}

export type VolumesResult = { volumes: ResolvedVolume[] } | { blocker: Blocker };

const KUBELET_PODS = '/var/lib/kubelet/pods';

/** The claims the VPG names or selects, sorted by name. */
export function selectClaims(spec: VPG['spec']['volumes'], claims: readonly PersistentVolumeClaim[]): { found: PersistentVolumeClaim[]; missing: string[] } {
  if (spec.claimNames !== undefined) {
    const byName = new Map(claims.map((c) => [c.metadata?.name ?? '', c]));
    const found: PersistentVolumeClaim[] = [];
    const missing: string[] = [];
    for (const name of [...spec.claimNames].sort()) {
      const claim = byName.get(name);
      if (claim === undefined || claim.metadata?.deletionTimestamp !== undefined) missing.push(name);
      else found.push(claim);
    }
    return { found, missing };
  }
  const selector = spec.selector ?? {};
  const found = claims.filter((c) => c.metadata?.deletionTimestamp === undefined && matchesSelector(c.metadata?.labels ?? {}, selector))
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  return { found, missing: [] };
}

/** Every volume of the VPG, or the first reason one cannot be protected. */
export function resolveVolumes(spec: VPG['spec']['volumes'], lookup: VolumeLookup): VolumesResult {
  const { found, missing } = selectClaims(spec, lookup.claims);
  if (missing.length > 0) {
    return { blocker: { reason: 'ClaimNotFound', message: `spec.volumes.claimNames: PersistentVolumeClaim${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found in the VPG's namespace` } };
  }
  if (found.length === 0) {
    return { blocker: { reason: 'NoVolumes', message: 'spec.volumes.selector: no PersistentVolumeClaim in the VPG\'s namespace matches it' } };
  }
  const volumes: ResolvedVolume[] = [];
  for (const claim of found) {
    const r = resolveVolume(claim, lookup);
    if ('blocker' in r) return r;
    volumes.push(r.volume);
  }
  return { volumes };
}

function resolveVolume(claim: PersistentVolumeClaim, lookup: VolumeLookup): { volume: ResolvedVolume } | { blocker: Blocker } {
  const claimName = claim.metadata?.name ?? '';
  const pvName = claim.spec?.volumeName;
  if (claim.status?.phase !== 'Bound' || pvName === undefined || pvName === '') {
    return { blocker: { reason: 'ClaimNotBound', message: `PersistentVolumeClaim ${claimName} is ${claim.status?.phase ?? 'Pending'}, not Bound: a volume is protected once it exists (with WaitForFirstConsumer, once a pod uses the claim)` } };
  }
  const pv = lookup.pv(pvName);
  if (pv === undefined) return { blocker: { reason: 'VolumeNotFound', message: `PersistentVolumeClaim ${claimName} is bound to PersistentVolume ${pvName}, which does not exist` } };
  const kind = (pv.spec?.volumeMode ?? claim.spec?.volumeMode) === 'Block' ? 'block' : 'fs';
  const sizeBytes = sizeOf(claim, pv);
  const base = { claimName, pvName, kind, sizeBytes } as const;
  const local = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
  if (local !== undefined) {
    const node = affinityNode(pv) ?? claim.metadata?.annotations?.['volume.kubernetes.io/selected-node'];
    if (node === undefined) {
      return { blocker: { reason: 'VolumeNodeUnknown', message: `PersistentVolume ${pvName} (of claim ${claimName}) names no node (node affinity on kubernetes.io/hostname): its VRA cannot be chosen` } };
    }
    return { volume: { ...base, node, nodePath: local.replace(/\/+$/, '') } };
  }
  if (pv.spec?.csi !== undefined) {
    if (kind === 'block') {
      return { blocker: { reason: 'UnsupportedVolume', message: `PersistentVolume ${pvName} (of claim ${claimName}) is a raw block CSI volume: only filesystem CSI volumes, hostPath and local volumes can be protected yet` } };
    }
    const pod = lookup.pods.find((p) => p.status?.phase === 'Running' && p.spec?.nodeName !== undefined
      && (p.spec.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === claimName));
    if (pod === undefined) {
      return { blocker: { reason: 'VolumeNotMounted', message: `PersistentVolumeClaim ${claimName} is a CSI volume no running pod uses: it is protected once a pod mounts it (the VRA reads it through the kubelet's mount)` } };
    }
    return { volume: { ...base, node: pod.spec?.nodeName ?? '', nodePath: `${KUBELET_PODS}/${pod.metadata?.uid ?? ''}/volumes/kubernetes.io~csi/${pvName}/mount` } };
  }
  return { blocker: { reason: 'UnsupportedVolume', message: `PersistentVolume ${pvName} (of claim ${claimName}) is neither hostPath, local nor CSI: it cannot be read through its node` } };
}

/** The node of a PV's required node affinity on the host name (how local and hostPath PVs are pinned). */
function affinityNode(pv: PersistentVolume): string | undefined {
  for (const term of pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? []) {
    for (const e of term.matchExpressions ?? []) {
      if (e.key === 'kubernetes.io/hostname' && e.operator === 'In' && e.values?.length === 1) return e.values[0];
    }
    for (const f of term.matchFields ?? []) {
      if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}

function sizeOf(claim: PersistentVolumeClaim, pv: PersistentVolume): bigint {
  const q = claim.status?.capacity?.['storage'] ?? pv.spec?.capacity?.['storage'] ?? claim.spec?.resources?.requests?.['storage'];
  try {
    return q === undefined ? 0n : quantityBytes(q);
  } catch {
    return 0n;
  }
}

/** A label selector's semantics (matchLabels and matchExpressions, all must hold). */
export function matchesSelector(labels: Readonly<Record<string, string>>, selector: {
  matchLabels?: Readonly<Record<string, string>> | undefined;
  matchExpressions?: readonly { key: string; operator: string; values?: readonly string[] | undefined }[] | undefined;
}): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In': if (!has || !values.includes(value ?? '')) return false; break;
      case 'NotIn': if (has && values.includes(value ?? '')) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}
