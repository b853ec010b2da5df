// A simulated kubelet: plays a node of the local cluster well enough that pods of this project's
// image — a `helm install`ed operator included — run for real, as local processes in bubblewrap
// sandboxes. See README.md in this folder for what is and is not simulated.
import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import pino, { type Logger } from 'pino';
import { kubeletDir as kubeletDirOf } from '../layout.ts';
import { makeClients } from './api.ts';
import { zcspWrapperScript, type ProjectRuntime } from './command.ts';
import { apiConfigSource } from './config-source.ts';
import type { KubeletContext } from './context.ts';
import { kubernetesServiceEnv } from './env.ts';
import { apiEventRecorder } from './events.ts';
import { startExecServer } from './exec-server.ts';
import { IpPool } from './ip-pool.ts';
import { LEASE_RENEW_MS, renewLease } from './lease.ts';
import { CAPACITY, registerNode, reportNodeStatus, type NodeIdentity } from './node-status.ts';
import { every } from './periodic.ts';
import { podSource } from './pod-source.ts';
import { PodWorker } from './pod-worker.ts';
import { logFilePath } from './container-spec.ts';
import { podDirectory } from './volumes.ts';
import { ServiceAccountTokens } from './tokens.ts';
import { KUBELET_CLIENT_CN, type Pki } from '../pki.ts';

export interface KubeletOptions {
  /** Admin credentials. */
  kubeConfig: KubeConfig;
  /** What pods get as KUBERNETES_SERVICE_HOST/PORT and as ca.crt. */
  apiServer: { host: string; port: number; caFile: string };
  /** Marks every pod process (see process.ts). */
  clusterId: string;
  clusterDir: string;
  /** podSubnet: first three octets, e.g. "127.0.41": the node is .1, pods .2–.254. */
  node: { name: string; labels: Record<string, string>; podSubnet: string };
  isProjectImage: (image: string) => boolean;
  /** The project's checkout: the image's entrypoint `zcsp` is `<nodeBinary> <repoRoot>/src/main.ts`. */
  repoRoot: string;
  /** A Node 24 binary. */
  nodeBinary: string;
  /** The cluster's CA: signs the exec endpoint's serving certificate and the API server's client one. */
  pki: Pick<Pki, 'ca' | 'issueKubeletServing'>;
  /** Restart back-off of crashed containers; default 10 s doubling to 5 min, like the kubelet. */
  crashLoopBackoff?: { initialMs: number; maxMs: number };
  logger?: Logger;
}

export interface Kubelet {
  readonly nodeName: string;
  /**
   * Real path on this machine of a container log: <kubeletDir>/pods/<ns>_<pod>_<uid>/<container>/<restartCount>.log
   * (restartCount defaults to the container's current one). The kubelet's own log is <kubeletDir>/kubelet.log.
   */
  containerLogPath(namespace: string, pod: string, container: string, restartCount?: number): Promise<string>;
  /** Stops heartbeats and kills all pod processes (SIGTERM, then SIGKILL after grace). Leaves the Node object. */
  stop(): Promise<void>;
}

/** stop() gives each pod at most this much of its grace period: test teardown should be quick. */
const STOP_GRACE_CAP_MS = 5000;
const NODE_STATUS_MS = 20_000;

export async function startKubelet(options: KubeletOptions): Promise<Kubelet> {
  const nodeName = options.node.name;
  const kubeletDir = kubeletDirOf(options.clusterDir, nodeName);
  // By default the kubelet logs to <kubeletDir>/kubelet.log, beside its pods' logs.
  const logger = (
    options.logger ?? pino({ level: process.env['ZCSP_KUBELET_LOG_LEVEL'] ?? 'info' }, pino.destination({ dest: join(kubeletDir, 'kubelet.log'), mkdir: true, sync: true }))
  ).child({ kubelet: nodeName });
  const clients = makeClients(options.kubeConfig);
  const ipPool = new IpPool(options.node.podSubnet);
  const binDir = join(kubeletDir, 'bin');
  const project: ProjectRuntime = {
    nodeBinary: options.nodeBinary,
    repoRoot: options.repoRoot,
    preloadPath: fileURLToPath(new URL('./listen-preload.ts', import.meta.url)),
  };
  await writeBinDir(binDir, project);

  const kubeletVersion = (await clients.version.getCode()).gitVersion;
  const identity: NodeIdentity = { name: nodeName, labels: options.node.labels, nodeIP: ipPool.nodeIp, kubeletVersion };
  const nodeUid = await registerNode(clients.core, identity);
  await renewLease(clients.coordination, nodeName, nodeUid);
  const lease = every('lease renewal', LEASE_RENEW_MS, () => renewLease(clients.coordination, nodeName, nodeUid), logger);
  const status = every('node status', NODE_STATUS_MS, () => reportNodeStatus(clients.core, identity), logger);

  const ctx: KubeletContext = {
    nodeName,
    nodeIP: ipPool.nodeIp,
    clusterId: options.clusterId,
    clusterDir: options.clusterDir,
    kubeletDir,
    binDir,
    clients,
    ipPool,
    project,
    isProjectImage: options.isProjectImage,
    caFile: options.apiServer.caFile,
    serviceEnv: kubernetesServiceEnv(options.apiServer),
    allocatable: CAPACITY,
    crashLoop: options.crashLoopBackoff ?? { initialMs: 10_000, maxMs: 300_000 },
    tokens: new ServiceAccountTokens(clients.core),
    events: apiEventRecorder(clients.core, nodeName, logger),
    configSource: apiConfigSource(clients.core),
    kubeletVersion,
    logger,
  };

  const workers = new Map<string, PodWorker>();
  let stopping = false;
  const sync = (pods: readonly V1Pod[]): void => {
    if (stopping) return;
    const present = new Set<string>();
    for (const pod of pods) {
      const uid = pod.metadata?.uid;
      if (uid === undefined) continue;
      present.add(uid);
      let worker = workers.get(uid);
      if (worker === undefined) {
        worker = new PodWorker(pod, ctx);
        workers.set(uid, worker);
        const started = worker;
        void started.finished.then(() => {
          if (workers.get(uid) === started) workers.delete(uid);
        });
      }
      worker.update(pod);
    }
    for (const [uid, worker] of workers) if (!present.has(uid)) worker.update(undefined);
  };
  const findWorker = (namespace: string, name: string): PodWorker | undefined => {
    let found: PodWorker | undefined;
    for (const w of workers.values()) if (w.namespace === namespace && w.name === name) found = w;
    return found;
  };

  const serving = await options.pki.issueKubeletServing(nodeName, ipPool.nodeIp);
  const exec = await startExecServer({
    host: ipPool.nodeIp,
    tls: { ...serving, caFile: options.pki.ca.certFile },
    clientCN: KUBELET_CLIENT_CN,
    clusterId: options.clusterId,
    findTarget: (namespace, pod, container) => findWorker(namespace, pod)?.execTarget(container) ?? `pod ${namespace}/${pod} is not on node ${nodeName}`,
    logger,
  });
  const source = podSource({ kubeConfig: options.kubeConfig, core: clients.core, nodeName, sync, logger });
  await source.start();
  logger.info({ nodeIP: ipPool.nodeIp, exec: exec.url }, 'kubelet started');

  let stopped: Promise<void> | undefined;
  return {
    nodeName,
    async containerLogPath(namespace, pod, container, restartCount) {
      const worker = findWorker(namespace, pod);
      if (worker !== undefined) return logFilePath(worker.podDir, container, restartCount ?? worker.restartCount(container) ?? 0);
      const obj = await clients.core.readNamespacedPod({ name: pod, namespace });
      const statuses = [...(obj.status?.initContainerStatuses ?? []), ...(obj.status?.containerStatuses ?? [])];
      const count = restartCount ?? statuses.find((s) => s.name === container)?.restartCount ?? 0;
      return logFilePath(podDirectory(kubeletDir, obj), container, count);
    },
    stop() {
      stopped ??= (async () => {
        stopping = true;
        lease.stop();
        status.stop();
        await exec.close();
        await source.stop();
        await Promise.all([...workers.values()].map((w) => w.shutdown(STOP_GRACE_CAP_MS)));
        workers.clear();
        logger.info('kubelet stopped');
      })();
      return stopped;
    },
  };
}

/** `zcsp` and `node` for scripts in project-image containers, first on their PATH. */
async function writeBinDir(binDir: string, project: ProjectRuntime): Promise<void> {
  await mkdir(binDir, { recursive: true });
  const zcsp = join(binDir, 'zcsp');
  await writeFile(zcsp, zcspWrapperScript(project));
  await chmod(zcsp, 0o755);
  const node = join(binDir, 'node');
  await rm(node, { force: true });
  await symlink(project.nodeBinary, node);
}
