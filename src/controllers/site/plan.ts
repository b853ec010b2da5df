// What to do with the VRA pod and volume of a node, given what is there: pure decisions, so the
// controller is a loop over nodes that carries them out, and the rules are tested without a cluster.
import type { PersistentVolumeClaim, Pod } from '../../kube/objects.ts';
import { compareQuantities } from '../../crds/quantity.ts';
import { controllerOf, isDeleting, isSubset } from '../../runtime/index.ts';
import { ANNOTATION_ORPHANED_SINCE, ANNOTATION_SPEC_HASH, LABEL_ORPHANED } from '../labels.ts';

export type PodAction =
  | { kind: 'create' }
  | { kind: 'keep' }
  | { kind: 'wait'; why: string }
  | { kind: 'delete'; reason: 'NotOwned' | 'SpecChanged' | 'Finished'; why: string };

/** The pod of a node that should have a VRA: create, keep, wait for it to go, or replace it. */
export function podAction(live: Pod | undefined, desired: Pod, siteUid: string): PodAction {
  if (live === undefined) return { kind: 'create' };
  if (isDeleting(live)) return { kind: 'wait', why: 'the previous VRA pod is terminating' };
  if (controllerOf(live)?.uid !== siteUid) return { kind: 'delete', reason: 'NotOwned', why: 'the pod belongs to an earlier Site of this name' };
  const want = desired.metadata?.annotations?.[ANNOTATION_SPEC_HASH];
  const have = live.metadata?.annotations?.[ANNOTATION_SPEC_HASH];
  if (want !== have) return { kind: 'delete', reason: 'SpecChanged', why: `the desired VRA changed (spec hash ${have ?? 'none'} → ${want ?? 'none'})` };
  const phase = live.status?.phase;
  if (phase === 'Failed' || phase === 'Succeeded') {
    const why = [live.status?.reason, live.status?.message].filter((s) => s !== undefined && s !== '').join(': ');
    return { kind: 'delete', reason: 'Finished', why: `the VRA pod ${phase === 'Failed' ? 'failed' : 'exited'}${why === '' ? '' : ` (${why})`}` };
  }
  return { kind: 'keep' };
}

export interface ClaimPlan {
  /** Nothing there: create it. */
  create?: true;
  /** Not usable now (being deleted): the VRA waits. */
  wait?: string;
  /** A merge patch of its metadata (labels put back, orphan mark added or removed). */
  metadataPatch?: { metadata: { labels?: Record<string, string | null>; annotations?: Record<string, string | null> } };
  /** A larger size to ask for (volumes grow, never shrink). */
  grow?: string;
  /** Why the volume is not what the Site asks for, when the operator will not fix it. */
  problem?: string;
}

/** The volume of a node that should have a VRA. */
export function claimPlan(live: PersistentVolumeClaim | undefined, desired: PersistentVolumeClaim): ClaimPlan {
  if (live === undefined) return { create: true };
  if (isDeleting(live)) return { wait: 'its volume is being deleted; a new one follows' };
  const plan: ClaimPlan = {};
  const labels: Record<string, string | null> = {};
  const annotations: Record<string, string | null> = {};
  const wantLabels = desired.metadata?.labels ?? {};
  if (!isSubset(wantLabels, live.metadata?.labels ?? {})) Object.assign(labels, wantLabels);
  if (live.metadata?.labels?.[LABEL_ORPHANED] !== undefined) labels[LABEL_ORPHANED] = null;
  if (live.metadata?.annotations?.[ANNOTATION_ORPHANED_SINCE] !== undefined) annotations[ANNOTATION_ORPHANED_SINCE] = null;
  if (Object.keys(labels).length > 0 || Object.keys(annotations).length > 0) {
    plan.metadataPatch = { metadata: { ...(Object.keys(labels).length > 0 && { labels }), ...(Object.keys(annotations).length > 0 && { annotations }) } };
  }
  const wantClass = desired.spec?.storageClassName;
  const haveClass = live.spec?.storageClassName;
  if (wantClass !== undefined && haveClass !== wantClass) {
    plan.problem = `volume ${live.metadata?.name ?? ''} has StorageClass ${haveClass ?? '(none)'}, the Site asks for ${wantClass}: a class cannot change; delete the volume (and its journal) to move it`;
  }
  const wantSize = desired.spec?.resources?.requests?.['storage'];
  const haveSize = live.spec?.resources?.requests?.['storage'];
  if (wantSize !== undefined && haveSize !== undefined && compareQuantities(wantSize, haveSize) > 0) plan.grow = wantSize;
  return plan;
}

/** The merge patch that marks the volume of a node that left the site; undefined when it is marked. */
export function orphanPatch(live: PersistentVolumeClaim, now: string): ClaimPlan['metadataPatch'] {
  if (live.metadata?.labels?.[LABEL_ORPHANED] === 'true') return undefined;
  return { metadata: { labels: { [LABEL_ORPHANED]: 'true' }, annotations: { [ANNOTATION_ORPHANED_SINCE]: now } } };
}
