// The shapes of the built-in objects the controllers and the ZCC read, as the API server sends them
// over JSON, with only the fields this project looks at (client-node's classes type timestamps as
// Date, which the runtime's plain-JSON client never produces). Specs the controllers *write* use
// client-node's spec types (V1PodSpec, …), which have no timestamps.
import type {
  V1DeploymentSpec, V1JobSpec, V1PersistentVolumeClaimSpec, V1StatefulSetSpec, V1PersistentVolumeSpec, V1PodSpec, V1PolicyRule, RbacV1Subject, V1RoleRef, V1ServiceSpec,
} from '@kubernetes/client-node';
import type { KubeObject } from '../runtime/index.ts';

export interface PodCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: {
    waiting?: { reason?: string; message?: string };
    running?: { startedAt?: string };
    terminated?: { reason?: string; exitCode?: number; finishedAt?: string; message?: string };
  };
}

export interface Pod extends KubeObject {
  spec?: V1PodSpec;
  status?: {
    phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
    reason?: string;
    message?: string;
    podIP?: string;
    conditions?: PodCondition[];
    containerStatuses?: ContainerStatus[];
  };
}

export interface Node extends KubeObject {
  spec?: { unschedulable?: boolean };
  status?: { conditions?: { type: string; status: string }[] };
}

export interface PersistentVolumeClaim extends KubeObject {
  spec?: V1PersistentVolumeClaimSpec;
  status?: { phase?: 'Pending' | 'Bound' | 'Lost'; capacity?: Record<string, string> };
}

export interface PersistentVolume extends KubeObject {
  spec?: V1PersistentVolumeSpec;
  status?: { phase?: 'Pending' | 'Available' | 'Bound' | 'Released' | 'Failed' };
}

export interface Deployment extends KubeObject {
  spec?: V1DeploymentSpec;
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

export interface StatefulSet extends KubeObject {
  spec?: V1StatefulSetSpec;
  status?: { observedGeneration?: number; replicas?: number; readyReplicas?: number; availableReplicas?: number };
}

export interface Job extends KubeObject {
  spec?: V1JobSpec;
  status?: {
    active?: number;
    succeeded?: number;
    failed?: number;
    completionTime?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[];
  };
}

export interface Service extends KubeObject {
  spec?: V1ServiceSpec;
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

export interface ServiceAccount extends KubeObject {
  automountServiceAccountToken?: boolean;
}

export interface Role extends KubeObject {
  rules?: V1PolicyRule[];
}

export interface RoleBinding extends KubeObject {
  roleRef?: V1RoleRef;
  subjects?: RbacV1Subject[];
}

export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

export function isNodeReady(node: Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/** Whether the object has every label of `selector` (a nodeSelector's semantics). */
export function hasLabels(obj: KubeObject, selector: Readonly<Record<string, string>>): boolean {
  const labels = obj.metadata?.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
