// Steps 2 and 3 of a VPG's reconcile: make both VRAs run the stream the plan says, read their
// figures, write the status. And the deletion: stop both ends, remove or keep the data.
import { createHash } from 'node:crypto';
import type { VPG } from '../../crds/vpg.ts';
import type { Pod } from '../../kube/objects.ts';
import { PODS, canonicalJson, hasFinalizer, type CustomObject, type ReconcileContext } from '../../runtime/index.ts';
import type { SourceStatus } from '../../vra/source-stream.ts';
import type { TargetStatus } from '../../vra/target-stream.ts';
import type { OperatorConfig } from '../config.ts';
import type { ReverseIndex } from '../reverse-index.ts';
import { VRA_CONTROL_PORT } from '../labels.ts';
import { vraName } from '../site/vra-pod.ts';
import type { VpgMetrics } from './metrics.ts';
import type { AssessReady, Plan, Ready } from './plan.ts';
import { applyOperation } from './operation/apply.ts';
import { tagsOf, type JournalCheckpoint } from './operation/checkpoint.ts';
import { failover, recoveringWithoutProtectedSite } from './operation/failover.ts';
import { failoverTest } from './operation/failover-test.ts';
import { removeRecovered } from './operation/recover.ts';
import { handleTagRequest } from './operation/tag-request.ts';
import type { HookRunner } from './hooks/runner.ts';
import { appConsistentCondition } from './hooks/schedule.ts';
import { vpgStatus, type AssessReport, type StreamObservation, type VpgStatusInput } from './status/index.ts';
import { desiredAssess, desiredSource, desiredTarget, streamToken } from './streams.ts';
import { VraApiError, isStreamMissing, type VraClient, type VraEndpoint } from './vra-client.ts';

/** Held while the VPG's streams may exist on VRAs: removed once both ends are stopped. */
export const VPG_FINALIZER = 'zcsp.io/replication';

/** How often the VRAs' figures are polled for each VPG. */
export const POLL_MS = 5000;
/**
 * After an operation step wrote a decision to the status: the watch event of that write brings
 * the next reconcile (with the cache showing it); this is only the fallback. Sooner would read
 * the cache before it holds the write, and take the step again.
 */
const REQUEUE_AFTER_DECISION_MS = 1000;

export interface VpgState {
  refs: ReverseIndex;
  /** `${pod uid}/${stream}` → hash of the configuration last accepted by that VRA pod. */
  configured: Map<string, string>;
  client: VraClient | undefined;
  controlToken: string | undefined;
  metrics: VpgMetrics | undefined;
  /** Application-consistent checkpoint runs (spec.hooks), one per VPG at most. */
  hooks: HookRunner;
}

type Ctx = ReconcileContext<CustomObject>;
type Observed<S> = StreamObservation<S>;

async function protect(ctx: Ctx, config: OperatorConfig, obj: CustomObject, vpg: VPG, plan: Plan, state: VpgState): Promise<number> {
  const streamId = vpg.metadata.uid ?? '';
  let current = obj;
  if (plan.ready !== undefined || plan.assess !== undefined) current = (await ctx.addFinalizer(current, VPG_FINALIZER)).object;
  const r = plan.ready;
  const assessing = plan.assess;
  let assessment: Observed<AssessReport> | undefined;
  let source: Observed<SourceStatus> | undefined;
  let target: Observed<TargetStatus> | undefined;
  let tagged: { seq: number; time: string; tag: string }[] | undefined;
  let blocker = plan.blocker;
  const failedOver = vpg.status?.failedOver !== undefined && vpg.status.operation === undefined;
  if (failedOver && r !== undefined && state.client !== undefined) {
    // Its workloads run elsewhere now: nothing to capture here. The target and its replica stay
    // (a failback along the reverse VPG resumes from them with a delta sync).
    await stopSource(ctx, state, r.protectedVra, streamId);
    blocker = { reason: 'FailedOver', message: `failed over to ${vpg.status?.failedOver?.namespace ?? '?'} at ${vpg.status?.failedOver?.time ?? '?'}; ${vpg.status?.failedOver?.reverseVpg === undefined ? 'not protected back' : `protected back by VPG ${vpg.status.failedOver.namespace}/${vpg.status.failedOver.reverseVpg}`}` };
  } else if ((r !== undefined || assessing !== undefined) && (state.client === undefined || state.controlToken === undefined)) {
    blocker = { reason: 'NoVraCredentials', message: 'the VRAs\' control token (Secret zcsp-vra-control) does not exist yet: it comes with the first Site' };
  } else if (r !== undefined && state.client !== undefined && state.controlToken !== undefined) {
    if (r.recoveryChosen) {
      ctx.event(current, { type: 'Normal', reason: 'RecoveryVraChosen', action: 'Place', note: `journal and replica on the VRA of node ${r.recoveryNode} (site ${vpg.spec.recoverySite})` });
    }
    for (const w of r.warnings) ctx.event(current, { type: 'Warning', reason: 'SiteSettingIgnored', action: 'Configure', note: w });
    const before = vpg.status?.placement?.protectedNode;
    if (before !== undefined && before !== r.protectedNode) await moveSource(ctx, state.client, config.namespace, current, vpg, before, r.protectedNode, streamId);
    ({ source, target, tagged } = await syncStreams(ctx, state.client, state, vpg, r, streamId, state.controlToken, recoveringWithoutProtectedSite(vpg)));
    if (source.kind === 'ok') await handleTagRequest(ctx, current, state.client, r.protectedVra, streamId);
  } else if (assessing !== undefined && state.client !== undefined) {
    assessment = await syncAssessment(ctx, state.client, state, vpg, assessing, streamId);
  }
  // Recovery needs only the recovery site: it runs whatever the protection plan says.
  const now = new Date();
  const step = { ctx, config, obj: current, vpg, client: state.client, now };
  const op = await failoverTest(step) ?? await failover({
    ...step,
    source: r !== undefined && source?.kind === 'ok' ? { vra: r.protectedVra, streamId } : undefined,
    commit: { volumes: r === undefined ? undefined : { node: r.protectedNode, streamVolumes: r.streamVolumes } },
  });
  const placement = r !== undefined
    ? { protectedNode: r.protectedNode, recoveryNode: r.recoveryNode, streamId }
    : assessing !== undefined ? { protectedNode: assessing.protectedNode, streamId } : vpg.status?.placement;
  const input: VpgStatusInput = {
    now,
    generation: vpg.metadata.generation ?? 0,
    previous: vpg.status,
    sla: plan.sla === undefined ? undefined : {
      rpoAlertSeconds: plan.sla.rpoAlertSeconds,
      historyHours: plan.sla.historyHours,
      checkpointIntervalSeconds: plan.sla.checkpointIntervalSeconds,
      hardLimitBytes: plan.sla.hardLimitBytes,
      warningBytes: plan.sla.warningBytes,
      limitText: plan.sla.limitText,
    },
    blocker,
    placement,
    volumes: (plan.volumes ?? []).map((v) => ({ claimName: v.claimName, sizeBytes: Number(v.sizeBytes) })),
    source,
    target: target === undefined ? undefined : { ...target, ...(tagged !== undefined && { tagged }) },
    ...(assessing !== undefined && { assessment }),
    protectedVraReady: r?.protectedVra.ready ?? assessing?.protectedVra.ready ?? false,
    recoveryVraReady: r?.recoveryVra.ready ?? false,
    ...(op?.phase !== undefined && { operation: { phase: op.phase, ...(op.substatus !== undefined && { substatus: op.substatus }) } }),
    ...(op?.phase === undefined && (failedOver || op?.failedOver != null) && { operation: { phase: 'FailedOver' as const } }),
  };
  const { status: protection, events } = vpgStatus(input);
  const { status, dueInMs } = applyOperation(protection, op, {
    now, generation: vpg.metadata.generation ?? 0, created: current.metadata?.creationTimestamp, reminderMonths: plan.sla?.testReminderMonths,
  });
  // Application-consistent checkpoints, while protection runs and no operation is under way.
  const hooks = state.hooks.step({
    ctx, obj: current, namespace: vpg.metadata.namespace ?? '', streamId, hooks: vpg.spec.hooks, previous: vpg.status?.appConsistent,
    // Once protection has settled: during a sync the source cannot take a checkpoint yet.
    protecting: r !== undefined && source?.kind === 'ok' && !failedOver && vpg.status?.operation === undefined && op?.phase === undefined
      && status.sync === undefined && status.checkpoints?.latest !== undefined,
    vra: r !== undefined && state.client !== undefined ? { client: state.client, source: r.protectedVra } : undefined,
    now,
  });
  status.appConsistent = hooks.status;
  status.conditions = appConsistentCondition(status.conditions, hooks.status, vpg.metadata.generation ?? 0, now, hooks.waiting);
  for (const e of events) ctx.event(current, { ...e, action: 'Protect' });
  await ctx.patchStatusIfChanged(current, status);
  state.metrics?.observe(vpg.metadata.namespace ?? '', vpg.metadata.name ?? '', input, status, Date.now());
  const waits = [POLL_MS, r?.bandwidthChangesInMs, op?.requeue === true ? REQUEUE_AFTER_DECISION_MS : undefined, op?.requeueAfterMs, dueInMs, hooks.dueInMs];
  return Math.max(100, Math.min(...waits.filter((w): w is number => w !== undefined)));
}

/**
 * The volumes moved to another node (a CSI volume follows its pod): the old node's VRA stops
 * capturing them, the new one starts (its first pass is a delta sync against the replica).
 */
async function moveSource(ctx: Ctx, client: VraClient, providerNamespace: string, obj: CustomObject, vpg: VPG, from: string, to: string, streamId: string): Promise<void> {
  const pod = ctx.cache.get<Pod>(PODS, vraName(vpg.spec.protectedSite, from), providerNamespace);
  if (pod?.status?.podIP !== undefined) {
    try {
      await client.delete({ uid: pod.metadata?.uid ?? '', host: pod.status.podIP, port: VRA_CONTROL_PORT }, `/v1/streams/${encodeURIComponent(streamId)}`);
    } catch (err: unknown) {
      if (!isStreamMissing(err)) {
        ctx.event(obj, { type: 'Warning', reason: 'SourceNotStopped', action: 'Move', note: `the VRA of node ${from} could not stop capturing (${err instanceof Error ? err.message : String(err)}); it is retried` });
        throw err;
      }
    }
  }
  ctx.event(obj, { type: 'Normal', reason: 'SourceMoved', action: 'Move', note: `the volumes are on node ${to} now (were on ${from}): its VRA captures them` });
}

/** spec.mode Assess: the protected VRA measures the volumes' change rate; nothing else runs. */
async function syncAssessment(ctx: Ctx, client: VraClient, state: VpgState, vpg: VPG, a: AssessReady, streamId: string): Promise<Observed<AssessReport>> {
  const ref = { namespace: vpg.metadata.namespace ?? '', name: vpg.metadata.name ?? '' };
  const path = `/v1/streams/${encodeURIComponent(streamId)}`;
  try {
    await ensureStream(ctx, client, state, a.protectedVra, streamId, desiredAssess(ref, a.streamVolumes, a.sla));
    const observed = await observe<AssessReport>(client, a.protectedVra, path);
    if (observed.kind === 'missing') forget(state, a.protectedVra, streamId);
    return observed;
  } catch (err: unknown) {
    return failure(err);
  }
}

/**
 * The VPG was an assessment and protects now: the protected VRA holds an assess stream of the same
 * id, which cannot turn into a source in place. It goes (it kept nothing but its measurement), and
 * the source is configured in its stead; the measurement starts over with protection.
 */
async function replaceAssessment(ctx: Ctx, client: VraClient, state: VpgState, vra: VraEndpoint, streamId: string, err: unknown): Promise<boolean> {
  if (!(err instanceof VraApiError) || err.status !== 409) return false;
  const path = `/v1/streams/${encodeURIComponent(streamId)}`;
  const current = await observe<{ role?: string }>(client, vra, path);
  if (current.kind !== 'ok' || current.status.role !== 'assess') return false;
  await client.delete(vra, path);
  forget(state, vra, streamId);
  ctx.log.info({ vra: vra.host, stream: streamId }, 'assessment ended: the VPG protects now');
  return true;
}

/** Target first (the source's peer must exist before it connects), then the source; then both figures. */
async function syncStreams(ctx: Ctx, client: VraClient, state: VpgState, vpg: VPG, r: Ready, streamId: string, controlToken: string, withoutSource: boolean): Promise<{
  source: Observed<SourceStatus>; target: Observed<TargetStatus>; tagged: { seq: number; time: string; tag: string }[] | undefined;
}> {
  const ref = { namespace: vpg.metadata.namespace ?? '', name: vpg.metadata.name ?? '' };
  const token = streamToken(controlToken, streamId);
  const path = `/v1/streams/${encodeURIComponent(streamId)}`;

  let target: Observed<TargetStatus>;
  let tagged: { seq: number; time: string; tag: string }[] | undefined;
  let peerCert: { cert: string; servername: string } | undefined;
  try {
    const identity = await client.identity(r.recoveryVra);
    peerCert = { cert: identity.cert, servername: identity.servername };
    await ensureStream(ctx, client, state, r.recoveryVra, streamId, desiredTarget(ref, token, r.streamVolumes, r.sla, r.seed));
    target = await observe<TargetStatus>(client, r.recoveryVra, path);
    if (target.kind === 'missing') forget(state, r.recoveryVra, streamId);
    if (target.kind === 'ok') {
      const cps = await client.get<{ checkpoints: JournalCheckpoint[] }>(r.recoveryVra, `${path}/checkpoints`);
      // A checkpoint's own tag (app-consistent, a request's) and those added later ("tested at …");
      // the VRA lists an untagged checkpoint with an empty tag.
      tagged = cps.checkpoints.flatMap((c) => {
        const tags = tagsOf(c);
        return tags.length === 0 ? [] : [{ seq: c.seq, time: c.time, tag: tags.join('; ') }];
      });
    }
  } catch (err: unknown) {
    target = failure(err);
  }

  let source: Observed<SourceStatus>;
  if (withoutSource) {
    source = { kind: 'unreachable', error: 'not asked: the failover went on without the protected site, which did not answer' };
  } else if (peerCert === undefined || target.kind !== 'ok') {
    // Without its peer the source could only fail to connect; what it reports still counts.
    source = await observe<SourceStatus>(client, r.protectedVra, path).catch((err: unknown) => failure<SourceStatus>(err));
  } else {
    try {
      const config = desiredSource(ref, token, r.streamVolumes, r.sla, {
        zccAddress: r.zcc.address, zccCa: r.zcc.ca, zccServername: r.zcc.servername, zorg: r.zcc.zorg, zccToken: r.zcc.token,
        recoverySite: vpg.spec.recoverySite, recoveryNode: r.recoveryNode, vraCert: peerCert.cert, vraServername: peerCert.servername,
      }, r.bandwidthBytesPerSecond);
      try {
        await ensureStream(ctx, client, state, r.protectedVra, streamId, config);
      } catch (err: unknown) {
        if (!await replaceAssessment(ctx, client, state, r.protectedVra, streamId, err)) throw err;
        await ensureStream(ctx, client, state, r.protectedVra, streamId, config);
      }
      source = await observe<SourceStatus>(client, r.protectedVra, path);
      if (source.kind === 'missing') forget(state, r.protectedVra, streamId);
    } catch (err: unknown) {
      source = failure(err);
    }
  }
  return { source, target, tagged };
}

/** PUTs a stream's configuration when it differs from what that VRA pod last accepted. */
async function ensureStream(ctx: Ctx, client: VraClient, state: VpgState, vra: VraEndpoint, streamId: string, config: unknown): Promise<void> {
  const key = `${vra.uid}/${streamId}`;
  const hash = createHash('sha256').update(canonicalJson(config)).digest('hex');
  if (state.configured.get(key) === hash) return;
  state.configured.delete(key);
  const result = await client.put<{ created: boolean; changed: boolean }>(vra, `/v1/streams/${encodeURIComponent(streamId)}`, config);
  state.configured.set(key, hash);
  if (result.changed) ctx.log.info({ vra: vra.host, stream: streamId, created: result.created }, result.created ? 'stream configured on VRA' : 'stream reconfigured on VRA');
}

/** Stops the source of a failed-over VPG (once per VRA pod: the memo is in state.configured). */
async function stopSource(ctx: Ctx, state: VpgState, vra: VraEndpoint, streamId: string): Promise<void> {
  const key = `${vra.uid}/${streamId}`;
  if (state.configured.get(key) === 'stopped' || state.client === undefined) return;
  try {
    await state.client.delete(vra, `/v1/streams/${encodeURIComponent(streamId)}?keepData=true`);
    ctx.log.info({ vra: vra.host, stream: streamId }, 'source stopped: the VPG failed over');
  } catch (err: unknown) {
    if (!isStreamMissing(err)) throw err;
  }
  state.configured.set(key, 'stopped');
}

/**
 * The VRA lost a stream it had accepted (its volume was replaced, or someone deleted the stream):
 * the next reconcile configures it again instead of trusting what this process remembers.
 */
function forget(state: VpgState, vra: VraEndpoint, streamId: string): void {
  state.configured.delete(`${vra.uid}/${streamId}`);
}

async function observe<S>(client: VraClient, vra: VraEndpoint, path: string): Promise<Observed<S>> {
  try {
    const body = await client.get<{ status: S | { state: 'failed'; error: string } }>(vra, path);
    const s = body.status as { state?: string; error?: string };
    if (s.state === 'failed') return { kind: 'failed', error: s.error ?? 'failed to start' };
    return { kind: 'ok', status: body.status as S };
  } catch (err: unknown) {
    if (isStreamMissing(err)) return { kind: 'missing' };
    return failure(err);
  }
}

function failure<S>(err: unknown): Observed<S> {
  // A refusal by the VRA (a configuration it cannot take, a damaged journal) is an error of the
  // stream; anything else (a timeout, a refused connection) means the VRA is out of reach.
  if (err instanceof VraApiError && err.status >= 400 && err.status !== 404) return { kind: 'failed', error: err.message };
  return { kind: 'unreachable', error: err instanceof Error ? err.message : String(err) };
}

/**
 * A VPG being deleted: its source stops first (nothing more is sent), then its target; each VRA
 * deletes the data unless spec.deletionPolicy is Retain. A VRA that is down holds the deletion
 * (it still holds the stream) unless its pod is gone.
 */
async function deleting(ctx: Ctx, config: OperatorConfig, obj: CustomObject, vpg: VPG, state: VpgState): Promise<number | undefined> {
  if (!hasFinalizer(obj, VPG_FINALIZER)) return undefined;
  // A test (or a recovery not committed) is removed first: its objects are only found through the VPG.
  const step = { ctx, config, obj, vpg, client: state.client, now: new Date() };
  const left = [...await removeRecovered(step, vpg.spec.recovery.testNamespace), ...(vpg.status?.operation === undefined ? [] : await removeRecovered(step, vpg.spec.recovery.namespace))];
  if (left.length > 0) return 2000;
  const streamId = vpg.status?.placement?.streamId ?? vpg.metadata.uid ?? '';
  const keep = vpg.spec.deletionPolicy === 'Retain';
  const placement = vpg.status?.placement;
  const ends: { role: 'source' | 'target'; site: string; node: string | undefined }[] = [
    { role: 'source', site: vpg.spec.protectedSite, node: placement?.protectedNode },
    { role: 'target', site: vpg.spec.recoverySite, node: placement?.recoveryNode },
  ];
  for (const end of ends) {
    if (end.node === undefined) continue;
    const pod = ctx.cache.get<Pod>(PODS, vraName(end.site, end.node), config.namespace);
    if (pod === undefined) {
      ctx.event(obj, { type: 'Warning', reason: 'VraGone', action: 'Delete', note: `the ${end.role} VRA on node ${end.node} no longer exists: whatever it kept of this VPG stays on its volume` });
      continue;
    }
    if (state.client === undefined || pod.status?.podIP === undefined) throw new Error(`the ${end.role} VRA on node ${end.node} is not reachable yet: the VPG is deleted once its stream is stopped there`);
    const vra = { uid: pod.metadata?.uid ?? '', host: pod.status.podIP, port: VRA_CONTROL_PORT };
    try {
      await state.client.delete(vra, `/v1/streams/${encodeURIComponent(streamId)}${keep ? '?keepData=true' : ''}`);
    } catch (err: unknown) {
      if (!isStreamMissing(err)) throw err;
    }
    state.configured.delete(`${vra.uid}/${streamId}`);
  }
  ctx.event(obj, keep
    ? { type: 'Normal', reason: 'ReplicationStopped', action: 'Delete', note: `replication stopped; journal and replica kept on the VRA of node ${placement?.recoveryNode ?? '?'} (deletionPolicy Retain)` }
    : { type: 'Normal', reason: 'ReplicationRemoved', action: 'Delete', note: 'replication stopped; journal and replica removed' });
  await ctx.removeFinalizer(obj, VPG_FINALIZER);
  state.hooks.forget(streamId);
  state.metrics?.forget(vpg.metadata.namespace ?? '', vpg.metadata.name ?? '');
  return undefined;
}

export const reconcileVpg = { protect, deleting };
