// The Helm chart against a real API server: it lints, its schema refuses bad values, it installs
// the CRDs, upgrades them, and leaves them (and so every tenant's VPGs) in place on uninstall.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiextensionsV1Api } from '@kubernetes/client-node';
import { parseAllDocuments, parseDocument } from 'yaml';
import { startCluster, type LocalCluster } from '../cluster/cluster.ts';

const chart = fileURLToPath(new URL('../../deploy/helm/zcsp', import.meta.url));

describe('helm chart deploy/helm/zcsp', { timeout: 300_000 }, () => {
  let cluster: LocalCluster;

  before(async () => {
    cluster = await startCluster({ kubelets: false });
  });
  after(async () => {
    await cluster.stop();
  });

  const kinds = async (...set: string[]): Promise<string[]> => {
    const out = await cluster.helm(['template', 'zcsp', chart, '--namespace', 'zcsp-system', ...set.flatMap((s) => ['--set', s])]);
    return parseAllDocuments(out).map((d) => (d.toJS() as { kind?: string } | null)?.kind ?? '').filter((k) => k !== '').sort();
  };

  it('lints cleanly', async () => {
    const out = await cluster.helm(['lint', chart, '--strict']);
    assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('renders what the values ask for', async () => {
    const all = await kinds();
    assert.deepEqual(all.filter((k) => k === 'CustomResourceDefinition').length, 5);
    assert.ok(all.includes('PodDisruptionBudget'), 'two replicas get a PDB');
    assert.deepEqual(all.filter((k) => k === 'Deployment').length, 2, 'the manager and the console');
    const single = await kinds('replicaCount=1', 'crds.install=false', 'metrics.service.enabled=false', 'serviceAccount.create=false', 'serviceAccount.name=existing', 'console.enabled=false');
    assert.deepEqual(single, ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Role', 'RoleBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
  });

  it('refuses bad values, naming them', async () => {
    await assert.rejects(cluster.helm(['template', 'zcsp', chart, '--set', 'replicaCount=lots']), /replicaCount.*got string, want integer/s);
    await assert.rejects(cluster.helm(['template', 'zcsp', chart, '--set', 'manager.wrokers=2']), /additional properties 'wrokers' not allowed/);
    await assert.rejects(cluster.helm(['template', 'zcsp', chart, '--set', 'image.pullPolicy=Sometimes']), /pullPolicy/);
    await assert.rejects(cluster.helm(['template', 'zcsp', chart, '--set', 'serviceAccount.create=false']), /serviceAccount.name is required/);
    await assert.rejects(cluster.helm(['template', 'zcsp', chart, '--set', 'console.replicas=2']), /replicas/);
  });

  it('installs and upgrades the CRDs, and keeps them on uninstall', async () => {
    // "Release 1" is the chart with one printer column fewer on the VPG CRD: upgrading to the real
    // chart must bring it (helm's crds/ folder would never upgrade a CRD).
    const old = join(await mkdtemp(join(tmpdir(), 'zcsp-chart-')), 'zcsp');
    await cp(chart, old, { recursive: true });
    const vpgFile = join(old, 'files/crds/zcsp.io_vpgs.yaml');
    const doc = parseDocument(await readFile(vpgFile, 'utf8'));
    const columns = (doc.getIn(['spec', 'versions', 0, 'additionalPrinterColumns']) as { items: unknown[] }).items.length;
    doc.deleteIn(['spec', 'versions', 0, 'additionalPrinterColumns', 0]);
    await writeFile(vpgFile, doc.toString());

    await cluster.helm(['install', 'zcsp', old, '--namespace', 'zcsp-system', '--create-namespace']);
    const ext = cluster.kubeConfig.makeApiClient(ApiextensionsV1Api);
    const crd = await ext.readCustomResourceDefinition({ name: 'vpgs.zcsp.io' });
    assert.equal(crd.metadata?.annotations?.['helm.sh/resource-policy'], 'keep');
    assert.equal(crd.metadata.labels?.['app.kubernetes.io/managed-by'], 'Helm');
    assert.equal(crd.spec.versions[0]?.additionalPrinterColumns?.length, columns - 1);

    await cluster.helm(['upgrade', 'zcsp', chart, '--namespace', 'zcsp-system']);
    const upgraded = await ext.readCustomResourceDefinition({ name: 'vpgs.zcsp.io' });
    assert.equal(upgraded.spec.versions[0]?.additionalPrinterColumns?.length, columns);
    await rm(dirname(old), { recursive: true, force: true });

    await cluster.helm(['uninstall', 'zcsp', '--namespace', 'zcsp-system']);
    const names = (await ext.listCustomResourceDefinition()).items.map((c) => c.metadata?.name).filter((n) => n?.endsWith('.zcsp.io')).sort();
    assert.deepEqual(names, ['serviceprofiles.zcsp.io', 'sites.zcsp.io', 'vpgs.zcsp.io', 'zccs.zcsp.io', 'zorgs.zcsp.io']);
  });
});
