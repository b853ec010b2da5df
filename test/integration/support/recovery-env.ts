// A cluster with the operator's controllers in this process, the examples' sites, profile, Zorg
// and ZCC, and the tenant app protected (MeetingSLA): the starting point of the recovery tests.
// With the helpers they share: reading a VPG and its operation, volumes on this machine, the
// recovery VRA's API, restarting the operator.
import { join } from 'node:path';
import { pino } from 'pino';
import { REPO_ROOT, startCluster, type LocalCluster } from '../../cluster/cluster.ts';
import { waitFor } from '../../cluster/net.ts';
import { OperatorConfig } from '../../../src/controllers/config.ts';
import { operatorControllers } from '../../../src/controllers/index.ts';
import { PERSISTENT_VOLUMES, VPGS, ZORGS } from '../../../src/controllers/resources.ts';
import { vraName } from '../../../src/controllers/site/index.ts';
import { VraClient } from '../../../src/controllers/vpg/vra-client.ts';
import type { VPGStatus } from '../../../src/crds/vpg.ts';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from '../../../src/kube/objects.ts';
import {
  KubeClient, Manager, NAMESPACES, PERSISTENT_VOLUME_CLAIMS, PODS, SECRETS, findStatusCondition, type Condition, type Secret,
} from '../../../src/runtime/index.ts';

export const PROVIDER = 'zcsp-system';
const config = OperatorConfig.parse({ namespace: PROVIDER, image: 'ghcr.io/zcsp/zcsp:dev' });
const logger = pino({ level: process.env['ZCSP_TEST_LOG_LEVEL'] ?? 'silent' });
const examples = join(REPO_ROOT, 'examples');

export interface Vpg {
  metadata?: { uid?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec?: { operation?: unknown };
  status?: VPGStatus;
}
export type Operation = NonNullable<VPGStatus['operation']>;

export interface RecoveryEnv {
  cluster: LocalCluster;
  admin: KubeClient;
  vras: VraClient;
  vpg(name?: string, ns?: string): Promise<Vpg>;
  /** Waits until the VPG's status.operation passes `check`; the error shows what it was. */
  waitOperation(what: string, check: (op: Operation | undefined) => boolean, o?: { name?: string; ns?: string; timeoutMs?: number }): Promise<void>;
  setOperation(operation: unknown, name?: string, ns?: string): Promise<unknown>;
  /** Where a claim's volume is on this machine. */
  volumeDir(claim: string, ns: string): Promise<string>;
  /** GET on the VPG's stream at its recovery VRA (`exports`, `checkpoints`, …). */
  onRecoveryVra<T>(sub: string, name?: string, ns?: string): Promise<T>;
  /** POST on the VPG's stream at its recovery VRA. */
  postRecoveryVra<T>(sub: string, body: unknown, name?: string, ns?: string): Promise<T>;
  /** Where the recovery VRA of a VPG keeps its data on this machine. */
  recoveryVraData(name?: string, ns?: string): Promise<string>;
  /** Stops the operator (as a crash would: nothing it holds in memory survives) and starts a new one. */
  restartOperator(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRecoveryEnv(): Promise<RecoveryEnv> {
  const cluster = await startCluster({ crashLoopBackoff: { initialMs: 500, maxMs: 2000 } });
  const admin = new KubeClient(cluster.kubeConfig);
  const startManager = async (): Promise<Manager> => {
    const m = new Manager({ kubeConfig: cluster.kubeConfig, logger, leaderElection: false, http: { port: 0, host: '127.0.0.1' } });
    for (const c of operatorControllers(config)) m.add(c);
    await m.start();
    return m;
  };
  await cluster.kubectl(['apply', '-f', join(REPO_ROOT, 'deploy/crds')]);
  await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/vpgs.zcsp.io', 'crd/zorgs.zcsp.io', 'crd/sites.zcsp.io', 'crd/zccs.zcsp.io', 'crd/serviceprofiles.zcsp.io']);
  await admin.create(NAMESPACES, { metadata: { name: PROVIDER } });
  let manager = await startManager();
  for (const file of ['01-sites.yaml', '02-service-profile.yaml', '03-zorg.yaml', '04-zcc.yaml']) await cluster.kubectl(['apply', '-f', join(examples, file)]);
  await waitFor(async () => findStatusCondition((await admin.get(ZORGS, 'acme')).status?.['conditions'] as Condition[] | undefined, 'Ready')?.status === 'True',
    { what: 'Zorg acme Ready', timeoutMs: 180_000, intervalMs: 500 });
  const secret = await admin.get<Secret>(SECRETS, 'zcsp-vra-control', PROVIDER);
  const token = Buffer.from(secret.data?.['token'] ?? '', 'base64').toString('utf8');
  const vras = new VraClient(token);
  await cluster.kubectl(['apply', '-f', join(examples, '05-tenant-app.yaml'), '-f', join(examples, '06-vpg.yaml')]);
  await cluster.kubectl(['wait', '--for=condition=MeetingSLA', '-n', 'acme-prod', 'vpg/web', '--timeout=300s']);

  const vpg = async (name = 'web', ns = 'acme-prod'): Promise<Vpg> => (await admin.get(VPGS, name, ns)) as Vpg;
  const recoveryVra = async (name: string, ns: string): Promise<{ ep: { uid: string; host: string; port: number }; streamId: string; node: string }> => {
    const { placement } = (await vpg(name, ns)).status ?? {};
    const site = ((await admin.get(VPGS, name, ns)).spec as { recoverySite: string }).recoverySite;
    const pod = await admin.get<Pod>(PODS, vraName(site, placement?.recoveryNode ?? ''), PROVIDER);
    return { ep: { uid: pod.metadata?.uid ?? '', host: pod.status?.podIP ?? '', port: 9441 }, streamId: placement?.streamId ?? '', node: placement?.recoveryNode ?? '' };
  };
  return {
    cluster, admin, vras, vpg,
    async waitOperation(what, check, o = {}) {
      await waitFor(async () => {
        const op = (await vpg(o.name, o.ns)).status?.operation;
        if (!check(op)) throw new Error(`operation is ${op === undefined ? 'none' : `${op.stage}: ${op.message ?? ''} ${op.error ?? ''}`}`);
        return true;
      }, { what, timeoutMs: o.timeoutMs ?? 240_000, intervalMs: 300 });
    },
    setOperation: (operation, name = 'web', ns = 'acme-prod') => admin.mergePatch(VPGS, name, ns, { spec: { operation } }),
    async volumeDir(claim, ns) {
      const pvc = await admin.get<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, claim, ns);
      const pv = await admin.get<PersistentVolume>(PERSISTENT_VOLUMES, pvc.spec?.volumeName ?? '');
      const node = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms[0]?.matchExpressions?.[0]?.values?.[0] ?? '';
      return cluster.nodePath(node, pv.spec?.hostPath?.path ?? '');
    },
    async onRecoveryVra<T>(sub: string, name = 'web', ns = 'acme-prod'): Promise<T> {
      const r = await recoveryVra(name, ns);
      return vras.get<T>(r.ep, `/v1/streams/${r.streamId}/${sub}`);
    },
    async postRecoveryVra<T>(sub: string, body: unknown, name = 'web', ns = 'acme-prod'): Promise<T> {
      const r = await recoveryVra(name, ns);
      return vras.post<T>(r.ep, `/v1/streams/${r.streamId}/${sub}`, body, 120_000);
    },
    async recoveryVraData(name = 'web', ns = 'acme-prod') {
      const r = await recoveryVra(name, ns);
      const site = ((await admin.get(VPGS, name, ns)).spec as { recoverySite: string }).recoverySite;
      const pvc = await admin.get<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, vraName(site, r.node), PROVIDER);
      return cluster.nodePath(r.node, `/var/lib/zcsp-local-pv/${pvc.spec?.volumeName ?? ''}`);
    },
    async restartOperator() {
      await manager.stop();
      manager = await startManager();
    },
    async stop() {
      await manager.stop();
      await admin.close();
      await cluster.stop();
    },
  };
}
