// Live failover, commit, reverse protection and failback end to end, with the operator stopped
// and started again at every step: the workload's volume keeps changing until the failover stops
// it; the final checkpoint holds every write; the workload comes up in the recovery namespace;
// after the commit a reverse VPG protects it back, starting from the old volume (a delta sync);
// data written on the recovery side comes home with the failback (a move along the reverse VPG);
// a rollback puts the protected side back as it was.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { diffSnapshots, snapshotTree, type Snapshot } from '../replicator/support/snapshot.ts';
import { waitFor } from '../cluster/net.ts';
import { VPGS } from '../../src/controllers/resources.ts';
import { vraName } from '../../src/controllers/site/index.ts';
import { signalPodProcesses } from '../cluster/process.ts';
import type { Deployment, PersistentVolumeClaim, Pod } from '../../src/kube/objects.ts';
import { DEPLOYMENTS, PERSISTENT_VOLUME_CLAIMS, PODS } from '../../src/runtime/index.ts';
import { startRecoveryEnv, type Operation, type RecoveryEnv } from './support/recovery-env.ts';

const PROD = 'acme-prod';
const DR = 'acme-dr';

describe('failover, reverse protection and failback', { timeout: 1_200_000 }, () => {
  let env: RecoveryEnv;
  const figures: Record<string, number | string> = {};
  const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 240_000): Promise<void> =>
    waitFor(async () => check(), { what, timeoutMs, intervalMs: 500 });
  const deployment = (ns: string): Promise<Deployment> => env.admin.get<Deployment>(DEPLOYMENTS, 'web', ns);
  const runningPods = async (ns: string): Promise<Pod[]> =>
    (await env.admin.list<Pod>(PODS, { namespace: ns, labelSelector: 'app=web' })).items.filter((p) => p.status?.phase === 'Running' && p.metadata?.deletionTimestamp === undefined);
  const phase = async (name: string, ns: string): Promise<string | undefined> => (await env.vpg(name, ns)).status?.phase;
  /** The volume's content as the recovery VRA holds it at a checkpoint (materialised into its restore folder). */
  const atCheckpoint = async (seq: number, name: string, ns: string): Promise<Snapshot> => {
    const dir = `t${Date.now()}`;
    await env.postRecoveryVra('materialise', { checkpoint: seq, targets: { 'app-data': `/var/lib/zcsp/vra/restore/${dir}/app-data` } }, name, ns);
    return snapshotTree(join(await env.recoveryVraData(name, ns), 'restore', dir, 'app-data'));
  };

  before(async () => {
    env = await startRecoveryEnv();
  });
  after(async () => {
    await env.stop();
    process.stdout.write(`# failover figures: ${JSON.stringify(figures)}\n`);
  });

  it('fails over live with the operator restarted at every step: the final checkpoint holds every write, the workload runs in the recovery namespace', async () => {
    const src = await env.volumeDir('app-data', PROD);
    await mkdir(join(src, 'docs'), { recursive: true });
    for (let i = 0; i < 20; i++) await writeFile(join(src, 'docs', `f${i}.bin`), Buffer.alloc(30_000 + i * 101, i + 3));
    const t0 = Date.now();
    await env.setOperation({ type: 'Failover', commitPolicy: { type: 'Manual' }, reverseProtection: true });
    await env.waitOperation('stopping the protected workloads', (op) => op?.steps?.some((s) => s.name === 'Stop protected workloads') === true);
    await env.restartOperator();
    await env.waitOperation('the final checkpoint', (op) => op?.steps?.some((s) => s.name === 'Final checkpoint') === true || op?.stage === 'Recovering' || op?.stage === 'BeforeCommit');
    await env.restartOperator();
    await env.waitOperation('recovering', (op) => op?.stage === 'Recovering' || op?.stage === 'BeforeCommit');
    await env.restartOperator();
    await env.waitOperation('before commit', (op) => op?.stage === 'BeforeCommit');
    figures['failoverBeforeCommitMs'] = Date.now() - t0;
    await env.restartOperator();

    const status = (await env.vpg()).status ?? {};
    const op = status.operation ?? assert.fail('no operation');
    assert.deepEqual([status.phase, status.substatus], ['FailingOver', 'BeforeCommit']);
    assert.equal(op.commitDeadline, undefined, 'Manual: no deadline');
    assert.deepEqual(op.steps?.map((s) => s.name), ['Prepare', 'Stop protected workloads', 'Final checkpoint', 'Restore', 'Start app', 'Before commit']);
    figures['failoverRtoSeconds'] = op.rtoSeconds ?? -1;
    // The protected workload is stopped, its replica count kept.
    const prod = await deployment(PROD);
    assert.deepEqual([prod.spec?.replicas, prod.metadata?.annotations?.['zcsp.io/replicas-before-failover']], [0, '1']);
    assert.equal((await runningPods(PROD)).length, 0);
    // Nothing written before the final checkpoint is lost: it equals the stopped volume, and the recovered claim holds it.
    const final = Number(op.checkpoint?.id);
    const stopped = snapshotTree(src);
    assert.deepEqual(diffSnapshots(stopped, await atCheckpoint(final, 'web', PROD)), []);
    assert.match(op.checkpoint?.tag ?? '', /^before failover at /);
    const recovered = await env.volumeDir('app-data', DR);
    assert.deepEqual(diffSnapshots(snapshotTree(join(src, 'docs')), snapshotTree(join(recovered, 'docs'))), []);
    const copy = await deployment(DR);
    assert.deepEqual(copy.spec?.template.spec?.nodeSelector, { 'zcsp.io/site': 'dr' });
    assert.equal((await runningPods(DR)).length, 1);
  });

  it('commits: the recovered workload is production, a reverse VPG protects it back from the old volume (a delta sync)', async () => {
    await env.setOperation({ decision: 'Commit' });
    await env.waitOperation('committing or done', (op) => op === undefined || op.stage === 'Committing');
    await env.restartOperator();
    await env.waitOperation('committed', (op) => op === undefined);
    const v = await env.vpg();
    assert.equal(v.spec?.operation, undefined, 'the operator removed the finished operation');
    const last = v.status?.history?.[0];
    assert.deepEqual([last?.type, last?.result], ['Failover', 'Succeeded']);
    assert.deepEqual([v.status?.failedOver?.namespace, v.status?.failedOver?.reverseVpg], [DR, 'web']);
    await until('the original VPG FailedOver', async () => (await phase('web', PROD)) === 'FailedOver');
    // Production now: nothing of the recovery's labels is left to undo it.
    const claim = await env.admin.get<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, 'app-data', DR);
    assert.equal(claim.metadata?.labels?.['zcsp.io/vpg-uid'], undefined);
    assert.equal((await env.admin.get<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, 'app-data', PROD)).metadata?.annotations?.['zcsp.io/superseded-by'], `${DR}/web`);
    // The reverse VPG: from dr back to prod, its journal on the node of the old volume, seeded from it.
    const reverse = await env.vpg('web', DR);
    assert.equal(reverse.metadata?.annotations?.['zcsp.io/reverse-of'], `${PROD}/web`);
    const t0 = Date.now();
    await env.cluster.kubectl(['wait', '--for=condition=MeetingSLA', '-n', DR, 'vpg/web', '--timeout=300s']);
    figures['reverseMeetingSlaMs'] = Date.now() - t0;
    const placed = (await env.vpg('web', DR)).status?.placement;
    assert.equal(placed?.recoveryNode, (await env.vpg()).status?.placement?.protectedNode);
    // Its replica started from the old volume, read on that node: the first sync was the difference only.
    const target = await env.onRecoveryVra<{ status: { volumes?: { name: string; seeded?: boolean; seedError?: string }[] } }>('', 'web', DR);
    assert.deepEqual(target.status.volumes?.map((v) => [v.name, v.seeded, v.seedError]), [['app-data', true, undefined]]);
  });

  it('fails back by a move along the reverse VPG: what was written at the recovery site comes home', async () => {
    const atDr = await env.volumeDir('app-data', DR);
    await writeFile(join(atDr, 'written-at-dr.txt'), `written during the failover at ${new Date().toISOString()}\n`);
    const t0 = Date.now();
    await env.setOperation({ type: 'Move', commitPolicy: { type: 'AutoCommit', timeoutMinutes: 0 } }, 'web', DR);
    const reverse = { name: 'web', ns: DR };
    const past = (op: Operation | undefined, step: string): boolean => op === undefined || op.stage !== 'Preparing' || op.steps?.some((s) => s.name === step) === true;
    await env.waitOperation('stopping the workloads at dr', (op) => past(op, 'Stop protected workloads'), reverse);
    await env.restartOperator();
    await env.waitOperation('the final checkpoint at dr', (op) => past(op, 'Final checkpoint'), reverse);
    await env.restartOperator();
    await env.waitOperation('moving back', (op) => op?.stage === 'Recovering' || op?.stage === 'BeforeCommit' || op === undefined, reverse);
    await env.restartOperator();
    await env.waitOperation('moved back', (op) => op === undefined, { name: 'web', ns: DR, timeoutMs: 300_000 });
    figures['failbackMs'] = Date.now() - t0;
    const moved = (await env.vpg('web', DR)).status?.history?.[0];
    assert.deepEqual([moved?.type, moved?.result], ['Move', 'Succeeded'], moved?.message);
    // Home again: the data written at dr is in the production volume, the production workload runs again.
    const home = await env.volumeDir('app-data', PROD);
    assert.match(await readFile(join(home, 'written-at-dr.txt'), 'utf8'), /written during the failover/);
    await until('the production workload running again', async () => (await runningPods(PROD)).length === 1);
    assert.equal((await deployment(PROD)).spec?.replicas, 1);
    assert.equal((await deployment(DR)).spec?.replicas, 0);
    // The original VPG protects home again (failedOver cleared), the reverse one rests.
    await until('the original VPG protecting again', async () => (await env.vpg()).status?.failedOver === undefined);
    await env.cluster.kubectl(['wait', '--for=condition=MeetingSLA', '-n', PROD, 'vpg/web', '--timeout=300s']);
    await until('the reverse VPG FailedOver', async () => (await phase('web', DR)) === 'FailedOver');
  });

  it('rolls back a failover before the commit: the protected side runs as before, nothing is left at the recovery site', async () => {
    await env.setOperation({ type: 'Failover', commitPolicy: { type: 'AutoRollback', timeoutMinutes: 0 } });
    await env.waitOperation('rolling back', (op) => op?.stage === 'RollingBack' || op === undefined);
    await env.restartOperator();
    await env.waitOperation('rolled back', (op) => op === undefined);
    const v = await env.vpg();
    assert.deepEqual([v.status?.history?.[0]?.result, v.status?.failedOver], ['RolledBack', undefined]);
    await until('the production workload running again', async () => (await runningPods(PROD)).length === 1);
    assert.equal((await deployment(PROD)).metadata?.annotations?.['zcsp.io/replicas-before-failover'], undefined);
    // At dr: the workload the failback left stopped is stopped again.
    assert.equal((await deployment(DR)).spec?.replicas, 0);
    assert.equal((await runningPods(DR)).length, 0);
    await env.cluster.kubectl(['wait', '--for=condition=MeetingSLA', '-n', PROD, 'vpg/web', '--timeout=300s']);
    assert.equal((await env.admin.get(VPGS, 'web', PROD)).spec !== undefined, true);
  });

  it('fails over with the protected site down: straight to the latest checkpoint in the journal, nothing asked of the protected side', async () => {
    const placement = (await env.vpg()).status?.placement;
    const vra = vraName('prod', placement?.protectedNode ?? '');
    const latest = Number((await env.vpg()).status?.checkpoints?.latest?.id);
    assert.ok(signalPodProcesses(env.cluster.id, vra, 'SIGSTOP') > 0, `found the processes of ${vra}`);
    try {
      await env.setOperation({ type: 'Failover', commitPolicy: { type: 'Manual' } });
      await env.waitOperation('before commit', (op) => op?.stage === 'BeforeCommit');
      const op = (await env.vpg()).status?.operation ?? assert.fail('no operation');
      assert.deepEqual(op.steps?.map((s) => s.name), ['Prepare', 'Restore', 'Start app', 'Before commit']);
      assert.ok(Number(op.checkpoint?.id) >= latest, `checkpoint ${op.checkpoint?.id ?? '?'} is the journal's latest (≥ ${latest})`);
      // The protected workload was left alone (its site is "down").
      assert.equal((await deployment(PROD)).spec?.replicas, 1);
      await env.setOperation({ decision: 'Rollback' });
      await env.waitOperation('rolled back', (op) => op === undefined);
    } finally {
      signalPodProcesses(env.cluster.id, vra, 'SIGCONT');
    }
    assert.equal((await env.vpg()).status?.history?.[0]?.result, 'RolledBack');
    await env.cluster.kubectl(['wait', '--for=condition=MeetingSLA', '-n', PROD, 'vpg/web', '--timeout=300s']);
  });
});

