// The protected workloads, recovered: copies of the VPG's Deployments and StatefulSets (named in
// spec.bootOrder) in the recovery namespace, started group by group. A copy keeps the original's
// name and pod template, so it finds its recovered claims (same names as the protected ones) and
// its configuration unchanged; what ties it to the protected site goes:
//   - node placement (nodeSelector, nodeName, node affinity): the copy runs on the recovery Site's
//     nodes (the recovered volumes' node affinity then picks the node);
//   - status, resourceVersion, uid, owner references, and the annotations of the old object's
//     history (last-applied configuration, revision).
// Its pods carry the recovery labels, so the test's NetworkPolicy selects them.
import type { VPGSpec } from '../../../crds/vpg.ts';
import type { Deployment, StatefulSet } from '../../../kube/objects.ts';
import { matchesSelector } from '../volumes.ts';
import {
  ANNOTATION_CHECKPOINT, ANNOTATION_READY_AT, ANNOTATION_RECOVERED_FROM, ANNOTATION_RESUMED_BY, ANNOTATION_STOPPED_REPLICAS, LABEL_BOOT_GROUP,
  recoveryAnnotations, recoveryLabels, ROLE_WORKLOAD, type VpgRef,
} from './labels.ts';

export type WorkloadKind = 'Deployment' | 'StatefulSet';
export type Workload = (Deployment | StatefulSet) & { kind?: string };

export interface BootGroup {
  name: string;
  delaySeconds: number;
  workloads: { kind: WorkloadKind; object: Workload }[];
  /** Named workloads that do not exist (the operation says so, and starts the rest). */
  missing: string[];
}

/** The boot groups of spec.bootOrder with the workloads they select in the VPG's namespace. */
export function bootGroups(bootOrder: VPGSpec['bootOrder'], available: { Deployment: readonly Deployment[]; StatefulSet: readonly StatefulSet[] }): BootGroup[] {
  const taken = new Set<string>();
  return (bootOrder ?? []).map((g) => {
    const workloads: BootGroup['workloads'] = [];
    const missing: string[] = [];
    for (const w of g.workloads) {
      const candidates: readonly Workload[] = available[w.kind];
      const matched = w.name !== undefined
        ? candidates.filter((o) => o.metadata?.name === w.name)
        : candidates.filter((o) => w.selector !== undefined && matchesSelector(o.metadata?.labels ?? {}, w.selector));
      if (w.name !== undefined && matched.length === 0) missing.push(`${w.kind} ${w.name}`);
      // A workload named by two groups starts with the first.
      for (const object of [...matched].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))) {
        const key = `${w.kind}/${object.metadata?.name ?? ''}`;
        if (taken.has(key)) continue;
        taken.add(key);
        workloads.push({ kind: w.kind, object });
      }
    }
    return { name: g.name, delaySeconds: g.delaySeconds, workloads, missing };
  });
}

/** The old object's history, and the marks of recoveries on it (a stopped original's replica count among them). */
const DROPPED_ANNOTATIONS = [
  'kubectl.kubernetes.io/last-applied-configuration', 'deployment.kubernetes.io/revision',
  ANNOTATION_STOPPED_REPLICAS, ANNOTATION_RESUMED_BY, ANNOTATION_READY_AT,
];

/** The copy of a protected workload for the recovery namespace. */
export function recoveredWorkload(o: {
  vpg: VpgRef; namespace: string; group: string; kind: WorkloadKind; source: Workload; nodeSelector: Record<string, string>; checkpointId: string;
}): Workload {
  const spec = structuredClone(o.source.spec ?? {}) as NonNullable<Deployment['spec']> & NonNullable<StatefulSet['spec']>;
  // A failover stops the original before it is copied: the copy runs as many as it ran.
  const before = Number(o.source.metadata?.annotations?.[ANNOTATION_STOPPED_REPLICAS]);
  if (Number.isSafeInteger(before) && before >= 0) spec.replicas = before;
  const labels = { ...recoveryLabels(o.vpg, ROLE_WORKLOAD), [LABEL_BOOT_GROUP]: o.group };
  const template = spec.template;
  template.metadata = {
    ...(template.metadata as Record<string, unknown> | undefined),
    labels: { ...template.metadata?.labels, ...labels },
    annotations: { ...template.metadata?.annotations, ...recoveryAnnotations(o.vpg) },
  };
  const pod = template.spec;
  if (pod !== undefined) {
    pod.nodeSelector = o.nodeSelector;
    delete pod.nodeName;
    if (pod.affinity?.nodeAffinity !== undefined) delete pod.affinity.nodeAffinity;
  }
  const annotations = Object.fromEntries(Object.entries(o.source.metadata?.annotations ?? {}).filter(([k]) => !DROPPED_ANNOTATIONS.includes(k)));
  return {
    apiVersion: 'apps/v1',
    kind: o.kind,
    metadata: {
      name: o.source.metadata?.name ?? '',
      namespace: o.namespace,
      labels: { ...o.source.metadata?.labels, ...labels },
      annotations: {
        ...annotations,
        ...recoveryAnnotations(o.vpg),
        [ANNOTATION_RECOVERED_FROM]: `${o.source.metadata?.namespace ?? ''}/${o.source.metadata?.name ?? ''}`,
        [ANNOTATION_CHECKPOINT]: o.checkpointId,
      },
    },
    spec,
  };
}

/** Whether a recovered workload has all its replicas ready (in the generation asked for). */
export function isWorkloadReady(w: Workload | undefined): boolean {
  if (w === undefined) return false;
  const want = w.spec?.replicas ?? 1;
  const seen = (w.status?.observedGeneration ?? 0) >= (w.metadata?.generation ?? 1);
  return seen && (w.status?.readyReplicas ?? 0) >= want;
}
