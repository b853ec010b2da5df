// `kubectl zcsp sizing`, run for real: kubectl finds bin/kubectl-zcsp on PATH. Hypothetical
// figures need no API server (and no kubeconfig); a VPG's and a Zorg's figures are read from
// their status, which the test writes through the status subresource as the operator would, on a
// real API server with the zcsp CRDs, as a tenant user.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, startCluster, type LocalCluster, type TestUser } from '../cluster/cluster.ts';
import { runPlugin, showRun, type PluginResult } from './support/kubectl-plugin.ts';
import { SITES, VPGS, ZORGS } from '../../src/controllers/resources.ts';
import { KubeClient } from '../../src/runtime/index.ts';
import { estimate, fromDailyChange, total, type SizingReport } from '../../src/sizing/index.ts';

const NS = 'acme';
/** A namespace of the Zorg the tenant may not read. */
const HIDDEN_NS = 'acme-vault';

const manifests = `apiVersion: zcsp.io/v1alpha1
kind: Zorg
metadata: { name: acme }
spec: { displayName: Acme, namespaces: [${NS}, ${HIDDEN_NS}], allowCustomSla: true }
---
${['web', 'db'].map((name) => `apiVersion: zcsp.io/v1alpha1
kind: VPG
metadata: { name: ${name}, namespace: ${NS} }
spec:
  protectedSite: prod
  recoverySite: dr
  volumes: { claimNames: [${name}-data] }
  recovery: { namespace: acme-dr, testNamespace: acme-test }
`).join('---\n')}---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: vpg-viewer, namespace: ${NS} }
rules: [{ apiGroups: [zcsp.io], resources: [vpgs], verbs: [get, list, watch] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: vic-views-vpgs, namespace: ${NS} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: vpg-viewer }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: vic }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: zorg-reader }
rules: [{ apiGroups: [zcsp.io], resources: [zorgs], verbs: [get] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: vic-reads-zorgs }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: zorg-reader }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: vic }]
`;

const ESTATE = ['sizing', '--protected', '403TB', '--daily-change', '10%', '--history', '24h', '--compression', '2', '--failback', '--rpo', '5m'];

type Result = PluginResult;

describe('kubectl zcsp sizing', { timeout: 180_000 }, () => {
  let cluster: LocalCluster;
  let admin: KubeClient;
  let vic: TestUser;
  let emptyHome: string;

  /** `kubectl zcsp ARGS` as vic; with `kubeconfig: null`, with none at all (no KUBECONFIG, an empty HOME). */
  const zcsp = (args: readonly string[], kubeconfig: string | null = vic.kubeconfigPath): Promise<Result> => {
    const { KUBECONFIG: _, ...env } = process.env;
    return runPlugin(cluster.binaries.kubectl, args, { ...env, ...(kubeconfig === null ? { HOME: emptyHome } : { KUBECONFIG: kubeconfig }) });
  };
  const show = showRun;

  // web: 2 TB, 5 % a day (100 GB raw), 2:1 (50 GB a day journaled), 24 h, hard limit 2 % of 2 TB (40 GB), failback.
  const web: SizingReport = estimate(fromDailyChange({
    protectedBytes: 2e12, dailyChangePercent: 5, compressionRatio: 2, historyHours: 24, hardLimit: { type: 'Percent', percent: 2 }, rpoSeconds: 300, reverseProtection: true,
  }));
  const webSizing = { basis: { source: 'Measured', measuredSeconds: 2 * 86_400, since: '2025-03-01T00:00:00Z' }, ...web };

  before(async () => {
    const t0 = Date.now();
    emptyHome = await mkdtemp(join(tmpdir(), 'zcsp-sizing-home-'));
    cluster = await startCluster({ kubelets: false });
    admin = new KubeClient(cluster.kubeConfig);
    await cluster.kubectl(['apply', '--server-side', '-f', join(REPO_ROOT, 'deploy/crds')]);
    await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/vpgs.zcsp.io', 'crd/zorgs.zcsp.io']);
    await cluster.kubectl(['create', 'namespace', NS]);
    await cluster.kubectl(['create', 'namespace', HIDDEN_NS]);
    await cluster.kubectl(['apply', '-f', '-'], { input: manifests });
    vic = await cluster.user('vic');
    await admin.mergePatch(VPGS, 'db', NS, { status: { phase: 'Initializing' } }, { subresource: 'status' });
    await admin.mergePatch(VPGS, 'web', NS, { status: { phase: 'MeetingSLA', sizing: webSizing } }, { subresource: 'status' });
    process.stdout.write(`# control plane with the zcsp CRDs ready in ${String(Date.now() - t0)} ms\n`);
  });

  after(async () => {
    await admin.close();
    await cluster.stop();
    await rm(emptyHome, { recursive: true, force: true });
  });

  it('sizes the estate from hypothetical figures with no kubeconfig at all', async () => {
    const r = await zcsp(ESTATE, null);
    assert.equal(r.code, 0, show(r));
    // 10 % of 403 TB a day, 2:1: 20.15 TB a day journaled and sent; 20.15e12 × 8 ÷ 86 400 s = 1.866 Gbit/s.
    assert.match(r.stdout, /^Journal: +20\.15 TB projected for 1d of history \(hard limit: unlimited\)$/m);
    assert.match(r.stdout, /^WAN: +1\.87 Gbit\/s on average, 1\.87 Gbit\/s at the peak; 1\.87 Gbit\/s holds the RPO target of 5m/m);
    assert.match(r.stdout, /^Failover test: +403 TB of claims in the test namespace \+ 403 TB of scratch on the recovery VRA's volume while they restore$/m);
    assert.match(r.stdout, /^Failback: +423\.16 TB more on the protected site after a failover \(reverse replica 403 TB \+ journal 20\.16 TB\)$/m);
    assert.match(r.stdout, /^Recovery site: +423\.16 TB \(replica \+ journal of 20\.16 TB, of which up to 268\.44 MB is segment files/m);
    assert.equal(r.stderr, '');
  });

  it('shows a hard limit the estate\'s history does not fit, and prints JSON with -o json', async () => {
    const text = await zcsp([...ESTATE, '--hard-limit', '4%'], null);
    assert.equal(text.code, 0, show(text));
    // 4 % of 403 TB = 16.12 TB: 125 % of it; at 20.15 TB a day it holds 19.2 h = 19h12m.
    assert.match(text.stdout, /125% of the hard limit 16\.12 TB.*OVER THE HARD LIMIT: the journal holds 19h12m of history/);
    const json = await zcsp([...ESTATE, '--hard-limit', '10%', '-o', 'json'], null);
    assert.equal(json.code, 0, show(json));
    const data = JSON.parse(json.stdout) as SizingReport & { basis: { source: string } };
    assert.equal(data.basis.source, 'Hypothetical');
    assert.equal(data.journal.projectedBytes, 20_150_000_000_000);
    assert.equal(data.journal.hardLimitBytes, 40_300_000_000_000);
    assert.equal(data.journal.historyHoursAtHardLimit, 48);
    assert.equal(data.wan.averageBitsPerSecond, Math.ceil((20_150_000_000_000 * 8) / 86_400));
    assert.equal(data.protectedSite.afterFailoverBytes, 423_150_000_000_000 + 256 * 2 ** 20);
  });

  it('exits 2 with the usage when figures are mixed, unknown or wrong, before anything is sent', async () => {
    for (const [args, message] of [
      [['sizing', 'web', '-n', NS, '--protected', '1TB'], /^kubectl zcsp: --protected is for hypothetical figures: VPG web is sized from what was measured/],
      [['sizing', '--zorg', 'acme', 'web'], /^kubectl zcsp: give one of a VPG, --zorg and --site/],
      [['sizing', '--site', 'dr', '--zorg', 'acme'], /^kubectl zcsp: give one of a VPG, --zorg and --site/],
      [[...ESTATE, '--bogus'], /^kubectl zcsp: unknown flag --bogus/],
      [[...ESTATE, '--history', '1000h'], /^kubectl zcsp: --history: 1000 hours is outside 1–720 hours/],
      [[...ESTATE, '--compression', '50%'], /^kubectl zcsp: --compression: "50%": a percentage is ambiguous/],
      [['sizing'], /^kubectl zcsp: give a VPG, --zorg NAME, --site NAME, or hypothetical figures/],
    ] as const) {
      const r = await zcsp(args, null);
      assert.equal(r.code, 2, show(r));
      assert.match(r.stderr, message);
      assert.match(r.stderr, /\n\nusage: kubectl zcsp sizing \[VPG\] /);
    }
  });

  it('says a VPG has no figures yet while it is in its initial sync, and exits 1', async () => {
    const r = await zcsp(['sizing', 'db', '-n', NS]);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /^error: VPG db in namespace acme has no sizing yet: no change rate measured yet: the VPG is still in its initial sync; come back after a few minutes of protection/);
    assert.equal(r.stdout, '');
  });

  it('names a VPG that does not exist', async () => {
    const r = await zcsp(['sizing', 'nothing', '-n', NS]);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /^error: no VPG nothing in namespace acme\n$/);
  });

  it('prints the report the operator keeps in a VPG\'s status', async () => {
    const r = await zcsp(['sizing', 'web', '-n', NS]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^VPG: +acme\/web$/m);
    assert.match(r.stdout, /^Basis: +2d of change measured while replicating since 2025-03-01T00:00:00Z$/m);
    // 5 % of 2 TB a day = 100 GB raw, 50 GB sent and journaled in 24 h; the limit 2 % of 2 TB = 40 GB holds 40 ÷ 50 × 24 = 19.2 h.
    assert.match(r.stdout, /^Journal: +50 GB projected for 1d of history: 125% of the hard limit 40 GB \(warning at 30 GB\)\. OVER THE HARD LIMIT: the journal holds 19h12m of history/m);
    // Failback: 2 TB replica + the journal, stopped at its 40 GB limit, and its files (256 MiB).
    assert.match(r.stdout, /^Failback: +2\.05 TB more on the protected site after a failover \(reverse replica 2 TB \+ journal 40\.27 GB\)$/m);
    const json = await zcsp(['sizing', 'web', '-n', NS, '-o', 'json']);
    assert.equal(json.code, 0, show(json));
    assert.deepEqual(JSON.parse(json.stdout), JSON.parse(JSON.stringify(webSizing)));
  });

  it('prints a Zorg\'s totals and a line per VPG the tenant may read, noting the namespaces it may not', async () => {
    await admin.mergePatch(ZORGS, 'acme', undefined, { status: { sizing: total([web]) } }, { subresource: 'status' });
    const r = await zcsp(['sizing', '--zorg', 'acme']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^Zorg: +acme\nTotals: +the Zorg's status \(every VPG of the Zorg\)\nVPGs: +1 with figures; 1 over its journal hard limit$/m);
    assert.match(r.stdout, /^Failback: +2\.05 TB more on the protected sites/m);
    assert.match(r.stdout, /^acme +web +2 TB +5% +50 GB \(125% of limit!\) +2\.05 TB +4 TB +2\.05 TB +/m);
    assert.match(r.stdout, /^acme +db +- .* not yet$/m);
    assert.equal(r.stderr, `skipped namespace ${HIDDEN_NS}: you may not list its VPGs\n`);
  });

  it('prints a Site\'s totals as recovery and as protected site, for a provider; a tenant may not read Sites', async () => {
    await cluster.kubectl(['apply', '-f', '-'], { input: 'apiVersion: zcsp.io/v1alpha1\nkind: Site\nmetadata: { name: dr }\nspec: { nodeSelector: { zcsp.io/site: dr } }\n' });
    const none = await zcsp(['sizing', '--site', 'dr'], cluster.kubeconfigPath);
    assert.equal(none.code, 1, show(none));
    assert.match(none.stderr, /^error: Site dr has no sizing yet/);
    const sizing = { asRecoverySite: total([web]), asProtectedSite: total([]), vraCapacityBytes: 1e12 };
    await admin.mergePatch(SITES, 'dr', undefined, { status: { sizing } }, { subresource: 'status' });
    const r = await zcsp(['sizing', '--site', 'dr'], cluster.kubeconfigPath);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^Site: +dr\nAs: +the recovery site of these VPGs\nVRA volumes: +1 TB\nVPGs: +1 with figures; 1 over its journal hard limit$/m);
    // web's replica (2 TB) and its journal at its 40 GB limit, with its files (256 MiB).
    assert.match(r.stdout, /^Recovery site: +2\.05 TB /m);
    assert.match(r.stdout, /^As: +the protected site of these VPGs.*\nVPGs: +0 with figures/m);
    const json = await zcsp(['sizing', '--site', 'dr', '-o', 'json'], cluster.kubeconfigPath);
    assert.deepEqual(JSON.parse(json.stdout), { site: 'dr', ...sizing });
    const tenant = await zcsp(['sizing', '--site', 'dr']);
    assert.equal(tenant.code, 1, show(tenant));
    assert.match(tenant.stderr, /forbidden/);
  });
});
