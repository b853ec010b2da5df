// The controller runtime against a real API server: informers (add/update/delete, re-list after
// 410, a watchdog for silent watches), a controller that keeps an owned child, status written
// only on change, zero writes after a restart, leader election failover, aggregated events,
// terminal errors and finalizers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { REPO_ROOT, startCluster, type LocalCluster } from '../cluster/cluster.ts';
import { waitFor } from '../cluster/net.ts';
import { findClusterProcesses } from '../cluster/process.ts';
import { parseObject } from '../../src/crds/parse.ts';
import { serviceProfileKind } from '../../src/crds/service-profile.ts';
import {
  CONFIG_MAPS, EVENTS, EventRecorder, Informer, KubeClient, Manager, TerminalError, addFinalizer, childName, defineController,
  findStatusCondition, isConflict, microTime, removeFinalizer, resourceForKind, setStatusCondition,
  type Condition, type ConfigMap, type Event, type Lease, type ManagerOptions,
} from '../../src/runtime/index.ts';

const PROFILES = resourceForKind(serviceProfileKind);
const ROLE = 'runtime.zcsp.io/role';
const logger = pino({ level: process.env['ZCSP_TEST_LOG_LEVEL'] ?? 'silent' });

/** Keeps a child ConfigMap "<parent>-child" with the parent's data, owned by the parent. */
function childController(namespace: string) {
  return defineController({
    name: 'child-configmap',
    for: CONFIG_MAPS,
    forScope: { namespace, labelSelector: `${ROLE}=parent` },
    owns: [CONFIG_MAPS],
    workers: 2,
    async reconcile(_key, ctx) {
      const parent = ctx.get();
      if (parent?.metadata?.name === undefined) return;
      await ctx.ensure(CONFIG_MAPS, {
        metadata: { name: childName([parent.metadata.name, 'child']), namespace, labels: { [ROLE]: 'child' } },
        data: { ...parent.data },
      });
    },
  });
}

/** Sets Ready on ServiceProfiles; a description with "reject" is a terminal error. */
function profileController() {
  return defineController({
    name: 'service-profile',
    for: PROFILES,
    async reconcile(_key, ctx) {
      const obj = ctx.get();
      if (obj === undefined) return;
      const profile = parseObject(serviceProfileKind, obj);
      if (profile.spec.description?.includes('reject') === true) throw new TerminalError('Rejected', 'the description asks to be rejected');
      const generation = obj.metadata?.generation ?? 0;
      const status = obj.status ?? {};
      const { conditions } = setStatusCondition(status['conditions'] as Condition[] | undefined, {
        type: 'Ready', status: 'True', reason: 'Accepted', message: `history ${profile.spec.journal.historyHours} h`, observedGeneration: generation,
      });
      await ctx.patchStatusIfChanged(obj, { ...status, observedGeneration: generation, conditions, vpgCount: 0 });
    },
  });
}

/** A TCP relay to the API server that can freeze its open connections (a proxy gone silent). */
async function freezingProxy(target: URL): Promise<{ url: string; accepted(): number; freeze(): void; close(): Promise<void> }> {
  const connections = new Set<{ client: Socket; upstream: Socket; frozen: boolean }>();
  let accepted = 0;
  const server: Server = createServer((client) => {
    accepted++;
    const upstream = connect(Number(target.port), target.hostname);
    const c = { client, upstream, frozen: false };
    connections.add(c);
    upstream.on('data', (d) => {
      if (!c.frozen) client.write(d);
    });
    upstream.on('end', () => {
      if (!c.frozen) client.end();
    });
    client.on('data', (d) => upstream.write(d));
    client.on('end', () => upstream.end());
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      connections.delete(c);
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return {
    url: `https://127.0.0.1:${address.port}`,
    accepted: () => accepted,
    freeze: () => {
      for (const c of connections) c.frozen = true;
    },
    close: async () => {
      for (const c of connections) {
        c.client.destroy();
        c.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Compacts the cluster's etcd up to `revision`, through etcd's JSON gateway. */
async function compactEtcd(cluster: LocalCluster, revision: string): Promise<void> {
  const apiServer = findClusterProcesses(cluster.id).find((p) => p.cmdline.includes('kube-apiserver'));
  const etcd = /--etcd-servers=(\S+)/.exec(apiServer?.cmdline ?? '')?.[1];
  assert.ok(etcd !== undefined, 'the API server names its etcd');
  const res = await fetch(`${etcd}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision, physical: true }) });
  assert.equal(res.status, 200, await res.text());
}

describe('controller runtime on a real API server', { timeout: 600_000 }, () => {
  let cluster: LocalCluster;
  let admin: KubeClient;
  const managers: Manager[] = [];
  const timings: Record<string, number> = {};

  const newManager = (options: Partial<ManagerOptions> = {}): Manager => {
    const m = new Manager({ kubeConfig: cluster.kubeConfig, logger, http: { port: 0, host: '127.0.0.1' }, ...options });
    managers.push(m);
    return m;
  };
  const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> =>
    waitFor(async () => check(), { what, timeoutMs, intervalMs: 50 });
  const cm = (namespace: string, name: string, labels: Record<string, string> = {}, data: Record<string, string> = {}): ConfigMap =>
    ({ metadata: { name, namespace, labels }, data });
  const reconciled = (m: Manager, controller: string): number =>
    m.metrics.reconciles.series().filter((s) => s.labels['controller'] === controller && s.labels['result'] !== 'error').reduce((n, s) => n + s.value, 0);
  const idle = (m: Manager, controller: string): boolean =>
    (m.metrics.queueDepth.get({ name: controller }) ?? 0) === 0 && (m.metrics.activeWorkers.get({ controller }) ?? 0) === 0;

  before(async () => {
    const t0 = Date.now();
    cluster = await startCluster({ kubelets: false });
    admin = new KubeClient(cluster.kubeConfig);
    await cluster.kubectl(['apply', '-f', join(REPO_ROOT, 'deploy/crds')]);
    await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${PROFILES.plural}.${PROFILES.group}`]);
    for (const ns of ['informer-test', 'watchdog-test', 'owner-test', 'leader-test', 'events-test', 'finalizer-test']) {
      await cluster.kubectl(['create', 'namespace', ns]);
    }
    process.stdout.write(`# control plane with CRDs ready in ${Date.now() - t0} ms\n`);
  });

  after(async () => {
    await Promise.allSettled(managers.map((m) => m.stop()));
    await admin.close();
    await cluster.stop();
    process.stdout.write(`# timings: ${JSON.stringify(timings)}\n`);
  });

  it('an informer sees adds, updates and deletes of the objects its selector picks', async () => {
    const ns = 'informer-test';
    const seen: string[] = [];
    const informer = new Informer<ConfigMap>({ client: admin, resource: CONFIG_MAPS, namespace: ns, labelSelector: 'app=informer', logger });
    informer.addHandler({
      onAdd: (o) => seen.push(`add ${o.metadata?.name ?? ''}`),
      onUpdate: (_old, o) => seen.push(`update ${o.metadata?.name ?? ''} ${o.data?.['v'] ?? ''}`),
      onDelete: (o) => seen.push(`delete ${o.metadata?.name ?? ''}`),
    });
    await admin.create(CONFIG_MAPS, cm(ns, 'before-start', { app: 'informer' }));
    await admin.create(CONFIG_MAPS, cm(ns, 'not-selected', { app: 'other' }));
    informer.start();
    try {
      assert.equal(await informer.waitForSync(), true);
      assert.deepEqual(seen, ['add before-start']);
      assert.equal(informer.store.get(`${ns}/before-start`)?.kind, 'ConfigMap', 'listed items get their kind');
      await admin.create(CONFIG_MAPS, cm(ns, 'a', { app: 'informer' }, { v: '1' }));
      await until('add a', () => seen.includes('add a'));
      await admin.mergePatch(CONFIG_MAPS, 'a', ns, { data: { v: '2' } });
      await until('update a', () => seen.includes('update a 2'));
      await admin.delete(CONFIG_MAPS, 'a', ns);
      await until('delete a', () => seen.includes('delete a'));
      assert.equal(informer.store.get(`${ns}/a`), undefined);
      assert.ok(!seen.some((s) => s.includes('not-selected')), 'label selector honoured');
      assert.deepEqual(seen, ['add before-start', 'add a', 'update a 2', 'delete a']);
    } finally {
      await informer.stop();
    }
  });

  it('a watch gone silent is restarted by the watchdog; its resourceVersion was compacted, so it re-lists (410) and reports what it missed', async () => {
    const ns = 'watchdog-test';
    const proxy = await freezingProxy(new URL(cluster.server));
    const kc = new KubeConfig();
    const current = cluster.kubeConfig.getCurrentCluster();
    assert.ok(current !== null);
    kc.loadFromOptions({
      clusters: [{ ...current, server: proxy.url }],
      users: cluster.kubeConfig.users, contexts: cluster.kubeConfig.contexts, currentContext: cluster.kubeConfig.currentContext,
    });
    const client = new KubeClient(kc);
    const seen: string[] = [];
    // Events, because the API server serves them from etcd, not from its watch cache: a watch
    // from a compacted revision gets 410 Gone, as any kind does once its cache window passed.
    // The API server ends each watch within 2 s; silence for 4 s means the connection is dead.
    const informer = new Informer<Event>({ client, resource: EVENTS, namespace: ns, watchTimeoutSeconds: 2, watchdogMs: 4000, logger });
    informer.addHandler({
      onAdd: (o) => seen.push(`add ${o.metadata?.name ?? ''}`),
      onDelete: (o) => seen.push(`delete ${o.metadata?.name ?? ''}`),
    });
    const event = (name: string): Event => ({
      metadata: { name, namespace: ns }, eventTime: '2026-01-01T00:00:00.000000Z', reportingController: 'zcsp.io/test', reportingInstance: 'test',
      action: 'Test', reason: 'Test', type: 'Normal', regarding: { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', namespace: ns },
    });
    informer.start();
    try {
      assert.equal(await informer.waitForSync(), true);
      await admin.create(EVENTS, event('e1'));
      await until('e1 seen', () => seen.includes('add e1'));
      // Freeze the connection of a watch that just opened (each watch gets its own connection).
      const accepted = proxy.accepted();
      await until('a new watch connection', () => proxy.accepted() > accepted);
      proxy.freeze();
      const lists = informer.stats.lists;
      await admin.create(EVENTS, event('e2'));
      await admin.delete(EVENTS, 'e1', ns);
      // What the API server does every 5 minutes: compact etcd up to now.
      const { metadata } = await admin.list(EVENTS, { namespace: ns, limit: 1 });
      await compactEtcd(cluster, metadata?.resourceVersion ?? '');
      const t0 = Date.now();
      await until('silent watch restarted, 410, re-listed', () =>
        informer.stats.ended.silent >= 1 && informer.stats.ended.gone >= 1 && informer.stats.lists > lists
        && seen.includes('add e2') && seen.includes('delete e1'), 60_000);
      timings['silentWatchRecoveryMs'] = Date.now() - t0;
      assert.deepEqual(informer.store.keys(), [`${ns}/e2`]);
    } finally {
      await informer.stop();
      await client.close();
      await proxy.close();
    }
  });

  it('keeps an owned child, restores it when deleted or edited; writes status only on change; a restarted manager writes nothing', async () => {
    const ns = 'owner-test';
    const first = newManager();
    first.add(childController(ns));
    first.add(profileController());
    await first.start();
    await until('manager ready', () => first.readiness().length === 0);

    for (const name of ['p1', 'p2', 'p3']) await admin.create(CONFIG_MAPS, cm(ns, name, { [ROLE]: 'parent' }, { color: name }));
    for (const name of ['gold', 'silver']) {
      await admin.create(PROFILES, { apiVersion: 'zcsp.io/v1alpha1', kind: 'ServiceProfile', metadata: { name }, spec: { description: `${name} profile` } });
    }
    const child = (name: string): Promise<ConfigMap | undefined> => admin.tryGet(CONFIG_MAPS, `${name}-child`, ns);
    await until('children created', async () => (await Promise.all(['p1', 'p2', 'p3'].map(child))).every((c) => c?.data?.['color'] !== undefined));
    const ready = async (name: string): Promise<boolean> => {
      const p = await admin.get(PROFILES, name);
      const c = findStatusCondition(p.status?.['conditions'] as Condition[] | undefined, 'Ready');
      return c?.status === 'True' && c.observedGeneration === p.metadata?.generation;
    };
    await until('profiles Ready', async () => (await ready('gold')) && (await ready('silver')));

    const p1child = await child('p1');
    assert.ok(p1child);
    const parent = await admin.get(CONFIG_MAPS, 'p1', ns);
    assert.deepEqual(p1child.metadata?.ownerReferences?.map((r) => [r.kind, r.name, r.uid, r.controller]), [['ConfigMap', 'p1', parent.metadata?.uid, true]]);
    assert.equal(p1child.metadata.labels?.[ROLE], 'child');

    // Deleted: recreated. Edited: restored.
    await admin.delete(CONFIG_MAPS, 'p1-child', ns);
    await until('child recreated', async () => {
      const c = await child('p1');
      return c !== undefined && c.metadata?.uid !== p1child.metadata?.uid;
    });
    await admin.mergePatch(CONFIG_MAPS, 'p2-child', ns, { data: { color: 'tampered' } });
    await until('child restored', async () => (await child('p2'))?.data?.['color'] === 'p2');
    // The parent changed: the child follows.
    await admin.mergePatch(CONFIG_MAPS, 'p3', ns, { data: { color: 'blue' } });
    await until('child updated', async () => (await child('p3'))?.data?.['color'] === 'blue');

    // Status: events that change nothing the status depends on cause reconciles, not writes.
    await until('settled', () => idle(first, 'service-profile') && idle(first, 'child-configmap'));
    const statusWrites = first.writes({ resources: ['serviceprofiles.zcsp.io'] });
    assert.ok(statusWrites >= 2, `one status write per profile at least (${statusWrites})`);
    const before = reconciled(first, 'service-profile');
    await admin.mergePatch(PROFILES, 'gold', undefined, { metadata: { annotations: { touched: 'yes' } } });
    await admin.mergePatch(PROFILES, 'silver', undefined, { metadata: { labels: { tier: 'b' } } });
    await until('profiles reconciled again', () => reconciled(first, 'service-profile') >= before + 2 && idle(first, 'service-profile'));
    assert.equal(first.writes({ resources: ['serviceprofiles.zcsp.io'] }), statusWrites, 'no status write without a status change');
    // A new generation changes observedGeneration: one write.
    await admin.mergePatch(PROFILES, 'gold', undefined, { spec: { journal: { historyHours: 48 } } });
    await until('gold Ready for generation 2', () => ready('gold'));
    await until('settled', () => idle(first, 'service-profile'));
    assert.equal(first.writes({ resources: ['serviceprofiles.zcsp.io'] }) - statusWrites, 1);

    // Restart: a fresh manager with empty caches reconciles everything and writes nothing.
    await first.stop();
    const second = newManager();
    second.add(childController(ns));
    second.add(profileController());
    const t0 = Date.now();
    await second.start();
    await until('restarted manager reconciled everything', () =>
      second.readiness().length === 0 && reconciled(second, 'child-configmap') >= 3 && reconciled(second, 'service-profile') >= 2
      && idle(second, 'child-configmap') && idle(second, 'service-profile'));
    timings['restartToSteadyMs'] = Date.now() - t0;
    assert.equal(second.writes(), 0, 'no object rewritten after a restart');
    const metrics = await (await fetch(`${second.url ?? ''}/metrics`)).text();
    const writeLines = metrics.split('\n').filter((l) => /^zcsp_api_requests_total\{verb="(create|update|patch|apply|delete|deletecollection)"/.test(l));
    assert.deepEqual(writeLines, [], 'the /metrics write counter agrees');
    assert.match(metrics, /^zcsp_api_requests_total\{verb="list",resource="configmaps",code="200"\} \d+$/m);
    assert.match(metrics, /^zcsp_reconcile_total\{controller="child-configmap",result="success"\} \d+$/m);
    assert.match(metrics, /^zcsp_reconcile_duration_seconds_bucket\{controller="service-profile",le="\+Inf"\} \d+$/m);
    assert.match(metrics, /^zcsp_workqueue_depth\{name="child-configmap"\} 0$/m);

    // The parent goes: the garbage collector takes the child.
    await admin.delete(CONFIG_MAPS, 'p3', ns);
    await until('child garbage collected', async () => (await child('p3')) === undefined, 60_000);
    await second.stop();
  });

  it('records a terminal error as a condition and an event, and retries only for a new generation', async () => {
    const m = newManager();
    m.add(profileController());
    await m.start();
    await admin.create(PROFILES, { apiVersion: 'zcsp.io/v1alpha1', kind: 'ServiceProfile', metadata: { name: 'bronze' }, spec: { description: 'please reject' } });
    const condition = async (): Promise<Condition | undefined> =>
      findStatusCondition((await admin.get(PROFILES, 'bronze')).status?.['conditions'] as Condition[] | undefined, 'Ready');
    await until('Ready=False Rejected', async () => (await condition())?.reason === 'Rejected');
    const c = await condition();
    assert.equal(c?.status, 'False');
    assert.equal(c.observedGeneration, 1);
    await until('terminal counted', () => m.metrics.reconciles.get({ controller: 'service-profile', result: 'terminal' }) === 1);
    assert.equal(m.metrics.reconcileErrors.get({ controller: 'service-profile' }), 0, 'never retried as an error');
    // Our own status write (same generation) reconciles nothing.
    await until('the status write was skipped', () => m.metrics.reconciles.get({ controller: 'service-profile', result: 'skipped_terminal' }) >= 1 && idle(m, 'service-profile'));
    assert.equal(m.metrics.reconciles.get({ controller: 'service-profile', result: 'terminal' }), 1);
    await until('Warning event', async () => {
      const events = await admin.list(EVENTS, { namespace: 'default' });
      return events.items.some((e) => e.regarding.name === 'bronze' && e.type === 'Warning' && e.reason === 'Rejected');
    });
    // A new spec: reconciled again, and fine now.
    await admin.mergePatch(PROFILES, 'bronze', undefined, { spec: { description: 'fixed' } });
    await until('Ready=True after the fix', async () => (await condition())?.status === 'True');
    await m.stop();
  });

  it('elects one leader; when it crashes another takes over within the lease duration; a graceful stop hands over at once', async () => {
    const ns = 'leader-test';
    const election = { namespace: ns, name: 'runtime-test', leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };
    const a = newManager({ leaderElection: election, identity: 'candidate-a' });
    const b = newManager({ leaderElection: election, identity: 'candidate-b' });
    for (const m of [a, b]) m.add(childController(ns));
    await Promise.all([a.start(), b.start()]);
    await until('one leader', () => a.isLeader() !== b.isLeader() && a.readiness().length === 0 && b.readiness().length === 0);
    const [leader, standby] = a.isLeader() ? [a, b] : [b, a];
    for (const m of [leader, standby]) assert.equal((await fetch(`${m.url ?? ''}/readyz`)).status, 200, 'leader and standby are both ready');
    assert.match(await (await fetch(`${leader.url ?? ''}/metrics`)).text(), /^zcsp_leader_election_status\{lease="leader-test\/runtime-test"\} 1$/m);
    await admin.create(CONFIG_MAPS, cm(ns, 'l1', { [ROLE]: 'parent' }, { v: '1' }));
    await until('the leader reconciles', async () => (await admin.tryGet(CONFIG_MAPS, 'l1-child', ns)) !== undefined);
    assert.equal(reconciled(standby, 'child-configmap'), 0, 'the standby does not reconcile');

    // Crash: the leader stops without releasing the Lease.
    const crashedAt = Date.now();
    await leader.stop({ releaseLease: false });
    await until('the standby takes over', () => standby.isLeader(), 15_000);
    const takeover = Date.now() - crashedAt;
    timings['failoverMs'] = takeover;
    // leaseDuration after the last renewal it saw, plus at most a retry period of polling each way.
    assert.ok(takeover <= election.leaseDurationMs + 2 * election.retryPeriodMs + 1500, `took over in ${takeover} ms`);
    await admin.create(CONFIG_MAPS, cm(ns, 'l2', { [ROLE]: 'parent' }, { v: '2' }));
    await until('the new leader reconciles', async () => (await admin.tryGet(CONFIG_MAPS, 'l2-child', ns)) !== undefined);
    const lease = await admin.request<{ spec: { holderIdentity: string; leaseTransitions: number } }>({ method: 'GET', path: `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/runtime-test` });
    assert.equal(lease.spec.holderIdentity, standby.identity);
    assert.ok(lease.spec.leaseTransitions >= 1);

    // Graceful: the leader releases the Lease and a new candidate takes it at its next try.
    const c = newManager({ leaderElection: election, identity: 'candidate-c' });
    c.add(childController(ns));
    await c.start();
    await until('candidate c synced', () => c.readiness().length === 0);
    const stoppedAt = Date.now();
    await standby.stop();
    await until('c leads after the release', () => c.isLeader(), 15_000);
    const handover = Date.now() - stoppedAt;
    timings['handoverMs'] = handover;
    assert.ok(handover < election.leaseDurationMs, `handed over in ${handover} ms, before the lease could expire`);

    // Lost: someone else takes the Lease. c cannot renew: within renewDeadline it stops its
    // controllers, and campaigns again; the intruder never renews, so c leads again after that.
    const path = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/runtime-test`;
    const held = await admin.request<Lease>({ method: 'GET', path });
    await admin.request({ method: 'PUT', path, body: { ...held, spec: { ...held.spec, holderIdentity: 'intruder', renewTime: microTime() } } });
    const stolenAt = Date.now();
    await until('c stops leading', () => !c.isLeader(), 15_000);
    const lossDetected = Date.now() - stolenAt;
    timings['leaseLossDetectedMs'] = lossDetected;
    assert.ok(lossDetected <= election.renewDeadlineMs + 2 * election.retryPeriodMs + 1500, `stopped leading ${lossDetected} ms after losing the lease`);
    assert.equal(c.metrics.activeWorkers.get({ controller: 'child-configmap' }), 0);
    await until('c leads again once the intruder lease expired', () => c.isLeader() && c.readiness().length === 0, 15_000);
    await admin.create(CONFIG_MAPS, cm(ns, 'l3', { [ROLE]: 'parent' }, { v: '3' }));
    await until('c reconciles again', async () => (await admin.tryGet(CONFIG_MAPS, 'l3-child', ns)) !== undefined);
    await c.stop();
  });

  it('aggregates repeated events into one Event with a series', async () => {
    const ns = 'events-test';
    const m = newManager({ http: false, events: { seriesFlushMs: 60_000 } });
    const target = await admin.create(CONFIG_MAPS, cm(ns, 'noisy'));
    for (let i = 0; i < 500; i++) m.recorder.event(target, { type: 'Warning', reason: 'HotLoop', action: 'Reconcile', note: 'the same thing again' });
    m.recorder.event(target, { type: 'Normal', reason: 'Other', action: 'Reconcile' });
    await m.recorder.flush();
    await m.recorder.flush();
    const events = (await admin.list(EVENTS, { namespace: ns })).items.filter((e: Event) => e.regarding.name === 'noisy');
    const hot = events.filter((e) => e.reason === 'HotLoop');
    assert.equal(hot.length, 1);
    assert.equal(hot[0]?.series?.count, 500);
    assert.equal(events.filter((e) => e.reason === 'Other').length, 1);
    assert.equal(m.writes({ resources: ['events.events.k8s.io'] }), 3, 'two creates and one series patch for 501 events');
    await m.stop();
  });

  it('adds and removes finalizers with a resourceVersion precondition', async () => {
    const ns = 'finalizer-test';
    const created = await admin.create(CONFIG_MAPS, cm(ns, 'guarded'));
    const added = await addFinalizer(admin, CONFIG_MAPS, created, 'zcsp.io/journal');
    assert.equal(added.changed, true);
    assert.deepEqual(added.object.metadata?.finalizers, ['zcsp.io/journal']);
    assert.equal((await addFinalizer(admin, CONFIG_MAPS, added.object, 'zcsp.io/journal')).changed, false);
    // Someone else changed the object: a write from the stale copy is refused, not merged.
    await admin.mergePatch(CONFIG_MAPS, 'guarded', ns, { metadata: { finalizers: ['zcsp.io/journal', 'other.io/x'] } });
    await assert.rejects(removeFinalizer(admin, CONFIG_MAPS, added.object, 'zcsp.io/journal'), (err: unknown) => isConflict(err));
    const fresh = await admin.get(CONFIG_MAPS, 'guarded', ns);
    const removed = await removeFinalizer(admin, CONFIG_MAPS, fresh, 'zcsp.io/journal');
    assert.deepEqual(removed.object.metadata?.finalizers, ['other.io/x']);
    await admin.mergePatch(CONFIG_MAPS, 'guarded', ns, { metadata: { finalizers: null } });
    await admin.delete(CONFIG_MAPS, 'guarded', ns);
  });

  it('a standalone EventRecorder needs nothing but a client', async () => {
    const r = new EventRecorder({ client: admin, reportingController: 'zcsp.io/test', reportingInstance: 'test' });
    r.event({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'events-test' } }, { type: 'Normal', reason: 'Checked', action: 'Check' });
    await r.close();
    await until('event stored', async () => (await admin.list(EVENTS, { namespace: 'default' })).items.some((e) => e.reason === 'Checked'));
  });
});
