// The VPG controller end to end on a real control plane with simulated nodes, VRA and ZCC pods as
// real processes, and the operator's controllers in this process: the examples protect a volume
// until MeetingSLA, the recovered bytes equal the source at the checkpoint the status reports;
// the RPO stays inside the alert under continuous writes; a frozen recovery VRA takes the VPG to
// NotMeetingSLA and back with nothing lost; two tenants' traffic each goes through its own ZCC;
// bad VPGs say why and break nothing; volumes join and leave; deletion removes or keeps the data.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { REPO_ROOT, startCluster, type LocalCluster } from '../cluster/cluster.ts';
import { waitFor } from '../cluster/net.ts';
import { signalPodProcesses } from '../cluster/process.ts';
import { diffSnapshots, snapshotTree } from '../replicator/support/snapshot.ts';
import { OperatorConfig } from '../../src/controllers/config.ts';
import { operatorControllers } from '../../src/controllers/index.ts';
import { PERSISTENT_VOLUMES, VPGS, ZORGS } from '../../src/controllers/resources.ts';
import { VRA_DATA_DIR, vraName } from '../../src/controllers/site/index.ts';
import { VraClient, type VraEndpoint } from '../../src/controllers/vpg/vra-client.ts';
import { isPodReady, type PersistentVolume, type PersistentVolumeClaim, type Pod } from '../../src/kube/objects.ts';
import {
  KubeClient, Manager, NAMESPACES, PERSISTENT_VOLUME_CLAIMS, PODS, SECRETS, findStatusCondition, type Condition, type CustomObject, type Secret,
} from '../../src/runtime/index.ts';

const NS = 'zcsp-system';
const config = OperatorConfig.parse({ namespace: NS, image: 'ghcr.io/zcsp/zcsp:dev' });
const logger = pino({ level: process.env['ZCSP_TEST_LOG_LEVEL'] ?? 'silent' });
const examples = join(REPO_ROOT, 'examples');

/** A claim and a pod that mounts it at /data (with WaitForFirstConsumer, the pod's node binds the volume). */
const claimWithPod = (o: { namespace: string; claim: string; pod: string; nodeSelector: string; args: string }): string => `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: ${o.claim}, namespace: ${o.namespace} }
spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } }
---
apiVersion: v1
kind: Pod
metadata: { name: ${o.pod}, namespace: ${o.namespace} }
spec:
  nodeSelector: { ${o.nodeSelector} }
  containers:
    - name: app
      image: ghcr.io/zcsp/zcsp:0.1.0
      args: [${o.args}]
      volumeMounts: [{ name: data, mountPath: /data }]
  volumes: [{ name: data, persistentVolumeClaim: { claimName: ${o.claim} } }]
`;

/** A second tenant (its Zorg makes its ZCC) and its application and VPG. */
const globexManifests = `
apiVersion: zcsp.io/v1alpha1
kind: Zorg
metadata: { name: globex }
spec:
  displayName: Globex
  namespaces: [globex-prod, globex-dr, globex-test]
  allowedServiceProfiles: [gold]
  defaultServiceProfile: gold
`;
const globexApp = `${claimWithPod({ namespace: 'globex-prod', claim: 'db-data', pod: 'db', nodeSelector: 'zcsp.io/site: prod', args: 'diag, --port, "8080", --stamp, /data/stamp.json, --stamp-every, "2"' })}
---
apiVersion: zcsp.io/v1alpha1
kind: VPG
metadata: { name: db, namespace: globex-prod }
spec:
  protectedSite: prod
  recoverySite: dr
  volumes: { claimNames: [db-data] }
  recovery: { namespace: globex-dr, testNamespace: globex-test }
`;
/** A second volume of acme's, bound on `node` by the pod that uses it. */
const extraVolume = (node: string): string =>
  claimWithPod({ namespace: 'acme-prod', claim: 'app-extra', pod: 'extra-writer', nodeSelector: `kubernetes.io/hostname: ${node}`, args: 'diag, --port, "8082"' });

/** A VPG of acme's in acme-prod, from prod to `recoverySite` (dr unless given). */
const acmeVpg = (name: string, volumes: string, o: { recoverySite?: string; serviceProfile?: string } = {}): string => `apiVersion: zcsp.io/v1alpha1
kind: VPG
metadata: { name: ${name}, namespace: acme-prod }
spec:
${o.serviceProfile === undefined ? '' : `  serviceProfile: ${o.serviceProfile}\n`}  protectedSite: prod
  recoverySite: ${o.recoverySite ?? 'dr'}
  volumes: ${volumes}
  recovery: { namespace: acme-dr, testNamespace: acme-test }`;

/** VPGs the operator cannot protect as they are, each for another reason. */
const badManifests = `
apiVersion: zcsp.io/v1alpha1
kind: ServiceProfile
metadata: { name: bronze }
spec: { rpoAlertSeconds: 600 }
---
apiVersion: zcsp.io/v1alpha1
kind: Site
metadata: { name: empty }
spec: { nodeSelector: { zcsp.io/site: nowhere }, vra: { storage: { size: 1Gi } } }
---
${claimWithPod({ namespace: 'acme-prod', claim: 'bronze-data', pod: 'bronze-app', nodeSelector: 'zcsp.io/site: prod', args: 'diag, --port, "8081", --stamp, /data/stamp.json' })}
---
${acmeVpg('missing-claim', '{ claimNames: [app-logs] }')}
---
${acmeVpg('bronze', '{ claimNames: [bronze-data] }', { serviceProfile: 'bronze' })}
---
${acmeVpg('nowhere', '{ claimNames: [app-data] }', { recoverySite: 'empty' })}
---
${acmeVpg('again', '{ selector: { matchLabels: { app: web } } }')}
`;

interface VpgStatus {
  phase?: string;
  substatus?: string;
  rpoSeconds?: number;
  conditions?: Condition[];
  placement?: { protectedNode?: string; recoveryNode?: string; streamId?: string };
  checkpoints?: { count: number; latest?: { id: string; time: string } };
  volumes?: { claimName: string; state: string }[];
}

describe('VPG controller', { timeout: 900_000 }, () => {
  let cluster: LocalCluster;
  let admin: KubeClient;
  let manager: Manager;
  let vras: VraClient;
  const figures: Record<string, number | string> = {};

  const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> =>
    waitFor(async () => check(), { what, timeoutMs, intervalMs: 500 });
  const vpg = async (name: string, ns = 'acme-prod'): Promise<CustomObject & { status?: VpgStatus }> => admin.get(VPGS, name, ns);
  const condition = async (name: string, type: string, ns = 'acme-prod'): Promise<Condition | undefined> =>
    findStatusCondition((await vpg(name, ns)).status?.conditions, type);
  /** Waits for a condition to have a status, and returns it; the error shows what it was. */
  const conditionBecomes = async (name: string, type: string, status: string, ns = 'acme-prod', timeoutMs = 180_000): Promise<Condition> => {
    let last: Condition | undefined;
    await waitFor(async () => {
      last = await condition(name, type, ns);
      if (last?.status !== status) throw new Error(`${type} is ${last?.status ?? 'unset'} (${last?.reason ?? ''}: ${last?.message ?? ''}); phase ${(await vpg(name, ns)).status?.phase ?? '-'}`);
      return true;
    }, { what: `VPG ${ns}/${name} ${type}=${status}`, timeoutMs, intervalMs: 500 });
    return last as Condition;
  };
  const vraPod = async (site: string, node: string): Promise<Pod> => admin.get<Pod>(PODS, vraName(site, node), NS);
  const endpoint = async (site: string, node: string): Promise<VraEndpoint> => {
    const pod = await vraPod(site, node);
    return { uid: pod.metadata?.uid ?? '', host: pod.status?.podIP ?? '', port: 9441 };
  };
  /** Where a claim's volume is on this machine. */
  const volumeDir = async (claim: string, ns = 'acme-prod'): Promise<string> => {
    const pvc = await admin.get<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, claim, ns);
    const pv = await admin.get<PersistentVolume>(PERSISTENT_VOLUMES, pvc.spec?.volumeName ?? '');
    const node = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms[0]?.matchExpressions?.[0]?.values?.[0] ?? '';
    return cluster.nodePath(node, pv.spec?.hostPath?.path ?? '');
  };
  /** Where a VRA's data folder (its own volume) is on this machine. */
  const vraDataDir = async (site: string, node: string): Promise<string> => {
    const pvc = await admin.get<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, vraName(site, node), NS);
    return cluster.nodePath(node, `/var/lib/zcsp-local-pv/${pvc.spec?.volumeName ?? ''}`);
  };
  /** Materialises a checkpoint on the recovery VRA into its restore folder; returns the folder on this machine. */
  const materialise = async (name: string, checkpoint: number, volumes: readonly string[], ns = 'acme-prod'): Promise<Map<string, string>> => {
    const { placement } = (await vpg(name, ns)).status ?? {};
    const node = placement?.recoveryNode ?? '';
    const dir = `t${Date.now()}`;
    const targets = Object.fromEntries(volumes.map((v) => [v, `${VRA_DATA_DIR}/restore/${dir}/${v}`]));
    const ep = await endpoint('dr', node);
    const result = await postJson(ep, `/v1/streams/${placement?.streamId ?? ''}/materialise`, { checkpoint, targets });
    assert.equal(result.status, 200, JSON.stringify(result.body));
    const data = await vraDataDir('dr', node);
    return new Map(volumes.map((v) => [v, join(data, 'restore', dir, v)]));
  };
  let controlToken = '';
  const postJson = async (ep: VraEndpoint, path: string, body: unknown): Promise<{ status: number; body: unknown }> => {
    const { request } = await import('node:https');
    return new Promise((resolve, reject) => {
      const req = request({ host: ep.host, port: ep.port, method: 'POST', path, rejectUnauthorized: false, headers: { authorization: `Bearer ${controlToken}`, 'content-type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown }));
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  };
  const metricValue = (name: string, ...labels: string[]): number | undefined => {
    for (const line of manager.registry.render().split('\n')) {
      if (!line.startsWith(`${name}{`) || !labels.every((l) => line.includes(l))) continue;
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return undefined;
  };
  const signalPod = (pod: string, signal: NodeJS.Signals): number => signalPodProcesses(cluster.id, pod, signal);
  /** Waits until the VPG's status reports a checkpoint taken after `since`, and returns its number. */
  /** The first checkpoint the VPG's status reports after `since`. */
  const reportedCheckpointAfter = async (name: string, since: number, ns = 'acme-prod'): Promise<{ seq: number; time: number }> => {
    let found = { seq: 0, time: 0 };
    await until(`a reported checkpoint of ${name} after the last write`, async () => {
      const latest = (await vpg(name, ns)).status?.checkpoints?.latest;
      if (latest === undefined || Date.parse(latest.time) <= since) return false;
      found = { seq: Number(latest.id), time: Date.parse(latest.time) };
      return true;
    }, 120_000);
    return found;
  };
  /**
   * The first checkpoint after `since` in the recovery VRA's journal: the status shows it up to
   * its refresh period (30 s) later, which is not what these tests are about.
   */
  const checkpointAfter = async (name: string, since: number, ns = 'acme-prod'): Promise<{ seq: number; time: number }> => {
    const { placement } = (await vpg(name, ns)).status ?? {};
    const ep = await endpoint('dr', placement?.recoveryNode ?? '');
    let found = { seq: 0, time: 0 };
    await until(`a checkpoint of ${name} after the last write in the journal`, async () => {
      const { checkpoints } = await vras.get<{ checkpoints: { seq: number; time: string }[] }>(ep, `/v1/streams/${placement?.streamId ?? ''}/checkpoints`);
      const first = checkpoints.find((c) => Date.parse(c.time) > since);
      if (first === undefined) return false;
      found = { seq: first.seq, time: Date.parse(first.time) };
      return true;
    }, 120_000);
    return found;
  };

  before(async () => {
    cluster = await startCluster({ crashLoopBackoff: { initialMs: 500, maxMs: 2000 } });
    admin = new KubeClient(cluster.kubeConfig);
    await cluster.kubectl(['apply', '-f', join(REPO_ROOT, 'deploy/crds')]);
    await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/vpgs.zcsp.io', 'crd/zorgs.zcsp.io', 'crd/sites.zcsp.io', 'crd/zccs.zcsp.io', 'crd/serviceprofiles.zcsp.io']);
    await admin.create(NAMESPACES, { metadata: { name: NS } });
    manager = new Manager({ kubeConfig: cluster.kubeConfig, logger, leaderElection: false, http: { port: 0, host: '127.0.0.1' } });
    for (const c of operatorControllers(config)) manager.add(c);
    await manager.start();
    for (const file of ['01-sites.yaml', '02-service-profile.yaml', '03-zorg.yaml', '04-zcc.yaml']) await cluster.kubectl(['apply', '-f', join(examples, file)]);
    await until('Zorg acme Ready', async () => findStatusCondition((await admin.get(ZORGS, 'acme')).status?.['conditions'] as Condition[] | undefined, 'Ready')?.status === 'True', 180_000);
    const secret = await admin.get<Secret>(SECRETS, 'zcsp-vra-control', NS);
    controlToken = Buffer.from(secret.data?.['token'] ?? '', 'base64').toString('utf8');
    vras = new VraClient(controlToken);
  });

  after(async () => {
    await manager.stop();
    await admin.close();
    await cluster.stop();
    process.stdout.write(`# vpg figures: ${JSON.stringify(figures)}\n`);
  });

  it('protects the examples\' VPG until MeetingSLA (kubectl wait); the replica equals the source at the reported checkpoint', async () => {
    const t0 = Date.now();
    await cluster.kubectl(['apply', '-f', join(examples, '05-tenant-app.yaml'), '-f', join(examples, '06-vpg.yaml')]);
    await until('the app\'s volume bound', async () => (await admin.get<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, 'app-data', 'acme-prod')).status?.phase === 'Bound', 120_000);
    await cluster.kubectl(['wait', '--for=condition=MeetingSLA', '-n', 'acme-prod', 'vpg/web', '--timeout=240s']);
    figures['meetingSlaMs'] = Date.now() - t0;
    const status = (await vpg('web')).status ?? {};
    assert.equal(status.phase, 'MeetingSLA');
    assert.equal(findStatusCondition(status.conditions, 'Protected')?.status, 'True');
    assert.equal(findStatusCondition(status.conditions, 'Ready')?.status, 'True');
    assert.match(status.placement?.protectedNode ?? '', /^prod-/);
    assert.match(status.placement?.recoveryNode ?? '', /^dr-/);
    assert.ok((status.rpoSeconds ?? Infinity) <= 60, `RPO ${status.rpoSeconds ?? '?'} s`);

    // Some data of our own, then a checkpoint after it: recovering that checkpoint gives exactly the source.
    const src = await volumeDir('app-data');
    // The VPG can meet its SLA on the empty volume before the workload's pod has started.
    await until('the workload wrote its first stamp', () => existsSync(join(src, 'stamp.json')), 60_000);
    await mkdir(join(src, 'docs'), { recursive: true });
    for (let i = 0; i < 20; i++) await writeFile(join(src, 'docs', `f${i}.bin`), Buffer.alloc(50_000 + i * 1000, i));
    const wrote = Date.now();
    const checkpoint = await reportedCheckpointAfter('web', wrote);
    const restored = await materialise('web', checkpoint.seq, ['app-data']);
    const copy = restored.get('app-data') ?? '';
    // Our files stood still since before the checkpoint: they must come back byte for byte. The
    // workload rewrites its stamp every 5 s: the copy holds the one of the checkpoint's moment.
    assert.deepEqual(diffSnapshots(snapshotTree(join(src, 'docs')), snapshotTree(join(copy, 'docs'))), [], 'the recovered files equal the source');
    assert.ok(existsSync(join(copy, 'stamp.json')), `the stamp is in the recovered copy (it holds ${readdirSync(copy).join(', ')}; the source ${readdirSync(src).join(', ')})`);
    const stamp = JSON.parse(readFileSync(join(copy, 'stamp.json'), 'utf8')) as { seq: number; writtenAt: string };
    assert.ok(stamp.seq >= 1 && Date.parse(stamp.writtenAt) <= checkpoint.time + 1000, `the stamp (${JSON.stringify(stamp)}) is one from before the checkpoint`);
    figures['restoredStampSeq'] = stamp.seq;
  });

  it('keeps the RPO inside the profile\'s alert under continuous writes, and recovers what was written', async () => {
    const src = await volumeDir('app-data');
    const dir = join(src, 'stream');
    await mkdir(dir, { recursive: true });
    const rpos: number[] = [];
    const phases = new Set<string>();
    const stop = Date.now() + 40_000;
    let n = 0;
    while (Date.now() < stop) {
      // ~250 KiB/s of new and rewritten files, as a busy application would.
      await writeFile(join(dir, `f${n % 50}.bin`), Buffer.alloc(25_000, n));
      n++;
      if (n % 10 === 0) {
        const status = (await vpg('web')).status ?? {};
        phases.add(status.phase ?? '-');
        if (status.rpoSeconds !== undefined) rpos.push(status.rpoSeconds);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const wrote = Date.now();
    figures['writes'] = n;
    figures['rpoMaxSeconds'] = Math.max(...rpos);
    assert.deepEqual([...phases], ['MeetingSLA'], 'MeetingSLA throughout');
    assert.ok(Math.max(...rpos) <= 60, `RPO inside the 60 s alert (seen ${rpos.join(', ')})`);
    const exact = metricValue('zcsp_vpg_rpo_seconds', 'vpg="web"');
    assert.ok(exact !== undefined && exact < 60, `the exact RPO metric (${exact ?? 'absent'})`);
    const checkpoint = await checkpointAfter('web', wrote);
    const copy = (await materialise('web', checkpoint.seq, ['app-data'])).get('app-data') ?? '';
    assert.deepEqual(diffSnapshots(snapshotTree(dir), snapshotTree(join(copy, 'stream'))), [], 'every write came back');
    // The workload's stamp, rewritten every 5 s, comes back as of the checkpoint.
    const stamp = JSON.parse(readFileSync(join(copy, 'stamp.json'), 'utf8')) as { seq: number; writtenAt: string };
    const age = (checkpoint.time - Date.parse(stamp.writtenAt)) / 1000;
    figures['stampAgeAtCheckpointSeconds'] = age;
    assert.ok(age >= -1 && age <= 12, `the recovered stamp is the one of the checkpoint's moment (${age} s older than it)`);
  });

  it('goes NotMeetingSLA with a reason while the recovery VRA is frozen, and back to MeetingSLA after, nothing lost', async () => {
    const { placement } = (await vpg('web')).status ?? {};
    const pod = vraName('dr', placement?.recoveryNode ?? '');
    const src = await volumeDir('app-data');
    await mkdir(join(src, 'outage'), { recursive: true });
    assert.ok(signalPod(pod, 'SIGSTOP') > 0, `found the processes of ${pod}`);
    const t0 = Date.now();
    try {
      const down = await conditionBecomes('web', 'MeetingSLA', 'False', 'acme-prod', 90_000);
      figures['detectDownMs'] = Date.now() - t0;
      const status = (await vpg('web')).status ?? {};
      assert.equal(status.phase, 'NotMeetingSLA', `phase ${status.phase ?? '-'}`);
      assert.ok(['SiteDisconnection', 'VraNotReady'].includes(status.substatus ?? ''), `substatus ${status.substatus ?? '-'}`);
      assert.notEqual(down.reason, '');
      figures['downSubstatus'] = status.substatus ?? '';
      // Writes while the recovery side is down: kept by the source and shipped when it is back.
      for (let i = 0; i < 10; i++) await writeFile(join(src, 'outage', `o${i}.bin`), Buffer.alloc(40_000, 100 + i));
    } finally {
      signalPod(pod, 'SIGCONT');
    }
    const t1 = Date.now();
    await conditionBecomes('web', 'MeetingSLA', 'True', 'acme-prod', 180_000);
    figures['recoverMs'] = Date.now() - t1;
    const checkpoint = await checkpointAfter('web', Date.now() - 1000);
    const copy = (await materialise('web', checkpoint.seq, ['app-data'])).get('app-data') ?? '';
    assert.deepEqual(diffSnapshots(snapshotTree(join(src, 'outage')), snapshotTree(join(copy, 'outage'))), [], 'nothing written during the outage was lost');
    const events = await cluster.kubectl(['get', 'events', '-n', 'acme-prod', '--field-selector', 'involvedObject.name=web', '-o', 'jsonpath={range .items[*]}{.reason}{"\\n"}{end}']);
    assert.match(events, /SiteDisconnection|VraNotReady/, 'an Event said why');
    assert.match(events, /Recovered|MeetingSLA/, 'and another that it is back');
  });
  it('sends each tenant\'s traffic through its own ZCC only', async () => {
    await cluster.kubectl(['apply', '-f', '-'], { input: globexManifests });
    await until('Zorg globex Ready', async () => findStatusCondition((await admin.get(ZORGS, 'globex')).status?.['conditions'] as Condition[] | undefined, 'Ready')?.status === 'True', 180_000);
    await cluster.kubectl(['apply', '-f', '-'], { input: globexApp });
    await cluster.kubectl(['wait', '--for=condition=MeetingSLA', '-n', 'globex-prod', 'vpg/db', '--timeout=240s']);
    for (const [zorg, ns, name] of [['acme', 'acme-prod', 'web'], ['globex', 'globex-prod', 'db']] as const) {
      const { placement } = (await vpg(name, ns)).status ?? {};
      const zccPods = (await admin.list<Pod>(PODS, { namespace: NS, labelSelector: `zcsp.io/role=zcc,zcsp.io/zcc=${zorg}` })).items.filter(isPodReady);
      assert.equal(zccPods.length, 1);
      const source = await vras.get<{ config: { peer: { address: { host: string }; zcc?: { zorg: string; target: { site: string; node: string } } } } }>(
        await endpoint('prod', placement?.protectedNode ?? ''), `/v1/streams/${placement?.streamId ?? ''}`);
      assert.equal(source.config.peer.address.host, zccPods[0]?.status?.podIP, `${zorg}'s source goes to ${zorg}'s connector`);
      assert.equal(source.config.peer.zcc?.zorg, zorg);
      assert.deepEqual(source.config.peer.zcc.target, { site: 'dr', node: placement?.recoveryNode });
      // The connector's own count: one open tunnel (its tenant's VPG), and no client it did not
      // know (Unavailable, while a recovery VRA was down, is no stranger).
      const metrics = await (await fetch(`http://${zccPods[0]?.status?.podIP ?? ''}:9441/metrics`)).text();
      const sample = (m: string): number => Number(/ ([0-9.e+]+)$/m.exec(metrics.split('\n').find((l) => l.startsWith(m)) ?? '')?.[1] ?? NaN);
      assert.equal(sample('zcsp_zcc_tunnels '), 1, `${zorg}'s connector carries exactly one tunnel`);
      assert.ok(sample('zcsp_zcc_connections_total{result="accepted"}') >= 1);
      assert.doesNotMatch(metrics, /zcsp_zcc_connections_total\{result="(Unauthenticated|Forbidden|BadHello|UnsupportedVersion)"/, `${zorg}'s connector saw no one else:\n${metrics}`);
      figures[`${zorg}ZccAccepted`] = sample('zcsp_zcc_connections_total{result="accepted"}');
    }
  });

  it('says why it cannot protect a VPG with a missing claim, a profile its Zorg may not use, or a site without VRAs, and nothing else breaks', async () => {
    await cluster.kubectl(['apply', '-f', '-'], { input: badManifests });
    const cases = [['missing-claim', 'ClaimNotFound', /app-logs not found/], ['again', 'VolumeInAnotherVpg', /app-data is protected by VPG web already/], ['bronze', 'ServiceProfileNotAllowed', /bronze is not one of the profiles Zorg acme allows \(gold\)/], ['nowhere', 'NoRecoveryVra', /site empty has no Ready VRA/]] as const;
    for (const [name, reason, message] of cases) {
      const ready = await conditionBecomes(name, 'Ready', 'False');
      await until(`${name}: Ready False for ${reason}`, async () => (await condition(name, 'Ready'))?.reason === reason, 60_000);
      assert.match((await condition(name, 'Ready'))?.message ?? '', message);
      assert.equal(ready.observedGeneration, 1);
      const status = (await vpg(name)).status ?? {};
      assert.equal(status.phase, 'NeedsConfiguration');
      assert.equal(findStatusCondition(status.conditions, 'Protected')?.status, 'False');
      await until(`a Warning Event ${reason} on ${name}`, async () => (await cluster.kubectl(['get', 'events', '-n', 'acme-prod', '--field-selector', `involvedObject.name=${name},type=Warning`, '-o', 'jsonpath={.items[*].reason}'])).includes(reason), 30_000);
      assert.equal((await vpg(name)).metadata?.finalizers, undefined, 'nothing on any VRA: no finalizer to hold');
    }
    assert.equal((await vpg('web')).status?.phase, 'MeetingSLA', 'the good VPG is untouched');
    // Fixing the spec protects it.
    await cluster.kubectl(['patch', 'vpg', 'bronze', '-n', 'acme-prod', '--type', 'merge', '-p', '{"spec":{"serviceProfile":"gold"}}']);
    await conditionBecomes('bronze', 'MeetingSLA', 'True');
  });

  it('adds a volume with an initial sync of that volume alone, keeping the journal; removing one drops only its data', async () => {
    const src = await volumeDir('app-data');
    // Incompressible data on the protected volume: a full resend of it would show in the bytes shipped.
    await writeFile(join(src, 'big.bin'), randomBytes(8 * 1024 * 1024));
    await checkpointAfter('web', Date.now());
    const { placement } = (await vpg('web')).status ?? {};
    const id = placement?.streamId ?? '';
    const sourceVra = await endpoint('prod', placement?.protectedNode ?? '');
    const targetVra = await endpoint('dr', placement?.recoveryNode ?? '');
    type Cp = { seq: number; time: string };
    const checkpoints = async (): Promise<Cp[]> => (await vras.get<{ checkpoints: Cp[] }>(targetVra, `/v1/streams/${id}/checkpoints`)).checkpoints;
    const shipped = async (): Promise<number> => (await vras.get<{ status: { wireBytes: number } }>(sourceVra, `/v1/streams/${id}`)).status.wireBytes;
    const oldest = (await checkpoints())[0];
    assert.ok(oldest !== undefined);
    const wireBefore = await shipped();

    // A second claim on the same node (its pod pins it there), then the VPG names it too.
    await cluster.kubectl(['apply', '-f', '-'], { input: extraVolume(placement?.protectedNode ?? '') });
    await until('app-extra bound', async () => (await admin.get<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, 'app-extra', 'acme-prod')).status?.phase === 'Bound', 120_000);
    const extra = await volumeDir('app-extra');
    await writeFile(join(extra, 'extra.bin'), randomBytes(1024 * 1024));
    const t0 = Date.now();
    await cluster.kubectl(['patch', 'vpg', 'web', '-n', 'acme-prod', '--type', 'merge', '-p', '{"spec":{"volumes":{"claimNames":["app-data","app-extra"]}}}']);
    await until('both volumes Protected', async () => {
      const v = (await vpg('web')).status?.volumes ?? [];
      return v.length === 2 && v.every((x) => x.state === 'Protected');
    }, 180_000);
    await conditionBecomes('web', 'MeetingSLA', 'True');
    figures['addVolumeMs'] = Date.now() - t0;
    // The counter restarts with the stream if the VRA restarted it: then all of it counts.
    const wireAfter = await shipped();
    const sent = wireAfter >= wireBefore ? wireAfter - wireBefore : wireAfter;
    figures['addVolumeShippedBytes'] = sent;
    assert.ok(sent < 6 * 1024 * 1024, `the new volume alone was sent in full (${sent} bytes shipped; app-data holds 8 MiB more)`);
    assert.ok((await checkpoints()).some((c) => c.seq === oldest.seq), 'the checkpoints from before are still in the journal');
    const after = await checkpointAfter('web', Date.now());
    const copies = await materialise('web', after.seq, ['app-data', 'app-extra']);
    assert.deepEqual(diffSnapshots(snapshotTree(extra), snapshotTree(copies.get('app-extra') ?? '')), [], 'the new volume recovers as the source');
    assert.deepEqual(diffSnapshots(snapshotTree(join(src, 'docs')), snapshotTree(join(copies.get('app-data') ?? '', 'docs'))), []);

    // Removed again: its data goes from the recovery VRA; the other volume carries on.
    await cluster.kubectl(['patch', 'vpg', 'web', '-n', 'acme-prod', '--type', 'merge', '-p', '{"spec":{"volumes":{"claimNames":["app-data"]}}}']);
    await until('one volume left', async () => ((await vpg('web')).status?.volumes ?? []).map((v) => v.claimName).join() === 'app-data', 60_000);
    await until('the target forgot app-extra', async () => {
      const t = await vras.get<{ config: { volumes: { name: string }[] } }>(targetVra, `/v1/streams/${id}`);
      return t.config.volumes.map((v) => v.name).join() === 'app-data';
    }, 60_000);
    const replicaLeft = execFileSync('find', [join(await vraDataDir('dr', placement?.recoveryNode ?? ''), 'streams', id), '-path', '*app-extra*'], { encoding: 'utf8' }).trim();
    assert.equal(replicaLeft, '', 'no replica data of the removed volume is left');
    await conditionBecomes('web', 'MeetingSLA', 'True');
    const last = await checkpointAfter('web', Date.now());
    const copy = (await materialise('web', last.seq, ['app-data'])).get('app-data') ?? '';
    assert.deepEqual(diffSnapshots(snapshotTree(join(src, 'docs')), snapshotTree(join(copy, 'docs'))), []);
  });

  it('configures a stream again that a VRA lost, and the VPG returns to MeetingSLA', async () => {
    const { placement } = (await vpg('web')).status ?? {};
    const id = placement?.streamId ?? '';
    const source = await endpoint('prod', placement?.protectedNode ?? '');
    await vras.delete(source, `/v1/streams/${id}`);
    await until('the source stream configured again', async () => {
      try {
        return typeof (await vras.get<{ status: { state?: string } }>(source, `/v1/streams/${id}`)).status.state === 'string';
      } catch {
        return false;
      }
    }, 60_000);
    await conditionBecomes('web', 'MeetingSLA', 'True');
  });

  it('deleting a VPG stops both ends; Retain keeps the journal and replica, Delete removes them', async () => {
    for (const [ns, name, policy] of [['acme-prod', 'bronze', 'Retain'], ['globex-prod', 'db', 'Delete']] as const) {
      if (policy === 'Retain') await cluster.kubectl(['patch', 'vpg', name, '-n', ns, '--type', 'merge', '-p', '{"spec":{"deletionPolicy":"Retain"}}']);
      const { placement } = (await vpg(name, ns)).status ?? {};
      const id = placement?.streamId ?? '';
      const target = await endpoint('dr', placement?.recoveryNode ?? '');
      const source = await endpoint('prod', placement?.protectedNode ?? '');
      const data = join(await vraDataDir('dr', placement?.recoveryNode ?? ''), 'streams', id);
      assert.ok(existsSync(data), 'the journal is on the recovery VRA');
      await cluster.kubectl(['delete', 'vpg', name, '-n', ns, '--wait=true', '--timeout=60s']);
      for (const ep of [source, target]) {
        await assert.rejects(vras.get(ep, `/v1/streams/${id}`), (err: unknown) => err instanceof Error && /no stream/.test(err.message), `stream ${id} gone`);
      }
      const left = existsSync(data) ? readdirSync(data) : [];
      if (policy === 'Retain') assert.ok(left.length > 0 && !left.includes('config.json'), `${name}: data kept, stream stopped (${left.join(', ')})`);
      else assert.equal(existsSync(data), false, `${name}: data removed`);
    }
    assert.equal((await vpg('web')).status?.phase, 'MeetingSLA', 'the other VPGs carry on');
  });
});
