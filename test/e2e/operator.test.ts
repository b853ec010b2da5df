// The operator as a user gets it: `helm install` into the local cluster, where the simulated
// kubelet runs the manager pods as real processes under exactly the chart's RBAC; then the
// examples are applied and the operator must bring them to life. Two replicas: one leads; killing
// it hands over to the other, which then writes nothing (steady state survives a restart).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { REPO_ROOT, startCluster, type LocalCluster } from '../cluster/cluster.ts';
import { waitFor } from '../cluster/net.ts';
import { signalPodProcesses } from '../cluster/process.ts';

/** SIGKILLs every process of a pod (found by the POD_NAME the chart gives it); returns how many. */
const killPodProcesses = (clusterId: string, pod: string): number => signalPodProcesses(clusterId, pod, 'SIGKILL');

const chart = fileURLToPath(new URL('../../deploy/helm/zcsp', import.meta.url));
const examples = fileURLToPath(new URL('../../examples', import.meta.url));
const NS = 'zcsp-system';
const statusCode = (err: unknown): number | undefined =>
  typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'number' ? err.code : undefined;

interface Conditioned { status?: { conditions?: { type: string; status: string; reason?: string }[] } }
const conditionTrue = (obj: Conditioned, type: string): boolean =>
  obj.status?.conditions?.some((c) => c.type === type && c.status === 'True') === true;

describe('operator installed with helm', { timeout: 900_000 }, () => {
  let cluster: LocalCluster;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;

  before(async () => {
    cluster = await startCluster({ crashLoopBackoff: { initialMs: 500, maxMs: 5000 } });
    core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  });
  after(async () => {
    await cluster.stop();
  });

  const managerPods = async (): Promise<V1Pod[]> =>
    (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app.kubernetes.io/component=manager' })).items
      .filter((p) => p.metadata?.deletionTimestamp === undefined);
  const ready = (p: V1Pod): boolean => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
  const leader = async (): Promise<string | undefined> => {
    const lease = await cluster.kubeConfig.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: 'zcsp-manager', namespace: NS });
    return lease.spec?.holderIdentity;
  };
  const metricsOf = async (pod: V1Pod): Promise<string> => (await fetch(`http://${pod.status?.podIP ?? ''}:8080/metrics`)).text();
  /** Sum of the samples of a metric whose labels contain every given label pair. */
  const sum = (text: string, metric: string, ...labels: string[]): number => {
    let total = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
      const sample = /^[^{ ]+(?:\{([^}]*)\})? (\S+)$/.exec(line);
      if (sample === null || !labels.every((l) => (sample[1] ?? '').includes(l))) continue;
      total += Number(sample[2]);
    }
    return total;
  };
  const WRITE_VERBS = ['create', 'update', 'patch', 'apply', 'delete', 'deletecollection'];
  const writesTo = (text: string, resource?: string): number =>
    WRITE_VERBS.reduce((n, verb) => n + sum(text, 'zcsp_api_requests_total', `verb="${verb}"`, ...(resource === undefined ? [] : [`resource="${resource}"`])), 0);
  /**
   * A pod's API writes (create, update, patch, apply, delete) other than Lease renewals and the
   * VPGs' periodic status figures (RPO, journal: refreshed every 30 s, counted apart).
   */
  const writesOf = async (pod: V1Pod): Promise<number> => {
    const text = await metricsOf(pod);
    return writesTo(text) - writesTo(text, 'leases.coordination.k8s.io') - writesTo(text, 'vpgs.zcsp.io/status');
  };
  const get = async (plural: string, name: string, namespace?: string): Promise<Conditioned> =>
    (namespace === undefined
      ? await custom.getClusterCustomObject({ group: 'zcsp.io', version: 'v1alpha1', plural, name })
      : await custom.getNamespacedCustomObject({ group: 'zcsp.io', version: 'v1alpha1', plural, name, namespace })) as Conditioned;

  it('installs with helm; both manager pods run and one holds the Lease', async () => {
    await cluster.helm(['install', 'zcsp', chart, '--namespace', NS, '--create-namespace', '--wait', '--timeout', '180s']);
    await waitFor(async () => (await managerPods()).filter(ready).length === 2, { what: 'two Ready manager pods', timeoutMs: 120_000, intervalMs: 500 });
    await waitFor(async () => (await leader()) !== undefined, { what: 'a leader', timeoutMs: 60_000, intervalMs: 500 });
    const holder = await leader();
    assert.ok((await managerPods()).some((p) => holder?.startsWith(p.metadata?.name ?? '?') === true), `the Lease holder ${holder ?? ''} is a manager pod`);
  });

  it('brings the examples to life: Sites with VRAs, a Ready Zorg with its namespaces and ZCC, the VPG MeetingSLA', async () => {
    // The tenant's workload and VPG (05, 06) need the tenant namespaces the Zorg creates: apply
    // the provider's part first, then the rest once the namespaces exist.
    for (const file of ['01-sites.yaml', '02-service-profile.yaml', '03-zorg.yaml', '04-zcc.yaml']) {
      await cluster.kubectl(['apply', '-f', `${examples}/${file}`]);
    }
    await waitFor(async () => conditionTrue(await get('zorgs', 'acme'), 'Ready'), { what: 'Zorg acme Ready', timeoutMs: 180_000, intervalMs: 1000 });
    for (const ns of ['acme-prod', 'acme-dr', 'acme-test']) {
      const namespace = await core.readNamespace({ name: ns });
      assert.equal(namespace.metadata?.labels?.['zcsp.io/zorg'], 'acme');
    }
    await cluster.kubectl(['apply', '-f', `${examples}/05-tenant-app.yaml`, '-f', `${examples}/06-vpg.yaml`]);
    await waitFor(async () => conditionTrue(await get('sites', 'prod'), 'Ready') && conditionTrue(await get('sites', 'dr'), 'Ready'),
      { what: 'Sites Ready', timeoutMs: 180_000, intervalMs: 1000 });
    const vras = (await core.listNamespacedPod({ namespace: NS, labelSelector: 'zcsp.io/role=vra' })).items;
    assert.equal(vras.filter(ready).length, 4, 'one Ready VRA per node of both sites');
    for (const vra of vras) {
      assert.equal((await (await fetch(`http://${vra.status?.podIP ?? ''}:9442/healthz`)).text()).trim(), 'ok');
    }
    await waitFor(async () => conditionTrue(await get('zccs', 'acme', NS), 'Ready'), { what: 'ZCC acme Ready', timeoutMs: 180_000, intervalMs: 1000 });
    // The tenant's volume replicates from prod to dr through its ZCC, as the user would wait for it.
    await cluster.kubectl(['wait', '--for=condition=MeetingSLA', '-n', 'acme-prod', 'vpg/web', '--timeout=240s']);
    // The example's hook (sync, in the web pod) ran under the chart's RBAC (pods/exec) and the
    // checkpoint after it is tagged app-consistent: part of the steady state the next test counts from.
    await cluster.kubectl(['wait', '--for=condition=AppConsistent', '-n', 'acme-prod', 'vpg/web', '--timeout=180s']);
    const appConsistent = (await get('vpgs', 'web', 'acme-prod') as { status?: { appConsistent?: { result?: string; checkpoint?: { tag?: string } } } }).status?.appConsistent;
    assert.deepEqual([appConsistent?.result, appConsistent?.checkpoint?.tag], ['Succeeded', 'app-consistent']);
  });

  it('gives a tenant admin their VPGs and nothing else', async () => {
    const admin = await cluster.user('bob@acme.example', ['acme-admins']);
    const asAdmin = admin.kubeConfig.makeApiClient(CustomObjectsApi);
    const vpgs = { group: 'zcsp.io', version: 'v1alpha1', plural: 'vpgs' };
    await waitFor(async () => (await asAdmin.listNamespacedCustomObject({ ...vpgs, namespace: 'acme-prod' })) !== undefined,
      { what: 'tenant admin may list VPGs', timeoutMs: 30_000 });
    const forbidden = (err: unknown): boolean => statusCode(err) === 403;
    await assert.rejects(admin.kubeConfig.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: 'acme-prod' }), forbidden);
    await assert.rejects(asAdmin.listNamespacedCustomObject({ ...vpgs, namespace: NS }), forbidden);
    await assert.rejects(asAdmin.patchClusterCustomObject({ group: 'zcsp.io', version: 'v1alpha1', plural: 'sites', name: 'prod', body: [{ op: 'add', path: '/spec/description', value: 'mine' }] }), forbidden);
  });

  it('hands over when the leader dies, and the new leader writes nothing at steady state', async () => {
    const previous = await leader();
    const pods = await managerPods();
    const leaderPod = pods.find((p) => previous?.startsWith(p.metadata?.name ?? '?') === true);
    assert.ok(leaderPod, 'the leader is one of the pods');
    const standby = pods.find((p) => p !== leaderPod);
    assert.ok(standby);
    const standbyWritesBefore = await writesOf(standby);
    const standbyVpgWritesBefore = writesTo(await metricsOf(standby), 'vpgs.zcsp.io/status');
    const dead = leaderPod.metadata?.name ?? '';
    // A crash: the leader's processes are SIGKILLed, so nothing releases the Lease; another
    // candidate (the standby, or the leader's own restarted container) must wait it out.
    const killed = killPodProcesses(cluster.id, dead);
    assert.ok(killed > 0, `found the processes of ${dead}`);
    const t0 = Date.now();
    let holder = '';
    // A new leader is a new identity: the dead pod's restarted container campaigns too (same pod
    // name, new random suffix) and may win the race against the standby.
    await waitFor(async () => {
      holder = (await leader()) ?? '';
      if (holder === '' || holder === previous) throw new Error(`holder is still ${holder === '' ? 'nobody' : holder}`);
      return true;
    }, { what: `a new leader after ${dead} died`, timeoutMs: 60_000, intervalMs: 250 });
    const takeover = Date.now() - t0;
    process.stdout.write(`# leader handover after a crash: ${takeover} ms (lease duration 15 s), to ${holder}\n`);
    assert.ok(takeover < 15_000 + 2 * 2000 + 3000, `takeover within the lease duration (took ${takeover} ms)`);
    let newLeader: V1Pod | undefined;
    await waitFor(async () => {
      newLeader = (await managerPods()).find((p) => holder.startsWith(p.metadata?.name ?? '?') && p.status?.podIP !== undefined);
      return newLeader !== undefined;
    }, { what: 'the new leader pod', timeoutMs: 30_000 });
    const leaderNow = newLeader as V1Pod;
    const writesBefore = leaderNow.metadata?.name === standby.metadata?.name ? standbyWritesBefore : 0;
    // The new leader re-reads everything and must find nothing to change. Its informers have to
    // sync and its controllers to run through every key: wait until every controller has
    // reconciled, no key waits and no worker runs, three polls in a row; then count.
    let quietRounds = 0;
    await waitFor(async () => {
      const m = await metricsOf(leaderNow);
      const reconciled = ['zorg', 'service-profile', 'site', 'zcc'].every((c) => sum(m, 'zcsp_reconcile_total', `controller="${c}"`) > 0);
      const idle = sum(m, 'zcsp_workqueue_depth') === 0 && sum(m, 'zcsp_controller_active_workers') === 0;
      quietRounds = reconciled && idle ? quietRounds + 1 : 0;
      return quietRounds >= 3;
    }, { what: 'the new leader reconciled everything and went quiet', timeoutMs: 120_000, intervalMs: 1000 });
    const writes = (await writesOf(leaderNow)) - writesBefore;
    const text = await metricsOf(leaderNow);
    const written = text.split('\n').filter((l) => l.startsWith('zcsp_api_requests_total') && /verb="(create|update|patch|apply|delete)/.test(l));
    assert.equal(writes, 0, `the new leader rewrote nothing:\n${written.join('\n')}`);
    // The one VPG's figures: at most one refresh per 30 s since the takeover, plus the first.
    const vpgStatusWrites = writesTo(text, 'vpgs.zcsp.io/status') - (leaderNow.metadata?.name === standby.metadata?.name ? standbyVpgWritesBefore : 0);
    assert.ok(vpgStatusWrites <= 1 + Math.floor((Date.now() - t0) / 30_000), `${vpgStatusWrites} VPG status writes in ${Date.now() - t0} ms`);
  });

  it('lets a tenant Operator run a failover test with kubectl zcsp, through a killed leader, and refuses them a live failover', async () => {
    const alice = await cluster.user('alice@acme.example');
    const zcsp = (args: readonly string[]): Promise<{ code: number | null; out: string; err: string }> => new Promise((resolve, reject) => {
      const child = spawn(cluster.binaries.kubectl, ['zcsp', ...args, '-n', 'acme-prod', '--timeout', '8m'], {
        env: { ...process.env, PATH: `${join(REPO_ROOT, 'bin')}:${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`, KUBECONFIG: alice.kubeconfigPath },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, out, err }));
    });
    // Refused by the API server (the chart's admission policy): an Operator may not fail over.
    const refused = await zcsp(['failover', 'web']);
    assert.equal(refused.code, 1, refused.err);
    assert.match(refused.err, /needs the privilege update on vpgs\/failover/);
    // A test, with the leading operator SIGKILLed while it restores.
    const test = zcsp(['test', 'web']);
    await waitFor(async () => {
      const op = ((await get('vpgs', 'web', 'acme-prod')) as { status?: { operation?: { stage?: string } } }).status?.operation;
      return op?.stage === 'Recovering' || op?.stage === 'Running';
    }, { what: 'the test recovering', timeoutMs: 120_000, intervalMs: 300 });
    const holder = await leader();
    const pod = (await managerPods()).find((p) => holder?.startsWith(p.metadata?.name ?? '?') === true);
    assert.ok(killPodProcesses(cluster.id, pod?.metadata?.name ?? '') > 0);
    const ran = await test;
    assert.equal(ran.code, 0, `${ran.out}\n${ran.err}`);
    assert.match(ran.out, /is running in namespace acme-test/);
    const stopped = await zcsp(['stop-test', 'web']);
    assert.equal(stopped.code, 0, `${stopped.out}\n${stopped.err}`);
    assert.match(stopped.out, /FailoverTest Succeeded/);
  });

  it('serves the console: a tenant Operator signs in with a token and sees acme\'s VPG', async () => {
    const pod = (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app.kubernetes.io/component=console' })).items.find(ready);
    assert.ok(pod, 'a Ready console pod');
    const base = `http://${pod.status?.podIP ?? ''}:8080`;
    // A bearer token of a tenant member: a ServiceAccount named in the Zorg, as a portal would hold one.
    await cluster.kubectl(['create', 'serviceaccount', 'portal', '-n', 'acme-prod']);
    await cluster.kubectl(['patch', 'zorg', 'acme', '--type=json', '-p', JSON.stringify([{ op: 'add', path: '/spec/members/-', value: { kind: 'User', name: 'system:serviceaccount:acme-prod:portal', role: 'Operator' } }])]);
    const token = (await cluster.kubectl(['create', 'token', 'portal', '-n', 'acme-prod'])).trim();
    const signIn = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-zcsp-csrf': '1' }, body: JSON.stringify({ token }) });
    assert.equal(signIn.status, 201, await signIn.text());
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    await waitFor(async () => {
      const res = await fetch(`${base}/api/vpgs?namespace=acme-prod`, { headers: { cookie } });
      const body = await res.json() as { items?: { metadata?: { name?: string } }[] };
      return res.status === 200 && body.items?.some((v) => v.metadata?.name === 'web') === true;
    }, { what: 'acme\'s VPG through the console', timeoutMs: 60_000, intervalMs: 1000 });
  });

  it('ran under exactly the chart\'s RBAC: no request of the operator was forbidden', async () => {
    for (const pod of await managerPods()) {
      const log = await readFile(await cluster.kubelet(pod.spec?.nodeName ?? '').containerLogPath(NS, pod.metadata?.name ?? '', 'manager'), 'utf8');
      assert.doesNotMatch(log, /forbidden/i, `${pod.metadata?.name ?? ''} hit a missing permission`);
    }
  });
});
