// The Helm chart against a real API server: every value set of test/chart/value-sets.ts passes
// the API server's own validation (a server-side dry run), and the chart installs the CRDs,
// upgrades them, and leaves them (and so every tenant's VPG) in place on uninstall. Lint, the
// properties of the renderings and the refusal of bad values need no cluster: test/chart.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiextensionsV1Api } from '@kubernetes/client-node';
import { parseDocument } from 'yaml';
import { startCluster, type LocalCluster } from '../cluster/cluster.ts';
import { renderChart, type Rendered } from '../chart/support/helm.ts';
import { limit } from '../chart/support/limit.ts';
import { VALUE_SETS, type ValueSet } from '../chart/value-sets.ts';

const chart = fileURLToPath(new URL('../../deploy/helm/zcsp', import.meta.url));

describe('helm chart deploy/helm/zcsp', { timeout: 300_000 }, () => {
  let cluster: LocalCluster;
  // Rendered while the control plane starts.
  const renderings = new Map(VALUE_SETS.map((set) => [set, renderChart(set.values, { release: set.release, namespace: set.namespace })]));
  for (const p of renderings.values()) p.catch(() => undefined);
  const dryRuns = new Map<ValueSet, Promise<string[]>>();

  /** A dry run of what `helm install` sends, CRDs first, server-side applied as helm 4 does; what kubectl says of each object. */
  const dryRun = async (objects: Rendered[]): Promise<string[]> => {
    const ordered = [...objects.filter((o) => o.kind === 'CustomResourceDefinition'), ...objects.filter((o) => o.kind !== 'CustomResourceDefinition')];
    const out = await cluster.kubectl(['apply', '--dry-run=server', '--server-side', '--field-manager=helm', '--validate=strict', '-o', 'name', '-f', '-'],
      { input: ordered.map((o) => JSON.stringify(o)).join('\n---\n') });
    return out.trim().split('\n');
  };

  before(async () => {
    cluster = await startCluster({ kubelets: false });
    for (const ns of new Set(VALUE_SETS.map((s) => s.namespace))) await cluster.kubectl(['create', 'namespace', ns]);
    const slot = limit(4);
    for (const [set, rendering] of renderings) {
      const run = slot(async () => dryRun(await rendering));
      run.catch(() => undefined);
      dryRuns.set(set, run);
    }
  });
  after(async () => {
    await cluster.stop();
  });

  describe('the API server accepts every rendering (server-side dry run, strict field validation)', () => {
    for (const set of VALUE_SETS) {
      it(set.name, async () => {
        const objects = await renderings.get(set);
        const accepted = await dryRuns.get(set);
        assert.ok(objects !== undefined && accepted !== undefined);
        assert.equal(accepted.length, objects.length, accepted.join('\n'));
      });
    }
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
