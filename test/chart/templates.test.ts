// The chart rendered by the real helm over a table of value sets (test/chart/value-sets.ts): for
// each, the properties every rendering must have (support/invariants.ts), then what the set is
// about. test/integration/chart.test.ts has the API server accept the same renderings.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chartMetadata, chartValuesFile } from './support/chart-files.ts';
import { INVARIANTS } from './support/invariants.ts';
import { find, ofKind, renderSet, workload, type RenderedSet } from './support/rendered-set.ts';
import { VALUE_SETS } from './value-sets.ts';
import { configFromEnv } from '../../src/controllers/config.ts';

// All at once: helm is a separate process each time, so the table costs about one rendering.
const rendered = new Map(VALUE_SETS.map((set) => [set.name, renderSet(set)]));
// A rejection is reported by the test that awaits it, not as an unhandled one.
for (const p of rendered.values()) p.catch(() => undefined);

const renderingOf = async (name: string): Promise<RenderedSet> => {
  const p = rendered.get(name);
  assert.ok(p !== undefined, `no value set "${name}"`);
  return p;
};

describe('chart templates over the value sets', () => {
  for (const set of VALUE_SETS) {
    describe(set.name, () => {
      for (const invariant of INVARIANTS) {
        it(invariant.name, async () => invariant.check(await renderingOf(set.name)));
      }
    });
  }
});

describe('chart templates: what particular sets are for', () => {
  it('the default image is ghcr.io/zcsp/zcsp at the chart\'s appVersion, the version of the package', async () => {
    const r = await renderingOf('defaults');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(chartMetadata().appVersion, pkg.version);
    assert.deepEqual(chartValuesFile()['image'], { repository: 'ghcr.io/zcsp/zcsp', tag: '', pullPolicy: 'IfNotPresent' });
    assert.equal(workload(r, 'zcsp-manager').pod.containers[0]?.image, `ghcr.io/zcsp/zcsp:${pkg.version}`);
  });

  it('defaults: two managers with a PDB keeping one, the console, the CRDs', async () => {
    const r = await renderingOf('defaults');
    assert.equal(workload(r, 'zcsp-manager').deployment.spec?.replicas, 2);
    assert.equal(find(r, 'PodDisruptionBudget', 'zcsp-manager')?.spec?.minAvailable, 1);
    assert.equal(workload(r, 'zcsp-console').pod.serviceAccountName, 'zcsp-console');
    assert.equal(ofKind(r, 'CustomResourceDefinition').length, 5);
  });

  it('one replica, even with the PDB enabled at minAvailable 1: no PDB', async () => {
    for (const name of ['one replica: no PDB (one of one would block every drain)', 'PDB on, one replica, minAvailable 1']) {
      assert.equal(ofKind(await renderingOf(name), 'PodDisruptionBudget').length, 0, name);
    }
  });

  it('an existing ServiceAccount is used, not created', async () => {
    const r = await renderingOf('an existing ServiceAccount');
    assert.equal(workload(r, 'zcsp-manager').pod.serviceAccountName, 'dr-operator');
    assert.deepEqual(ofKind(r, 'ServiceAccount').map((o) => o.metadata?.name), ['zcsp-console']);
  });

  it('the longest release name still gives namespaced names of at most 63 characters', async () => {
    const r = await renderingOf('the longest release name helm allows');
    assert.equal(Math.max(...r.objects.filter((o) => o.metadata.namespace !== undefined).map((o) => o.metadata.name.length)), 63);
  });

  it('everything off: the manager alone, with its RBAC and the admission policy', async () => {
    const r = await renderingOf('everything off');
    assert.deepEqual(r.objects.map((o) => o.kind).sort(),
      ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Role', 'RoleBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
  });

  it('every option on: the scheduling values reach both Deployments', async () => {
    const r = await renderingOf('every option on');
    for (const name of ['dr-zcsp-manager', 'dr-zcsp-console']) {
      const w = workload(r, name);
      assert.equal(w.pod.priorityClassName, 'system-cluster-critical', name);
      assert.equal(w.pod.nodeSelector?.['kubernetes.io/os'], 'linux', name);
      assert.equal(w.pod.tolerations?.length, 2, name);
      assert.ok(w.pod.affinity?.nodeAffinity !== undefined && w.pod.affinity.podAntiAffinity !== undefined, name);
      assert.equal(w.podLabels['team'], 'dr', name);
      assert.equal(w.pod.imagePullSecrets?.[0]?.name, 'regcred', name);
      assert.equal(w.pod.containers[0]?.image, 'registry.example.com/zcsp:0.2.0', name);
    }
  });

  it('the operator reads the image, its pull policy and pull secrets as the chart sets them, for the pods it makes', async () => {
    const envOf = async (set: string): Promise<NodeJS.ProcessEnv> => {
      const env: NodeJS.ProcessEnv = { POD_NAMESPACE: 'zcsp-system' };
      for (const e of workload(await renderingOf(set), 'zcsp-manager').pod.containers[0]?.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
      return env;
    };
    const mirror = configFromEnv(await envOf('image from a mirror, pinned, always pulled, with pull secrets'));
    assert.equal(mirror.image, 'registry.example.com:5000/mirror/zcsp:v0.2.0-rc.1');
    assert.equal(mirror.imagePullPolicy, 'Always');
    assert.deepEqual(mirror.imagePullSecrets, ['regcred', 'mirror.example.com']);
    const defaults = configFromEnv(await envOf('defaults'));
    assert.equal(defaults.imagePullPolicy, 'IfNotPresent');
    assert.deepEqual(defaults.imagePullSecrets, []);
  });
});
