// The chart's VPG admission policy (templates/admission.yaml, as helm renders it) on a real API
// server, with the tenant Roles the Zorg controller makes (run in this process under the chart's
// RBAC) and users with real credentials: an Operator may start and stop failover tests and change
// nothing else, a Viewer writes nothing, an Admin does everything; creating with an operation
// needs its privilege too; status writes, the operator's own writes and the garbage collector
// pass; and SubjectAccessReview (kubectl auth can-i) answers as the policy decides.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { parse, parseAllDocuments } from 'yaml';
import { REPO_ROOT, startCluster, type LocalCluster } from '../cluster/cluster.ts';
import { waitFor } from '../cluster/net.ts';
import { ApiError, CONFIG_MAPS, CONTENT_TYPE, KubeClient, Manager, type CustomObject, type KubeObject } from '../../src/runtime/index.ts';
import { OperatorConfig } from '../../src/controllers/config.ts';
import { ROLE_BINDINGS, VPGS, ZORGS } from '../../src/controllers/resources.ts';
import { zorgController } from '../../src/controllers/zorg/index.ts';

const PROVIDER = 'zcsp-system';
const NS = 'acme-prod';
const logger = pino({ level: process.env['ZCSP_TEST_LOG_LEVEL'] ?? 'silent' });
const config = OperatorConfig.parse({ namespace: PROVIDER, image: 'zcsp:test' });

/** Two users outside the tenant roles: one may only create VPGs, one may only write their status. */
const EXTRA_ROLES = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: vpg-creator, namespace: ${NS} }
rules: [{ apiGroups: [zcsp.io], resources: [vpgs], verbs: [get, create] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: vpg-creator, namespace: ${NS} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: vpg-creator }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: cora }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: vpg-status-writer, namespace: ${NS} }
rules: [{ apiGroups: [zcsp.io], resources: [vpgs/status], verbs: [get, patch] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: vpg-status-writer, namespace: ${NS} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: vpg-status-writer }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: stan }]
`;

/** One valid change of every spec field but operation; `immutable`: the CRD refuses it first (422). */
const SETTINGS: Record<string, { change: unknown; immutable?: true }> = {
  serviceProfile: { change: 'silver' },
  sla: { change: { rpoAlertSeconds: 60 } },
  protectedSite: { change: 'elsewhere', immutable: true },
  recoverySite: { change: 'elsewhere', immutable: true },
  volumes: { change: { claimNames: ['data', 'logs'] } },
  bootOrder: { change: [{ name: 'app', workloads: [{ kind: 'Deployment', name: 'web' }] }] },
  recovery: { change: { storageClassName: 'fast' } },
  priority: { change: 'Low' },
  hooks: { change: { intervalMinutes: 5 } },
  deletionPolicy: { change: 'Retain' },
  // Protect → Assess is refused by the schema, as an immutable field is (Assess → Protect is the way).
  mode: { change: 'Assess', immutable: true },
};

const vpg = (name: string, spec: Record<string, unknown> = {}): CustomObject => ({
  apiVersion: 'zcsp.io/v1alpha1', kind: 'VPG', metadata: { name, namespace: NS },
  spec: { protectedSite: 'prod', recoverySite: 'dr', volumes: { claimNames: ['data'] }, recovery: { namespace: 'acme-dr', testNamespace: 'acme-test' }, ...spec },
});
const operationOf = (obj: CustomObject): Record<string, unknown> | undefined => (obj.spec as { operation?: Record<string, unknown> }).operation;

/** assert.rejects' check: an ApiError with this status whose message matches. */
const refused = (status: number, message: RegExp) => (err: unknown): boolean => {
  assert.ok(err instanceof ApiError, String(err));
  assert.equal(err.statusCode, status, err.message);
  assert.match(err.message, message);
  return true;
};
const POLICY = /ValidatingAdmissionPolicy 'zcsp-vpg-operations'/;
const byPolicy = (message: RegExp) => (err: unknown): boolean => refused(403, POLICY)(err) && refused(403, message)(err);
const adminOnly = byPolicy(/changing a VPG's settings .* needs the Admin role/);
const byRbac = (user: string, verb: string) => refused(403, new RegExp(`User "${user}" cannot ${verb} resource "vpgs"`));

describe('VPG admission policy (chart templates/admission.yaml)', { timeout: 300_000 }, () => {
  let cluster: LocalCluster;
  let admin: KubeClient;
  let manager: Manager;
  let operatorClient: KubeClient;
  const users = new Map<string, KubeClient>();
  const kubeconfigs = new Map<string, string>();
  const as = (name: string): KubeClient => {
    const c = users.get(name);
    assert.ok(c !== undefined, name);
    return c;
  };

  const merge = (client: KubeClient, name: string, patch: unknown, options: { dryRun?: boolean } = {}): Promise<CustomObject> =>
    client.request<CustomObject>({
      method: 'PATCH', path: `/apis/zcsp.io/v1alpha1/namespaces/${NS}/vpgs/${name}`,
      query: { dryRun: options.dryRun === true ? 'All' : undefined }, body: patch, contentType: CONTENT_TYPE.mergePatch,
    });
  const setOperation = (client: KubeClient, name: string, operation: unknown, options: { dryRun?: boolean } = {}): Promise<CustomObject> =>
    merge(client, name, { spec: { operation } }, options);
  /** What `kubectl auth can-i <verb> vpgs[/<subresource>] --as <user> -n acme-prod` answers. */
  const canI = async (user: string, verb: string, subresource?: string): Promise<boolean> => {
    const review = await admin.request<{ status?: { allowed?: boolean } }>({
      method: 'POST', path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      body: {
        apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
        spec: { user, resourceAttributes: { group: 'zcsp.io', resource: 'vpgs', verb, namespace: NS, name: 'db', ...(subresource !== undefined && { subresource }) } },
      },
    });
    return review.status?.allowed === true;
  };
  const succeeds = (p: Promise<unknown>): Promise<boolean> => p.then(() => true, (err: unknown) => {
    if (err instanceof ApiError && err.statusCode === 403) return false;
    throw err;
  });

  before(async () => {
    cluster = await startCluster({ kubelets: false });
    admin = new KubeClient(cluster.kubeConfig);
    await cluster.kubectl(['apply', '-f', join(REPO_ROOT, 'deploy/crds')]);
    await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    await cluster.kubectl(['create', 'namespace', PROVIDER]);
    // The policy, the manager's service account and RBAC, as helm renders them.
    const rendered = await cluster.helm(['template', 'zcsp', join(REPO_ROOT, 'deploy/helm/zcsp'), '--namespace', PROVIDER,
      '--show-only', 'templates/admission.yaml', '--show-only', 'templates/serviceaccount.yaml', '--show-only', 'templates/rbac.yaml']);
    const objects = parseAllDocuments(rendered).map((d) => d.toJS() as KubeObject | null);
    assert.deepEqual(objects.filter((o) => o?.kind?.startsWith('ValidatingAdmissionPolicy') === true).map((o) => o?.metadata?.name),
      ['zcsp-vpg-operations', 'zcsp-vpg-operations'], 'the chart renders a policy and its binding');
    const serviceAccount = objects.find((o) => o?.kind === 'ServiceAccount')?.metadata?.name;
    assert.ok(serviceAccount !== undefined, 'the chart renders a ServiceAccount');
    await cluster.kubectl(['apply', '-f', '-'], { input: rendered });
    const token = (await cluster.kubectl(['create', 'token', serviceAccount, '-n', PROVIDER, '--duration=1h'])).trim();
    const current = cluster.kubeConfig.getCurrentCluster();
    assert.ok(current !== null);
    const operatorKubeConfig = new KubeConfig();
    operatorKubeConfig.loadFromOptions({
      clusters: [current], users: [{ name: 'zcsp-manager', token }],
      contexts: [{ name: 'zcsp-manager', cluster: current.name, user: 'zcsp-manager' }], currentContext: 'zcsp-manager',
    });
    operatorClient = new KubeClient(operatorKubeConfig);

    // The tenant: its Roles come from the Zorg controller, not from this test.
    manager = new Manager({ kubeConfig: operatorKubeConfig, logger, http: false, leaderElection: false });
    manager.add({ ...zorgController(config), workers: 2 });
    await manager.start();
    await admin.create(ZORGS, {
      apiVersion: 'zcsp.io/v1alpha1', kind: 'Zorg', metadata: { name: 'acme' },
      spec: {
        displayName: 'Acme', namespaces: [NS], allowCustomSla: true, members: [
          { kind: 'User', name: 'alice', role: 'Admin' }, { kind: 'User', name: 'oscar', role: 'Operator' }, { kind: 'User', name: 'vera', role: 'Viewer' },
        ],
      },
    });
    for (const name of ['alice', 'oscar', 'vera', 'cora', 'stan']) {
      const user = await cluster.user(name);
      users.set(name, new KubeClient(user.kubeConfig));
      kubeconfigs.set(name, user.kubeconfigPath);
    }
    await waitFor(async () => (await admin.list(ROLE_BINDINGS, { namespace: NS })).items.length === 3,
      { what: 'the tenant RoleBindings', timeoutMs: 60_000, intervalMs: 200 });
    await cluster.kubectl(['apply', '-f', '-'], { input: EXTRA_ROLES });
    await admin.create(VPGS, vpg('web', { priority: 'High' }));
    await admin.create(VPGS, vpg('db'));
    // A new policy takes effect once the API server has loaded it: until then oscar's change passes.
    await waitFor(() => merge(as('oscar'), 'web', { spec: { priority: 'Medium' } }, { dryRun: true }).then(() => false, (err: unknown) => adminOnly(err)),
      { what: 'the policy in force', timeoutMs: 60_000, intervalMs: 250 });
  });

  after(async () => {
    await manager.stop();
    await Promise.allSettled([admin, operatorClient, ...users.values()].map((c) => c.close()));
    await cluster.stop();
  });

  it('lets an Operator start and stop a failover test, and change nothing else', async () => {
    const oscar = as('oscar');
    await merge(admin, 'web', { metadata: { labels: { team: 'web' }, annotations: { note: 'keep' }, finalizers: ['example.com/hold'] } });

    const started = await setOperation(oscar, 'web', { type: 'FailoverTest' });
    assert.deepEqual(operationOf(started), { type: 'FailoverTest', checkpoint: { type: 'Latest' } });
    const again = await setOperation(oscar, 'web', { type: 'FailoverTest' });
    assert.equal(again.metadata?.resourceVersion, started.metadata?.resourceVersion, 'setting the same operation again is a no-op');

    const held = await admin.get(VPGS, 'web', NS);
    await assert.rejects(merge(oscar, 'web', { spec: { priority: 'Low' } }), adminOnly);
    await assert.rejects(merge(oscar, 'web', { spec: { recovery: { testNamespace: 'acme-sandbox' } } }), adminOnly);
    await assert.rejects(merge(oscar, 'web', { metadata: { labels: { team: 'ops' } } }), adminOnly);
    await assert.rejects(merge(oscar, 'web', { metadata: { annotations: { note: null } } }), adminOnly);
    await assert.rejects(oscar.jsonPatch(VPGS, 'web', NS, [{ op: 'remove', path: '/metadata/finalizers/0' }]), adminOnly);
    await assert.rejects(merge(oscar, 'web', { spec: { operation: { type: 'FailoverTest' }, priority: 'Low' } }), adminOnly, 'an operation does not carry a setting along');
    const current = await admin.get(VPGS, 'web', NS);
    assert.equal(current.metadata?.resourceVersion, held.metadata?.resourceVersion, 'nothing refused was written');

    // Stopping the test as `kubectl edit` does: the whole object back, without the operation.
    const spec = { ...(current.spec as Record<string, unknown>) };
    delete spec['operation'];
    const stopped = await oscar.update(VPGS, { ...current, spec });
    assert.equal(operationOf(stopped), undefined);

    await assert.rejects(setOperation(oscar, 'web', { type: 'Failover' }), byPolicy(/spec\.operation: .*Failover needs the privilege update on vpgs\/failover/));
    await assert.rejects(setOperation(oscar, 'web', { type: 'Move' }), byPolicy(/spec\.operation: .*Move needs the privilege update on vpgs\/move/));
    await setOperation(oscar, 'web', { type: 'FailoverTest' });
    await setOperation(oscar, 'web', null);
    assert.equal(operationOf(await admin.get(VPGS, 'web', NS)), undefined, 'merge-patching the operation away stops the test');
    await merge(admin, 'web', { metadata: { finalizers: null } });
  });

  it('lets an Operator use kubectl as the examples show: patch, server-side apply', async () => {
    const kubeconfig = kubeconfigs.get('oscar') ?? '';
    const operation = async (): Promise<unknown> => operationOf(await admin.get(VPGS, 'db', NS))?.['type'];
    await cluster.kubectl(['-n', NS, 'patch', 'vpg', 'db', '--type', 'merge', '-p', '{"spec":{"operation":{"type":"FailoverTest"}}}'], { kubeconfig });
    assert.equal(await operation(), 'FailoverTest');
    await cluster.kubectl(['-n', NS, 'patch', 'vpg', 'db', '--type', 'merge', '-p', '{"spec":{"operation":null}}'], { kubeconfig });
    assert.equal(await operation(), undefined);
    const applied = `{"apiVersion":"zcsp.io/v1alpha1","kind":"VPG","metadata":{"name":"db","namespace":"${NS}"},"spec":{"operation":{"type":"FailoverTest"}}}`;
    await cluster.kubectl(['apply', '--server-side', '--field-manager', 'oscar', '-f', '-'], { kubeconfig, input: applied });
    assert.equal(await operation(), 'FailoverTest', 'a server-side apply of the operation alone');
    await assert.rejects(cluster.kubectl(['-n', NS, 'label', 'vpg', 'db', 'team=ops'], { kubeconfig }), /needs the Admin role/);
    // A client-side apply writes its last-applied annotation along: that is Admin's.
    const full = { ...vpg('db'), spec: { ...(vpg('db').spec as object), operation: { type: 'FailoverTest' } } };
    await assert.rejects(cluster.kubectl(['apply', '-f', '-'], { kubeconfig, input: JSON.stringify(full) }), /needs the Admin role/);
    await cluster.kubectl(['-n', NS, 'patch', 'vpg', 'db', '--type', 'merge', '-p', '{"spec":{"operation":null}}'], { kubeconfig });
  });

  it('refuses an Operator a change of every spec field but operation, which an Admin may make', async () => {
    const crd = parse(await readFile(join(REPO_ROOT, 'deploy/crds/zcsp.io_vpgs.yaml'), 'utf8')) as {
      spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: { properties: Record<string, unknown> } } } } }[] };
    };
    const fields = Object.keys(crd.spec.versions[0]?.schema.openAPIV3Schema.properties.spec.properties ?? {}).filter((f) => f !== 'operation');
    assert.deepEqual(Object.keys(SETTINGS).sort(), fields.sort(), 'SETTINGS lists a change of every spec field of the CRD');
    for (const [field, { change, immutable }] of Object.entries(SETTINGS)) {
      const patch = { spec: { [field]: change } };
      if (immutable === true) {
        await assert.rejects(merge(as('oscar'), 'db', patch, { dryRun: true }), refused(422, /cannot change|cannot go back/), field);
        continue;
      }
      await assert.rejects(merge(as('oscar'), 'db', patch, { dryRun: true }), adminOnly, field);
      await merge(as('alice'), 'db', patch, { dryRun: true });
    }
    // Removing a field is a change too (web has a priority; db has none to remove).
    await assert.rejects(merge(as('oscar'), 'web', { spec: { priority: null } }, { dryRun: true }), adminOnly);
  });

  it('keeps RBAC\'s word: Operators neither create nor delete VPGs, Viewers write nothing', async () => {
    await assert.rejects(as('oscar').create(VPGS, vpg('mine')), byRbac('oscar', 'create'));
    await assert.rejects(as('oscar').delete(VPGS, 'db', NS), byRbac('oscar', 'delete'));
    await assert.rejects(setOperation(as('vera'), 'db', { type: 'FailoverTest' }), byRbac('vera', 'patch'));
    await assert.rejects(merge(as('vera'), 'db', { spec: { priority: 'Low' } }), byRbac('vera', 'patch'));
    assert.equal((await as('vera').get(VPGS, 'db', NS)).metadata?.name, 'db', 'viewers view');
  });

  it('lets an Admin run and decide every operation, and only an Admin decide a failover', async () => {
    const alice = as('alice');
    const oscar = as('oscar');
    await setOperation(alice, 'web', { type: 'Failover', commitPolicy: { type: 'Manual' } });
    await assert.rejects(merge(oscar, 'web', { spec: { operation: { decision: 'Commit' } } }), byPolicy(/Failover needs the privilege update on vpgs\/failover/));
    await assert.rejects(setOperation(oscar, 'web', null), byPolicy(/vpgs\/failover/), 'nor end it');
    const decided = await merge(alice, 'web', { spec: { operation: { decision: 'Commit' } } });
    assert.equal(operationOf(decided)?.['decision'], 'Commit');
    await setOperation(alice, 'web', null);
    await setOperation(alice, 'web', { type: 'Move', reverseProtection: true });
    await setOperation(alice, 'web', null);
    const changed = await merge(alice, 'web', { metadata: { labels: { team: 'db' } }, spec: { priority: 'Low', hooks: { intervalMinutes: 30 } } });
    assert.equal((changed.spec as { priority?: string }).priority, 'Low');
    await alice.create(VPGS, vpg('tested', { operation: { type: 'FailoverTest' } }));
    assert.equal(await alice.delete(VPGS, 'tested', NS), true);
  });

  it('asks for the operation\'s privilege when a VPG is created with one', async () => {
    const cora = as('cora');
    await assert.rejects(cora.create(VPGS, vpg('new', { operation: { type: 'FailoverTest' } }), { dryRun: true }),
      byPolicy(/FailoverTest needs the privilege update on vpgs\/failovertest/));
    const created = await cora.create(VPGS, vpg('new'), { dryRun: true });
    assert.equal(created.metadata?.name, 'new', 'creating without an operation needs nothing more');
  });

  it('lets status writes and the operator\'s own writes through', async () => {
    const status = { status: { phase: 'MeetingSLA' } };
    await admin.mergePatch(VPGS, 'db', NS, status, { subresource: 'status' });
    // stan may write the status and nothing else: the policy does not stand in his way.
    const written = await as('stan').mergePatch(VPGS, 'db', NS, { status: { phase: 'Initializing' } }, { subresource: 'status' });
    assert.equal(written.status?.['phase'], 'Initializing');
    // The manager (chart RBAC: create on vpgs) keeps its finalizer and annotations on tenants' VPGs.
    await merge(operatorClient, 'db', { metadata: { finalizers: ['zcsp.io/replication'], annotations: { 'zcsp.io/stream': 'x' } } });
    const released = await merge(operatorClient, 'db', { metadata: { finalizers: null, annotations: { 'zcsp.io/stream': null } } });
    assert.equal(released.metadata?.finalizers, undefined);
  });

  it('does not hold up the garbage collector: orphan and foreground deletion, orphaned dependents', async () => {
    await admin.create(VPGS, vpg('orphaning'));
    await admin.create(VPGS, vpg('foreground'));
    await admin.delete(VPGS, 'orphaning', NS, { propagationPolicy: 'Orphan' });
    await admin.delete(VPGS, 'foreground', NS, { propagationPolicy: 'Foreground' });
    await waitFor(async () => (await admin.tryGet(VPGS, 'orphaning', NS)) === undefined && (await admin.tryGet(VPGS, 'foreground', NS)) === undefined,
      { what: 'the collector removes its finalizers', timeoutMs: 60_000, intervalMs: 250 });
    // A VPG owned by something deleted with --cascade=orphan: the collector takes the reference off.
    // (Only now: the collector watches the new kind from its next discovery sync; a VPG it learns of
    // after its owner went is deleted instead.)
    const owner = await admin.create(CONFIG_MAPS, { metadata: { name: 'owner', namespace: NS }, data: {} });
    const owned = vpg('owned');
    owned.metadata = { ...owned.metadata, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata?.uid ?? '' }] };
    await admin.create(VPGS, owned);
    await admin.delete(CONFIG_MAPS, 'owner', NS, { propagationPolicy: 'Orphan' });
    await waitFor(async () => (await admin.tryGet(CONFIG_MAPS, 'owner', NS)) === undefined,
      { what: 'the owner gone', timeoutMs: 60_000, intervalMs: 250 });
    assert.deepEqual((await admin.get(VPGS, 'owned', NS)).metadata?.ownerReferences, undefined, 'the VPG stays, orphaned');
  });

  it('agrees with SubjectAccessReview (kubectl auth can-i) for every user and operation', async () => {
    const answers: Record<string, Record<string, [boolean, boolean]>> = {};
    for (const user of ['alice', 'oscar', 'vera']) {
      const row: Record<string, [boolean, boolean]> = {};
      for (const type of ['FailoverTest', 'Failover', 'Move']) {
        row[type] = [await canI(user, 'update', type.toLowerCase()), await succeeds(setOperation(as(user), 'db', { type }, { dryRun: true }))];
      }
      row['settings'] = [await canI(user, 'create'), await succeeds(merge(as(user), 'db', { spec: { priority: 'Low' } }, { dryRun: true }))];
      answers[user] = row;
    }
    const agreeing = (can: boolean): [boolean, boolean] => [can, can];
    assert.deepEqual(answers, {
      alice: { FailoverTest: agreeing(true), Failover: agreeing(true), Move: agreeing(true), settings: agreeing(true) },
      oscar: { FailoverTest: agreeing(true), Failover: agreeing(false), Move: agreeing(false), settings: agreeing(false) },
      vera: { FailoverTest: agreeing(false), Failover: agreeing(false), Move: agreeing(false), settings: agreeing(false) },
    });
  });
});
