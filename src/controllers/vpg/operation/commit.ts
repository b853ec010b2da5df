// Committing a failover or move: what was recovered becomes production, and (asked for) a VPG
// in the other direction protects it. Each part is idempotent: a restarted operator commits again
// from the top and changes nothing twice.
//
// 1. The recovered claims and workloads lose the recovery's labels (they are not undone by
//    anything any more); the restore Jobs and the restore NetworkPolicy go.
// 2. The protected claims are marked superseded (a failback replaces them); the protected
//    workloads stay stopped (their replica count is kept for the failback).
// 3. Reverse protection: a failback (this VPG is itself a reverse VPG) wakes the original VPG,
//    which resumes replicating from its volumes against the replica it kept (a delta sync);
//    otherwise a reverse VPG is created in the recovery namespace, its target on the node of the
//    old volumes and seeded from them (seed.ts).
import type { VPG, VPGStatus } from '../../../crds/vpg.ts';
import type { PersistentVolumeClaim } from '../../../kube/objects.ts';
import { DEPLOYMENTS, PERSISTENT_VOLUME_CLAIMS, ApiError, type CustomObject, type KubeObject } from '../../../runtime/index.ts';
import { JOBS, NETWORK_POLICIES, STATEFUL_SETS, VPGS } from '../../resources.ts';
import type { StreamVolume } from '../streams.ts';
import {
  ANNOTATION_RESUMED_BY, ANNOTATION_REVERSE_OF, ANNOTATION_SEED, ANNOTATION_SUPERSEDED, LABEL_RECOVERY_ROLE, LABEL_VPG_UID,
} from './labels.ts';
import { dropExports, vpgRef, type StepInput } from './recover.ts';
import type { OperationRecord } from './record.ts';

export interface CommitInput extends StepInput {
  record: OperationRecord;
  /** The protected volumes as the VRA reads them, and their node, when the protected site is known (the reverse VPG's seed). */
  volumes: { node: string; streamVolumes: readonly StreamVolume[] } | undefined;
}

export async function commitRecovery(i: CommitInput): Promise<NonNullable<VPGStatus['failedOver']>> {
  const ref = vpgRef(i.vpg);
  const ns = i.vpg.spec.recovery.namespace;
  const own = { [LABEL_VPG_UID]: ref.uid };
  // 1. Production now.
  for (const kind of [JOBS, NETWORK_POLICIES]) {
    for (const o of i.ctx.cache.list<KubeObject>(kind, { namespace: ns, labels: own })) {
      if (o.metadata?.deletionTimestamp === undefined) await i.ctx.client.delete(kind, o.metadata?.name ?? '', ns, { propagationPolicy: 'Background' });
    }
  }
  await dropExports(i, ns);
  for (const kind of [PERSISTENT_VOLUME_CLAIMS, DEPLOYMENTS, STATEFUL_SETS]) {
    for (const o of i.ctx.cache.list<KubeObject>(kind, { namespace: ns, labels: own })) {
      await i.ctx.client.mergePatch(kind, o.metadata?.name ?? '', ns, { metadata: { labels: { [LABEL_VPG_UID]: null, [LABEL_RECOVERY_ROLE]: null } } });
    }
  }
  for (const kind of [DEPLOYMENTS, STATEFUL_SETS]) {
    for (const o of i.ctx.cache.list<KubeObject>(kind, { namespace: ns })) {
      if (o.metadata?.annotations?.[ANNOTATION_RESUMED_BY] === ref.uid) await i.ctx.client.mergePatch(kind, o.metadata.name ?? '', ns, { metadata: { annotations: { [ANNOTATION_RESUMED_BY]: null } } });
    }
  }

  // 3 before 2: the superseded mark names the VPG that protects the data now.
  // A failback (this is a reverse VPG) always wakes the original: protecting home is its normal state.
  // A commit retried after spec.operation was removed finds its reverse VPG made the first time.
  const self = `${i.vpg.metadata.namespace ?? ''}/${i.vpg.metadata.name ?? ''}`;
  const made = i.ctx.cache.get<CustomObject>(VPGS, i.vpg.metadata.name ?? '', ns)?.metadata?.annotations?.[ANNOTATION_REVERSE_OF] === self;
  const wanted = i.vpg.spec.operation?.reverseProtection === true || made || i.vpg.metadata.annotations?.[ANNOTATION_REVERSE_OF] !== undefined;
  const reverse = wanted ? await reverseProtect(i) : undefined;

  // 2. The old volumes: kept, marked.
  const home = i.vpg.metadata.namespace ?? '';
  for (const v of i.vpg.status?.volumes ?? []) {
    const claim = i.ctx.cache.get<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, v.claimName, home);
    if (claim === undefined || claim.metadata?.annotations?.[ANNOTATION_SUPERSEDED] !== undefined) continue;
    await i.ctx.client.mergePatch(PERSISTENT_VOLUME_CLAIMS, v.claimName, home, { metadata: { annotations: { [ANNOTATION_SUPERSEDED]: `${ns}/${reverse ?? i.vpg.metadata.name ?? ''}` } } });
  }
  i.ctx.event(i.obj, {
    type: 'Normal', reason: 'Committed', action: i.record.type,
    note: `the workloads run in ${ns} now${reverse === undefined ? ' (not protected: reverseProtection was not asked for)' : `, protected back to ${i.vpg.spec.protectedSite} by VPG ${ns}/${reverse}`}`,
  });
  return {
    time: i.now.toISOString(), namespace: ns,
    ...(i.record.checkpoint !== undefined && { checkpoint: i.record.checkpoint }),
    ...(reverse !== undefined && { reverseVpg: reverse }),
  };
}

/** The VPG that protects the recovered volumes back: its name (in the recovery namespace). */
async function reverseProtect(i: CommitInput): Promise<string | undefined> {
  const ns = i.vpg.spec.recovery.namespace;
  const self = `${i.vpg.metadata.namespace ?? ''}/${i.vpg.metadata.name ?? ''}`;
  const original = i.vpg.metadata.annotations?.[ANNOTATION_REVERSE_OF];
  if (original !== undefined) {
    // A failback: the original VPG protects its volumes again, from where it stopped.
    const [origNs = '', origName = ''] = original.split('/');
    const found = i.ctx.cache.get<CustomObject>(VPGS, origName, origNs);
    if (found !== undefined) {
      if ((found.status as { failedOver?: unknown } | undefined)?.failedOver !== undefined) {
        await i.ctx.client.mergePatch(VPGS, origName, origNs, { status: { failedOver: null } }, { subresource: 'status' });
      }
      return origName;
    }
  }
  const name = i.vpg.metadata.name ?? '';
  const existing = i.ctx.cache.get<CustomObject>(VPGS, name, ns);
  if (existing !== undefined) {
    if (existing.metadata?.annotations?.[ANNOTATION_REVERSE_OF] !== self) {
      i.ctx.event(i.obj, { type: 'Warning', reason: 'ReverseProtectionSkipped', action: i.record.type, note: `VPG ${ns}/${name} exists and is not this VPG's reverse: the recovered volumes are not protected back` });
      return undefined;
    }
    if ((existing.status as { failedOver?: unknown } | undefined)?.failedOver !== undefined) {
      await i.ctx.client.mergePatch(VPGS, name, ns, { status: { failedOver: null } }, { subresource: 'status' });
    }
    return name;
  }
  try {
    await i.ctx.client.create(VPGS, reverseVpg(i.vpg, i.volumes, self));
  } catch (err: unknown) {
    if (!(err instanceof ApiError && err.statusCode === 409)) {
      i.ctx.event(i.obj, { type: 'Warning', reason: 'ReverseProtectionFailed', action: i.record.type, note: `VPG ${ns}/${name} could not be created: ${err instanceof Error ? err.message : String(err)}` });
      return undefined;
    }
  }
  return name;
}

/** The VPG in the other direction: same volumes and workloads, sites swapped, recovering home. */
export function reverseVpg(vpg: VPG, volumes: CommitInput['volumes'], self: string): CustomObject {
  const s = vpg.spec;
  const claims = (vpg.status?.volumes ?? []).map((v) => v.claimName);
  const seed = volumes === undefined ? undefined : {
    node: volumes.node,
    volumes: Object.fromEntries(volumes.streamVolumes.filter((v) => claims.includes(v.name)).map((v) => [v.name, v.path])),
  };
  return {
    apiVersion: 'zcsp.io/v1alpha1',
    kind: 'VPG',
    metadata: {
      name: vpg.metadata.name ?? '',
      namespace: s.recovery.namespace,
      labels: { ...vpg.metadata.labels },
      annotations: { [ANNOTATION_REVERSE_OF]: self, ...(seed !== undefined && { [ANNOTATION_SEED]: JSON.stringify(seed) }) },
    },
    spec: {
      ...(s.serviceProfile !== undefined && { serviceProfile: s.serviceProfile }),
      ...(s.sla !== undefined && { sla: s.sla }),
      protectedSite: s.recoverySite,
      recoverySite: s.protectedSite,
      volumes: { claimNames: claims },
      ...(s.bootOrder !== undefined && { bootOrder: s.bootOrder }),
      recovery: {
        namespace: vpg.metadata.namespace ?? '',
        testNamespace: s.recovery.testNamespace,
        ...(s.recovery.storageClassName !== undefined && { storageClassName: s.recovery.storageClassName }),
      },
      ...(s.priority !== undefined && { priority: s.priority }),
      ...(s.hooks !== undefined && { hooks: s.hooks }),
      deletionPolicy: s.deletionPolicy,
    },
  };
}
