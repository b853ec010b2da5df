// Sizing end to end on a real control plane, VRA and ZCC pods as real processes, the operator's
// controllers in this process: the protected VRA measures each volume's change rate from what it
// captures; a VPG in spec.mode Assess measures without shipping anything (nothing reaches the
// recovery VRA) and then protects when switched to Protect; the figures land in the VPG's
// status.sizing and are summed into its Zorg's and Sites' status; a journal that the configured
// history would push past its hard limit raises JournalWithinHardLimit=False before any history is
// lost; the API server refuses going back to Assess and an operation on an assessment.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '../cluster/net.ts';
import { SERVICE_PROFILES, SITES, VPGS, ZORGS } from '../../src/controllers/resources.ts';
import { vraName } from '../../src/controllers/site/index.ts';
import type { VPGStatus } from '../../src/crds/vpg.ts';
import type { SiteStatus } from '../../src/crds/site.ts';
import type { ZorgStatus } from '../../src/crds/zorg.ts';
import type { Pod } from '../../src/kube/objects.ts';
import { PODS, findStatusCondition, type Condition } from '../../src/runtime/index.ts';
import { PROVIDER, startRecoveryEnv, type RecoveryEnv } from './support/recovery-env.ts';
import { runPlugin, showRun } from './support/kubectl-plugin.ts';

/** A profile whose journal may hold 8 MiB: a few MiB written in a minute project far past it over 24 h. */
const TINY = `
apiVersion: zcsp.io/v1alpha1
kind: ServiceProfile
metadata: { name: tiny }
spec:
  journal: { historyHours: 24, hardLimit: { type: Size, size: 8Mi }, warningThreshold: { type: Size, size: 4Mi } }
`;

/** A claim and a pod that binds it on prod-2, and a VPG assessing it. */
const ASSESSED = `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: reports-data, namespace: acme-prod }
spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 2Gi } } }
---
apiVersion: v1
kind: Pod
metadata: { name: reports, namespace: acme-prod }
spec:
  nodeSelector: { kubernetes.io/hostname: prod-2 }
  containers: [{ name: app, image: ghcr.io/zcsp/zcsp:0.1.0, args: [diag, --port, "8093"], volumeMounts: [{ name: data, mountPath: /data }] }]
  volumes: [{ name: data, persistentVolumeClaim: { claimName: reports-data } }]
---
apiVersion: zcsp.io/v1alpha1
kind: VPG
metadata: { name: reports, namespace: acme-prod }
spec:
  mode: Assess
  serviceProfile: tiny
  protectedSite: prod
  recoverySite: dr
  volumes: { claimNames: [reports-data] }
  recovery: { namespace: acme-dr, testNamespace: acme-test }
`;

const MiB = 2 ** 20;

describe('sizing: change rates, assessment, capacity figures and the journal alert', { timeout: 900_000 }, () => {
  let env: RecoveryEnv;
  const status = async (name: string): Promise<VPGStatus> => (await env.vpg(name)).status ?? {};
  const condition = (s: VPGStatus, type: string): Condition | undefined => findStatusCondition(s.conditions as Condition[] | undefined, type);
  const until = (what: string, check: () => Promise<boolean>, timeoutMs = 240_000): Promise<void> =>
    waitFor(async () => await check() || Promise.reject(new Error('not yet')), { what, timeoutMs, intervalMs: 1000 });
  /** Streams the VRA of `node` at `site` runs, by id, with their roles. */
  const streamsOn = async (site: string, node: string): Promise<{ id: string; status: { role: string } }[]> => {
    const pod = await env.admin.get<Pod>(PODS, vraName(site, node), PROVIDER);
    const body = await env.vras.get<{ streams: { id: string; status: { role: string } }[] }>({ uid: pod.metadata?.uid ?? '', host: pod.status?.podIP ?? '', port: 9441 }, '/v1/streams');
    return body.streams;
  };

  /** Writers of both volumes, started at once so that both measurements run side by side. */
  const writers: ReturnType<typeof setInterval>[] = [];
  const stopWriters = (): void => {
    for (const w of writers.splice(0)) clearInterval(w);
  };

  before(async () => {
    env = await startRecoveryEnv();
    await env.cluster.kubectl(['apply', '-f', '-'], { input: TINY });
    await env.admin.mergePatch(ZORGS, 'acme', undefined, { spec: { allowedServiceProfiles: ['gold', 'tiny'] } });
    await env.cluster.kubectl(['apply', '-f', '-'], { input: ASSESSED });
    // web: 256 KiB of random data every 2 s, beside the example app's stamp file.
    const web = await env.volumeDir('app-data', 'acme-prod');
    writers.push(setInterval(() => {
      void writeFile(join(web, 'churn.bin'), randomBytes(256 * 1024)).catch(() => undefined);
    }, 2000));
    // reports: 1 MiB every 3 s over four files, well past the tiny profile's 8 MiB journal over 24 h.
    await until('reports-data is bound', async () => {
      try {
        await env.volumeDir('reports-data', 'acme-prod');
        return true;
      } catch {
        return false;
      }
    }, 120_000);
    const reports = join(await env.volumeDir('reports-data', 'acme-prod'), 'out');
    await mkdir(reports, { recursive: true });
    let n = 0;
    writers.push(setInterval(() => {
      void writeFile(join(reports, `r${String(n++ % 4)}.bin`), randomBytes(MiB)).catch(() => undefined);
    }, 3000));
  });
  after(async () => {
    stopWriters();
    await env.stop();
  });

  it('measures a protected VPG\'s change rate from what it replicates, and reports what it needs', async () => {
    await until('web has status.sizing', async () => (await status('web')).sizing !== undefined);
    const s = await status('web');
    const sizing = s.sizing;
    assert.ok(sizing !== undefined);
    assert.equal(sizing.basis.source, 'Measured');
    assert.ok(sizing.basis.measuredSeconds >= 60, `measured ${String(sizing.basis.measuredSeconds)} s`);
    const volume = s.volumes?.find((v) => v.claimName === 'app-data');
    assert.ok(volume?.changeRate !== undefined, 'the volume shows its rate');
    // 256 KiB of random data every 2 s is 450 MiB an hour; the initial sync is not counted, so the
    // rate is not the volume's size spread over a minute. Random data does not compress.
    assert.ok(volume.changeRate.averageBytesPerHour > 100 * MiB && volume.changeRate.averageBytesPerHour < 2048 * MiB, `raw ${String(volume.changeRate.averageBytesPerHour)} B/h`);
    assert.ok(volume.changeRate.averageCompressedBytesPerHour > 0.8 * volume.changeRate.averageBytesPerHour, 'random data does not compress');
    assert.equal(sizing.replicaBytes, sizing.protectedBytes);
    assert.equal(sizing.journal.historyHours, 24);
    assert.ok(sizing.journal.projectedBytes >= 20 * sizing.change.averageCompressedBytesPerHour, 'a day of history holds about 24 hours of changes');
    assert.ok(sizing.wan.averageBitsPerSecond > 0 && sizing.wan.peakBitsPerSecond >= sizing.wan.averageBitsPerSecond);
    assert.ok(condition(s, 'JournalWithinHardLimit') !== undefined);
  });

  it('assesses a volume without replicating it: nothing reaches the recovery site, the figures come from the protected VRA', async () => {
    await until('reports is Assessing', async () => (await status('reports')).phase === 'Assessing', 180_000);
    const s = await status('reports');
    assert.equal(condition(s, 'Protected')?.reason, 'Assessing');
    assert.equal(s.placement?.recoveryNode, undefined, 'no journal is placed');
    const streamId = s.placement?.streamId ?? '';
    assert.deepEqual((await streamsOn('prod', 'prod-2')).filter((x) => x.id === streamId).map((x) => x.status.role), ['assess']);
    for (const node of ['dr-1', 'dr-2']) assert.ok(!(await streamsOn('dr', node)).some((x) => x.id === streamId), `nothing of the assessment on ${node}`);

    // Changes after the baseline are counted (the writer runs since the start).
    await until('reports has figures', async () => (await status('reports')).sizing !== undefined);
    stopWriters();
    const measured = await status('reports');
    const sizing = measured.sizing;
    assert.ok(sizing !== undefined);
    assert.equal(measured.volumes?.[0]?.state, 'Assessing');
    assert.ok(sizing.change.averageBytesPerHour > 100 * MiB, 'about a MiB every 3 s');
    assert.deepEqual([sizing.basis.source, sizing.journal.hardLimitBytes, sizing.journal.exceedsHardLimit], ['Assessment', 8 * MiB, true]);
    const alert = condition(measured, 'JournalWithinHardLimit');
    assert.equal(`${alert?.status ?? ''}/${alert?.reason ?? ''}`, 'False/ProjectedOverHardLimit');
    assert.match(alert?.message ?? '', /over the 8Mi hard limit/);
    const events = await env.cluster.kubectl(['events', '-n', 'acme-prod', '--for', 'vpg/reports']);
    assert.match(events, /ProjectedOverHardLimit/, 'the alert is an Event too');
  });

  it('sums the figures per Zorg and per Site', async () => {
    await until('acme\'s totals count both VPGs', async () => ((await env.admin.get(ZORGS, 'acme')).status as ZorgStatus | undefined)?.sizing?.vpgs === 2);
    const totals = ((await env.admin.get(ZORGS, 'acme')).status as ZorgStatus).sizing;
    const [web, reports] = [(await status('web')).sizing, (await status('reports')).sizing];
    assert.ok(totals !== undefined && web !== undefined && reports !== undefined);
    assert.equal(totals.vpgsOverHardLimit, 1);
    assert.equal(totals.protectedBytes, web.protectedBytes + reports.protectedBytes);
    assert.equal(totals.journalProjectedBytes, web.journal.projectedBytes + reports.journal.projectedBytes);
    await until('site dr has figures', async () => ((await env.admin.get(SITES, 'dr')).status as SiteStatus | undefined)?.sizing?.asRecoverySite.vpgs === 2);
    const dr = (await env.admin.get(SITES, 'dr')).status as SiteStatus;
    assert.ok((dr.sizing?.vraCapacityBytes ?? 0) > 0);
    assert.ok(findStatusCondition(dr.conditions as Condition[] | undefined, 'CapacitySufficient') !== undefined);
    const prod = (await env.admin.get(SITES, 'prod')).status as SiteStatus;
    assert.equal(prod.sizing?.asProtectedSite.vpgs, 2);
  });

  it('refuses an operation on an assessment, then protects it when switched to Protect, and refuses going back', async () => {
    await assert.rejects(env.setOperation({ type: 'FailoverTest' }, 'reports'), /an assessment has nothing to recover/);
    // As a tenant would: `kubectl zcsp protect` switches it and waits for the real controller.
    const switched = await runPlugin(env.cluster.binaries.kubectl, ['protect', 'reports', '-n', 'acme-prod', '--timeout', '2m'], { ...process.env, KUBECONFIG: env.cluster.kubeconfigPath });
    assert.equal(switched.code, 0, showRun(switched));
    assert.match(switched.stdout, /^VPG reports protects: phase (Initializing|MeetingSLA)/);
    assert.notEqual((await status('reports')).phase, 'Assessing');
    await until('reports protects', async () => (await status('reports')).checkpoints?.latest !== undefined, 300_000);
    const s = await status('reports');
    const streamId = s.placement?.streamId ?? '';
    assert.deepEqual((await streamsOn('prod', 'prod-2')).filter((x) => x.id === streamId).map((x) => x.status.role), ['source']);
    assert.ok(s.placement?.recoveryNode !== undefined);
    assert.ok((await streamsOn('dr', s.placement.recoveryNode)).some((x) => x.id === streamId), 'the journal is on the recovery VRA now');
    await assert.rejects(env.admin.mergePatch(VPGS, 'reports', 'acme-prod', { spec: { mode: 'Assess' } }), /cannot go back to Assess/);
    await env.admin.delete(SERVICE_PROFILES, 'tiny').catch(() => undefined);
  });
});
