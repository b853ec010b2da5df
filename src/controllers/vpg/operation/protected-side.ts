// The protected side of a failover or move: stop the protected workloads (their replicas kept in
// an annotation, so a rollback or a failback starts them again as they were), then ship a final
// checkpoint that holds everything they wrote.
import type { Pod } from '../../../kube/objects.ts';
import { DEPLOYMENTS, PODS } from '../../../runtime/index.ts';
import { STATEFUL_SETS } from '../../resources.ts';
import { matchesSelector } from '../volumes.ts';
import type { VraEndpoint } from '../vra-client.ts';
import { ANNOTATION_READY_AT, ANNOTATION_STOPPED_REPLICAS } from './labels.ts';
import { kindOf, type StepInput } from './recover.ts';
import { bootGroups, type Workload } from './workloads.ts';

/** The checkpoint waits for the next capture pass and the journal's commit at the recovery site. */
const FINAL_CHECKPOINT_TIMEOUT_MS = 180_000;

function protectedWorkloads(i: StepInput): { kind: 'Deployment' | 'StatefulSet'; object: Workload }[] {
  const ns = i.vpg.metadata.namespace ?? '';
  return bootGroups(i.vpg.spec.bootOrder, {
    Deployment: i.ctx.cache.list<Workload>(DEPLOYMENTS, { namespace: ns }),
    StatefulSet: i.ctx.cache.list<Workload>(STATEFUL_SETS, { namespace: ns }),
  }).flatMap((g) => g.workloads);
}

/** Scales the protected workloads to 0; returns the number of their pods still there. */
export async function stopProtected(i: StepInput): Promise<{ pods: number; workloads: string[] }> {
  const ns = i.vpg.metadata.namespace ?? '';
  const workloads = protectedWorkloads(i);
  let pods = 0;
  for (const w of workloads) {
    const name = w.object.metadata?.name ?? '';
    const replicas = w.object.spec?.replicas ?? 1;
    if (replicas > 0 || w.object.metadata?.annotations?.[ANNOTATION_STOPPED_REPLICAS] === undefined) {
      // The annotation is written with the scale-down, in one patch: a restart never loses the count.
      const before = w.object.metadata?.annotations?.[ANNOTATION_STOPPED_REPLICAS] ?? String(replicas);
      await i.ctx.client.mergePatch(kindOf(w.kind), name, ns, { metadata: { annotations: { [ANNOTATION_STOPPED_REPLICAS]: before, [ANNOTATION_READY_AT]: null } }, spec: { replicas: 0 } });
    }
    const selector = w.object.spec?.selector;
    pods += i.ctx.cache.list<Pod>(PODS, { namespace: ns }).filter((p) => selector !== undefined && matchesSelector(p.metadata?.labels ?? {}, selector)).length;
  }
  return { pods, workloads: workloads.map((w) => `${w.kind} ${w.object.metadata?.name ?? ''}`) };
}

/** Starts the protected workloads a failover or move stopped (a rollback). */
export async function restartProtected(i: StepInput): Promise<void> {
  const ns = i.vpg.metadata.namespace ?? '';
  for (const w of protectedWorkloads(i)) {
    const before = w.object.metadata?.annotations?.[ANNOTATION_STOPPED_REPLICAS];
    if (before === undefined) continue;
    const replicas = Number(before);
    await i.ctx.client.mergePatch(kindOf(w.kind), w.object.metadata?.name ?? '', ns, {
      metadata: { annotations: { [ANNOTATION_STOPPED_REPLICAS]: null } }, spec: { replicas: Number.isSafeInteger(replicas) ? replicas : 1 },
    });
  }
}

/** A tagged checkpoint taken now on the protected VRA; resolves once the recovery site holds it. */
export async function finalCheckpoint(i: StepInput, source: VraEndpoint, streamId: string, tag: string): Promise<number> {
  if (i.client === undefined) throw new Error('no VRA credentials');
  const cp = await i.client.post<{ seq: number }>(source, `/v1/streams/${encodeURIComponent(streamId)}/checkpoints`, { tag }, FINAL_CHECKPOINT_TIMEOUT_MS);
  return cp.seq;
}
