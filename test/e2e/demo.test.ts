// The install part of `npm run demo` (tools/demo/install.ts) against a real local cluster: helm
// install, then examples/ applied step by step. The Sites, the Zorg and the ZCC must come up and
// the VPG must exist; its phases are the VPG controller's business, tested elsewhere.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { startCluster, type LocalCluster } from '../cluster/cluster.ts';
import { Installer, NAMESPACE } from '../../tools/demo/install.ts';

interface Conditioned { status?: { conditions?: { type: string; status: string }[] } }
const ready = (obj: Conditioned): boolean => obj.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

describe('npm run demo: install and examples', { timeout: 300_000 }, () => {
  let cluster: LocalCluster | undefined;
  const logged: string[] = [];

  before(async () => {
    cluster = await startCluster({ crashLoopBackoff: { initialMs: 500, maxMs: 5000 } });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('installs the operator and brings the examples up, one logged step at a time', async () => {
    assert.ok(cluster);
    const started = Date.now();
    await new Installer(cluster, { log: (m) => logged.push(m) }).run();
    process.stdout.write(`# demo install: ${Math.round((Date.now() - started) / 1000)} s\n${logged.map((l) => `#   ${l}`).join('\n')}\n`);

    const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    const zcsp = (plural: string): { group: string; version: string; plural: string } => ({ group: 'zcsp.io', version: 'v1alpha1', plural });
    for (const name of ['prod', 'dr']) {
      const site = await custom.getClusterCustomObject({ ...zcsp('sites'), name }) as Conditioned & { status?: { vras?: { ready?: number; desired?: number } } };
      assert.ok(ready(site), `Site ${name} Ready`);
      assert.deepEqual(site.status?.vras, { desired: 2, ready: 2 }, `Site ${name}: a Ready VRA per node`);
    }
    assert.ok(ready(await custom.getClusterCustomObject({ ...zcsp('zorgs'), name: 'acme' }) as Conditioned), 'Zorg acme Ready');
    assert.ok(ready(await custom.getNamespacedCustomObject({ ...zcsp('zccs'), namespace: NAMESPACE, name: 'acme' }) as Conditioned), 'ZCC acme Ready');
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    for (const ns of ['acme-prod', 'acme-dr', 'acme-test']) await core.readNamespace({ name: ns });
    const vpg = await custom.getNamespacedCustomObject({ ...zcsp('vpgs'), namespace: 'acme-prod', name: 'web' }) as { spec?: { protectedSite?: string } };
    assert.equal(vpg.spec?.protectedSite, 'prod', 'the VPG of examples/06-vpg.yaml exists');

    // Every step said what it did, in order.
    const order = ['helm install', 'operator up', '01-sites', '02-service-profile', '03-zorg', '04-zcc', 'Zorg acme Ready', '05-tenant-app', '06-vpg',
      'Sites prod and dr Ready', 'ZCC acme Ready', 'Deployment web', 'examples applied'];
    let at = -1;
    for (const step of order) {
      const next = logged.findIndex((l, i) => i > at && l.includes(step));
      assert.ok(next > at, `a log line for "${step}" after the previous step:\n${logged.join('\n')}`);
      at = next;
    }
  });
});
