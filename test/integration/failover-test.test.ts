// Failover tests end to end on a real control plane, VRA and ZCC pods and restore Jobs as real
// processes, the operator's controllers in this process: a tagged checkpoint from a while back is
// restored into new claims in the test namespace (the restore pods verify the content against the
// digest the source recorded at that checkpoint), the workload starts there on the recovery site,
// isolated by NetworkPolicy, while production keeps running and replicating; stopping removes it
// all and tags the checkpoint; the operator stopped during every step still finishes correctly;
// a checkpoint that does not exist is a clear error.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '../cluster/net.ts';
import { diffSnapshots, snapshotTree, type Snapshot } from '../replicator/support/snapshot.ts';
import { JOBS, NETWORK_POLICIES, STATEFUL_SETS, VPGS } from '../../src/controllers/resources.ts';
import type { Deployment, PersistentVolumeClaim, Pod, StatefulSet } from '../../src/kube/objects.ts';
import type { VPGStatus } from '../../src/crds/vpg.ts';
import { DEPLOYMENTS, PERSISTENT_VOLUME_CLAIMS, PODS, SECRETS } from '../../src/runtime/index.ts';
import { startRecoveryEnv, type RecoveryEnv, type Vpg } from './support/recovery-env.ts';

const UID_LABEL = 'zcsp.io/vpg-uid';

/** A second application of acme's: a StatefulSet and a Deployment on one node, in two boot groups. */
const SHOP = `
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db, namespace: acme-prod }
spec:
  serviceName: db
  replicas: 1
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec:
      nodeSelector: { kubernetes.io/hostname: prod-2 }
      containers: [{ name: db, image: ghcr.io/zcsp/zcsp:0.1.0, args: [diag, --port, "8091", --stamp, /data/stamp.json], volumeMounts: [{ name: data, mountPath: /data }] }]
  volumeClaimTemplates: [{ metadata: { name: data }, spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } } }]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: front-data, namespace: acme-prod }
spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: front, namespace: acme-prod, labels: { app: front } }
spec:
  replicas: 1
  selector: { matchLabels: { app: front } }
  template:
    metadata: { labels: { app: front } }
    spec:
      nodeSelector: { kubernetes.io/hostname: prod-2 }
      containers: [{ name: front, image: ghcr.io/zcsp/zcsp:0.1.0, args: [diag, --port, "8092", --stamp, /data/stamp.json], volumeMounts: [{ name: data, mountPath: /data }] }]
      volumes: [{ name: data, persistentVolumeClaim: { claimName: front-data } }]
---
apiVersion: zcsp.io/v1alpha1
kind: VPG
metadata: { name: shop, namespace: acme-prod }
spec:
  protectedSite: prod
  recoverySite: dr
  volumes: { claimNames: [data-db-0, front-data] }
  bootOrder:
    - { name: database, workloads: [{ kind: StatefulSet, name: db }] }
    - { name: frontend, delaySeconds: 5, workloads: [{ kind: Deployment, selector: { matchLabels: { app: front } } }] }
  recovery: { namespace: acme-dr, testNamespace: acme-test }
`;
const tested = (s: VPGStatus | undefined): { status: string; reason: string } | undefined => s?.conditions?.find((c) => c.type === 'Tested');

describe('failover test', { timeout: 900_000 }, () => {
  let env: RecoveryEnv;
  let admin: RecoveryEnv['admin'];
  const figures: Record<string, number | string> = {};

  const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 180_000): Promise<void> =>
    waitFor(async () => check(), { what, timeoutMs, intervalMs: 500 });
  const vpg = (): Promise<Vpg> => env.vpg();
  const volumeDir = (claim: string, ns: string): Promise<string> => env.volumeDir(claim, ns);
  const stage = async (): Promise<string | undefined> => {
    const s = (await vpg()).status?.operation;
    return s === undefined ? undefined : `${s.stage}${s.error === undefined ? '' : ` (${s.error})`}`;
  };
  const waitStage = (what: string, check: (op: NonNullable<VPGStatus['operation']> | undefined) => boolean, timeoutMs = 240_000): Promise<void> =>
    env.waitOperation(what, check, { timeoutMs });
  const leftInTestNamespace = async (uid: string): Promise<string[]> => {
    const sel = { labelSelector: `${UID_LABEL}=${uid}`, namespace: 'acme-test' };
    const kinds = [DEPLOYMENTS, STATEFUL_SETS, JOBS, PERSISTENT_VOLUME_CLAIMS, NETWORK_POLICIES, SECRETS, PODS] as const;
    const left: string[] = [];
    for (const k of kinds) for (const o of (await admin.list(k, sel)).items) left.push(`${k.kind}/${o.metadata?.name ?? ''}`);
    return left;
  };
  const exportsOnVra = async (): Promise<unknown[]> => (await env.onRecoveryVra<{ exports: unknown[] }>('exports')).exports;
  const checkpointsOnVra = async (): Promise<{ seq: number; tags?: string[] }[]> => (await env.onRecoveryVra<{ checkpoints: { seq: number; tags?: string[] }[] }>('checkpoints')).checkpoints;
  const setOperation = (operation: unknown): Promise<unknown> => env.setOperation(operation);

  before(async () => {
    env = await startRecoveryEnv();
    admin = env.admin;
  });

  after(async () => {
    await env.stop();
    process.stdout.write(`# failover test figures: ${JSON.stringify(figures)}\n`);
  });

  let tagged: Snapshot;
  let tagTime = 0;
  let changedAt = 0;

  it('tags a checkpoint on request (annotation), and the tag is listed', async () => {
    // Known data, then a tagged checkpoint that holds it.
    const src = await volumeDir('app-data', 'acme-prod');
    await mkdir(join(src, 'docs'), { recursive: true });
    for (let i = 0; i < 30; i++) await writeFile(join(src, 'docs', `f${i}.bin`), Buffer.alloc(40_000 + i * 997, i + 1));
    tagged = snapshotTree(join(src, 'docs'));
    await admin.mergePatch(VPGS, 'web', 'acme-prod', { metadata: { annotations: { 'zcsp.io/tag-checkpoint': 'before-change' } } });
    await until('the tag in status.checkpoints.tagged', async () => {
      const v = await vpg();
      const found = v.status?.checkpoints?.tagged?.find((c) => c.tag === 'before-change');
      if (found !== undefined) tagTime = Date.parse(found.time);
      return found !== undefined && v.metadata?.annotations?.['zcsp.io/tag-checkpoint'] === undefined;
    });
    // Production changes afterwards: the test must not show any of it.
    for (let i = 0; i < 30; i += 2) await writeFile(join(src, 'docs', `f${i}.bin`), Buffer.alloc(1000, 0xee));
    await rm(join(src, 'docs', 'f1.bin'));
    await writeFile(join(src, 'docs', 'late.bin'), 'written after the tag');
    changedAt = Date.now();
    // Bad tags are refused with an event, and the request goes.
    await admin.mergePatch(VPGS, 'web', 'acme-prod', { metadata: { annotations: { 'zcsp.io/tag-checkpoint': 'x'.repeat(129) } } });
    await until('the bad tag request removed', async () => (await vpg()).metadata?.annotations?.['zcsp.io/tag-checkpoint'] === undefined);
  });

  it('recovers a checkpoint from a while back into the test namespace and starts the workload there, production untouched', async () => {
    // The tagged checkpoint is not the latest: the changes after it are in a later one.
    await until('a checkpoint with the changes after the tag', async () => Date.parse((await vpg()).status?.checkpoints?.latest?.time ?? '') > changedAt, 120_000);
    const before = await vpg();
    const prodPod = (await admin.list<Pod>(PODS, { namespace: 'acme-prod', labelSelector: 'app=web' })).items[0];
    const latestBefore = Number(before.status?.checkpoints?.latest?.id ?? 0);
    const t0 = Date.now();
    await setOperation({ type: 'FailoverTest', checkpoint: { type: 'Named', name: 'before-change' } });
    await waitStage('the test running', (op) => op?.stage === 'Running');
    figures['testRunningMs'] = Date.now() - t0;
    const v = await vpg();
    const op = v.status?.operation;
    assert.equal(v.status?.phase, 'Testing');
    assert.equal(op?.checkpoint?.tag, 'before-change');
    assert.ok(Math.abs(Date.parse(op.checkpoint.time) - tagTime) < 1000);
    assert.ok((op.rtoSeconds ?? -1) >= 0);
    assert.deepEqual(op.steps?.map((s) => s.name), ['Prepare', 'Restore', 'Start app']);
    assert.ok(op.steps.every((s) => s.endTime !== undefined));
    figures['rtoSeconds'] = op.rtoSeconds ?? -1;

    // The recovered claim holds the source as it was at the tagged checkpoint.
    const recovered = await admin.get<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, 'app-data', 'acme-test');
    assert.equal(recovered.status?.phase, 'Bound');
    assert.deepEqual(diffSnapshots(tagged, snapshotTree(join(await volumeDir('app-data', 'acme-test'), 'docs'))), []);
    // The restore pod checked the whole volume against the source's digest of that checkpoint.
    const job = (await admin.list(JOBS, { namespace: 'acme-test', labelSelector: `${UID_LABEL}=${v.metadata?.uid ?? ''}` })).items[0];
    assert.ok(job?.spec?.template.spec?.containers[0]?.args?.includes('--verify'));
    // The workload runs at the recovery site, isolated.
    const copy = await admin.get<Deployment>(DEPLOYMENTS, 'web', 'acme-test');
    assert.deepEqual(copy.spec?.template.spec?.nodeSelector, { 'zcsp.io/site': 'dr' });
    const pods = (await admin.list<Pod>(PODS, { namespace: 'acme-test', labelSelector: 'app=web' })).items;
    assert.equal(pods.length, 1);
    assert.match(pods[0]?.spec?.nodeName ?? '', /^dr-/);
    const policies = (await admin.list(NETWORK_POLICIES, { namespace: 'acme-test', labelSelector: `${UID_LABEL}=${v.metadata?.uid ?? ''}` })).items.map((p) => p.metadata?.name).sort();
    assert.deepEqual(policies, ['zcsp-restore-web', 'zcsp-test-web']);
    // Scratch copies and tokens are gone once restored.
    assert.deepEqual(await exportsOnVra(), []);
    assert.equal((await admin.list(SECRETS, { namespace: 'acme-test', labelSelector: `${UID_LABEL}=${v.metadata?.uid ?? ''}` })).items.length, 0);

    // Production ran and replicated all along.
    const prodNow = (await admin.list<Pod>(PODS, { namespace: 'acme-prod', labelSelector: 'app=web' })).items[0];
    assert.equal(prodNow?.metadata?.uid, prodPod?.metadata?.uid);
    await until('replication going on during the test', async () => Number((await vpg()).status?.checkpoints?.latest?.id ?? 0) > latestBefore + 2, 60_000);
    assert.ok(((await vpg()).status?.rpoSeconds ?? Infinity) <= 60);
    assert.equal(tested((await vpg()).status)?.reason, 'TestedRecently');
  });

  it('stopping the test removes all of it, tags the checkpoint and records the test', async () => {
    const uid = (await vpg()).metadata?.uid ?? '';
    await setOperation(null);
    await waitStage('the test stopped', (op) => op === undefined);
    assert.deepEqual(await leftInTestNamespace(uid), []);
    const s = (await vpg()).status ?? {};
    const last = s.history?.[0];
    assert.equal(last?.type, 'FailoverTest');
    assert.equal(last.result, 'Succeeded');
    assert.equal(s.lastTest?.result, 'Succeeded');
    assert.equal(s.lastTest.checkpoint.tag, 'before-change');
    assert.notEqual(s.phase, 'Testing');
    const testedTag = `tested at ${s.lastTest.startTime}`;
    const testedId = s.lastTest.checkpoint.id;
    // The status lists one tag per checkpoint (its first): the journal has the new one.
    await until('the checkpoint tagged "tested at …"', async () => {
      const listed = await checkpointsOnVra();
      return listed.some((c) => String(c.seq) === testedId && (c.tags ?? []).includes(testedTag));
    }, 60_000);
    assert.equal(tested(s)?.status, 'True');
  });

  it('a checkpoint that is not in the journal is a clear error; stopping records a failed test', async () => {
    await setOperation({ type: 'FailoverTest', checkpoint: { type: 'Named', name: 'no-such-tag' } });
    await waitStage('the error', (op) => op?.error?.includes('no-such-tag') === true, 60_000);
    assert.equal((await vpg()).status?.phase, 'Testing');
    await setOperation(null);
    await waitStage('the test stopped', (op) => op === undefined, 60_000);
    const h = (await vpg()).status?.history?.[0];
    assert.equal(h?.result, 'Failed');
    assert.match(h.message ?? '', /no-such-tag/);
  });

  it('completes correctly when the operator stops during every step', async () => {
    const uid = (await vpg()).metadata?.uid ?? '';
    const restart = async (at: string): Promise<void> => {
      assert.ok(at.length > 0);
      await env.restartOperator();
    };
    await setOperation({ type: 'FailoverTest' });
    await waitStage('Preparing or later', (op) => op !== undefined);
    await restart(`prepare: ${await stage() ?? ''}`);
    await waitStage('restore Jobs created', (op) => op?.stage === 'Recovering');
    await until('a restore Job', async () => (await admin.list(JOBS, { namespace: 'acme-test', labelSelector: `${UID_LABEL}=${uid}` })).items.length > 0, 60_000);
    await restart('restore');
    await waitStage('the workload starting', (op) => op?.steps?.some((s) => s.name === 'Start app') === true || op?.stage === 'Running');
    await restart('start app');
    await waitStage('the test running', (op) => op?.stage === 'Running');
    await restart('running');
    const running = (await vpg()).status?.operation;
    assert.equal(running?.stage, 'Running');
    // One export, one claim, one workload: nothing was made twice.
    assert.equal((await admin.list(PERSISTENT_VOLUME_CLAIMS, { namespace: 'acme-test', labelSelector: `${UID_LABEL}=${uid}` })).items.length, 1);
    assert.equal((await admin.list(DEPLOYMENTS, { namespace: 'acme-test' })).items.length, 1);
    assert.deepEqual(await exportsOnVra(), []);
    await setOperation(null);
    await waitStage('stopping', (op) => op === undefined || op.stage === 'Stopping', 60_000);
    await restart('stopping');
    await waitStage('the test stopped', (op) => op === undefined);
    assert.deepEqual(await leftInTestNamespace(uid), []);
    const s = (await vpg()).status ?? {};
    assert.equal(s.history?.[0]?.result, 'Succeeded');
    assert.equal(s.history.filter((h) => h.startTime === running.startTime).length, 1);
  });

  it('starts a StatefulSet and a Deployment in boot order, the second group after its delay', async () => {
    await env.cluster.kubectl(['apply', '-f', '-'], { input: SHOP });
    await env.cluster.kubectl(['wait', '--for=condition=MeetingSLA', '-n', 'acme-prod', 'vpg/shop', '--timeout=300s']);
    await env.setOperation({ type: 'FailoverTest' }, 'shop');
    await env.waitOperation('the shop test running', (op) => op?.stage === 'Running', { name: 'shop' });
    const op = (await env.vpg('shop')).status?.operation ?? assert.fail('no operation');
    assert.deepEqual(op.steps?.map((s) => s.name), ['Prepare', 'Restore', 'Start database', 'Start frontend']);
    // The StatefulSet found its claim (same name as the protected one) and runs; the Deployment came 5 s after it was ready.
    const db = await admin.get<StatefulSet>(STATEFUL_SETS, 'db', 'acme-test');
    assert.equal(db.status?.readyReplicas, 1);
    assert.equal((await admin.get<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, 'data-db-0', 'acme-test')).metadata?.labels?.[UID_LABEL], (await env.vpg('shop')).metadata?.uid);
    const dbReady = Date.parse(db.metadata?.annotations?.['zcsp.io/ready-at'] ?? '');
    const front = await admin.get<Deployment>(DEPLOYMENTS, 'front', 'acme-test');
    const gap = (Date.parse(front.metadata?.creationTimestamp ?? '') - dbReady) / 1000;
    // creationTimestamp has whole seconds.
    assert.ok(gap >= 4, `front created ${gap} s after db was ready (delay 5 s)`);
    figures['bootGapSeconds'] = gap;
    await env.setOperation(null, 'shop');
    await env.waitOperation('the shop test stopped', (o) => o === undefined, { name: 'shop' });
    assert.deepEqual(await leftInTestNamespace((await env.vpg('shop')).metadata?.uid ?? ''), []);
  });
});

