// One value set rendered by helm, with the values the templates saw and typed ways into the objects.
import assert from 'node:assert/strict';
import type {
  V1ClusterRole, V1ClusterRoleBinding, V1Container, V1CustomResourceDefinition, V1Deployment, V1PodDisruptionBudget, V1PodSpec, V1Role,
  V1RoleBinding, V1Service, V1ServiceAccount, V1ValidatingAdmissionPolicy, V1ValidatingAdmissionPolicyBinding,
} from '@kubernetes/client-node';
import type { ChartValues } from '../../../src/chart/values.ts';
import type { ValueSet } from '../value-sets.ts';
import { effectiveValues } from './coalesce.ts';
import { renderChart, type Rendered } from './helm.ts';

export interface RenderedSet {
  set: ValueSet;
  values: ChartValues;
  objects: Rendered[];
}

export async function renderSet(set: ValueSet): Promise<RenderedSet> {
  const objects = await renderChart(set.values, { release: set.release, namespace: set.namespace });
  return { set, values: effectiveValues(set.values), objects };
}

export const idOf = (o: Rendered): string => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** The kinds the chart renders, as client-node types them. */
export interface Kinds {
  ClusterRole: V1ClusterRole;
  ClusterRoleBinding: V1ClusterRoleBinding;
  CustomResourceDefinition: V1CustomResourceDefinition;
  Deployment: V1Deployment;
  PodDisruptionBudget: V1PodDisruptionBudget;
  Role: V1Role;
  RoleBinding: V1RoleBinding;
  Service: V1Service;
  ServiceAccount: V1ServiceAccount;
  ValidatingAdmissionPolicy: V1ValidatingAdmissionPolicy;
  ValidatingAdmissionPolicyBinding: V1ValidatingAdmissionPolicyBinding;
}

export function ofKind<K extends keyof Kinds>(r: RenderedSet, kind: K): Kinds[K][] {
  return r.objects.filter((o) => o.kind === kind) as unknown as Kinds[K][];
}

export function find<K extends keyof Kinds>(r: RenderedSet, kind: K, name: string): Kinds[K] | undefined {
  return r.objects.find((o) => o.kind === kind && o.metadata.name === name) as Kinds[K] | undefined;
}

export function get<K extends keyof Kinds>(r: RenderedSet, kind: K, name: string): Kinds[K] {
  const found = find(r, kind, name);
  assert.ok(found !== undefined, `${r.set.name}: no ${kind} ${name} among ${r.objects.map(idOf).join(', ')}`);
  return found;
}

export interface Workload {
  deployment: V1Deployment;
  name: string;
  pod: V1PodSpec;
  podLabels: Record<string, string>;
  podAnnotations: Record<string, string>;
  containers: V1Container[];
}

export function workloads(r: RenderedSet): Workload[] {
  return ofKind(r, 'Deployment').map((deployment) => {
    const pod = deployment.spec?.template.spec;
    assert.ok(pod !== undefined, `Deployment ${deployment.metadata?.name ?? '?'} has no pod spec`);
    return {
      deployment, pod, name: deployment.metadata?.name ?? '',
      podLabels: deployment.spec?.template.metadata?.labels ?? {},
      podAnnotations: deployment.spec?.template.metadata?.annotations ?? {},
      containers: [...(pod.initContainers ?? []), ...pod.containers],
    };
  });
}

export function workload(r: RenderedSet, name: string): Workload {
  const found = workloads(r).find((w) => w.name === name);
  assert.ok(found !== undefined, `${r.set.name}: no Deployment ${name}`);
  return found;
}

/** Whether a label selector (matchLabels or a Service's selector) picks pods with these labels. */
export const selects = (selector: Record<string, string> | undefined, labels: Record<string, string>): boolean =>
  selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
