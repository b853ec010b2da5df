// The desired VRA of a node: a pod and its volume, as pure functions of the Site, the node and the
// operator's config.
//
// Placement: the pod names its node with a required node affinity on the node's name
// (matchFields metadata.name), as the DaemonSet controller has done since Kubernetes 1.12, rather
// than setting spec.nodeName itself. The scheduler then still does its part: it checks that the
// VRA fits (requests) and may preempt for it, explains a VRA that cannot run (FailedScheduling),
// and binds the VRA's WaitForFirstConsumer volume on that node the usual way (selected-node),
// instead of the operator imitating the scheduler. The VRA tolerates what DaemonSet pods tolerate,
// so a cordoned or pressured node keeps its VRA.
//
// The pod is replaced, not updated, when what we want of it changes (pods are mostly immutable):
// its annotation zcsp.io/spec-hash is a hash of the desired spec, and a pod with another hash is
// deleted and created again.
import { createHash } from 'node:crypto';
import type { V1PodSpec, V1SecurityContext, V1Toleration, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { Site } from '../../crds/site.ts';
import type { PersistentVolumeClaim, Pod } from '../../kube/objects.ts';
import { canonicalJson, childName } from '../../runtime/index.ts';
import { MANAGED_BY, pullPolicy, pullSecrets, type OperatorConfig } from '../config.ts';
import {
  ANNOTATION_NODE, ANNOTATION_SITE, ANNOTATION_SPEC_HASH, LABEL_NODE, LABEL_ROLE, LABEL_SITE, ROLE_VRA, VRA_CONTROL_PORT, VRA_CONTROL_PORT_NAME,
  VRA_HEALTH_PORT, VRA_HEALTH_PORT_NAME, VRA_PORT, VRA_PORT_NAME, labelValue,
} from '../labels.ts';
import { VRA_CONTROL_SECRET } from './control-secret.ts';

/** Where the VRA keeps journals and replicas: its volume. */
export const VRA_DATA_DIR = '/var/lib/zcsp/vra';
/** Where the node's paths appear in the VRA: /var/lib/kubelet is /host/var/lib/kubelet. */
export const VRA_HOST_ROOT = '/host';
/** Where the VRA finds the operator's bearer token for its control API. */
export const VRA_CONTROL_DIR = '/etc/zcsp/vra';

/** The name of the VRA pod of a node, and of its volume. */
export function vraName(site: string, node: string): string {
  return childName(['vra', site, node]);
}

export function vraLabels(config: OperatorConfig, site: string, node: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'zcsp',
    'app.kubernetes.io/component': 'vra',
    [config.managedByLabel]: MANAGED_BY,
    [LABEL_ROLE]: ROLE_VRA,
    [LABEL_SITE]: labelValue(site),
    [LABEL_NODE]: labelValue(node),
  };
}

/** What a DaemonSet pod tolerates (k8s.io/kubernetes/pkg/controller/daemon/util). */
const NODE_AGENT_TOLERATIONS: V1Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

type SiteSpec = Site['spec'];

/** The Site's requests and limits as a Pod's resources; undefined when it sets none. */
function resources(spec: SiteSpec): V1PodSpec['containers'][number]['resources'] {
  const r = spec.vra.resources;
  const list = (l: { cpu?: string | number | undefined; memory?: string | number | undefined } | undefined): Record<string, string> | undefined => {
    if (l === undefined) return undefined;
    const out: Record<string, string> = {};
    if (l.cpu !== undefined) out['cpu'] = String(l.cpu);
    if (l.memory !== undefined) out['memory'] = String(l.memory);
    return Object.keys(out).length === 0 ? undefined : out;
  };
  const requests = list(r?.requests);
  const limits = list(r?.limits);
  if (requests === undefined && limits === undefined) return undefined;
  return { ...(requests !== undefined && { requests }), ...(limits !== undefined && { limits }) };
}

/**
 * What the VRA may do on its node, and no more. It reads every file of other pods' volumes
 * through the node's folders whatever their owner and mode (DAC_READ_SEARCH), and keeps replicas
 * whose files and folders carry the protected modes — a replicated 0400 file or 0555 folder it
 * must still update (DAC_OVERRIDE) — as root, the owner of its own volume. Nothing else: no other
 * capability, no privilege escalation, a read-only root filesystem. A raw block device is the
 * exception: the container runtime hands device nodes only to privileged containers, so a Site
 * that lets its VRAs read under /dev gets privileged VRAs, and says so by that path.
 */
export function vraSecurityContext(spec: SiteSpec): V1SecurityContext {
  if (spec.vra.readHostPaths.some(readsDevices)) return { privileged: true, runAsUser: 0 };
  return {
    runAsUser: 0,
    runAsNonRoot: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'], add: ['DAC_READ_SEARCH', 'DAC_OVERRIDE'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** The schema keeps host paths absolute without a trailing slash. */
function readsDevices(path: string): boolean {
  return path === '/dev' || path.startsWith('/dev/');
}

/** The pod spec of the VRA of `node`: everything the spec hash covers. */
export function vraPodSpec(config: OperatorConfig, siteName: string, spec: SiteSpec, node: string): V1PodSpec {
  const hostVolumes: V1Volume[] = spec.vra.readHostPaths.map((path, i) => ({ name: `host-${i}`, hostPath: { path } }));
  const hostMounts: V1VolumeMount[] = spec.vra.readHostPaths.map((path, i) => ({
    // Read-only, and volumes the node mounts later (a new pod's PV) show up inside.
    name: `host-${i}`, mountPath: `${VRA_HOST_ROOT}${path}`, readOnly: true, mountPropagation: 'HostToContainer',
  }));
  const res = resources(spec);
  const fieldEnv = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  return {
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }],
        },
      },
    },
    tolerations: NODE_AGENT_TOLERATIONS,
    // The VRA does not talk to the API server: no token in it.
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    restartPolicy: 'Always',
    // Time to fsync and close the journal.
    terminationGracePeriodSeconds: 60,
    ...pullSecrets(config),
    containers: [{
      name: 'vra',
      image: spec.vra.image ?? config.image,
      ...pullPolicy(config),
      args: [
        'vra', '--port', String(VRA_PORT), '--control-port', String(VRA_CONTROL_PORT), '--health-port', String(VRA_HEALTH_PORT),
        '--data-dir', VRA_DATA_DIR, '--control-token-file', `${VRA_CONTROL_DIR}/token`,
      ],
      env: [
        fieldEnv('NODE_NAME', 'spec.nodeName'),
        fieldEnv('POD_NAME', 'metadata.name'),
        fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
        fieldEnv('POD_IP', 'status.podIP'),
        { name: 'ZCSP_SITE', value: siteName },
        { name: 'ZCSP_HOST_ROOT', value: VRA_HOST_ROOT },
      ],
      ports: [
        { name: VRA_PORT_NAME, containerPort: VRA_PORT, protocol: 'TCP' },
        { name: VRA_CONTROL_PORT_NAME, containerPort: VRA_CONTROL_PORT, protocol: 'TCP' },
        { name: VRA_HEALTH_PORT_NAME, containerPort: VRA_HEALTH_PORT, protocol: 'TCP' },
      ],
      readinessProbe: { httpGet: { path: '/readyz', port: VRA_HEALTH_PORT_NAME }, periodSeconds: 2, failureThreshold: 3 },
      livenessProbe: { httpGet: { path: '/healthz', port: VRA_HEALTH_PORT_NAME }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
      securityContext: vraSecurityContext(spec),
      ...(res !== undefined && { resources: res }),
      volumeMounts: [{ name: 'data', mountPath: VRA_DATA_DIR }, { name: 'control', mountPath: VRA_CONTROL_DIR, readOnly: true }, ...hostMounts],
    }],
    volumes: [
      { name: 'data', persistentVolumeClaim: { claimName: vraName(siteName, node) } },
      { name: 'control', secret: { secretName: VRA_CONTROL_SECRET, defaultMode: 0o400 } },
      ...hostVolumes,
    ],
  };
}

/** A short, stable hash of a pod spec (key order does not matter). */
export function specHash(spec: V1PodSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex').slice(0, 16);
}

/** The VRA pod of `node`, without owner references (the controller adds its own). */
export function desiredVraPod(config: OperatorConfig, siteName: string, spec: SiteSpec, node: string): Pod {
  const podSpec = vraPodSpec(config, siteName, spec, node);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: vraName(siteName, node),
      namespace: config.namespace,
      labels: vraLabels(config, siteName, node),
      annotations: { [ANNOTATION_SITE]: siteName, [ANNOTATION_NODE]: node, [ANNOTATION_SPEC_HASH]: specHash(podSpec) },
    },
    spec: podSpec,
  };
}

/**
 * The VRA's volume on `node`. No selected-node annotation: the scheduler sets it when it places
 * the VRA, which binds the volume on the VRA's node (WaitForFirstConsumer).
 */
export function desiredVraClaim(config: OperatorConfig, siteName: string, spec: SiteSpec, node: string): PersistentVolumeClaim {
  const { storageClassName, size } = spec.vra.storage;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: vraName(siteName, node),
      namespace: config.namespace,
      labels: vraLabels(config, siteName, node),
      annotations: { [ANNOTATION_SITE]: siteName, [ANNOTATION_NODE]: node },
    },
    spec: {
      accessModes: ['ReadWriteOnce'],
      ...(storageClassName !== undefined && { storageClassName }),
      resources: { requests: { storage: String(size) } },
    },
  };
}
