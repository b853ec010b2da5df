// How the objects an operation creates in a recovery namespace are found again. No owner
// references: the VPG lives in another namespace, and Kubernetes allows owners in the same
// namespace only. So every object carries the VPG's namespace and name (a watch maps it back to
// the VPG) and its uid (a VPG deleted and recreated under the same name does not adopt them).
// The name goes in an annotation: a VPG's name may be longer than a label value.
import type { KubeObject } from '../../../runtime/index.ts';

/** "namespace/name" of the VPG. */
export const ANNOTATION_VPG = 'zcsp.io/vpg';
export const LABEL_VPG_UID = 'zcsp.io/vpg-uid';
/** What the object is for: a restored volume (restore), or a recovered workload (workload). */
export const LABEL_RECOVERY_ROLE = 'zcsp.io/recovery-role';
/** The boot-order group a recovered workload belongs to. */
export const LABEL_BOOT_GROUP = 'zcsp.io/boot-group';
/** On a recovered workload: where it was copied from (namespace/name). */
export const ANNOTATION_RECOVERED_FROM = 'zcsp.io/recovered-from';
/** On a recovered workload: the checkpoint its volumes hold. */
export const ANNOTATION_CHECKPOINT = 'zcsp.io/checkpoint';
/** On a recovered workload: when its group was first seen ready (RFC 3339); the next group's delay counts from it. */
export const ANNOTATION_READY_AT = 'zcsp.io/ready-at';
/** On a protected workload a failover or move stopped: its replicas before (rollback and failback start it again). */
export const ANNOTATION_STOPPED_REPLICAS = 'zcsp.io/replicas-before-failover';
/** On a protected claim whose data a committed failover or move superseded: the VPG now protecting in the other direction. A failback replaces it. */
export const ANNOTATION_SUPERSEDED = 'zcsp.io/superseded-by';
/** On a workload a recovery started again in place (a failback): the uid of that recovery's VPG (a rollback stops it again). */
export const ANNOTATION_RESUMED_BY = 'zcsp.io/resumed-by';
/** On a reverse VPG: the VPG it reverses ("namespace/name"). */
export const ANNOTATION_REVERSE_OF = 'zcsp.io/reverse-of';
/** On a reverse VPG: where its target starts from (JSON {node, volumes: {claim: host path}}): the old source volumes, for a delta sync. */
export const ANNOTATION_SEED = 'zcsp.io/seed';
/** On a restore Secret: the export it opens on the recovery VRA. */
export const ANNOTATION_EXPORT = 'zcsp.io/export';

export const ROLE_RESTORE = 'restore';
export const ROLE_WORKLOAD = 'workload';

export interface VpgRef {
  namespace: string;
  name: string;
  uid: string;
}

/** The labels that tie an object to the operation of one VPG. */
export function recoveryLabels(vpg: VpgRef, role: string): Record<string, string> {
  return { [LABEL_VPG_UID]: vpg.uid, [LABEL_RECOVERY_ROLE]: role };
}

/** The annotation that names the VPG. */
export function recoveryAnnotations(vpg: VpgRef): Record<string, string> {
  return { [ANNOTATION_VPG]: `${vpg.namespace}/${vpg.name}` };
}

/** The selector of everything an operation of this VPG made (any role). */
export function ownedBy(vpg: VpgRef): Record<string, string> {
  return { [LABEL_VPG_UID]: vpg.uid };
}

/** The VPG key ("namespace/name") an object of an operation belongs to, for the watch maps. */
export function vpgKeyOf(obj: KubeObject): string[] {
  if (obj.metadata?.labels?.[LABEL_VPG_UID] === undefined) return [];
  const key = obj.metadata.annotations?.[ANNOTATION_VPG];
  return key === undefined || !key.includes('/') ? [] : [key];
}
