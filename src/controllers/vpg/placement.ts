// Where a VPG replicates from and to.
// - Protected side: the VRA of the node that holds the volumes. A VPG's checkpoints are
//   crash-consistent across all its volumes because one VRA captures them all in one pass, so its
//   volumes must live on one node; volumes on several nodes are refused with the reason.
// - Recovery side: one VRA of the recovery site keeps the VPG's journal and replica. It is chosen
//   once, the Ready VRA with the fewest VPGs (ties: the smaller protected size, then the node
//   name), and kept (status.placement.recoveryNode): the journal is on that VRA's volume, so moving
//   would mean a new initial sync. A kept VRA that is down makes the VPG wait, not move.
import type { Blocker } from './sla.ts';
import type { ResolvedVolume } from './volumes.ts';

export interface RecoveryCandidate {
  node: string;
  /** The VRA pod exists (Ready or not). */
  exists: boolean;
  ready: boolean;
  /** VPGs already placed on it, and their protected bytes. */
  vpgs: number;
  bytes: bigint;
}

export function protectedNode(volumes: readonly ResolvedVolume[]): { node: string } | { blocker: Blocker } {
  const nodes = [...new Set(volumes.map((v) => v.node))].sort();
  if (nodes.length === 1 && nodes[0] !== undefined) return { node: nodes[0] };
  const where = volumes.map((v) => `${v.claimName} on ${v.node}`).join(', ');
  return {
    blocker: {
      reason: 'VolumesOnSeveralNodes',
      message: `spec.volumes: the volumes live on ${nodes.length} nodes (${where}); a VPG's checkpoints are consistent across its volumes only when one VRA captures them all: protect volumes of different nodes in separate VPGs`,
    },
  };
}

/**
 * `preferred`: a reverse VPG's seed node (its VRA can read the old volumes the replica starts
 * from); taken when its VRA is Ready, else the usual choice (and a full sync).
 */
export function recoveryNode(kept: string | undefined, candidates: readonly RecoveryCandidate[], site: string, preferred?: string): { node: string; chosen: boolean } | { blocker: Blocker } {
  if (kept !== undefined && candidates.some((c) => c.node === kept && c.exists)) return { node: kept, chosen: false };
  if (kept === undefined && preferred !== undefined && candidates.some((c) => c.node === preferred && c.ready)) return { node: preferred, chosen: true };
  if (kept !== undefined) {
    // The node left the site (or its VRA is gone for good): its journal is out of reach.
    return { blocker: { reason: 'RecoveryVraGone', message: `the recovery VRA on node ${kept}, which holds this VPG's journal, is no longer part of site ${site}; bring the node back, or recreate the VPG for a new initial sync` } };
  }
  const ready = candidates.filter((c) => c.ready);
  if (ready.length === 0) {
    return { blocker: { reason: 'NoRecoveryVra', message: `spec.recoverySite: site ${site} has no Ready VRA to keep the journal (${candidates.length} VRA${candidates.length === 1 ? '' : 's'}, none Ready)` } };
  }
  const best = [...ready].sort((a, b) => a.vpgs - b.vpgs || (a.bytes < b.bytes ? -1 : a.bytes > b.bytes ? 1 : 0) || a.node.localeCompare(b.node))[0];
  return best === undefined ? { blocker: { reason: 'NoRecoveryVra', message: `site ${site} has no Ready VRA` } } : { node: best.node, chosen: true };
}

/** The path under which the source VRA sees a node path, if its Site lets it read there. */
export function vraPath(nodePath: string, readHostPaths: readonly string[], hostRoot: string): string | undefined {
  const readable = readHostPaths.some((root) => nodePath === root || nodePath.startsWith(`${root}/`));
  return readable ? `${hostRoot}${nodePath}` : undefined;
}
