// A real Kubernetes control plane on this machine: etcd, kube-apiserver, kube-controller-manager
// and kube-scheduler as local processes on loopback ports, simulated nodes played by our kubelet,
// and a hostPath provisioner. Used by the integration and end-to-end tests, `npm run cluster:up`
// and the demo.
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CoreV1Api, StorageV1Api, type KubeConfig } from '@kubernetes/client-node';
import { resolveBinaries, type Binaries } from './binaries.ts';
import {
  apiServerArgs, componentDirs, controllerManagerArgs, etcdArgs, schedulerArgs,
} from './components.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { adminKubeconfigPath, controlPlaneLogDir, nodePath as mapNodePath } from './layout.ts';
import { httpsGet, portFree, waitFor } from './net.ts';
import { createPki, type Pki } from './pki.ts';
import { findClusterProcesses, killClusterProcesses, startProcess, type ManagedProcess } from './process.ts';
import { startProvisioner, storageClass, type Provisioner } from './provisioner.ts';
import { claimSlot, controlPlanePorts, podSubnet, portList, type ControlPlanePorts, type Slot } from './slots.ts';
import type { Kubelet } from './kubelet/index.ts';
import { readTailSync } from './tail.ts';

const execFileAsync = promisify(execFile);
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');

export interface NodeSpec {
  name: string;
  labels: Record<string, string>;
}

/** Two sites of two nodes each: what the product's examples and tests expect. */
export const DEFAULT_NODES: readonly NodeSpec[] = [
  { name: 'prod-1', labels: { 'zcsp.io/site': 'prod' } },
  { name: 'prod-2', labels: { 'zcsp.io/site': 'prod' } },
  { name: 'dr-1', labels: { 'zcsp.io/site': 'dr' } },
  { name: 'dr-2', labels: { 'zcsp.io/site': 'dr' } },
];

/** Images the simulated nodes run as local processes: this project's, at any registry and tag. */
export function isProjectImage(image: string): boolean {
  const withoutDigest = image.split('@')[0] ?? '';
  const lastSlash = withoutDigest.lastIndexOf('/');
  const nameAndTag = withoutDigest.slice(lastSlash + 1);
  return (nameAndTag.split(':')[0] ?? '') === 'zcsp';
}

export interface ClusterOptions {
  /** Folder for all state; default a new temp folder, removed by stop() unless keepDir. */
  dir?: string;
  keepDir?: boolean;
  nodes?: readonly NodeSpec[];
  /** Start the simulated kubelets (default true); false gives a bare control plane. */
  kubelets?: boolean;
  binaries?: Binaries;
  /** Milliseconds kubelets wait before restarting a crashed container; small in tests. */
  crashLoopBackoff?: { initialMs: number; maxMs: number };
  /** Start-up messages (default: none). */
  log?: (message: string) => void;
  /** Processes keep running if this process dies (the `cluster:up` supervisor). */
  survivesParent?: boolean;
}

export interface TestUser {
  name: string;
  groups: readonly string[];
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
}

export interface LocalCluster {
  readonly id: string;
  readonly dir: string;
  readonly server: string;
  readonly kubeconfigPath: string;
  readonly kubeConfig: KubeConfig;
  readonly binaries: Binaries;
  readonly nodes: readonly NodeSpec[];
  readonly pki: Pki;
  /** Credentials for a named user in the given groups, signed by the cluster CA. */
  user(name: string, groups?: readonly string[]): Promise<TestUser>;
  /** The real path of a path on a simulated node (hostPath volumes, provisioned PVs). */
  nodePath(node: string, path: string): string;
  kubelet(node: string): Kubelet;
  /** Runs the cluster's kubectl as admin (or as the given kubeconfig). Rejects on a non-zero exit. */
  kubectl(args: readonly string[], options?: { kubeconfig?: string; input?: string }): Promise<string>;
  /** Runs helm against the cluster. Rejects on a non-zero exit. */
  helm(args: readonly string[], options?: { kubeconfig?: string }): Promise<string>;
  /** Stops everything and checks nothing is left; idempotent. */
  stop(): Promise<void>;
}

const live = new Set<{ id: string; stop: () => Promise<void> }>();
let handlersInstalled = false;

/** Whatever happens to this process, its clusters go with it. */
function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', () => {
    for (const c of live) {
      for (const p of findClusterProcesses(c.id)) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      void Promise.allSettled([...live].map((c) => c.stop())).finally(() => process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1)));
    });
  }
}

export async function startCluster(options: ClusterOptions = {}): Promise<LocalCluster> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const binaries = options.binaries ?? (await resolveBinaries());
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'zcsp-cluster-')));
  await mkdir(dir, { recursive: true });
  const id = randomBytes(6).toString('hex');
  const nodes = options.nodes ?? DEFAULT_NODES;
  const dirs = componentDirs(dir);
  const logs = controlPlaneLogDir(dir);
  const processes: ManagedProcess[] = [];
  const kubelets = new Map<string, Kubelet>();
  let provisioner: Provisioner | undefined;
  let slot: Slot | undefined;
  let stopping: Promise<void> | undefined;

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await provisioner?.stop();
      await Promise.allSettled([...kubelets.values()].map((k) => k.stop()));
      // Reverse start order: the API server outlives its clients, etcd outlives the API server.
      for (const p of [...processes].reverse()) await p.stop(5000);
      const left = await killClusterProcesses(id);
      slot?.release();
      live.delete(entry);
      if (left.length > 0) {
        throw new Error(`local cluster ${id}: processes survived teardown: ${left.map((p) => `${p.pid} ${p.cmdline}`).join('; ')}`);
      }
      if (options.keepDir !== true && options.dir === undefined && process.env['ZCSP_KEEP_CLUSTER_DIR'] !== '1') {
        await rm(dir, { recursive: true, force: true });
      }
    })();
    return stopping;
  };
  const entry = { id, stop };
  live.add(entry);
  installExitHandlers();

  const spawnComponent = async (name: string, command: string, args: string[]): Promise<ManagedProcess> => {
    const p = await startProcess({
      name, command, args, clusterId: id, logFile: join(logs, `${name}.log`),
      ...(options.survivesParent === true && { survivesParent: true }),
    });
    processes.push(p);
    return p;
  };
  const died = (p: ManagedProcess) => (): string | undefined =>
    p.exitStatus === undefined ? undefined : `${p.name} exited (${JSON.stringify(p.exitStatus)}); last log lines:\n${readTailSync(p.logFile, 8192).trimEnd().split('\n').slice(-30).join('\n')}`;

  try {
    const claimed = await claimSlotWithPorts();
    slot = claimed.slot;
    const { etcd: etcdPort, apiserver: apiPort, controllerManager: kcmPort, scheduler: schedPort } = claimed.ports;
    log(`starting control plane in ${dir}`);
    const pki = await createPki(dirs.pki);
    const server = `https://127.0.0.1:${apiPort}`;

    const etcd = await spawnComponent('etcd', binaries.etcd, etcdArgs({ dataDir: dirs.etcd, clientPort: etcdPort }));
    await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${etcdPort}/health`);
      return res.ok && ((await res.json()) as { health?: string }).health === 'true';
    }, { what: 'etcd', timeoutMs: 30_000, abortIf: died(etcd) });
    log(`etcd ready (${Date.now() - started} ms)`);

    // All credentials at once, while nothing else is waiting on them.
    const [admin, kcmClient, schedClient] = await Promise.all([
      pki.issueClient('zcsp-admin', ['system:masters']),
      // Each manager under the identity the bootstrap RBAC policy grants its permissions to.
      pki.issueClient('system:kube-controller-manager'),
      pki.issueClient('system:kube-scheduler'),
    ]);
    const kcmConfig = join(dirs.controllerManager, 'kubeconfig');
    const schedConfig = join(dirs.scheduler, 'kubeconfig');
    await mkdir(dirs.controllerManager, { recursive: true });
    await mkdir(dirs.scheduler, { recursive: true });
    const kubeconfigPath = adminKubeconfigPath(dir);
    const [kubeConfig] = await Promise.all([
      writeKubeconfig(kubeconfigPath, { server, caFile: pki.ca.certFile, client: admin, name: 'zcsp-admin' }),
      writeKubeconfig(kcmConfig, { server, caFile: pki.ca.certFile, client: kcmClient, name: 'kcm' }),
      writeKubeconfig(schedConfig, { server, caFile: pki.ca.certFile, client: schedClient, name: 'scheduler' }),
    ]);

    const apiserver = await spawnComponent('kube-apiserver', binaries['kube-apiserver'], apiServerArgs({
      pki, etcdPort, securePort: apiPort, certDir: dirs.apiserver,
    }));
    await waitFor(async () => (await httpsGet({ url: `${server}/readyz`, caFile: pki.ca.certFile, client: admin })).status === 200,
      { what: 'kube-apiserver', timeoutMs: 60_000, intervalMs: 100, abortIf: died(apiserver) });
    log(`kube-apiserver ready (${Date.now() - started} ms)`);
    // Only now: the managers exit if the bootstrap RBAC policy they run under is not there yet.
    const kcm = await spawnComponent('kube-controller-manager', binaries['kube-controller-manager'], controllerManagerArgs({
      pki, kubeconfig: kcmConfig, securePort: kcmPort, certDir: dirs.controllerManager, clusterSigning: true,
    }));
    const scheduler = await spawnComponent('kube-scheduler', binaries['kube-scheduler'], schedulerArgs({
      pki, kubeconfig: schedConfig, securePort: schedPort, certDir: dirs.scheduler,
    }));
    const core = kubeConfig.makeApiClient(CoreV1Api);
    await Promise.all([
      waitFor(async () => (await httpsGet({ url: `https://127.0.0.1:${kcmPort}/healthz` })).status === 200,
        { what: 'kube-controller-manager', timeoutMs: 60_000, intervalMs: 200, abortIf: died(kcm) }),
      waitFor(async () => (await httpsGet({ url: `https://127.0.0.1:${schedPort}/healthz` })).status === 200,
        { what: 'kube-scheduler', timeoutMs: 60_000, intervalMs: 200, abortIf: died(scheduler) }),
      // Pods are refused until the service-account controller has made the namespace's account.
      waitFor(async () => (await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' })).metadata?.name === 'default',
        { what: 'default service account', timeoutMs: 60_000, intervalMs: 200, abortIf: died(kcm) }),
    ]);
    log(`control plane ready at ${server} (${Date.now() - started} ms)`);

    const storage = kubeConfig.makeApiClient(StorageV1Api);
    await storage.createStorageClass({ body: storageClass() });
    provisioner = startProvisioner({
      kubeConfig, clusterDir: dir, nodes: nodes.map((n) => n.name),
      onError: (err) => log(`provisioner: ${err instanceof Error ? err.message : String(err)}`),
    });

    if (options.kubelets !== false) {
      // Loaded only when nodes are wanted: a bare control plane needs none of it.
      const { startKubelet } = await import('./kubelet/index.ts');
      const nodeBinary = process.execPath;
      await Promise.all(nodes.map(async (node, index) => {
        const kubelet = await startKubelet({
          kubeConfig,
          apiServer: { host: '127.0.0.1', port: apiPort, caFile: pki.ca.certFile },
          clusterId: id,
          clusterDir: dir,
          node: { name: node.name, labels: node.labels, podSubnet: podSubnet(slot?.slot ?? 0, index) },
          isProjectImage,
          repoRoot: REPO_ROOT,
          nodeBinary,
          pki,
          ...(options.crashLoopBackoff !== undefined && { crashLoopBackoff: options.crashLoopBackoff }),
        });
        kubelets.set(node.name, kubelet);
      }));
      await waitFor(async () => {
        const list = await core.listNode();
        return nodes.every((n) => {
          const obj = list.items.find((i) => i.metadata?.name === n.name);
          const ready = obj?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
          const blocked = obj?.spec?.taints?.some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute') === true;
          return ready && !blocked;
        });
      }, { what: 'simulated nodes Ready', timeoutMs: 60_000, intervalMs: 200 });
      log(`${nodes.length} nodes ready (${Date.now() - started} ms)`);
    }

    const userDir = join(dir, 'users');
    await mkdir(userDir, { recursive: true });
    const run = async (bin: string, args: readonly string[], kubeconfig: string, input?: string): Promise<string> => {
      try {
        const child = execFileAsync(bin, [...args], { env: { ...process.env, KUBECONFIG: kubeconfig }, maxBuffer: 64 << 20 });
        if (input !== undefined) child.child.stdin?.end(input);
        return (await child).stdout;
      } catch (err: unknown) {
        const e = err as { stderr?: string; code?: number; message: string };
        throw new Error(`${bin.split('/').pop() ?? bin} ${args.join(' ')} failed (exit ${e.code ?? '?'}): ${(e.stderr ?? e.message).trim()}`, { cause: err });
      }
    };
    await writeFile(join(dir, 'cluster.json'), JSON.stringify({ id, server, pid: process.pid, kubeconfig: kubeconfigPath }, null, 2));

    return {
      id, dir, server, kubeconfigPath, kubeConfig, binaries, nodes, pki,
      async user(name, groups = []) {
        const client = await pki.issueClient(name, groups);
        const file = join(userDir, `${name.replace(/[^A-Za-z0-9._-]/g, '_')}.kubeconfig`);
        const kc = await writeKubeconfig(file, { server, caFile: pki.ca.certFile, client, name });
        return { name, groups, kubeconfigPath: file, kubeConfig: kc };
      },
      nodePath: (node, path) => mapNodePath(dir, node, path),
      kubelet(node) {
        const k = kubelets.get(node);
        if (k === undefined) throw new Error(`no kubelet for node "${node}"`);
        return k;
      },
      kubectl: (args, o = {}) => run(binaries.kubectl, args, o.kubeconfig ?? kubeconfigPath, o.input),
      helm: (args, o = {}) => run(binaries.helm, args, o.kubeconfig ?? kubeconfigPath),
      stop,
    };
  } catch (err: unknown) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/**
 * A slot whose control-plane ports nothing else on the host listens on. A slot whose ports are
 * taken (a service of the host's own) is held until the search ends, so it is not offered again.
 */
async function claimSlotWithPorts(): Promise<{ slot: Slot; ports: ControlPlanePorts }> {
  const busy: string[] = [];
  const held: Slot[] = [];
  try {
    for (let attempt = 0; attempt < 8; attempt++) {
      const slot = claimSlot();
      const ports = controlPlanePorts(slot.slot);
      const taken = [];
      for (const port of portList(ports)) if (!(await portFree(port))) taken.push(port);
      if (taken.length === 0) return { slot, ports };
      busy.push(...taken.map(String));
      held.push(slot);
    }
  } finally {
    for (const s of held) s.release();
  }
  throw new Error(`local cluster: control-plane ports already in use on 127.0.0.1 in 8 slots (${busy.join(', ')}); stop what listens there`);
}
