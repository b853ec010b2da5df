// A Site's status from what the controller found: pure, so that the same world gives the same
// status and the controller writes only when something changed.
//
// status.nodeCount: Ready nodes matching the selector; status.vras: desired (one per matching
// node) and ready. The per-node state goes into the Ready condition's message (the schema has no
// per-node list), e.g. "1/2 VRAs ready; dr-2: Pending (volume not bound yet)".
import { isPodReady, type PersistentVolumeClaim, type Pod } from '../../kube/objects.ts';
import { isDeleting, setStatusCondition, type Condition } from '../../runtime/index.ts';
import type { SiteSizing } from './sizing.ts';
import { approxBytes } from '../vpg/status/format.ts';

export interface NodeReport {
  node: string;
  nodeReady: boolean;
  /** The node's VRA pod, if there is one. */
  pod: Pod | undefined;
  /** The pod is the one wanted (owned, current spec hash, not finished), not one to replace. */
  podCurrent: boolean;
  claim: PersistentVolumeClaim | undefined;
  /** Why the VRA waits or what is wrong, when the controller knows better than the pod. */
  note?: string | undefined;
}

export interface OrphanedVolume {
  claim: string;
  node: string;
}

/** The node's VRA is up (it may still run an earlier spec, until its turn to be replaced). */
export function isVraReady(r: NodeReport): boolean {
  return r.pod !== undefined && !isDeleting(r.pod) && isPodReady(r.pod);
}

/** One node's VRA in a few words, for the Ready message. */
export function describeVra(r: NodeReport): string {
  if (isVraReady(r)) return r.podCurrent ? 'Ready' : `Ready, to be replaced${r.note === undefined ? '' : ` (${r.note})`}`;
  const notes: string[] = [];
  if (!r.nodeReady) notes.push('node not Ready');
  if (r.note !== undefined) notes.push(r.note);
  const pod = r.pod;
  if (pod === undefined) notes.push('VRA pod not created yet');
  else if (isDeleting(pod) || !r.podCurrent) notes.push('VRA pod being replaced');
  else {
    const phase = pod.status?.phase ?? 'Pending';
    const unschedulable = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    const waiting = pod.status?.containerStatuses?.find((c) => c.state?.waiting !== undefined)?.state?.waiting?.reason;
    if (unschedulable !== undefined) notes.push(`not scheduled${unschedulable.message === undefined ? '' : `: ${unschedulable.message}`}`);
    else if (phase === 'Pending' && r.claim?.status?.phase !== 'Bound') notes.push('Pending (volume not bound yet)');
    else if (waiting !== undefined) notes.push(`${phase} (${waiting})`);
    else notes.push(phase === 'Running' ? 'Running, not Ready' : phase);
  }
  return notes.join(', ');
}

export interface SiteStatusInput {
  /** The status the Site has now (conditions keep their transition times). */
  previous: Record<string, unknown> | undefined;
  generation: number | undefined;
  selector: Readonly<Record<string, string>>;
  reports: readonly NodeReport[];
  orphaned: readonly OrphanedVolume[];
  /** The VPGs' capacity figures (sizing.ts); undefined while none has any. */
  sizing?: SiteSizing | undefined;
  now?: Date;
}

const selectorText = (s: Readonly<Record<string, string>>): string => Object.entries(s).map(([k, v]) => `${k}=${v}`).join(',');

export function siteStatus(input: SiteStatusInput): Record<string, unknown> {
  const { reports, generation } = input;
  const desired = reports.length;
  const ready = reports.filter(isVraReady).length;
  const g = generation === undefined ? {} : { observedGeneration: generation };
  let conditions = input.previous?.['conditions'] as Condition[] | undefined;
  const notReady = reports.filter((r) => !isVraReady(r)).map((r) => `${r.node}: ${describeVra(r)}`);
  const outdated = reports.filter((r) => isVraReady(r) && !r.podCurrent).length;
  const rollout = outdated === 0 ? [] : [`${outdated} to be replaced by the changed spec, one at a time`];
  conditions = setStatusCondition(conditions, desired === 0
    ? { type: 'Ready', status: 'False', reason: 'NoNodes', message: `no node has the labels ${selectorText(input.selector)}`, ...g }
    : ready === desired
      ? { type: 'Ready', status: 'True', reason: 'VRAsReady', message: [`${ready}/${desired} VRAs ready`, ...rollout].join('; '), ...g }
      : { type: 'Ready', status: 'False', reason: 'VRAsNotReady', message: [`${ready}/${desired} VRAs ready`, ...rollout, ...notReady].join('; '), ...g },
  input.now).conditions;
  conditions = setStatusCondition(conditions, input.orphaned.length === 0
    ? { type: 'OrphanedVolumes', status: 'False', reason: 'None', message: 'every VRA volume belongs to a node of the site', ...g }
    : {
        type: 'OrphanedVolumes', status: 'True', reason: 'NodesLeft', ...g,
        message: `kept the volumes of VRAs whose node left the site (their journals may hold data; delete them when they are not needed): ${input.orphaned.map((o) => `${o.claim} (node ${o.node})`).join(', ')}`,
      },
  input.now).conditions;
  const capacity = capacityVerdict(input.sizing);
  if (capacity !== undefined) conditions = setStatusCondition(conditions, { type: 'CapacitySufficient', ...capacity, ...g }, input.now).conditions;
  return {
    ...g,
    nodeCount: reports.filter((r) => r.nodeReady).length,
    vras: { desired, ready },
    ...(input.sizing !== undefined && { sizing: input.sizing }),
    conditions,
  };
}

/**
 * Whether the site's VRA volumes, all together, hold the replicas and projected journals of the
 * VPGs that recover here (and a failover test of each). A total: one VRA may still fill first,
 * as each VPG's journal lives on one of them.
 */
function capacityVerdict(sizing: SiteSizing | undefined): { status: 'True' | 'False'; reason: string; message: string } | undefined {
  if (sizing?.vraCapacityBytes === undefined || sizing.asRecoverySite.vpgs === 0) return undefined;
  const r = sizing.asRecoverySite;
  const have = sizing.vraCapacityBytes;
  const text = `${String(r.vpgs)} VPG${r.vpgs === 1 ? '' : 's'} recovering here need about ${approxBytes(r.recoverySiteSteadyBytes)} for replicas and journals (${approxBytes(r.recoverySiteDuringTestBytes)} during failover tests) of the VRA volumes' ${approxBytes(have)}`;
  if (r.recoverySiteSteadyBytes > have) return { status: 'False', reason: 'ProjectedOverCapacity', message: `${text}: grow spec.vra.storage.size or add nodes to the site` };
  if (r.recoverySiteDuringTestBytes > have) return { status: 'True', reason: 'TestsOverCapacity', message: `${text}: failover tests of all of them at once would not fit` };
  return { status: 'True', reason: 'WithinCapacity', message: text };
}
