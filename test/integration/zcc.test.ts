// The ZCC controller and the `zcsp zcc` connector against a real control plane with simulated
// nodes: credentials created once, the connector Deployment Ready under its own least-privilege
// ServiceAccount, and over real TLS connections to the connector pod's IP: wrong and other
// tenants' credentials refused (and logged), a site without the tenant's VPGs forbidden, and a
// tunnel to a recovery VRA once a VPG names its site (the replication protocol's TLS and HELLO through it).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { pino } from 'pino';
import { REPO_ROOT, startCluster, type LocalCluster } from '../cluster/cluster.ts';
import { waitFor } from '../cluster/net.ts';
import { OperatorConfig } from '../../src/controllers/config.ts';
import { SITES, VPGS, ZCCS, ZORGS } from '../../src/controllers/resources.ts';
import { siteController } from '../../src/controllers/site/index.ts';
import { FrameDecoder } from '../../src/replicator/wire/frame.ts';
import { decodeMessage, encodeMessage, type Message } from '../../src/replicator/wire/messages.ts';
import { REPLICATION_ALPN } from '../../src/vra/peer.ts';
import { zccController } from '../../src/controllers/zcc/index.ts';
import { isPodReady, type Pod, type Service } from '../../src/kube/objects.ts';
import {
  KubeClient, Manager, NAMESPACES, PODS, SECRETS, SERVICES, findStatusCondition, type Condition, type CustomObject, type Secret,
} from '../../src/runtime/index.ts';
import { TunnelRefusedError, openTunnel } from '../../src/zcc/client.ts';
import type { Target } from '../../src/zcc/handshake.ts';

const NS = 'zcsp-system';
const config = OperatorConfig.parse({ namespace: NS, image: 'ghcr.io/zcsp/zcsp:dev' });
const logger = pino({ level: process.env['ZCSP_TEST_LOG_LEVEL'] ?? 'silent' });
const TENANTS = ['acme', 'globex'] as const;
type Tenant = (typeof TENANTS)[number];

interface Credentials { token: string; ca: string; resourceVersion: string; data: Record<string, string> }

describe('ZCC controller and connector', { timeout: 600_000 }, () => {
  let cluster: LocalCluster;
  let admin: KubeClient;
  let manager: Manager;
  const creds = new Map<Tenant, Credentials>();
  const timings: Record<string, number> = {};

  const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> =>
    waitFor(async () => check(), { what, timeoutMs, intervalMs: 200 });
  const zcc = (name: Tenant): Promise<CustomObject> => admin.get(ZCCS, name, NS);
  const ready = async (name: Tenant): Promise<Condition | undefined> =>
    findStatusCondition((await zcc(name)).status?.['conditions'] as Condition[] | undefined, 'Ready');
  const connectorPod = async (name: Tenant): Promise<Pod> => {
    const pods = (await admin.list<Pod>(PODS, { namespace: NS, labelSelector: `zcsp.io/role=zcc,zcsp.io/zcc=${name}` })).items;
    const pod = pods.find((p) => isPodReady(p) && p.metadata?.deletionTimestamp === undefined);
    assert.ok(pod?.status?.podIP !== undefined, `a Ready connector pod of ${name}`);
    return pod;
  };
  const readCredentials = async (name: Tenant): Promise<Credentials> => {
    const s = await admin.get<Secret>(SECRETS, `${name}-credentials`, NS);
    const text = (k: string): string => Buffer.from(s.data?.[k] ?? '', 'base64').toString('utf8');
    return { token: text('token'), ca: text('ca.crt'), resourceVersion: s.metadata?.resourceVersion ?? '', data: { ...s.data } };
  };
  /** A tunnel through `via`'s connector, presenting `as`'s credentials (or a given token). */
  const tunnel = async (via: Tenant, as: { zorg: string; token: string }, target: Target): Promise<TLSSocket> => {
    const pod = await connectorPod(via);
    const c = creds.get(via);
    assert.ok(c);
    return openTunnel({
      host: pod.status?.podIP ?? '', port: 9443, ca: c.ca, servername: `zcc-${via}.${NS}.svc`, zorg: as.zorg, token: as.token, target, timeoutMs: 5000,
    });
  };
  const refusal = async (promise: Promise<TLSSocket>): Promise<TunnelRefusedError> => {
    try {
      (await promise).destroy();
    } catch (err: unknown) {
      assert.ok(err instanceof TunnelRefusedError, String(err));
      return err;
    }
    assert.fail('the tunnel was not refused');
  };
  const connectorLog = async (name: Tenant): Promise<string> => {
    const pod = await connectorPod(name);
    const path = await cluster.kubelet(pod.spec?.nodeName ?? '').containerLogPath(NS, pod.metadata?.name ?? '', 'zcc');
    return readFile(path, 'utf8');
  };
  /** kubectl auth can-i: "yes" exits 0, "no" exits 1. */
  const canI = async (verb: string, resource: string, namespace: string, as: string): Promise<boolean> => {
    try {
      return (await cluster.kubectl(['auth', 'can-i', verb, resource, '-n', namespace, `--as=${as}`])).trim() === 'yes';
    } catch (err: unknown) {
      if (err instanceof Error && /\(exit 1\)/.test(err.message)) return false;
      throw err;
    }
  };

  before(async () => {
    const t0 = Date.now();
    cluster = await startCluster({ crashLoopBackoff: { initialMs: 500, maxMs: 2000 } });
    admin = new KubeClient(cluster.kubeConfig);
    await cluster.kubectl(['apply', '-f', join(REPO_ROOT, 'deploy/crds')]);
    await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/zccs.zcsp.io', 'crd/zorgs.zcsp.io', 'crd/vpgs.zcsp.io', 'crd/sites.zcsp.io']);
    for (const ns of [NS, ...TENANTS.flatMap((t) => [`${t}-prod`, `${t}-dr`, `${t}-test`])]) await admin.create(NAMESPACES, { metadata: { name: ns } });
    for (const t of TENANTS) {
      await admin.create(ZORGS, {
        apiVersion: 'zcsp.io/v1alpha1', kind: 'Zorg', metadata: { name: t },
        spec: { displayName: t, namespaces: [`${t}-prod`, `${t}-dr`, `${t}-test`], allowedServiceProfiles: ['gold'] },
      });
    }
    await admin.create(SITES, {
      apiVersion: 'zcsp.io/v1alpha1', kind: 'Site', metadata: { name: 'dr' },
      spec: { nodeSelector: { 'zcsp.io/site': 'dr' }, vra: { storage: { size: '1Gi' } } },
    });
    manager = new Manager({ kubeConfig: cluster.kubeConfig, logger, leaderElection: false, http: { port: 0, host: '127.0.0.1' } });
    manager.add(siteController(config));
    manager.add(zccController(config));
    await manager.start();
    timings['clusterReadyMs'] = Date.now() - t0;
  });

  after(async () => {
    await manager.stop();
    await admin.close();
    await cluster.stop();
    process.stdout.write(`# timings: ${JSON.stringify(timings)}\n`);
  });

  it('creates the credentials Secret once, runs the connector Ready, and reports its endpoint', async () => {
    const t0 = Date.now();
    for (const t of TENANTS) {
      await admin.create(ZCCS, { apiVersion: 'zcsp.io/v1alpha1', kind: 'ZCC', metadata: { name: t, namespace: NS }, spec: { zorg: t } });
    }
    await until('both connectors Ready', async () => (await ready('acme'))?.status === 'True' && (await ready('globex'))?.status === 'True', 120_000);
    timings['connectorsReadyMs'] = Date.now() - t0;
    for (const t of TENANTS) {
      const c = await readCredentials(t);
      creds.set(t, c);
      assert.match(c.token, /^[A-Za-z0-9_-]{43}$/);
      const z = await zcc(t);
      const svc = await admin.get<Service>(SERVICES, `zcc-${t}`, NS);
      assert.equal(z.status?.['readyReplicas'], 1);
      assert.equal(z.status['endpoint'], `${svc.spec?.clusterIP ?? '?'}:9443`);
      assert.equal(z.status['observedGeneration'], 1);
    }
    assert.notEqual(creds.get('acme')?.token, creds.get('globex')?.token);

    // Later reconciles (the ZCC touched, its Zorg changed, a spec change) never rewrite the Secret.
    const reconciles = (): number => manager.metrics.reconciles.series().filter((s) => s.labels['controller'] === 'zcc').reduce((n, s) => n + s.value, 0);
    const before = reconciles();
    await admin.mergePatch(ZCCS, 'acme', NS, { metadata: { annotations: { touched: 'yes' } } });
    await admin.mergePatch(ZORGS, 'acme', undefined, { spec: { displayName: 'Acme Corp' } });
    await admin.mergePatch(ZCCS, 'acme', NS, { spec: { serviceType: 'NodePort' } });
    await until('reconciled again, Ready for generation 2', async () => reconciles() >= before + 3 && (await ready('acme'))?.observedGeneration === 2 && (await ready('acme'))?.status === 'True');
    const after = await readCredentials('acme');
    assert.equal(after.resourceVersion, creds.get('acme')?.resourceVersion, 'the Secret was not written again');
    assert.deepEqual(after.data, creds.get('acme')?.data);
    // Two ZCC credentials, and the VRAs' control token the Site controller makes once.
    assert.equal(manager.writes({ resources: ['secrets'] }), 3, 'one create per ZCC and the VRA control token, nothing else');
    assert.match((await ready('acme'))?.message ?? '', /node port \d+/);
  });

  it('writes nothing at steady state', async () => {
    // Both controllers of this manager: the Site's status moves while its VRAs come up, and
    // those are legitimate writes too.
    const idle = (): boolean => ['zcc', 'site'].every((c) =>
      (manager.metrics.queueDepth.get({ name: c }) ?? 0) === 0 && (manager.metrics.activeWorkers.get({ controller: c }) ?? 0) === 0);
    const siteReady = async (): Promise<boolean> =>
      findStatusCondition((await admin.get(SITES, 'dr')).status?.['conditions'] as Condition[] | undefined, 'Ready')?.status === 'True';
    const reconciles = (): number => manager.metrics.reconciles.series().filter((x) => x.labels['controller'] === 'zcc').reduce((n, x) => n + x.value, 0);
    // Settled means every connector and the Site are Ready (pods turning Ready are legitimate
    // status writes) and the queues are empty, twice in a row.
    let quiet = 0;
    await until('settled', async () => {
      const allReady = (await Promise.all(TENANTS.map(ready))).every((c) => c?.status === 'True') && (await siteReady());
      quiet = allReady && idle() ? quiet + 1 : 0;
      return quiet >= 2;
    });
    const writes = manager.writes({ excludeResources: ['events.events.k8s.io'] });
    const requests = (): Map<string, number> => new Map(manager.metrics.apiRequests.series().map((x) => [JSON.stringify(x.labels), x.value]));
    const requestsBefore = requests();
    const before = reconciles();
    await admin.mergePatch(ZCCS, 'acme', NS, { metadata: { annotations: { touched: 'again' } } });
    await admin.mergePatch(ZCCS, 'globex', NS, { metadata: { annotations: { touched: 'again' } } });
    const seen = (name: Tenant): boolean => manager.cache.get(ZCCS, name, NS)?.metadata?.annotations?.['touched'] === 'again';
    await until('reconciled again', () => seen('acme') && seen('globex') && reconciles() >= before + 2 && idle());
    const grown = [...requests()].filter(([k, v]) => v !== (requestsBefore.get(k) ?? 0)).map(([k, v]) => `${k}: +${v - (requestsBefore.get(k) ?? 0)}`);
    assert.equal(manager.writes({ excludeResources: ['events.events.k8s.io'] }), writes, `every child and status already as desired; requests since: ${grown.join(', ')}`);
  });

  it('gives the connector only what it reads: VRA pods and its own routes', async () => {
    const sa = `system:serviceaccount:${NS}:zcc-acme`;
    assert.equal(await canI('list', 'pods', NS, sa), true);
    assert.equal(await canI('watch', 'pods', NS, sa), true);
    assert.equal(await canI('get', 'configmaps/zcc-acme-routes', NS, sa), true);
    assert.equal(await canI('get', 'configmaps/zcc-globex-routes', NS, sa), false);
    assert.equal(await canI('get', 'secrets', NS, sa), false);
    assert.equal(await canI('delete', 'pods', NS, sa), false);
    assert.equal(await canI('list', 'vpgs.zcsp.io', 'acme-prod', sa), false);
    assert.equal(await canI('list', 'pods', 'acme-prod', sa), false);
  });

  it('refuses wrong credentials and another tenant\'s, over TLS to the connector pod, and logs why', async () => {
    await until('VRAs of dr Ready', async () => (await admin.list<Pod>(PODS, { namespace: NS, labelSelector: 'zcsp.io/role=vra,zcsp.io/site=dr' })).items.filter(isPodReady).length === 2, 120_000);
    const acme = creds.get('acme');
    const globex = creds.get('globex');
    assert.ok(acme !== undefined && globex !== undefined);
    const target = { site: 'dr', node: 'dr-1' };
    const wrong = await refusal(tunnel('acme', { zorg: 'acme', token: 'guessed' }, target));
    assert.equal(wrong.code, 'Unauthenticated');
    const otherTenant = await refusal(tunnel('acme', { zorg: 'globex', token: globex.token }, target));
    assert.equal(otherTenant.code, 'Unauthenticated');
    const tokenElsewhere = await refusal(tunnel('globex', { zorg: 'globex', token: acme.token }, target));
    assert.equal(tokenElsewhere.code, 'Unauthenticated', 'acme\'s token is no good at globex\'s connector');
    await until('the refusals are in the connector\'s log', async () => {
      const log = await connectorLog('acme');
      return log.includes('connection refused: wrong token') && log.includes('connection refused: zorg \\"globex\\" is not the tenant this connector serves');
    }, 10_000);
    const line = (await connectorLog('acme')).split('\n').find((l) => l.includes('wrong token'));
    const parsed = JSON.parse(line ?? '{}') as { zorg?: string; remote?: string; code?: string };
    assert.equal(parsed.zorg, 'acme');
    assert.equal(parsed.code, 'Unauthenticated');
    assert.match(parsed.remote ?? '', /:\d+$/);
  });

  it('forbids a site until a VPG of the tenant recovers there; then tunnels to the VRA\'s replication port', async () => {
    const acme = creds.get('acme');
    assert.ok(acme);
    const self = { zorg: 'acme', token: acme.token };
    const forbidden = await refusal(tunnel('acme', self, { site: 'dr', node: 'dr-1' }));
    assert.equal(forbidden.code, 'Forbidden');

    const t0 = Date.now();
    await admin.create(VPGS, {
      apiVersion: 'zcsp.io/v1alpha1', kind: 'VPG', metadata: { name: 'web', namespace: 'acme-prod' },
      spec: { protectedSite: 'prod', recoverySite: 'dr', volumes: { claimNames: ['app-data'] }, recovery: { namespace: 'acme-dr', testNamespace: 'acme-test' } },
    });
    let socket: TLSSocket | undefined;
    await until('the tunnel is allowed', async () => {
      try {
        socket = await tunnel('acme', self, { site: 'dr', node: 'dr-1' });
        return true;
      } catch (err: unknown) {
        if (err instanceof TunnelRefusedError && err.code === 'Forbidden') return false;
        throw err;
      }
    }, 30_000);
    timings['vpgToTunnelMs'] = Date.now() - t0;
    assert.ok(socket);
    const s = socket;
    // The replication protocol through the tunnel, as a protected VRA speaks it: TLS with the
    // VRA's own certificate inside the connector's, then a HELLO. The VRA has no such stream yet,
    // and says so in its own protocol: the tunnel reached the VRA's replication port.
    const inner = connectTls({ socket: s, servername: 'vra.zcsp.io', rejectUnauthorized: false, ALPNProtocols: [REPLICATION_ALPN] });
    s.resume();
    await new Promise<void>((resolve, reject) => {
      inner.once('secureConnect', () => resolve());
      inner.once('error', reject);
    });
    assert.match(inner.getPeerCertificate().subjectaltname ?? '', /DNS:vra\.zcsp\.io/);
    inner.write(encodeMessage({ type: 'hello', vpg: 'no-such-stream', token: 'x'.repeat(16), senderId: 'zcc-test' }));
    const decoder = new FrameDecoder();
    const reply = await new Promise<Message>((resolve, reject) => {
      inner.on('data', (chunk: Buffer) => {
        const frame = decoder.push(chunk)[0];
        if (frame !== undefined) resolve(decodeMessage(frame));
      });
      inner.once('error', reject);
    });
    inner.destroy();
    assert.ok(reply.type === 'refuse', JSON.stringify(reply));
    assert.equal(reply.code, 'UnknownStream');

    // Still: nodes without a VRA, sites the tenant does not recover to, and the other tenant.
    assert.equal((await refusal(tunnel('acme', self, { site: 'dr', node: 'prod-1' }))).code, 'Unavailable');
    assert.equal((await refusal(tunnel('acme', self, { site: 'prod', node: 'prod-1' }))).code, 'Forbidden');
    const globex = creds.get('globex');
    assert.ok(globex);
    assert.equal((await refusal(tunnel('globex', { zorg: 'globex', token: globex.token }, { site: 'dr', node: 'dr-1' }))).code, 'Forbidden',
      'acme\'s VPG opens nothing for globex');
  });

  it('makes new credentials when the Secret is deleted, and rolls the connector onto them', async () => {
    const old = creds.get('acme');
    assert.ok(old);
    const oldPod = await connectorPod('acme');
    await admin.delete(SECRETS, 'acme-credentials', NS);
    await until('a new Secret', async () => {
      const s = await admin.tryGet<Secret>(SECRETS, 'acme-credentials', NS);
      return s !== undefined && s.data?.['token'] !== old.data['token'];
    });
    const fresh = await readCredentials('acme');
    creds.set('acme', fresh);
    await until('a new connector pod Ready', async () => {
      const pods = (await admin.list<Pod>(PODS, { namespace: NS, labelSelector: 'zcsp.io/role=zcc,zcsp.io/zcc=acme' })).items;
      const [pod] = pods;
      return pods.length === 1 && pod !== undefined && pod.metadata?.uid !== oldPod.metadata?.uid && isPodReady(pod);
    }, 120_000);
    const self = { zorg: 'acme', token: fresh.token };
    (await tunnel('acme', self, { site: 'dr', node: 'dr-2' })).destroy();
    assert.equal((await refusal(tunnel('acme', { zorg: 'acme', token: old.token }, { site: 'dr', node: 'dr-2' }))).code, 'Unauthenticated', 'the old token is void');
  });
});
