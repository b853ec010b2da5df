// The Zorg and ServiceProfile controllers against a real control plane, the manager running under
// the chart's own RBAC (rendered by helm, with a service account token) plus the one rule this
// issue adds to it (PROPOSED_RULES): a Zorg gets its namespaces, tenant RBAC, quota, network
// policies and ZCC and goes Ready; tenant users with real credentials get exactly their VPGs; specs
// that cannot be honoured say why; released namespaces stay; a profile in use is kept; and a
// restarted manager writes nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT, startCluster, type LocalCluster, type TestUser } from '../cluster/cluster.ts';
import { waitFor } from '../cluster/net.ts';
import {
  ApiError, EVENTS, KubeClient, Manager, NAMESPACES, SECRETS, findStatusCondition,
  type Condition, type CustomObject, type Event, type KubeObject,
} from '../../src/runtime/index.ts';
import { OperatorConfig } from '../../src/controllers/config.ts';
import {
  NETWORK_POLICIES, RESOURCE_QUOTAS, ROLE_BINDINGS, ROLES, SERVICE_PROFILES, SITES, VPGS, ZCCS, ZORGS,
} from '../../src/controllers/resources.ts';
import { zorgController } from '../../src/controllers/zorg/index.ts';
import { serviceProfileController, IN_USE_FINALIZER } from '../../src/controllers/service-profile/index.ts';
import type { NetworkPolicy, ResourceQuota, Role, RoleBinding } from '../../src/controllers/zorg/types.ts';

const PROVIDER = 'zcsp-system';
const logger = pino({ level: process.env['ZCSP_TEST_LOG_LEVEL'] ?? 'silent' });
const config = OperatorConfig.parse({ namespace: PROVIDER, image: 'zcsp:test' });

/** What the chart's ClusterRole must gain for this issue: a Role can only grant what its creator holds. */
const PROPOSED_RULES = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: zcsp-manager-proposed
rules:
  - apiGroups: [zcsp.io]
    resources: [vpgs/failovertest, vpgs/failover, vpgs/move]
    verbs: [update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: zcsp-manager-proposed
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: zcsp-manager-proposed }
subjects: [{ kind: ServiceAccount, name: SERVICE_ACCOUNT, namespace: ${PROVIDER} }]
`;

const forbidden = (err: unknown): boolean => err instanceof ApiError && err.statusCode === 403;
const conditionsOf = (obj: CustomObject | undefined): Condition[] | undefined => obj?.status?.['conditions'] as Condition[] | undefined;

describe('Zorg and ServiceProfile controllers', { timeout: 600_000 }, () => {
  let cluster: LocalCluster;
  let admin: KubeClient;
  let operatorKubeConfig: KubeConfig;
  const managers: Manager[] = [];
  const clients: KubeClient[] = [];
  const timings: Record<string, number> = {};
  const uids = new Map<string, string>();

  const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> =>
    waitFor(async () => check(), { what, timeoutMs, intervalMs: 200 });
  const newManager = (): Manager => {
    const m = new Manager({ kubeConfig: operatorKubeConfig, logger, http: false, leaderElection: false });
    // As `zcsp manager` runs them: several workers per controller (--workers, default 4).
    m.add({ ...zorgController(config), workers: 4 });
    m.add({ ...serviceProfileController(config), workers: 4 });
    managers.push(m);
    return m;
  };
  const idle = (m: Manager): boolean => ['zorg', 'service-profile'].every((c) =>
    (m.metrics.queueDepth.get({ name: c }) ?? 0) === 0 && (m.metrics.activeWorkers.get({ controller: c }) ?? 0) === 0);
  const reconciled = (m: Manager, controller: string): number =>
    m.metrics.reconciles.series().filter((s) => s.labels['controller'] === controller && s.labels['result'] !== 'error').reduce((n, s) => n + s.value, 0);
  const forbiddenRequests = (m: Manager): number =>
    m.metrics.apiRequests.series().filter((s) => s.labels['code'] === '403').reduce((n, s) => n + s.value, 0);
  const asUser = (user: TestUser): KubeClient => {
    const c = new KubeClient(user.kubeConfig);
    clients.push(c);
    return c;
  };

  const zorg = (name: string): Promise<CustomObject> => admin.get(ZORGS, name);
  const condition = async (name: string, type: string): Promise<Condition | undefined> => findStatusCondition(conditionsOf(await zorg(name)), type);
  const readyNow = async (name: string): Promise<boolean> => {
    const z = await zorg(name);
    const c = findStatusCondition(conditionsOf(z), 'Ready');
    return c?.status === 'True' && c.observedGeneration === z.metadata?.generation;
  };
  const createZorg = async (name: string, spec: Record<string, unknown>): Promise<void> => {
    const created = await admin.create(ZORGS, { apiVersion: 'zcsp.io/v1alpha1', kind: 'Zorg', metadata: { name }, spec: { displayName: name, ...spec } });
    uids.set(name, created.metadata?.uid ?? '');
  };
  const profile = (name: string): Promise<CustomObject> =>
    admin.create(SERVICE_PROFILES, { apiVersion: 'zcsp.io/v1alpha1', kind: 'ServiceProfile', metadata: { name }, spec: { description: `${name} profile` } });
  const vpg = (namespace: string, name: string, spec: Record<string, unknown> = {}): CustomObject => ({
    apiVersion: 'zcsp.io/v1alpha1', kind: 'VPG', metadata: { name, namespace },
    spec: { protectedSite: 'prod', recoverySite: 'dr', volumes: { claimNames: ['data'] }, recovery: { namespace: `${namespace}-dr`, testNamespace: `${namespace}-test` }, ...spec },
  });
  const eventsAbout = async (kind: string, name: string): Promise<Event[]> =>
    (await admin.list(EVENTS, { namespace: 'default' })).items.filter((e) => e.regarding.kind === kind && e.regarding.name === name);
  const can = async (client: KubeClient, verb: string, subresource?: string, namespace = 'acme-prod'): Promise<boolean> => {
    const review = await client.request<{ status?: { allowed?: boolean } }>({
      method: 'POST', path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { group: 'zcsp.io', resource: 'vpgs', verb, namespace, ...(subresource !== undefined && { subresource }) } } },
    });
    return review.status?.allowed === true;
  };
  const ownerUids = (obj: KubeObject | undefined): string[] => (obj?.metadata?.ownerReferences ?? []).filter((r) => r.controller === true).map((r) => r.uid);

  before(async () => {
    const t0 = Date.now();
    cluster = await startCluster({ kubelets: false });
    admin = new KubeClient(cluster.kubeConfig);
    await cluster.kubectl(['apply', '-f', join(REPO_ROOT, 'deploy/crds')]);
    await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    await cluster.kubectl(['create', 'namespace', PROVIDER]);
    // The chart's service account, RBAC and VPG admission policy (which keeps Operators, who may
    // patch VPGs, to spec.operation), as helm renders them, plus the proposed rule.
    const rendered = await cluster.helm(['template', 'zcsp', join(REPO_ROOT, 'deploy/helm/zcsp'), '--namespace', PROVIDER,
      '--show-only', 'templates/serviceaccount.yaml', '--show-only', 'templates/rbac.yaml', '--show-only', 'templates/admission.yaml']);
    const serviceAccount = parseAllDocuments(rendered).map((d) => d.toJS() as KubeObject | null).find((o) => o?.kind === 'ServiceAccount')?.metadata?.name;
    assert.ok(serviceAccount !== undefined, 'the chart renders a ServiceAccount');
    await cluster.kubectl(['apply', '-f', '-'], { input: rendered });
    await cluster.kubectl(['apply', '-f', '-'], { input: PROPOSED_RULES.replace('SERVICE_ACCOUNT', serviceAccount) });
    const token = (await cluster.kubectl(['create', 'token', serviceAccount, '-n', PROVIDER, '--duration=2h'])).trim();
    const current = cluster.kubeConfig.getCurrentCluster();
    assert.ok(current !== null);
    operatorKubeConfig = new KubeConfig();
    operatorKubeConfig.loadFromOptions({
      clusters: [current], users: [{ name: 'zcsp-manager', token }],
      contexts: [{ name: 'zcsp-manager', cluster: current.name, user: 'zcsp-manager' }], currentContext: 'zcsp-manager',
    });
    timings['controlPlaneMs'] = Date.now() - t0;
  });

  after(async () => {
    await Promise.allSettled(managers.map((m) => m.stop()));
    await Promise.allSettled([admin, ...clients].map((c) => c.close()));
    await cluster.stop();
    process.stdout.write(`# timings: ${JSON.stringify(timings)}\n`);
  });

  let first: Manager;

  it('a Zorg gets its namespaces, tenant RBAC, quota, network policies and ZCC, and goes Ready', async () => {
    for (const name of ['gold', 'silver']) await profile(name);
    first = newManager();
    await first.start();
    const t0 = Date.now();
    await createZorg('acme', {
      namespaces: ['acme-prod', 'acme-test'],
      members: [
        { kind: 'Group', name: 'acme-admins', role: 'Admin' },
        { kind: 'User', name: 'olivia', role: 'Operator' },
        { kind: 'Group', name: 'acme-auditors', role: 'Viewer' },
      ],
      allowedServiceProfiles: ['gold'], defaultServiceProfile: 'gold',
      quotas: { maxVPGs: 3, maxProtectedSize: '100Gi' },
    });
    await createZorg('globex', { namespaces: ['globex-prod'], members: [{ kind: 'Group', name: 'globex-admins', role: 'Admin' }], allowedServiceProfiles: ['silver'] });
    // Fresh CRDs: the quota controller counts VPGs from its next discovery sync (up to 30 s).
    await until('acme and globex Ready', async () => (await readyNow('acme')) && (await readyNow('globex')), 120_000);
    timings['zorgReadyMs'] = Date.now() - t0;

    const acmeUid = uids.get('acme');
    for (const name of ['acme-prod', 'acme-test']) {
      const ns = await admin.get(NAMESPACES, name);
      assert.equal(ns.metadata?.labels?.['zcsp.io/zorg'], 'acme');
      assert.deepEqual(ownerUids(ns), [acmeUid], `${name} is controlled by the Zorg`);
      const roles = (await admin.list(ROLES, { namespace: name })).items as Role[];
      assert.deepEqual(roles.map((r) => r.metadata?.name).sort(), ['zcsp-tenant-admin', 'zcsp-tenant-operator', 'zcsp-tenant-viewer']);
      const bindings = (await admin.list(ROLE_BINDINGS, { namespace: name })).items as RoleBinding[];
      assert.deepEqual(Object.fromEntries(bindings.map((b) => [b.metadata?.name, b.subjects.map((s) => `${s.kind}:${s.name}`)])), {
        'zcsp-tenant-admin': ['Group:acme-admins'], 'zcsp-tenant-operator': ['User:olivia'], 'zcsp-tenant-viewer': ['Group:acme-auditors'],
      });
      const quota = await admin.get(RESOURCE_QUOTAS, 'zcsp-quota', name) as ResourceQuota;
      assert.deepEqual(quota.spec.hard, { 'count/vpgs.zcsp.io': '3' });
      assert.deepEqual(quota.status?.hard, quota.spec.hard, 'Ready waits for the quota controller');
      assert.equal(quota.status.used?.['count/vpgs.zcsp.io'], '0', '… to count VPGs: until then the API server refuses them');
      const egress = await admin.get(NETWORK_POLICIES, 'zcsp-vra-egress', name) as NetworkPolicy;
      assert.deepEqual(egress.spec.podSelector.matchLabels, { 'zcsp.io/role': 'vra' });
      assert.deepEqual(egress.spec.egress?.[0]?.to, [{
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': PROVIDER } },
        podSelector: { matchExpressions: [{ key: 'zcsp.io/zcc', operator: 'In', values: ['acme'] }] },
      }]);
    }
    const ingress = await admin.get(NETWORK_POLICIES, 'zcsp-zcc-acme', PROVIDER) as NetworkPolicy;
    assert.deepEqual(ingress.spec.ingress?.[0]?.from?.[0], { namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['acme-prod', 'acme-test'] }] } });
    assert.deepEqual(ownerUids(ingress), [acmeUid]);
    const zcc = await admin.get(ZCCS, 'acme', PROVIDER);
    assert.deepEqual((zcc.spec as { zorg: string }).zorg, 'acme');
    assert.deepEqual(ownerUids(zcc), [acmeUid], 'the ZCC is owned by the Zorg');

    const acme = await zorg('acme');
    assert.deepEqual([acme.status?.['vpgCount'], acme.status?.['protectedSize'], acme.status?.['observedGeneration']], [0, '0', 1]);
    for (const type of ['NamespacesReady', 'RBACReady', 'ResourceQuotaReady', 'NetworkPoliciesReady', 'ZCCConfigured', 'ServiceProfilesReady']) {
      assert.equal(findStatusCondition(conditionsOf(acme), type)?.status, 'True', type);
    }
    assert.equal(findStatusCondition(conditionsOf(acme), 'QuotaExceeded')?.status, 'False');

    await until('gold reports acme as its user', async () => {
      const gold = await admin.get(SERVICE_PROFILES, 'gold');
      const deletable = findStatusCondition(conditionsOf(gold), 'Deletable');
      return gold.metadata?.finalizers?.includes(IN_USE_FINALIZER) === true && deletable?.reason === 'InUse' && deletable.message.includes('acme')
        && findStatusCondition(conditionsOf(gold), 'Ready')?.status === 'True';
    });
  });

  it('gives tenant users (real credentials, real RBAC) their VPGs and nothing else', async () => {
    const alice = asUser(await cluster.user('alice', ['acme-admins']));
    const olivia = asUser(await cluster.user('olivia'));
    const audrey = asUser(await cluster.user('audrey', ['acme-auditors']));
    const gary = asUser(await cluster.user('gary', ['globex-admins']));

    // Admin: creates and patches VPGs in the Zorg's namespace.
    await alice.create(VPGS, vpg('acme-prod', 'web', { serviceProfile: 'gold' }));
    const patched = await alice.mergePatch(VPGS, 'web', 'acme-prod', { spec: { priority: 'High' } });
    assert.equal((patched.spec as { priority?: string }).priority, 'High');
    assert.equal((await alice.list(VPGS, { namespace: 'acme-prod' })).items.length, 1);
    // … and nothing of Zorg B, no Secrets, no writes to Sites, ServiceProfiles or VPG status.
    await assert.rejects(alice.list(VPGS, { namespace: 'globex-prod' }), forbidden);
    await assert.rejects(alice.create(VPGS, vpg('globex-prod', 'sneaky')), forbidden);
    await assert.rejects(alice.list(SECRETS, { namespace: 'acme-prod' }), forbidden);
    await assert.rejects(alice.create(SECRETS, { metadata: { name: 's', namespace: 'acme-prod' }, data: {} }), forbidden);
    await assert.rejects(alice.create(SITES, { apiVersion: 'zcsp.io/v1alpha1', kind: 'Site', metadata: { name: 'mine' }, spec: {} }), forbidden);
    await assert.rejects(alice.mergePatch(SITES, 'prod', undefined, { spec: { description: 'mine' } }), forbidden);
    await assert.rejects(alice.mergePatch(SERVICE_PROFILES, 'gold', undefined, { spec: { rpoAlertSeconds: 30 } }), forbidden);
    await assert.rejects(alice.delete(SERVICE_PROFILES, 'gold'), forbidden);
    await assert.rejects(alice.mergePatch(VPGS, 'web', 'acme-prod', { status: { phase: 'MeetingSLA' } }, { subresource: 'status' }), forbidden);
    await assert.rejects(gary.list(VPGS, { namespace: 'acme-prod' }), forbidden);
    for (const op of ['failovertest', 'failover', 'move']) assert.equal(await can(alice, 'update', op), true, `admin may ${op}`);

    // Operator: views and may run failover tests, never changes VPGs or touches production.
    assert.equal((await olivia.get(VPGS, 'web', 'acme-prod')).metadata?.name, 'web');
    await assert.rejects(olivia.create(VPGS, vpg('acme-prod', 'op')), forbidden);
    await assert.rejects(olivia.mergePatch(VPGS, 'web', 'acme-prod', { spec: { priority: 'Low' } }), forbidden);
    assert.equal(await can(olivia, 'update', 'failovertest'), true);
    assert.equal(await can(olivia, 'update', 'failover'), false);
    assert.equal(await can(olivia, 'update', 'move'), false);
    assert.equal(await can(olivia, 'update', 'failovertest', 'globex-prod'), false);

    // Viewer: views.
    assert.equal((await audrey.list(VPGS, { namespace: 'acme-test' })).items.length, 0);
    await assert.rejects(audrey.delete(VPGS, 'web', 'acme-prod'), forbidden);
    assert.equal(await can(audrey, 'update', 'failovertest'), false);
  });

  it('reports the VPG count and protected size, and a quota exceeded', async () => {
    const alice = asUser(await cluster.user('alice', ['acme-admins']));
    await alice.create(VPGS, vpg('acme-prod', 'db'));
    // The VPG controller (a later issue) reports volume sizes; here the test plays it.
    await admin.mergePatch(VPGS, 'web', 'acme-prod', { status: { volumes: [{ claimName: 'data', size: '60Gi', state: 'Protected' }] } }, { subresource: 'status' });
    await admin.mergePatch(VPGS, 'db', 'acme-prod', { status: { volumes: [{ claimName: 'data', size: '50Gi', state: 'Protected' }] } }, { subresource: 'status' });
    await until('acme counts 2 VPGs and 110Gi', async () => {
      const acme = await zorg('acme');
      return acme.status?.['vpgCount'] === 2 && acme.status['protectedSize'] === '110Gi';
    });
    const exceeded = await condition('acme', 'QuotaExceeded');
    assert.equal(exceeded?.status, 'True');
    assert.equal(exceeded.reason, 'ProtectedSizeExceeded');
    assert.equal((await condition('acme', 'Ready'))?.status, 'True', 'an exceeded quota is reported, not a broken tenant');
    await until('a Warning event about the quota', async () => (await eventsAbout('Zorg', 'acme')).some((e) => e.type === 'Warning' && e.reason === 'ProtectedSizeExceeded'));
    // web names gold, db uses it as acme's default.
    await until('gold counts both VPGs', async () => (await admin.get(SERVICE_PROFILES, 'gold')).status?.['vpgCount'] === 2);
  });

  it('says why a spec cannot be honoured, with a reason and an Event, and keeps reconciling the others', async () => {
    await cluster.kubectl(['create', 'namespace', 'legacy-app']);
    await createZorg('initech', { namespaces: ['initech-prod'], allowedServiceProfiles: ['platinum'] });
    await createZorg('hooli', { namespaces: ['hooli-prod', 'globex-prod'], allowedServiceProfiles: ['silver'] });
    await createZorg('legacy', { namespaces: ['legacy-app'], allowedServiceProfiles: ['silver'] });
    await until('three Zorgs report their problem', async () =>
      (await condition('initech', 'ServiceProfilesReady'))?.reason === 'ServiceProfileNotFound'
      && (await condition('hooli', 'NamespacesReady'))?.reason === 'NamespaceConflict'
      && (await condition('legacy', 'NamespacesReady'))?.reason === 'NamespaceConflict');
    for (const name of ['initech', 'hooli', 'legacy']) {
      const ready = await condition(name, 'Ready');
      assert.equal(ready?.status, 'False', `${name} is not Ready`);
      assert.equal(ready.observedGeneration, 1);
    }
    assert.match((await condition('initech', 'ServiceProfilesReady'))?.message ?? '', /ServiceProfile platinum does not exist/);
    assert.match((await condition('hooli', 'NamespacesReady'))?.message ?? '', /namespace globex-prod belongs to Zorg globex/);
    assert.match((await condition('legacy', 'NamespacesReady'))?.message ?? '', /namespace legacy-app exists and was not created for this Zorg/);
    await until('Warning events', async () =>
      (await eventsAbout('Zorg', 'initech')).some((e) => e.type === 'Warning' && e.reason === 'ServiceProfileNotFound')
      && (await eventsAbout('Zorg', 'hooli')).some((e) => e.type === 'Warning' && e.reason === 'NamespaceConflict')
      && (await eventsAbout('Zorg', 'legacy')).some((e) => e.type === 'Warning' && e.reason === 'NamespaceConflict'));
    // What can be honoured is: initech's and hooli's own namespaces exist; the others are untouched.
    assert.deepEqual(ownerUids(await admin.get(NAMESPACES, 'initech-prod')), [uids.get('initech')]);
    assert.deepEqual(ownerUids(await admin.get(NAMESPACES, 'hooli-prod')), [uids.get('hooli')]);
    assert.deepEqual(ownerUids(await admin.get(NAMESPACES, 'globex-prod')), [uids.get('globex')]);
    const legacyNs = await admin.get(NAMESPACES, 'legacy-app');
    assert.deepEqual(ownerUids(legacyNs), []);
    assert.equal(legacyNs.metadata?.labels?.['zcsp.io/zorg'], undefined);
    assert.deepEqual((await admin.list(ROLES, { namespace: 'legacy-app' })).items, []);
    assert.deepEqual((await admin.list(ROLE_BINDINGS, { namespace: 'globex-prod' })).items.map((b) => b.metadata?.name), ['zcsp-tenant-admin']);

    // The manager keeps working on the others: a new member of acme gets bound.
    await admin.mergePatch(ZORGS, 'acme', undefined, { spec: { members: [
      { kind: 'Group', name: 'acme-admins', role: 'Admin' }, { kind: 'User', name: 'olivia', role: 'Operator' },
      { kind: 'Group', name: 'acme-auditors', role: 'Viewer' }, { kind: 'User', name: 'vic', role: 'Viewer' },
    ] } });
    await until('vic bound in acme-prod', async () =>
      ((await admin.get(ROLE_BINDINGS, 'zcsp-tenant-viewer', 'acme-prod')) as RoleBinding).subjects.some((s) => s.name === 'vic'));

    // Fixed: the missing profile appears; the provider hands the existing namespace over.
    await profile('platinum');
    await admin.mergePatch(NAMESPACES, 'legacy-app', undefined, { metadata: { annotations: { 'zcsp.io/adopt': 'legacy' } } });
    await until('initech and legacy Ready', async () => (await readyNow('initech')) && (await readyNow('legacy')));
    assert.deepEqual(ownerUids(await admin.get(NAMESPACES, 'legacy-app')), [uids.get('legacy')], 'adopted on the provider\'s word');
    assert.equal((await condition('hooli', 'Ready'))?.status, 'False', 'a conflict stays a conflict');
  });

  it('lets go of a namespace removed from the spec without deleting it', async () => {
    await admin.mergePatch(ZORGS, 'acme', undefined, { spec: { namespaces: ['acme-prod'] } });
    await until('acme Ready with one namespace', async () => (await readyNow('acme'))
      && (await admin.list(ROLES, { namespace: 'acme-test' })).items.length === 0);
    const released = await admin.get(NAMESPACES, 'acme-test');
    assert.equal(released.metadata?.deletionTimestamp, undefined, 'the namespace stays');
    assert.deepEqual(ownerUids(released), []);
    assert.equal(released.metadata?.labels?.['zcsp.io/zorg'], undefined);
    assert.equal(released.metadata?.annotations?.['zcsp.io/adopt'], 'acme', 'acme may take it back');
    for (const kind of [ROLES, ROLE_BINDINGS, RESOURCE_QUOTAS, NETWORK_POLICIES]) {
      assert.deepEqual((await admin.list(kind, { namespace: 'acme-test' })).items, [], `no ${kind.kind} left in acme-test`);
    }
    const ingress = await admin.get(NETWORK_POLICIES, 'zcsp-zcc-acme', PROVIDER) as NetworkPolicy;
    assert.deepEqual(ingress.spec.ingress?.[0]?.from?.[0]?.namespaceSelector?.matchExpressions?.[0]?.values, ['acme-prod']);
    await until('a NamespaceReleased event', async () => (await eventsAbout('Zorg', 'acme')).some((e) => e.reason === 'NamespaceReleased'));
  });

  it('keeps a ServiceProfile in use until it is unused', async () => {
    await admin.delete(SERVICE_PROFILES, 'gold');
    await until('deletion blocked, users named', async () => {
      const gold = await admin.get(SERVICE_PROFILES, 'gold');
      const deletable = findStatusCondition(conditionsOf(gold), 'Deletable');
      return gold.metadata?.deletionTimestamp !== undefined && deletable?.status === 'False' && deletable.reason === 'InUse'
        && deletable.message.startsWith('deletion waits') && deletable.message.includes('acme-prod/web');
    });
    await until('a DeletionBlocked event', async () => (await eventsAbout('ServiceProfile', 'gold')).some((e) => e.type === 'Warning' && e.reason === 'DeletionBlocked'));
    await until('acme says its profile is going', async () => (await condition('acme', 'ServiceProfilesReady'))?.reason === 'ServiceProfileDeleting');

    const alice = asUser(await cluster.user('alice', ['acme-admins']));
    await alice.delete(VPGS, 'web', 'acme-prod');
    await alice.delete(VPGS, 'db', 'acme-prod');
    assert.ok(await admin.tryGet(SERVICE_PROFILES, 'gold'), 'still allowed by acme');
    await admin.mergePatch(ZORGS, 'acme', undefined, { spec: { allowedServiceProfiles: ['silver'], defaultServiceProfile: 'silver' } });
    await until('gold deleted', async () => (await admin.tryGet(SERVICE_PROFILES, 'gold')) === undefined);
    await until('acme Ready on silver', () => readyNow('acme'));
  });

  it('a restarted manager rewrites nothing', async () => {
    await until('settled', () => idle(first));
    assert.equal(forbiddenRequests(first), 0, 'the chart\'s RBAC (with the proposed rule) allowed every request');
    await first.stop();
    const second = newManager();
    const t0 = Date.now();
    await second.start();
    const zorgs = (await admin.list(ZORGS)).items.length;
    const profiles = (await admin.list(SERVICE_PROFILES)).items.length;
    await until('restarted manager reconciled everything', () =>
      second.readiness().length === 0 && reconciled(second, 'zorg') >= zorgs && reconciled(second, 'service-profile') >= profiles && idle(second));
    timings['restartToSteadyMs'] = Date.now() - t0;
    assert.equal(second.writes(), 0, 'no object rewritten, no event recorded after a restart');
    assert.equal(forbiddenRequests(second), 0);
    await second.stop();
  });

  it('deleting a Zorg takes its ZCC and namespaces with it', async () => {
    const m = newManager();
    await m.start();
    await admin.delete(ZORGS, 'globex');
    await until('globex\'s ZCC and namespace go', async () => {
      const ns = await admin.tryGet(NAMESPACES, 'globex-prod');
      return (await admin.tryGet(ZCCS, 'globex', PROVIDER)) === undefined && (ns === undefined || ns.metadata?.deletionTimestamp !== undefined);
    }, 90_000);
    // hooli listed globex-prod too: once it is gone, hooli gets it.
    await until('hooli takes over the namespace once it is gone', () => readyNow('hooli'), 120_000);
    await m.stop();
  });
});
