// `kubectl zcsp`, run for real: the cluster's kubectl finds bin/kubectl-zcsp on PATH and runs it
// as a tenant user (KUBECONFIG), against a real API server with the zcsp CRDs.
//
// No controller runs here: the test stands in for it, writing the VPG's status through the status
// subresource when it sees the spec change. So this checks the plugin's side of the contract:
// what it writes to spec.operation and the tag annotation, how it follows the status, what it
// prints and how it exits; and that a tenant's RBAC is all it needs. The same commands against
// the real controller are run end to end elsewhere.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, startCluster, type LocalCluster, type TestUser } from '../cluster/cluster.ts';
import { runPlugin, showRun, type PluginResult } from './support/kubectl-plugin.ts';
import { waitFor } from '../cluster/net.ts';
import { VPGS } from '../../src/controllers/resources.ts';
import { KubeClient } from '../../src/runtime/index.ts';
import { TAG_ANNOTATION, type Vpg } from '../../src/kubectl/vpg.ts';

const NS = 'acme';
const VPG_NAMES = ['web', 'db', 'app', 'logs'];

const vpgManifest = (name: string): string => `apiVersion: zcsp.io/v1alpha1
kind: VPG
metadata: { name: ${name}, namespace: ${NS} }
spec:
  protectedSite: prod
  recoverySite: dr
  volumes: { claimNames: [${name}-data] }
  recovery: { namespace: acme-dr, testNamespace: acme-test }
`;

/** A VPG that only measures its change rate until it is switched to Protect. */
const assessManifest = vpgManifest('trial').replace('spec:\n', 'spec:\n  mode: Assess\n');

/** What a tenant admin may do with VPGs, and what a viewer may: read, not patch. */
const rbacManifests = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: vpg-editor, namespace: ${NS} }
rules: [{ apiGroups: [zcsp.io], resources: [vpgs], verbs: [get, list, watch, patch] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: vpg-viewer, namespace: ${NS} }
rules: [{ apiGroups: [zcsp.io], resources: [vpgs], verbs: [get, list, watch] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: tina-edits-vpgs, namespace: ${NS} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: vpg-editor }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: tina }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: vic-views-vpgs, namespace: ${NS} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: vpg-viewer }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: vic }]
`;

type Result = PluginResult;

const iso = (offsetSeconds = 0): string => new Date(Date.now() + offsetSeconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

describe('kubectl zcsp', { timeout: 240_000 }, () => {
  let cluster: LocalCluster;
  let admin: KubeClient;
  let tina: TestUser;
  let vic: TestUser;
  const running = new Set<ReturnType<typeof spawn>>();

  /** Starts `kubectl zcsp ARGS` as `user`; resolves when it exits. */
  const zcsp = (args: readonly string[], user: TestUser = tina): Promise<Result> =>
    runPlugin(cluster.binaries.kubectl, args, { ...process.env, KUBECONFIG: user.kubeconfigPath }, running);
  const show = showRun;

  const vpg = async (name: string): Promise<Vpg> => await admin.get(VPGS, name, NS) as Vpg;
  /** The stand-in controller notices the spec (or annotation) change it waits for. */
  const untilVpg = async (name: string, what: string, check: (v: Vpg) => boolean): Promise<Vpg> => {
    let seen: Vpg | undefined;
    await waitFor(async () => {
      seen = await vpg(name);
      return check(seen);
    }, { what: `VPG ${name}: ${what}`, timeoutMs: 60_000, intervalMs: 100 });
    return seen as Vpg;
  };
  /** The stand-in controller writes status (a merge patch through the status subresource). */
  const setStatus = async (name: string, status: Record<string, unknown>): Promise<void> => {
    await admin.mergePatch(VPGS, name, NS, { status }, { subresource: 'status' });
  };
  const generationOf = (v: Vpg): number => v.metadata?.generation ?? 0;

  before(async () => {
    const t0 = Date.now();
    cluster = await startCluster({ kubelets: false });
    admin = new KubeClient(cluster.kubeConfig);
    await cluster.kubectl(['apply', '--server-side', '-f', join(REPO_ROOT, 'deploy/crds')]);
    await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/vpgs.zcsp.io']);
    await cluster.kubectl(['create', 'namespace', NS]);
    await cluster.kubectl(['apply', '-f', '-'], { input: [rbacManifests, ...VPG_NAMES.map(vpgManifest), assessManifest].join('---\n') });
    [tina, vic] = await Promise.all([cluster.user('tina'), cluster.user('vic')]);
    process.stdout.write(`# control plane with the zcsp CRDs, ${VPG_NAMES.length} VPGs and two tenant users ready in ${Date.now() - t0} ms\n`);
  });

  after(async () => {
    for (const child of running) child.kill('SIGKILL');
    await admin.close();
    await cluster.stop();
  });

  it('status lists the VPGs of the namespace to a tenant that may only read them', async () => {
    await setStatus('logs', { phase: 'MeetingSLA', rpoSeconds: 4, journal: { actualHistorySeconds: 3600, actualHistory: '1h', configuredHistorySeconds: 86_400, used: '12Mi', limit: 'Unlimited' } });
    const r = await zcsp(['status', '-n', NS], vic);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^NAME +PHASE +SUBSTATUS +RPO +HISTORY +JOURNAL +OPERATION$/m);
    assert.match(r.stdout, /^logs +MeetingSLA +- +4s +1h +12Mi\/Unlimited +-$/m);
    for (const name of VPG_NAMES) assert.match(r.stdout, new RegExp(`^${name} `, 'm'));
  });

  it('test declares a failover test of the chosen checkpoint, prints each stage and exits 0 once it runs', async () => {
    const run = zcsp(['test', 'web', '-n', NS, '--checkpoint', 'latest-tagged', '--timeout', '2m']);
    const declared = await untilVpg('web', 'spec.operation set', (v) => v.spec?.operation !== undefined);
    assert.deepEqual(declared.spec?.operation, { type: 'FailoverTest', checkpoint: { type: 'LatestTagged' } });
    const startTime = iso();
    await setStatus('web', { observedGeneration: generationOf(declared), phase: 'Testing', operation: { type: 'FailoverTest', stage: 'Preparing', startTime } });
    await setStatus('web', { operation: { stage: 'Recovering', message: 'restoring web-data' } });
    await setStatus('web', { operation: { stage: 'Running', message: 'test workloads ready', checkpoint: { id: 'cp-42', time: startTime, tag: 'nightly' } } });
    const r = await run;
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, /declared on VPG acme\/web: FailoverTest, of the latest tagged checkpoint\n.*\] Preparing\n.*\] Recovering: restoring web-data\n.*\] Running: test workloads ready\n$/);
    assert.match(r.stdout, /^Failover test of VPG acme\/web is running in namespace acme-test\.\nCheckpoint: cp-42 at .*, tagged "nightly"\n/);
    assert.match(r.stdout, /Stop it with: kubectl zcsp stop-test web -n acme/);
  });

  it('status shows the running test in detail', async () => {
    const r = await zcsp(['status', 'web', '-n', NS], vic);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^Name: +web\nNamespace: +acme\nPhase: +Testing\n/);
    assert.match(r.stdout, /^Operation: +FailoverTest, stage Running, started .*\n {2}checkpoint: cp-42 at .*, tagged "nightly"\n {2}message: +test workloads ready\n {2}declared: +FailoverTest, of the latest tagged checkpoint$/m);
  });

  it('test refuses while an operation is declared, saying which', async () => {
    const r = await zcsp(['test', 'web', '-n', NS]);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /^error: VPG web already has an operation declared: FailoverTest, of the latest tagged checkpoint \(stage Running: test workloads ready\); stop it with: kubectl zcsp stop-test web -n acme\n$/);
  });

  it('stop-test removes the operation, waits for the status to drop it and prints the history entry and last test', async () => {
    const before = await vpg('web');
    const startTime = before.status?.operation?.startTime ?? '';
    const checkpoint = { id: 'cp-42', time: startTime, tag: 'nightly' };
    const run = zcsp(['stop-test', 'web', '-n', NS, '--timeout', '2m']);
    const stopped = await untilVpg('web', 'spec.operation removed', (v) => v.spec?.operation === undefined);
    await setStatus('web', { observedGeneration: generationOf(stopped), operation: { stage: 'Stopping', message: 'removing the test workloads' } });
    // While it winds down, a new operation is refused: the old one's end would pass for the new one's.
    const early = await zcsp(['test', 'web', '-n', NS]);
    assert.equal(early.code, 1, show(early));
    assert.match(early.stderr, /^error: VPG web's previous failover test is still ending \(stage Stopping\)/);
    const endTime = iso();
    await setStatus('web', {
      phase: 'MeetingSLA', operation: null,
      history: [{ type: 'FailoverTest', startTime, endTime, checkpoint, result: 'Succeeded', message: 'stopped by the tenant' }],
      lastTest: { startTime, endTime, checkpoint, result: 'Succeeded' },
    });
    const r = await run;
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, /\] Stopping: removing the test workloads\n/);
    assert.match(r.stdout, /^Failover test of VPG acme\/web stopped:\nFailoverTest Succeeded: ended .* after \d+s\n {2}checkpoint cp-42 at .*\n {2}stopped by the tenant\nLast test: Succeeded, started /);
  });

  it('stop-test refuses when no failover test is declared', async () => {
    const r = await zcsp(['stop-test', 'web', '-n', NS]);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /^error: VPG web has no failover test to stop: no operation is declared\n$/);
  });

  it('tag sets the annotation and waits until the controller lists the tagged checkpoint', async () => {
    const run = zcsp(['tag', 'logs', 'before upgrade', '-n', NS, '--timeout', '2m']);
    await untilVpg('logs', 'tag annotation set', (v) => v.metadata?.annotations?.[TAG_ANNOTATION] === 'before upgrade');
    const time = iso();
    await setStatus('logs', { checkpoints: { count: 2, latest: { id: 'cp-8', time }, tagged: [{ id: 'cp-7', time, tag: 'before upgrade' }] } });
    await admin.mergePatch(VPGS, 'logs', NS, { metadata: { annotations: { [TAG_ANNOTATION]: null } } });
    const r = await run;
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, /asked for a checkpoint of VPG acme\/logs tagged "before upgrade"/);
    assert.match(r.stdout, new RegExp(`^Checkpoint cp-7 at ${time} \\(\\d+s ago\\), tagged "before upgrade"\n$`));

    const json = await zcsp(['checkpoints', 'logs', '-n', NS, '-o', 'json'], vic);
    assert.equal(json.code, 0, show(json));
    assert.deepEqual(JSON.parse(json.stdout), { count: 2, latest: { id: 'cp-8', time }, tagged: [{ id: 'cp-7', time, tag: 'before upgrade' }] });
  });

  it('protect switches an assessment to Protect, prints each phase and exits 0 once it protects', async () => {
    const refused = await zcsp(['protect', 'web', '-n', NS]);
    assert.equal(refused.code, 1, show(refused));
    assert.match(refused.stderr, /VPG acme\/web already protects \(spec\.mode Protect\): only an assessment can be switched to Protect/);
    assert.equal((await vpg('web')).spec?.mode, 'Protect');

    await setStatus('trial', { observedGeneration: generationOf(await vpg('trial')), phase: 'Assessing', substatus: 'Baseline' });
    const run = zcsp(['protect', 'trial', '-n', NS, '--timeout', '2m']);
    const switched = await untilVpg('trial', 'spec.mode Protect', (v) => v.spec?.mode === 'Protect');
    await setStatus('trial', { observedGeneration: generationOf(switched), phase: 'Initializing', substatus: 'InitialSync', sync: { type: 'Initial', startTime: iso(), progressPercent: 3 } });
    const r = await run;
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, /VPG acme\/trial: spec\.mode Protect\n.*\] Initializing \(InitialSync\)\n$/);
    assert.match(r.stdout, /^VPG trial protects: phase Initializing, initial sync 3%\. Wait for the initial sync with: kubectl wait --for=condition=MeetingSLA vpg\/trial -n acme\n$/);

    // Once protecting, there is nothing to switch.
    const again = await zcsp(['protect', 'trial', '-n', NS]);
    assert.equal(again.code, 1, show(again));
    assert.match(again.stderr, /already protects/);
  });

  it('failover --wait=false writes the operation with its commit policy and reverse protection and returns', async () => {
    const r = await zcsp(['failover', 'db', '-n', NS, '--commit-policy', 'auto-commit:5', '--reverse', '--wait=false']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^Failover of VPG acme\/db declared; follow it with: kubectl zcsp status db -n acme\n$/);
    assert.deepEqual((await vpg('db')).spec?.operation, {
      type: 'Failover', checkpoint: { type: 'Latest' }, commitPolicy: { type: 'AutoCommit', timeoutMinutes: 5 }, reverseProtection: true,
    });
  });

  it('commit is refused, naming the stage, while the failover is not BeforeCommit', async () => {
    const declared = await vpg('db');
    await setStatus('db', { observedGeneration: generationOf(declared), phase: 'FailingOver', substatus: 'Recovering', operation: { type: 'Failover', stage: 'Recovering', startTime: iso() } });
    const r = await zcsp(['commit', 'db', '-n', NS]);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /^error: the failover of VPG db is in stage Recovering: commit is possible only in stage BeforeCommit\n$/);
    assert.equal((await vpg('db')).spec?.operation?.decision, undefined);
  });

  it('commit in BeforeCommit sets the decision, follows the commit to its history entry, then clears spec.operation', async () => {
    const declared = await vpg('db');
    const startTime = declared.status?.operation?.startTime ?? '';
    await setStatus('db', { substatus: 'BeforeCommit', operation: { stage: 'BeforeCommit', commitDeadline: iso(300) } });
    const run = zcsp(['commit', 'db', '-n', NS, '--timeout', '2m']);
    const decided = await untilVpg('db', 'decision set', (v) => v.spec?.operation?.decision !== undefined);
    assert.deepEqual(decided.spec?.operation, { ...declared.spec?.operation, decision: 'Commit' });
    await setStatus('db', { observedGeneration: generationOf(decided), substatus: 'Committing', operation: { stage: 'Committing', message: 'starting reverse protection' } });
    await setStatus('db', {
      phase: 'MeetingSLA', substatus: null, operation: null,
      history: [{ type: 'Failover', startTime, endTime: iso(), checkpoint: { id: 'cp-99', time: startTime }, result: 'Succeeded' }],
    });
    const r = await run;
    assert.equal(r.code, 0, show(r));
    assert.match(r.stderr, /decision Commit set on the failover of VPG acme\/db\n.*\] Committing: starting reverse protection\nremoved the ended failover from spec\.operation\n$/);
    assert.match(r.stdout, /^Failover Succeeded: ended .*\n {2}checkpoint cp-99 at /);
    assert.equal((await vpg('db')).spec?.operation, undefined);
  });

  it('move waits until BeforeCommit and prints the deadline; rollback then follows it to RolledBack', async () => {
    const run = zcsp(['move', 'app', '-n', NS, '--commit-policy', 'manual', '--timeout', '2m']);
    const declared = await untilVpg('app', 'spec.operation set', (v) => v.spec?.operation !== undefined);
    assert.deepEqual(declared.spec?.operation, { type: 'Move', checkpoint: { type: 'Latest' }, commitPolicy: { type: 'Manual' } });
    const startTime = iso();
    await setStatus('app', { observedGeneration: generationOf(declared), phase: 'Moving', operation: { type: 'Move', stage: 'Preparing', startTime, message: 'stopping the protected workloads' } });
    await setStatus('app', { operation: { stage: 'BeforeCommit', message: null, checkpoint: { id: 'cp-5', time: startTime }, commitDeadline: iso(600) } });
    const moved = await run;
    assert.equal(moved.code, 0, show(moved));
    assert.match(moved.stderr, /\] Preparing: stopping the protected workloads\n.*\] BeforeCommit\n$/);
    assert.match(moved.stdout, /^Move of VPG acme\/app is before commit: recovered into namespace acme-dr\.\nCheckpoint: cp-5 at .*\nCommit deadline: .* \(in (9m\d+s|10m)\), when the commit policy acts\.\nDecide with: kubectl zcsp commit app -n acme {3}or {3}kubectl zcsp rollback app -n acme\n$/);

    const rollback = zcsp(['rollback', 'app', '-n', NS, '-o', 'json', '--timeout', '2m']);
    const decided = await untilVpg('app', 'decision set', (v) => v.spec?.operation?.decision === 'Rollback');
    const entry = { type: 'Move', startTime, endTime: iso(), result: 'RolledBack', message: 'rolled back by the tenant' };
    await setStatus('app', { observedGeneration: generationOf(decided), phase: 'MeetingSLA', operation: null, history: [entry] });
    const r = await rollback;
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(JSON.parse(r.stdout), { history: entry });
    assert.equal((await vpg('app')).spec?.operation, undefined);
  });

  it('a tenant whose Role lacks patch gets the API server\'s refusal, naming the privilege, and exit 1', async () => {
    const r = await zcsp(['test', 'logs', '-n', NS], vic);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /^error: vpgs\.zcsp\.io "logs" is forbidden: User "vic" cannot patch resource "vpgs" in API group "zcsp\.io" in the namespace "acme"\n$/);
    assert.equal((await vpg('logs')).spec?.operation, undefined);
  });

  it('an unknown VPG is named with its namespace, exit 1', async () => {
    const [r, failover] = await Promise.all([zcsp(['status', 'nope', '-n', NS]), zcsp(['failover', 'nope', '-n', NS])]);
    assert.equal(r.code, 1, show(r));
    assert.equal(r.stderr, 'error: no VPG nope in namespace acme\n');
    assert.equal(failover.code, 1, show(failover));
    assert.equal(failover.stderr, 'error: no VPG nope in namespace acme\n');
  });

  it('bad flags exit 2 with the usage, before anything is sent', async () => {
    const [policy, unknown] = await Promise.all([zcsp(['failover', 'db', '-n', NS, '--commit-policy', 'sometimes']), zcsp(['test', 'db', '--bogus'])]);
    assert.equal(policy.code, 2, show(policy));
    assert.match(policy.stderr, /^kubectl zcsp: --commit-policy: "sometimes" is not manual, auto-commit:MINUTES or auto-rollback:MINUTES \(0-1440\)\n\nusage: kubectl zcsp failover VPG /);
    assert.equal(unknown.code, 2, show(unknown));
    assert.match(unknown.stderr, /^kubectl zcsp: unknown flag --bogus\n\nusage: kubectl zcsp test VPG /);
    assert.equal((await vpg('db')).spec?.operation, undefined);
  });
});
