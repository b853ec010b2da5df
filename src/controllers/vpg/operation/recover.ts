// The recovery steps every operation shares: bring the chosen checkpoint's volumes into a
// namespace (Restore) and start the workloads there group by group (Start <group>); and undo it
// (remove what a recovery made). A failover test recovers into the test namespace, isolated; a
// failover or move into the recovery namespace, for real.
//
// Each step looks at what exists (the cache, the restore Secrets) before it makes anything, so a
// restarted operator finds its work instead of doing it twice.
import type { VPG } from '../../../crds/vpg.ts';
import type { Job, PersistentVolumeClaim, Pod } from '../../../kube/objects.ts';
import {
  DEPLOYMENTS, PERSISTENT_VOLUME_CLAIMS, PODS, SECRETS, type CustomObject, type KubeObject, type ReconcileContext, type Secret,
} from '../../../runtime/index.ts';
import type { OperatorConfig } from '../../config.ts';
import { JOBS, NETWORK_POLICIES, STATEFUL_SETS } from '../../resources.ts';
import { VraApiError, type VraClient } from '../vra-client.ts';
import { restoreIsolationPolicy, testIsolationPolicy } from './isolation.ts';
import {
  ANNOTATION_EXPORT, ANNOTATION_READY_AT, ANNOTATION_RESUMED_BY, ANNOTATION_STOPPED_REPLICAS, ANNOTATION_SUPERSEDED, LABEL_VPG_UID, type VpgRef,
} from './labels.ts';
import { endStep, startStep, type OperationRecord, type Steps } from './record.ts';
import { protectedClaims, recoverySide, type RecoverySide } from './recovery-side.ts';
import { recoveredClaim, restoreJob, restoreName, restoreSecret, restoreState, type RestoreTarget } from './restore-objects.ts';
import { bootGroups, isWorkloadReady, recoveredWorkload, type Workload, type WorkloadKind } from './workloads.ts';

export type Ctx = ReconcileContext<CustomObject>;

/** An export is made for a restore pod that starts within minutes; unused, the VRA drops it after this. */
const EXPORT_TTL_SECONDS = 6 * 3600;
/** An export copies the checkpoint's volume before it answers. */
const EXPORT_TIMEOUT_MS = 30 * 60_000;
/** What a recovery makes, deleted in this order when it is undone. */
const RECOVERED_KINDS = [DEPLOYMENTS, STATEFUL_SETS, JOBS, PERSISTENT_VOLUME_CLAIMS, NETWORK_POLICIES] as const;

export interface StepInput {
  ctx: Ctx;
  config: OperatorConfig;
  obj: CustomObject;
  vpg: VPG;
  client: VraClient | undefined;
  now: Date;
}

export interface Where {
  namespace: string;
  /** A failover test: the workloads are fenced off from everything else (isolation.ts). */
  isolate: boolean;
  /** Event action: FailoverTest, Failover, Move. */
  action: string;
}

/** Where the recovery is: still going (with a message and progress), failed (why), or done. */
export type StepState =
  | { state: 'working'; record: OperationRecord; requeueAfterMs?: number }
  | { state: 'failed'; record: OperationRecord; error: string }
  | { state: 'done'; record: OperationRecord };

export function vpgRef(vpg: VPG): VpgRef {
  return { namespace: vpg.metadata.namespace ?? '', name: vpg.metadata.name ?? '', uid: vpg.metadata.uid ?? '' };
}

export const kindOf = (k: WorkloadKind): typeof DEPLOYMENTS | typeof STATEFUL_SETS => (k === 'Deployment' ? DEPLOYMENTS : STATEFUL_SETS);

/** Restore: every volume of the checkpoint in record.checkpoint, into where.namespace. */
export async function restoreVolumes(i: StepInput, where: Where, record: OperationRecord): Promise<StepState> {
  const ref = vpgRef(i.vpg);
  const ns = where.namespace;
  const cp = record.checkpoint;
  if (cp === undefined) return { state: 'failed', record, error: 'no checkpoint was chosen' };
  const claims = protectedClaims(i.ctx.cache, i.vpg);
  const jobs = claims.map((c) => i.ctx.cache.get<Job>(JOBS, restoreName({ vpg: ref, source: c.claim }), ns));
  const states = jobs.map(restoreState);
  if (hasEnded(record.steps, 'Restore') || (claims.length > 0 && states.every((s) => s.state === 'done'))) {
    let steps = record.steps;
    if (!hasEnded(steps, 'Restore')) {
      // The exports' scratch copies and tokens are not needed any more.
      await dropExports(i, ns);
      steps = endStep(steps, 'Restore', i.now);
      i.ctx.event(i.obj, { type: 'Normal', reason: 'VolumesRestored', action: where.action, note: `${claims.length} volume(s) restored at checkpoint ${cp.id} into namespace ${ns}` });
    }
    return { state: 'done', record: { ...record, steps, progressPercent: 100 } };
  }
  const failed = states.findIndex((s) => s.state === 'failed');
  if (failed >= 0) {
    const s = states[failed];
    const detail = lastWords(i, ns, jobs[failed]);
    const error = `the restore of volume ${claims[failed]?.claim.metadata?.name ?? '?'} failed: ${s?.state === 'failed' ? s.reason : ''}${detail === undefined ? '' : `: ${detail}`}`;
    return { state: 'failed', record, error };
  }
  const side = recoverySide(i.ctx.cache, i.config, i.vpg);
  if ('problem' in side) return { state: 'working', record: { ...record, error: side.problem } };
  if (i.client === undefined) return { state: 'working', record: { ...record, error: 'the VRAs\' control token does not exist yet' } };
  const identity = await i.client.identity(side.side.vra);
  await i.ctx.ensure(NETWORK_POLICIES, restoreIsolationPolicy(ref, ns, i.config.namespace), { owner: false });
  for (const [k, c] of claims.entries()) {
    if (states[k]?.state !== 'missing') continue;
    const name = c.claim.metadata?.name ?? '';
    const existing = i.ctx.cache.get<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, name, ns);
    if (existing !== undefined && existing.metadata?.labels?.[LABEL_VPG_UID] !== ref.uid) {
      // A failback: the claim left behind by the failover that moved these volumes away. Its
      // content is older than what comes back: it is replaced (the reverse VPG synced from it).
      if (existing.metadata?.annotations?.[ANNOTATION_SUPERSEDED] === undefined) {
        return { state: 'failed', record, error: `claim ${name} already exists in namespace ${ns} and was not left by a failover of these volumes: remove it, or recover into another namespace` };
      }
      if (existing.metadata.deletionTimestamp === undefined) {
        await i.ctx.client.delete(PERSISTENT_VOLUME_CLAIMS, name, ns);
        i.ctx.event(i.obj, { type: 'Normal', reason: 'ClaimReplaced', action: where.action, note: `claim ${name} in ${ns} (superseded by the failover) is replaced by the recovered volume` });
      }
      continue;
    }
    const target: RestoreTarget = {
      vpg: ref, namespace: ns, source: c.claim, size: c.size,
      storageClassName: i.vpg.spec.recovery.storageClassName ?? c.claim.spec?.storageClassName ?? undefined,
      checkpointId: cp.id, nodeSelector: side.side.nodeSelector, image: side.side.image, imagePullPolicy: side.side.imagePullPolicy,
      vra: { host: side.side.vra.host, port: side.side.vra.port, cert: identity.cert, servername: identity.servername },
    };
    await startRestore(i, side.side, target, Number(cp.id), name);
  }
  const done = states.filter((s) => s.state === 'done').length;
  const { error: _cleared, ...rest } = record;
  return {
    state: 'working',
    record: { ...rest, message: `restoring volumes at checkpoint ${cp.id} into ${ns}: ${done} of ${claims.length} done`, progressPercent: Math.floor((100 * done) / Math.max(1, claims.length)) },
  };
}

/** An export of one volume, its Secret, the claim and the Job (each only if missing). */
async function startRestore(i: StepInput, side: RecoverySide, t: RestoreTarget, seq: number, volume: string): Promise<void> {
  const client = i.client;
  if (client === undefined) return;
  const name = restoreName(t);
  let secret = await i.ctx.client.tryGet<Secret>(SECRETS, name, t.namespace);
  if (secret === undefined) {
    const exp = await client.post<{ exportId: string; token: string; path: string }>(
      side.vra, `/v1/streams/${encodeURIComponent(side.streamId)}/exports`, { checkpoint: seq, volume, ttlSeconds: EXPORT_TTL_SECONDS }, EXPORT_TIMEOUT_MS,
    );
    secret = await i.ctx.client.create(SECRETS, restoreSecret(t, { id: exp.exportId, token: exp.token, path: exp.path }));
  }
  const exportId = secret.metadata?.annotations?.[ANNOTATION_EXPORT] ?? '';
  if (i.ctx.cache.get<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, volume, t.namespace) === undefined) {
    await createIfMissing(i, PERSISTENT_VOLUME_CLAIMS, recoveredClaim(t));
  }
  await createIfMissing(i, JOBS, restoreJob(t, { id: exportId, token: '', path: `/v1/exports/${exportId}` }));
}

async function createIfMissing(i: StepInput, resource: Parameters<Ctx['client']['create']>[0], obj: KubeObject): Promise<void> {
  try {
    await i.ctx.client.create(resource, obj);
  } catch (err: unknown) {
    if ((err as { statusCode?: number }).statusCode !== 409) throw err;
  }
}

/** Why a restore pod failed, in its own words (its termination message), if it said. */
function lastWords(i: StepInput, ns: string, job: Job | undefined): string | undefined {
  const uid = job?.metadata?.uid;
  if (uid === undefined) return undefined;
  const pods = i.ctx.cache.list<Pod>(PODS, { namespace: ns, labels: { 'batch.kubernetes.io/controller-uid': uid } });
  for (const p of pods.sort((a, b) => (b.metadata?.creationTimestamp ?? '').localeCompare(a.metadata?.creationTimestamp ?? ''))) {
    const text = p.status?.containerStatuses?.[0]?.state?.terminated?.message?.trim();
    if (text !== undefined && text !== '') return text.split('\n').slice(-3).join(' ').slice(0, 600);
  }
  return undefined;
}

/**
 * Start: the boot groups in order, each once the previous one is ready and its own delay has
 * passed (the first group's delay counts from the end of the restores). A workload is a copy of
 * the protected one; in a failback, the original itself, started again.
 */
export async function startWorkloads(i: StepInput, where: Where, record: OperationRecord): Promise<StepState> {
  const ref = vpgRef(i.vpg);
  const ns = where.namespace;
  const source = i.vpg.metadata.namespace ?? '';
  const groups = bootGroups(i.vpg.spec.bootOrder, {
    Deployment: i.ctx.cache.list<Workload>(DEPLOYMENTS, { namespace: source }),
    StatefulSet: i.ctx.cache.list<Workload>(STATEFUL_SETS, { namespace: source }),
  });
  const side = recoverySide(i.ctx.cache, i.config, i.vpg);
  const nodeSelector = 'side' in side ? side.side.nodeSelector : {};
  if (where.isolate) await i.ctx.ensure(NETWORK_POLICIES, testIsolationPolicy(ref, ns), { owner: false });
  const jobs = i.ctx.cache.list<Job>(JOBS, { namespace: ns, labels: { [LABEL_VPG_UID]: ref.uid } });
  let readySince = latest([...jobs.map((j) => j.status?.completionTime), record.steps?.find((s) => s.name === 'Restore')?.endTime]);
  let steps: Steps = record.steps;
  const working = (message: string, requeueAfterMs?: number): StepState => ({
    state: 'working', record: { ...record, steps, message }, ...(requeueAfterMs !== undefined && { requeueAfterMs }),
  });
  for (const [n, g] of groups.entries()) {
    const live = g.workloads.map((w) => i.ctx.cache.get<Workload>(kindOf(w.kind), w.object.metadata?.name ?? '', ns));
    const started = live.map((w) => w !== undefined && (w.metadata?.labels?.[LABEL_VPG_UID] === ref.uid || w.metadata?.annotations?.[ANNOTATION_RESUMED_BY] === ref.uid));
    const step = `Start ${g.name}`;
    if (started.some((s) => !s)) {
      const startAt = (readySince ?? i.now.getTime()) + g.delaySeconds * 1000;
      if (i.now.getTime() < startAt) return working(`group ${g.name} (${n + 1} of ${groups.length}) starts in ${Math.ceil((startAt - i.now.getTime()) / 1000)} s`, startAt - i.now.getTime());
      for (const [k, w] of g.workloads.entries()) {
        if (started[k] === true) continue;
        const existing = live[k];
        const name = w.object.metadata?.name ?? '';
        if (existing === undefined) {
          await createIfMissing(i, kindOf(w.kind), recoveredWorkload({ vpg: ref, namespace: ns, group: g.name, kind: w.kind, source: w.object, nodeSelector, checkpointId: record.checkpoint?.id ?? '' }));
        } else if (existing.metadata?.annotations?.[ANNOTATION_STOPPED_REPLICAS] !== undefined) {
          // A failback: the workload a failover stopped here comes back as it was.
          const replicas = Number(existing.metadata.annotations[ANNOTATION_STOPPED_REPLICAS]);
          await i.ctx.client.mergePatch(kindOf(w.kind), name, ns, {
            metadata: { annotations: { [ANNOTATION_STOPPED_REPLICAS]: null, [ANNOTATION_RESUMED_BY]: ref.uid, [ANNOTATION_READY_AT]: null } },
            spec: { replicas: Number.isSafeInteger(replicas) ? replicas : 1 },
          });
        } else {
          return { state: 'failed', record: { ...record, steps }, error: `${w.kind} ${name} already runs in namespace ${ns}: a recovery does not replace a workload it did not stop; remove it or recover elsewhere` };
        }
      }
      if (!steps?.some((s) => s.name === step)) {
        steps = startStep(steps, step, i.now);
        const missing = g.missing.length === 0 ? '' : `; not found: ${g.missing.join(', ')}`;
        i.ctx.event(i.obj, { type: g.missing.length === 0 ? 'Normal' : 'Warning', reason: 'WorkloadsStarting', action: where.action, note: `boot group ${g.name} in ${ns}: ${g.workloads.map((w) => `${w.kind} ${w.object.metadata?.name ?? ''}`).join(', ') || 'no workloads'}${missing}` });
      }
      return working(`starting group ${g.name} (${n + 1} of ${groups.length}) in ${ns}`);
    }
    const ready = live.filter(isWorkloadReady).length;
    if (ready < live.length) return working(`waiting for group ${g.name} (${n + 1} of ${groups.length}): ${ready} of ${live.length} workloads ready`);
    const stamped = latest(live.map((c) => c?.metadata?.annotations?.[ANNOTATION_READY_AT]));
    if (stamped === undefined) {
      // Recorded on the workloads themselves: a restarted operator counts the next delay from the same moment.
      for (const [k, c] of live.entries()) {
        await i.ctx.client.mergePatch(kindOf(g.workloads[k]?.kind ?? 'Deployment'), c?.metadata?.name ?? '', ns, { metadata: { annotations: { [ANNOTATION_READY_AT]: i.now.toISOString() } } });
      }
      readySince = i.now.getTime();
    } else {
      readySince = stamped;
    }
    if (!hasEnded(steps, step)) {
      // Started by a reconcile whose status write a restart lost: the step begins when the workloads were made.
      if (steps?.some((s) => s.name === step) !== true) steps = startStep(steps, step, new Date(earliest(live.map((c) => c?.metadata?.creationTimestamp)) ?? i.now.getTime()));
      steps = endStep(steps, step, i.now);
    }
  }
  const names = groups.flatMap((g) => g.workloads.map((w) => w.object.metadata?.name ?? '')).join(', ') || 'volumes only';
  return { state: 'done', record: { ...record, steps, message: `recovered in ${ns}: ${names}` } };
}

/**
 * Undoes a recovery in `ns`: deletes what it made (labelled with the VPG's uid), stops again
 * what it started in place. Returns what is still there (kind name), [] once all is gone.
 */
export async function removeRecovered(i: StepInput, ns: string): Promise<string[]> {
  const ref = vpgRef(i.vpg);
  const selector = { [LABEL_VPG_UID]: ref.uid };
  const left: string[] = [];
  for (const kind of RECOVERED_KINDS) {
    for (const o of i.ctx.cache.list<KubeObject>(kind, { namespace: ns, labels: selector })) {
      left.push(`${kind.kind} ${o.metadata?.name ?? ''}`);
      if (o.metadata?.deletionTimestamp === undefined) await i.ctx.client.delete(kind, o.metadata?.name ?? '', ns, { propagationPolicy: 'Background' });
    }
  }
  for (const kind of [DEPLOYMENTS, STATEFUL_SETS]) {
    for (const w of i.ctx.cache.list<Workload>(kind, { namespace: ns })) {
      if (w.metadata?.annotations?.[ANNOTATION_RESUMED_BY] !== ref.uid) continue;
      await i.ctx.client.mergePatch(kind, w.metadata.name ?? '', ns, {
        metadata: { annotations: { [ANNOTATION_RESUMED_BY]: null, [ANNOTATION_STOPPED_REPLICAS]: String(w.spec?.replicas ?? 1), [ANNOTATION_READY_AT]: null } },
        spec: { replicas: 0 },
      });
    }
  }
  // The pods of the workloads and Jobs go with them; the claims wait for the pods (pvc-protection).
  for (const p of i.ctx.cache.list<Pod>(PODS, { namespace: ns, labels: selector })) left.push(`Pod ${p.metadata?.name ?? ''}`);
  await dropExports(i, ns);
  return left;
}

/** Removes the restore Secrets of `ns` and every export of the stream on the recovery VRA (scratch space back). */
export async function dropExports(i: StepInput, ns: string): Promise<void> {
  const ref = vpgRef(i.vpg);
  const side = recoverySide(i.ctx.cache, i.config, i.vpg);
  if ('side' in side && i.client !== undefined) {
    // Every export of the stream is one of this VPG's recoveries: also those a restart left without a Secret.
    const held = await i.client.get<{ exports: { exportId: string }[] }>(side.side.vra, `/v1/streams/${encodeURIComponent(side.side.streamId)}/exports`).catch(() => ({ exports: [] }));
    for (const e of held.exports) {
      await i.client.delete(side.side.vra, `/v1/exports/${encodeURIComponent(e.exportId)}`).catch((err: unknown) => {
        if (!(err instanceof VraApiError && (err.status === 404 || err.status === 410))) throw err;
      });
    }
  }
  const secrets = await i.ctx.client.list<Secret>(SECRETS, { namespace: ns, labelSelector: `${LABEL_VPG_UID}=${ref.uid}` });
  for (const s of secrets.items) await i.ctx.client.delete(SECRETS, s.metadata?.name ?? '', ns);
}

export function hasEnded(steps: Steps, name: string): boolean {
  return steps?.some((s) => s.name === name && s.endTime !== undefined) === true;
}

function earliest(times: (string | undefined)[]): number | undefined {
  const ms = times.flatMap((t) => (t === undefined ? [] : [Date.parse(t)])).filter((t) => Number.isFinite(t));
  return ms.length === 0 ? undefined : Math.min(...ms);
}

function latest(times: (string | undefined)[]): number | undefined {
  const ms = times.flatMap((t) => (t === undefined ? [] : [Date.parse(t)])).filter((t) => Number.isFinite(t));
  return ms.length === 0 ? undefined : Math.max(...ms);
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
