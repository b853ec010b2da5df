// The Site controller against a real control plane with simulated nodes: a VRA per matching node
// (real processes, their /healthz on their pod IPs), replaced when deleted or when the Site's
// VRA spec changes, removed when its node leaves the site (its volume kept, marked orphaned) and
// back with the same volume when the node returns; status and zero writes at steady state.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { REPO_ROOT, startCluster, type LocalCluster } from '../cluster/cluster.ts';
import { waitFor } from '../cluster/net.ts';
import { OperatorConfig } from '../../src/controllers/config.ts';
import { SITES } from '../../src/controllers/resources.ts';
import { siteController } from '../../src/controllers/site/index.ts';
import { isPodReady, type PersistentVolumeClaim, type Pod } from '../../src/kube/objects.ts';
import {
  KubeClient, Manager, NAMESPACES, PERSISTENT_VOLUME_CLAIMS, PODS, defineResource, findStatusCondition, type Condition, type CustomObject, type KubeObject,
} from '../../src/runtime/index.ts';

const NS = 'zcsp-system';
const config = OperatorConfig.parse({ namespace: NS, image: 'ghcr.io/zcsp/zcsp:dev' });
const logger = pino({ level: process.env['ZCSP_TEST_LOG_LEVEL'] ?? 'silent' });
const PVS = defineResource<KubeObject & { spec?: { hostPath?: { path: string }; nodeAffinity?: { required?: { nodeSelectorTerms: { matchExpressions?: { values?: string[] }[] }[] } } } }>({
  group: '', version: 'v1', kind: 'PersistentVolume', plural: 'persistentvolumes', namespaced: false,
});

describe('Site controller', { timeout: 600_000 }, () => {
  let cluster: LocalCluster;
  let admin: KubeClient;
  let manager: Manager;
  const timings: Record<string, number> = {};

  const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> =>
    waitFor(async () => check(), { what, timeoutMs, intervalMs: 200 });
  const vras = async (): Promise<Pod[]> => (await admin.list<Pod>(PODS, { namespace: NS, labelSelector: 'zcsp.io/role=vra,zcsp.io/site=dr' })).items;
  const readyVras = async (): Promise<Map<string, Pod>> =>
    new Map((await vras()).filter((p) => isPodReady(p) && p.metadata?.deletionTimestamp === undefined).map((p) => [p.spec?.nodeName ?? '', p]));
  const site = (): Promise<CustomObject> => admin.get(SITES, 'dr');
  const condition = async (type: string): Promise<Condition | undefined> =>
    findStatusCondition((await site()).status?.['conditions'] as Condition[] | undefined, type);
  const healthz = async (pod: Pod): Promise<string> => {
    const res = await fetch(`http://${pod.status?.podIP ?? ''}:9442/healthz`, { signal: AbortSignal.timeout(2000) });
    return `${res.status} ${(await res.text()).trim()}`;
  };
  const idle = (): boolean => (manager.metrics.queueDepth.get({ name: 'site' }) ?? 0) === 0 && (manager.metrics.activeWorkers.get({ controller: 'site' }) ?? 0) === 0;
  const reconciles = (): number => manager.metrics.reconciles.series().filter((s) => s.labels['controller'] === 'site').reduce((n, s) => n + s.value, 0);

  before(async () => {
    const t0 = Date.now();
    cluster = await startCluster({ crashLoopBackoff: { initialMs: 500, maxMs: 2000 } });
    admin = new KubeClient(cluster.kubeConfig);
    await cluster.kubectl(['apply', '-f', join(REPO_ROOT, 'deploy/crds')]);
    await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/sites.zcsp.io']);
    await admin.create(NAMESPACES, { metadata: { name: NS } });
    manager = new Manager({ kubeConfig: cluster.kubeConfig, logger, leaderElection: false, http: { port: 0, host: '127.0.0.1' } });
    manager.add(siteController(config));
    await manager.start();
    timings['clusterReadyMs'] = Date.now() - t0;
  });

  after(async () => {
    await manager.stop();
    await admin.close();
    await cluster.stop();
    process.stdout.write(`# timings: ${JSON.stringify(timings)}\n`);
  });

  it('runs a Ready VRA on each of the 2 matching nodes, answering /healthz on its pod IP', async () => {
    const t0 = Date.now();
    await admin.create(SITES, {
      apiVersion: 'zcsp.io/v1alpha1', kind: 'Site', metadata: { name: 'dr' },
      spec: { nodeSelector: { 'zcsp.io/site': 'dr' }, vra: { readHostPaths: ['/var/lib/kubelet'], storage: { size: '1Gi' } } },
    });
    await until('2 VRAs Ready', async () => (await readyVras()).size === 2, 120_000);
    timings['twoVrasReadyMs'] = Date.now() - t0;
    const ready = await readyVras();
    assert.deepEqual([...ready.keys()].sort(), ['dr-1', 'dr-2'], 'one per dr node, none on prod nodes');
    for (const [node, pod] of ready) {
      assert.equal(pod.metadata?.name, `vra-dr-${node}`);
      assert.equal(await healthz(pod), '200 ok');
      // Not privileged: two capabilities as root are what reading other pods' volumes takes.
      const security = pod.spec?.containers[0]?.securityContext;
      assert.deepEqual([security?.privileged, security?.capabilities?.add], [undefined, ['DAC_READ_SEARCH', 'DAC_OVERRIDE']]);
      assert.equal(pod.metadata.ownerReferences?.[0]?.kind, 'Site');
      // Its volume was bound on its own node (the scheduler placed both).
      const claim = await admin.get<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, `vra-dr-${node}`, NS);
      assert.equal(claim.status?.phase, 'Bound');
      const pv = await admin.get(PVS, claim.spec?.volumeName ?? '');
      assert.deepEqual(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms[0]?.matchExpressions?.[0]?.values, [node]);
      assert.ok(existsSync(cluster.nodePath(node, pv.spec.hostPath?.path ?? '/nonexistent')), 'the volume lives on the node');
    }
    await until('status: 2/2 Ready', async () => {
      const s = await site();
      const vrasStatus = s.status?.['vras'] as { desired: number; ready: number } | undefined;
      return vrasStatus?.ready === 2 && (await condition('Ready'))?.status === 'True';
    });
    const s = await site();
    assert.equal(s.status?.['nodeCount'], 2);
    assert.deepEqual(s.status['vras'], { desired: 2, ready: 2 });
    assert.equal(s.status['observedGeneration'], s.metadata?.generation);
    assert.equal((await condition('Ready'))?.message, '2/2 VRAs ready');
    assert.equal((await condition('OrphanedVolumes'))?.status, 'False');
  });

  it('writes nothing at steady state', async () => {
    await until('settled', idle);
    const writes = manager.writes({ excludeResources: ['events.events.k8s.io'] });
    const before = reconciles();
    // Touch the Site (no new generation): a reconcile that must find nothing to do.
    await admin.mergePatch(SITES, 'dr', undefined, { metadata: { annotations: { touched: 'yes' } } });
    await until('reconciled again', () => manager.cache.get(SITES, 'dr')?.metadata?.annotations?.['touched'] === 'yes' && reconciles() > before && idle());
    assert.equal(manager.writes({ excludeResources: ['events.events.k8s.io'] }), writes);
  });

  it('recreates a deleted VRA', async () => {
    const old = (await readyVras()).get('dr-1');
    assert.ok(old);
    const t0 = Date.now();
    await admin.delete(PODS, old.metadata?.name ?? '', NS);
    await until('a new VRA on dr-1', async () => {
      const p = (await readyVras()).get('dr-1');
      return p !== undefined && p.metadata?.uid !== old.metadata?.uid;
    });
    timings['deletedVraBackMs'] = Date.now() - t0;
    const fresh = (await readyVras()).get('dr-1');
    assert.ok(fresh);
    assert.equal(await healthz(fresh), '200 ok');
    assert.equal(fresh.spec?.volumes?.[0]?.persistentVolumeClaim?.claimName, 'vra-dr-dr-1', 'the same volume');
  });

  it('replaces the VRAs one node at a time when their desired spec changes (spec hash)', async () => {
    const before = await readyVras();
    const hashes = [...before.values()].map((p) => p.metadata?.annotations?.['zcsp.io/spec-hash']);
    await admin.mergePatch(SITES, 'dr', undefined, { spec: { vra: { readHostPaths: ['/var/lib/kubelet', '/var/lib/zcsp-local-pv'] } } });
    let fewestReady = 2;
    await until('both VRAs replaced and Ready', async () => {
      const now = await readyVras();
      fewestReady = Math.min(fewestReady, now.size);
      return now.size === 2 && [...now.values()].every((p) => !hashes.includes(p.metadata?.annotations?.['zcsp.io/spec-hash']));
    }, 120_000);
    assert.equal(fewestReady, 1, 'replaced one node at a time: the site never lost both VRAs');
    for (const pod of (await readyVras()).values()) {
      assert.deepEqual(pod.spec?.containers[0]?.volumeMounts?.map((m) => m.mountPath), ['/var/lib/zcsp/vra', '/etc/zcsp/vra', '/host/var/lib/kubelet', '/host/var/lib/zcsp-local-pv']);
    }
    await until('status for generation 2', async () => (await condition('Ready'))?.observedGeneration === 2);
  });

  it('halts a rollout whose new VRA fails, keeping the other node\'s VRA up; fixing the spec recovers', async () => {
    const before = await readyVras();
    assert.equal(before.size, 2);
    await admin.mergePatch(SITES, 'dr', undefined, { spec: { vra: { image: 'docker.io/library/busybox:1.36' } } });
    await until('one VRA failed, the rollout halted', async () => {
      const message = (await condition('Ready'))?.message ?? '';
      if (/the VRA pod failed/.test(message) && /1 to be replaced/.test(message)) return true;
      throw new Error(`Ready says: ${message}`);
    });
    const message = (await condition('Ready'))?.message ?? '';
    assert.match(message, /^1\/2 VRAs ready; 1 to be replaced by the changed spec, one at a time; dr-1: .*ImageNotRunnable.*replaced after a back-off/);
    const still = await readyVras();
    assert.equal(still.size, 1);
    assert.equal(still.get('dr-2')?.metadata?.uid, before.get('dr-2')?.metadata?.uid, 'the other VRA was left running');
    await admin.mergePatch(SITES, 'dr', undefined, { spec: { vra: { image: null } } });
    await until('both VRAs Ready again', async () => (await readyVras()).size === 2 && (await condition('Ready'))?.status === 'True', 60_000);
    assert.equal((await readyVras()).get('dr-2')?.metadata?.uid, before.get('dr-2')?.metadata?.uid, 'back to its spec: not replaced');
  });

  it('removes the VRA of a node relabelled out of the site, keeps its volume marked orphaned, and reuses it when the node returns', async () => {
    const claimBefore = await admin.get<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, 'vra-dr-dr-2', NS);
    const t0 = Date.now();
    await cluster.kubectl(['label', 'node', 'dr-2', 'zcsp.io/site=elsewhere', '--overwrite']);
    await until('the VRA of dr-2 is gone', async () => (await vras()).every((p) => p.spec?.nodeName !== 'dr-2'));
    timings['relabelledVraGoneMs'] = Date.now() - t0;
    await until('the volume is marked orphaned', async () =>
      (await admin.get<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, 'vra-dr-dr-2', NS)).metadata?.labels?.['zcsp.io/orphaned'] === 'true');
    const orphan = await admin.get<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, 'vra-dr-dr-2', NS);
    assert.equal(orphan.metadata?.uid, claimBefore.metadata?.uid, 'the same volume, kept');
    assert.match(orphan.metadata?.annotations?.['zcsp.io/orphaned-since'] ?? '', /^\d{4}-\d\d-\d\dT/);
    await until('status: 1 VRA, 1 orphaned volume', async () => {
      const s = await site();
      return (s.status?.['vras'] as { desired: number } | undefined)?.desired === 1 && (await condition('OrphanedVolumes'))?.status === 'True';
    });
    assert.match((await condition('OrphanedVolumes'))?.message ?? '', /vra-dr-dr-2 \(node dr-2\)/);
    assert.equal((await condition('Ready'))?.status, 'True', 'the remaining VRA is Ready');
    assert.equal((await site()).status?.['nodeCount'], 1);

    await cluster.kubectl(['label', 'node', 'dr-2', 'zcsp.io/site=dr', '--overwrite']);
    await until('the VRA of dr-2 is back', async () => (await readyVras()).has('dr-2'), 120_000);
    const back = await admin.get<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, 'vra-dr-dr-2', NS);
    assert.equal(back.metadata?.uid, claimBefore.metadata?.uid, 'its volume again');
    assert.equal(back.metadata?.labels?.['zcsp.io/orphaned'], undefined);
    assert.equal(back.metadata?.annotations?.['zcsp.io/orphaned-since'], undefined);
    await until('no orphaned volumes', async () => (await condition('OrphanedVolumes'))?.status === 'False');
  });

  it('leaves nothing behind when the Site is deleted', async () => {
    await admin.delete(SITES, 'dr');
    await until('VRAs and volumes garbage collected', async () =>
      (await vras()).length === 0 && (await admin.list(PERSISTENT_VOLUME_CLAIMS, { namespace: NS, labelSelector: 'zcsp.io/site=dr' })).items.length === 0, 120_000);
  });
});
