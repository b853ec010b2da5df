// The Node object of a simulated node: registered (or adopted) with its labels, and a status
// that says Ready with the usual pressures False, refreshed by heartbeats. The node lifecycle
// controller reads liveness from the Lease (lease.ts); the status heartbeat keeps
// lastHeartbeatTime current for people reading `kubectl describe node`.
import { release } from 'node:os';
import { createHash } from 'node:crypto';
import type { CoreV1Api, V1Node, V1NodeCondition } from '@kubernetes/client-node';
import { isAlreadyExists, isNotFound, mergePatch, strategicMergePatch } from './api.ts';
import { apiTime } from './pod-status.ts';
import { KUBELET_PORT } from './exec-server.ts';
import type { NodeAllocatable } from './quantity.ts';

export interface NodeIdentity {
  name: string;
  labels: Readonly<Record<string, string>>;
  nodeIP: string;
  kubeletVersion: string;
}

export const CAPACITY: NodeAllocatable & { pods: string } = { cpu: '2', memory: '8Gi', pods: '110', 'ephemeral-storage': '100Gi' };

export function nodeLabels(node: NodeIdentity): Record<string, string> {
  return {
    ...node.labels,
    'kubernetes.io/hostname': node.name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': 'amd64',
  };
}

const CONDITIONS: ReadonlyArray<{ type: string; status: 'True' | 'False'; reason: string; message: string }> = [
  { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
  { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
  { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
  { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status (simulated node)' },
];

/** The node's status (pure); a condition keeps its lastTransitionTime while its status holds. */
export function nodeStatus(node: NodeIdentity, previous: readonly V1NodeCondition[] | undefined, now: Date): Record<string, unknown> {
  const id = createHash('sha256').update(node.name).digest('hex');
  return {
    capacity: CAPACITY,
    allocatable: CAPACITY,
    addresses: [
      { type: 'InternalIP', address: node.nodeIP },
      { type: 'Hostname', address: node.name },
    ],
    nodeInfo: {
      machineID: id.slice(0, 32),
      systemUUID: `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`,
      bootID: id.slice(32, 64),
      kernelVersion: release(),
      osImage: 'zcsp simulated node',
      containerRuntimeVersion: 'zcsp-sim://1.0.0',
      kubeletVersion: node.kubeletVersion,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
    daemonEndpoints: { kubeletEndpoint: { Port: KUBELET_PORT } },
    // The API server then passes exec's WebSocket through to us (exec-server.ts) rather than
    // translating it to SPDY.
    declaredFeatures: ['ExtendWebSocketsToKubelet'],
    conditions: CONDITIONS.map((c) => {
      const before = previous?.find((p) => p.type === c.type);
      const since = before?.status === c.status && before.lastTransitionTime !== undefined ? apiTime(before.lastTransitionTime) : apiTime(now);
      return { ...c, lastHeartbeatTime: apiTime(now), lastTransitionTime: since };
    }),
  };
}

/** Creates the Node, or adopts an existing one (adding our labels); then reports its status. Returns the node's uid. */
export async function registerNode(core: CoreV1Api, node: NodeIdentity): Promise<string> {
  const labels = nodeLabels(node);
  let existing: V1Node | undefined;
  try {
    existing = await core.readNode({ name: node.name });
  } catch (err: unknown) {
    if (!isNotFound(err)) throw err;
  }
  if (existing === undefined) {
    try {
      existing = await core.createNode({
        body: {
          metadata: {
            name: node.name,
            labels,
            annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true', 'node.alpha.kubernetes.io/ttl': '0' },
          },
          spec: {},
        },
      });
    } catch (err: unknown) {
      if (!isAlreadyExists(err)) throw err;
      existing = await core.readNode({ name: node.name });
    }
  } else {
    existing = await core.patchNode({ name: node.name, body: { metadata: { labels } } }, mergePatch);
  }
  await reportNodeStatus(core, node, existing.status?.conditions);
  const uid = existing.metadata?.uid;
  if (uid === undefined) throw new Error(`node ${node.name} has no uid`);
  return uid;
}

export async function reportNodeStatus(core: CoreV1Api, node: NodeIdentity, previous?: readonly V1NodeCondition[]): Promise<void> {
  let conditions = previous;
  if (conditions === undefined) conditions = (await core.readNode({ name: node.name })).status?.conditions;
  await core.patchNodeStatus({ name: node.name, body: { status: nodeStatus(node, conditions, new Date()) } }, strategicMergePatch);
}
