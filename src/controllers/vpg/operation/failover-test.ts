// A failover test, step by step. Declared by spec.operation {type: FailoverTest}; ended by removing
// it. Each reconcile looks at status.operation (what was decided: the stage, the checkpoint) and
// at the objects in the test namespace (what was done), and takes the next step; every stage
// change is written to the status before the step that depends on it, so an operator restarted
// at any point resumes where it was and never decides twice (the checkpoint is chosen once).
//
//   Prepare   choose the checkpoint (the journal's list on the recovery VRA)       → Recovering
//   Restore   per volume: an export on the recovery VRA, its token in a Secret, a PVC
//             and a restore Job in the test namespace; the restore NetworkPolicy; wait for
//             the Jobs; then remove the exports (scratch space) and the Secrets
//   Start G   per boot group in order: copies of its workloads, once the previous group is
//             ready and the group's delay has passed; the test NetworkPolicy first  → Running
//   Stop      (spec.operation removed) delete all of it, wait until it is gone, tag the
//             checkpoint "tested at …", record lastTest and history; status.operation goes.
//
// Replication is untouched throughout: the export is a scratch copy of the checkpoint.
import type { VPG, VPGStatus } from '../../../crds/vpg.ts';
import type { Job, PersistentVolumeClaim, Pod } from '../../../kube/objects.ts';
import {
  PERSISTENT_VOLUME_CLAIMS, PODS, SECRETS, DEPLOYMENTS, type CustomObject, type KubeObject, type ReconcileContext, type Secret,
} from '../../../runtime/index.ts';
import type { OperatorConfig } from '../../config.ts';
import { NETWORK_POLICIES, JOBS, STATEFUL_SETS } from '../../resources.ts';
import { VraApiError, type VraClient } from '../vra-client.ts';
import { chooseCheckpoint, tagsOf, type JournalCheckpoint } from './checkpoint.ts';
import { restoreIsolationPolicy, testIsolationPolicy } from './isolation.ts';
import { ANNOTATION_EXPORT, ANNOTATION_READY_AT, LABEL_VPG_UID, type VpgRef } from './labels.ts';
import { protectedClaims, recoverySide, type RecoverySide } from './recovery-side.ts';
import { recoveredClaim, restoreJob, restoreName, restoreSecret, restoreState, type RestoreTarget } from './restore-objects.ts';
import { bootGroups, isWorkloadReady, recoveredWorkload, type Workload } from './workloads.ts';
import { endStep, startStep, type OperationRecord, type OperationResultUpdate } from './record.ts';

type Ctx = ReconcileContext<CustomObject>;

/** An export is made for a restore pod that starts within minutes; unused, the VRA drops it after this. */
const EXPORT_TTL_SECONDS = 6 * 3600;
/** An export copies the checkpoint's volume before it answers. */
const EXPORT_TIMEOUT_MS = 30 * 60_000;
/** A test's recovered objects: the kinds deleted when it stops, in this order. */
const TEST_KINDS = [DEPLOYMENTS, STATEFUL_SETS, JOBS, PERSISTENT_VOLUME_CLAIMS, NETWORK_POLICIES] as const;

export interface TestInput {
  ctx: Ctx;
  config: OperatorConfig;
  obj: CustomObject;
  vpg: VPG;
  client: VraClient | undefined;
  now: Date;
}

/** Runs the test's next step; undefined when the VPG has no test declared or running. */
export async function failoverTest(i: TestInput): Promise<OperationResultUpdate | undefined> {
  const declared = i.vpg.spec.operation?.type === 'FailoverTest';
  const running = i.vpg.status?.operation;
  if (running !== undefined && running.type !== 'FailoverTest') return undefined;
  if (running === undefined && !declared) return undefined;
  const ref: VpgRef = { namespace: i.vpg.metadata.namespace ?? '', name: i.vpg.metadata.name ?? '', uid: i.vpg.metadata.uid ?? '' };
  const record: OperationRecord = running ?? { type: 'FailoverTest', stage: 'Preparing', startTime: i.now.toISOString(), steps: [{ name: 'Prepare', startTime: i.now.toISOString() }] };
  if (running === undefined) {
    i.ctx.event(i.obj, { type: 'Normal', reason: 'TestStarted', action: 'FailoverTest', note: `failover test into namespace ${i.vpg.spec.recovery.testNamespace} (checkpoint ${describeChoice(i.vpg)})` });
  }
  if (!declared || record.stage === 'Stopping') return stop(i, ref, record);
  switch (record.stage) {
    case 'Preparing':
      return prepare(i, record);
    case 'Recovering':
      return recover(i, ref, record);
    default:
      // Running: nothing to do until the test is stopped.
      return { record, phase: 'Testing' };
  }
}

function describeChoice(vpg: VPG): string {
  const c = vpg.spec.operation?.checkpoint;
  if (c === undefined) return 'Latest';
  return c.type === 'Named' ? `named ${c.name ?? ''}` : c.type === 'Time' ? `at or before ${c.time ?? ''}` : c.type;
}

async function prepare(i: TestInput, record: OperationRecord): Promise<OperationResultUpdate> {
  const side = recoverySide(i.ctx.cache, i.config, i.vpg);
  const waiting = (error: string): OperationResultUpdate => ({ record: { ...record, error, message: 'waiting to start' }, phase: 'Testing', substatus: 'Recovering' });
  if ('problem' in side) return waiting(side.problem);
  if (i.client === undefined) return waiting('the VRAs\' control token does not exist yet');
  let listed: JournalCheckpoint[];
  try {
    listed = (await i.client.get<{ checkpoints: JournalCheckpoint[] }>(side.side.vra, `/v1/streams/${encodeURIComponent(side.side.streamId)}/checkpoints`)).checkpoints;
  } catch (err: unknown) {
    return waiting(`the recovery VRA did not list the journal's checkpoints: ${message(err)}`);
  }
  const volumes = (i.vpg.status?.volumes ?? []).map((v) => v.claimName);
  const choice = chooseCheckpoint(i.vpg.spec.operation?.checkpoint ?? { type: 'Latest' }, listed, volumes);
  if ('problem' in choice) return waiting(choice.problem);
  const cp = choice.checkpoint;
  i.ctx.event(i.obj, { type: 'Normal', reason: 'CheckpointChosen', action: 'FailoverTest', note: `recovering checkpoint ${cp.id} of ${cp.time}${cp.tag === undefined ? '' : ` (${cp.tag})`}` });
  const { error: _cleared, ...rest } = record;
  const next: OperationRecord = {
    ...rest,
    stage: 'Recovering',
    checkpoint: { id: cp.id, time: cp.time, ...(cp.tag !== undefined && { tag: cp.tag }) },
    message: `restoring ${volumes.length} volume(s) at checkpoint ${cp.id} (${cp.time})`,
    progressPercent: 0,
    steps: startStep(endStep(record.steps, 'Prepare', i.now), 'Restore', i.now),
  };
  // Written before anything is made from it: a restart recovers this same checkpoint.
  return { record: next, phase: 'Testing', substatus: 'Recovering', requeue: true };
}

async function recover(i: TestInput, ref: VpgRef, record: OperationRecord): Promise<OperationResultUpdate> {
  const ns = i.vpg.spec.recovery.testNamespace;
  const progress = (r: OperationRecord): OperationResultUpdate => ({ record: r, phase: 'Testing', substatus: 'Recovering' });
  const cp = record.checkpoint;
  if (cp === undefined) return progress({ ...record, stage: 'Preparing' });
  const claims = protectedClaims(i.ctx.cache, i.vpg);
  const jobs = claims.map((c) => i.ctx.cache.get<Job>(JOBS, restoreName({ vpg: ref, source: c.claim }), ns));
  const states = jobs.map(restoreState);
  const restored = states.every((s) => s.state === 'done');

  if (!restored) {
    const side = recoverySide(i.ctx.cache, i.config, i.vpg);
    const failed = states.findIndex((s) => s.state === 'failed');
    if (failed >= 0) {
      const s = states[failed];
      const claim = claims[failed]?.claim.metadata?.name ?? '?';
      const why = s?.state === 'failed' ? s.reason : '';
      const detail = lastWords(i, ns, jobs[failed]);
      const error = `the restore of volume ${claim} failed: ${why}${detail === undefined ? '' : `: ${detail}`}`;
      if (record.error !== error) i.ctx.event(i.obj, { type: 'Warning', reason: 'RestoreFailed', action: 'FailoverTest', note: `${error}; stop the test (remove spec.operation) and start it again` });
      return progress({ ...record, error, message: 'failed: stop the test to clean up' });
    }
    if ('problem' in side) return progress({ ...record, error: side.problem });
    if (i.client === undefined) return progress({ ...record, error: 'the VRAs\' control token does not exist yet' });
    const identity = await i.client.identity(side.side.vra);
    await i.ctx.ensure(NETWORK_POLICIES, restoreIsolationPolicy(ref, ns, i.config.namespace), { owner: false });
    for (const [k, c] of claims.entries()) {
      if (states[k]?.state !== 'missing') continue;
      const target: RestoreTarget = {
        vpg: ref, namespace: ns, source: c.claim, size: c.size,
        storageClassName: i.vpg.spec.recovery.storageClassName ?? c.claim.spec?.storageClassName ?? undefined,
        checkpointId: cp.id, nodeSelector: side.side.nodeSelector, image: side.side.image,
        vra: { host: side.side.vra.host, port: side.side.vra.port, cert: identity.cert, servername: identity.servername },
      };
      await startRestore(i, side.side, target, Number(cp.id), c.claim.metadata?.name ?? '');
    }
    const done = states.filter((s) => s.state === 'done').length;
    return progress({ ...record, message: `restoring volumes at checkpoint ${cp.id}: ${done} of ${claims.length} done`, progressPercent: Math.floor((100 * done) / Math.max(1, claims.length)) });
  }

  // Volumes restored: the exports' scratch copies and tokens are no longer needed.
  let steps = record.steps;
  if (!hasEnded(steps, 'Restore')) {
    await dropExports(i, ref, ns);
    steps = endStep(steps, 'Restore', i.now);
    i.ctx.event(i.obj, { type: 'Normal', reason: 'VolumesRestored', action: 'FailoverTest', note: `${claims.length} volume(s) restored at checkpoint ${cp.id} into namespace ${ns}` });
  }
  return boot(i, ref, { ...record, steps, progressPercent: 100 }, jobs);
}

/** An export of one volume, its Secret, the claim and the Job (each only if missing: a restart finds what exists). */
async function startRestore(i: TestInput, side: RecoverySide, t: RestoreTarget, seq: number, volume: string): Promise<void> {
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
  const path = `/v1/exports/${exportId}`;
  if (i.ctx.cache.get<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, volume, t.namespace) === undefined) {
    await createIfMissing(i, PERSISTENT_VOLUME_CLAIMS, recoveredClaim(t));
  }
  await createIfMissing(i, JOBS, restoreJob(t, { id: exportId, token: '', path }));
}

async function createIfMissing(i: TestInput, resource: Parameters<Ctx['client']['create']>[0], obj: KubeObject): Promise<void> {
  try {
    await i.ctx.client.create(resource, obj);
  } catch (err: unknown) {
    if ((err as { statusCode?: number }).statusCode !== 409) throw err;
  }
}

/** Why a restore pod failed, in its own words (its termination message), if it said. */
function lastWords(i: TestInput, ns: string, job: Job | undefined): string | undefined {
  const uid = job?.metadata?.uid;
  if (uid === undefined) return undefined;
  const pods = i.ctx.cache.list<Pod>(PODS, { namespace: ns, labels: { 'batch.kubernetes.io/controller-uid': uid } });
  for (const p of pods.sort((a, b) => (b.metadata?.creationTimestamp ?? '').localeCompare(a.metadata?.creationTimestamp ?? ''))) {
    const text = p.status?.containerStatuses?.[0]?.state?.terminated?.message?.trim();
    if (text !== undefined && text !== '') return text.split('\n').slice(-3).join(' ').slice(0, 600);
  }
  return undefined;
}

/** The boot groups in order: each once the previous one is ready and its own delay has passed. */
async function boot(i: TestInput, ref: VpgRef, record: OperationRecord, jobs: (Job | undefined)[]): Promise<OperationResultUpdate> {
  const ns = i.vpg.spec.recovery.testNamespace;
  const source = i.vpg.metadata.namespace ?? '';
  const groups = bootGroups(i.vpg.spec.bootOrder, {
    Deployment: i.ctx.cache.list<Workload>(DEPLOYMENTS, { namespace: source }),
    StatefulSet: i.ctx.cache.list<Workload>(STATEFUL_SETS, { namespace: source }),
  });
  const side = recoverySide(i.ctx.cache, i.config, i.vpg);
  const nodeSelector = 'side' in side ? side.side.nodeSelector : {};
  await i.ctx.ensure(NETWORK_POLICIES, testIsolationPolicy(ref, ns), { owner: false });
  // Group 1's delay counts from the end of the restores; group N's from group N-1 being ready.
  let readySince = latest(jobs.map((j) => j?.status?.completionTime));
  let steps = record.steps;
  const progress = (message: string, requeueAfterMs?: number): OperationResultUpdate => ({
    record: { ...record, steps, message }, phase: 'Testing', substatus: 'Recovering', ...(requeueAfterMs !== undefined && { requeueAfterMs }),
  });
  for (const [n, g] of groups.entries()) {
    const copies = g.workloads.map((w) => i.ctx.cache.get<Workload>(w.kind === 'Deployment' ? DEPLOYMENTS : STATEFUL_SETS, w.object.metadata?.name ?? '', ns));
    const step = `Start ${g.name}`;
    if (copies.some((c) => c === undefined)) {
      const startAt = (readySince ?? i.now.getTime()) + g.delaySeconds * 1000;
      if (i.now.getTime() < startAt) return progress(`group ${g.name} (${n + 1} of ${groups.length}) starts in ${Math.ceil((startAt - i.now.getTime()) / 1000)} s`, startAt - i.now.getTime());
      for (const [k, w] of g.workloads.entries()) {
        if (copies[k] !== undefined) continue;
        await createIfMissing(i, w.kind === 'Deployment' ? DEPLOYMENTS : STATEFUL_SETS, recoveredWorkload({ vpg: ref, namespace: ns, group: g.name, kind: w.kind, source: w.object, nodeSelector, checkpointId: record.checkpoint?.id ?? '' }));
      }
      if (!steps?.some((s) => s.name === step)) {
        steps = startStep(steps, step, i.now);
        const missing = g.missing.length === 0 ? '' : `; not found: ${g.missing.join(', ')}`;
        i.ctx.event(i.obj, { type: g.missing.length === 0 ? 'Normal' : 'Warning', reason: 'WorkloadsStarting', action: 'FailoverTest', note: `boot group ${g.name}: ${g.workloads.map((w) => `${w.kind} ${w.object.metadata?.name ?? ''}`).join(', ') || 'no workloads'}${missing}` });
      }
      return progress(`starting group ${g.name} (${n + 1} of ${groups.length})`);
    }
    const ready = copies.filter(isWorkloadReady).length;
    if (ready < copies.length) return progress(`waiting for group ${g.name} (${n + 1} of ${groups.length}): ${ready} of ${copies.length} workloads ready`);
    const stamped = latest(copies.map((c) => c?.metadata?.annotations?.[ANNOTATION_READY_AT]));
    if (stamped === undefined) {
      // Recorded on the copies themselves, so a restarted operator counts the next delay from the same moment.
      for (const [k, c] of copies.entries()) {
        const kind = g.workloads[k]?.kind === 'Deployment' ? DEPLOYMENTS : STATEFUL_SETS;
        await i.ctx.client.mergePatch(kind, c?.metadata?.name ?? '', ns, { metadata: { annotations: { [ANNOTATION_READY_AT]: i.now.toISOString() } } });
      }
      readySince = i.now.getTime();
    } else {
      readySince = stamped;
    }
    if (!hasEnded(steps, step)) steps = endStep(steps, step, i.now);
  }
  const rto = Math.max(0, Math.round((i.now.getTime() - Date.parse(record.startTime)) / 1000));
  i.ctx.event(i.obj, { type: 'Normal', reason: 'TestRunning', action: 'FailoverTest', note: `test running in namespace ${ns} at checkpoint ${record.checkpoint?.id ?? '?'}, ${rto} s after it was asked for` });
  const { error: _e, ...rest } = record;
  return {
    record: {
      ...rest, steps, stage: 'Running', rtoSeconds: rto, progressPercent: 100,
      message: `test running in namespace ${ns}: ${groups.flatMap((g) => g.workloads.map((w) => w.object.metadata?.name ?? '')).join(', ') || 'volumes only'}; stop it by removing spec.operation`,
    },
    phase: 'Testing',
  };
}

/** Removes everything the test made; once it is all gone, tags the checkpoint and records the test. */
async function stop(i: TestInput, ref: VpgRef, record: OperationRecord): Promise<OperationResultUpdate> {
  const ns = i.vpg.spec.recovery.testNamespace;
  let steps = record.steps;
  if (record.stage !== 'Stopping') {
    steps = startStep(steps, 'Stop', i.now);
    i.ctx.event(i.obj, { type: 'Normal', reason: 'TestStopping', action: 'FailoverTest', note: `removing the test's workloads and volumes from namespace ${ns}` });
  }
  const stopping: OperationRecord = { ...record, stage: 'Stopping', steps, message: `removing the test from namespace ${ns}` };
  const left = await removeRecovered(i, ref, ns);
  if (left.length > 0) return { record: { ...stopping, message: `removing the test from namespace ${ns}: ${left.length} object(s) left (${left.slice(0, 3).join(', ')})` }, phase: 'Testing', substatus: 'StoppingTest', requeueAfterMs: 2000 };
  await dropExports(i, ref, ns);

  const ran = record.rtoSeconds !== undefined;
  const result = record.error !== undefined ? 'Failed' : ran ? 'Succeeded' : 'Stopped';
  const tagNote = ran && record.checkpoint !== undefined ? await tagTested(i, record) : undefined;
  const end = i.now.toISOString();
  const history: NonNullable<VPGStatus['history']>[number] = {
    type: 'FailoverTest', startTime: record.startTime, endTime: end, result,
    ...(record.checkpoint !== undefined && { checkpoint: record.checkpoint }),
    ...(record.rtoSeconds !== undefined && { rtoSeconds: record.rtoSeconds }),
    ...((record.error ?? tagNote) !== undefined && { message: (record.error ?? tagNote ?? '').slice(0, 1024) }),
  };
  i.ctx.event(i.obj, { type: result === 'Failed' ? 'Warning' : 'Normal', reason: 'TestStopped', action: 'FailoverTest', note: `failover test ${result.toLowerCase()}${record.error === undefined ? '' : `: ${record.error}`}` });
  return {
    record: undefined,
    history,
    ...(record.checkpoint !== undefined && {
      lastTest: { startTime: record.startTime, endTime: end, checkpoint: record.checkpoint, result, ...(record.rtoSeconds !== undefined && { rtoSeconds: record.rtoSeconds }) },
    }),
  };
}

/** Removes whatever an operation made in the recovery namespaces (the VPG is going): the number of objects left. */
export async function cleanupRecovery(i: TestInput): Promise<number> {
  const ref: VpgRef = { namespace: i.vpg.metadata.namespace ?? '', name: i.vpg.metadata.name ?? '', uid: i.vpg.metadata.uid ?? '' };
  let left = 0;
  for (const ns of [i.vpg.spec.recovery.testNamespace]) {
    left += (await removeRecovered(i, ref, ns)).length;
    if (left === 0) await dropExports(i, ref, ns);
  }
  return left;
}

/** Tags the tested checkpoint "tested at <start>" (once: a restart finds the tag). Returns a note when it could not. */
async function tagTested(i: TestInput, record: OperationRecord): Promise<string | undefined> {
  const cp = record.checkpoint;
  const side = recoverySide(i.ctx.cache, i.config, i.vpg);
  if (cp === undefined) return undefined;
  if ('problem' in side || i.client === undefined) return `checkpoint ${cp.id} not tagged: ${'problem' in side ? side.problem : 'no VRA credentials'}`;
  const tag = `tested at ${record.startTime}`;
  const path = `/v1/streams/${encodeURIComponent(side.side.streamId)}/checkpoints`;
  try {
    const listed = (await i.client.get<{ checkpoints: JournalCheckpoint[] }>(side.side.vra, path)).checkpoints;
    const found = listed.find((c) => String(c.seq) === cp.id);
    if (found === undefined) return `checkpoint ${cp.id} left the journal's history before the test ended: not tagged`;
    if (!tagsOf(found).includes(tag)) await i.client.post(side.side.vra, `${path}/${cp.id}/tags`, { tag });
    i.ctx.event(i.obj, { type: 'Normal', reason: 'CheckpointTagged', action: 'FailoverTest', note: `checkpoint ${cp.id} tagged "${tag}"` });
    return undefined;
  } catch (err: unknown) {
    if (err instanceof VraApiError && err.status === 409) return `checkpoint ${cp.id} could not be tagged: ${err.message}`;
    throw err;
  }
}

/** Deletes the test's objects; returns those still there (kind/name). */
async function removeRecovered(i: TestInput, ref: VpgRef, ns: string): Promise<string[]> {
  const selector = { [LABEL_VPG_UID]: ref.uid };
  const left: string[] = [];
  for (const kind of TEST_KINDS) {
    for (const o of i.ctx.cache.list<KubeObject>(kind, { namespace: ns, labels: selector })) {
      left.push(`${kind.kind} ${o.metadata?.name ?? ''}`);
      if (o.metadata?.deletionTimestamp === undefined) await i.ctx.client.delete(kind, o.metadata?.name ?? '', ns, { propagationPolicy: 'Background' });
    }
  }
  // The pods of the workloads and Jobs go with them; the claims wait for the pods (pvc-protection).
  for (const p of i.ctx.cache.list<Pod>(PODS, { namespace: ns, labels: selector })) left.push(`Pod ${p.metadata?.name ?? ''}`);
  const secrets = await i.ctx.client.list<Secret>(SECRETS, { namespace: ns, labelSelector: `${LABEL_VPG_UID}=${ref.uid}` });
  for (const s of secrets.items) await i.ctx.client.delete(SECRETS, s.metadata?.name ?? '', ns);
  return left;
}

/** Removes the restore Secrets and their exports on the recovery VRA (scratch space back). */
async function dropExports(i: TestInput, ref: VpgRef, ns: string): Promise<void> {
  const secrets = await i.ctx.client.list<Secret>(SECRETS, { namespace: ns, labelSelector: `${LABEL_VPG_UID}=${ref.uid}` });
  const side = recoverySide(i.ctx.cache, i.config, i.vpg);
  if ('side' in side && i.client !== undefined) {
    // Every export of the stream is this VPG's recovery's: also those a restart left without a Secret.
    const held = await i.client.get<{ exports: { exportId: string }[] }>(side.side.vra, `/v1/streams/${encodeURIComponent(side.side.streamId)}/exports`).catch(() => ({ exports: [] }));
    for (const e of held.exports) {
      await i.client.delete(side.side.vra, `/v1/exports/${encodeURIComponent(e.exportId)}`).catch((err: unknown) => {
        if (!(err instanceof VraApiError && (err.status === 404 || err.status === 410))) throw err;
      });
    }
  }
  for (const s of secrets.items) await i.ctx.client.delete(SECRETS, s.metadata?.name ?? '', ns);
}

function hasEnded(steps: OperationRecord['steps'], name: string): boolean {
  return steps?.some((s) => s.name === name && s.endTime !== undefined) === true;
}

function latest(times: (string | undefined)[]): number | undefined {
  const ms = times.flatMap((t) => (t === undefined ? [] : [Date.parse(t)])).filter((t) => Number.isFinite(t));
  return ms.length === 0 ? undefined : Math.max(...ms);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
