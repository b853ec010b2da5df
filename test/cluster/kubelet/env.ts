// A container's environment, resolved as the kubelet's makeEnvironmentVariables does: envFrom
// first (with prefixes), then env in order (later names override, `$(VAR)` refers to what is
// defined so far or to the service variables), then the service variables that are not defined.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { ConfigSource } from './config-source.ts';
import { expand, lookupIn } from './expand.ts';
import { resolveFieldRef, type RuntimeFields } from './fieldpath.ts';
import { resolveResourceFieldRef, type NodeAllocatable } from './quantity.ts';

/** A container cannot be created from its spec as things stand (the kubelet's CreateContainerConfigError). */
export class ContainerConfigError extends Error {
  override readonly name = 'ContainerConfigError';
  readonly reason = 'CreateContainerConfigError';
}

export interface EnvContext {
  pod: V1Pod;
  container: V1Container;
  runtime: RuntimeFields;
  allocatable: NodeAllocatable;
  /** KUBERNETES_SERVICE_HOST and friends: defined unless the pod defines them itself. */
  serviceEnv: Readonly<Record<string, string>>;
  source: ConfigSource;
}

export async function resolveEnv(ctx: EnvContext): Promise<Map<string, string>> {
  const { pod, container, source } = ctx;
  const namespace = pod.metadata?.namespace ?? 'default';
  const env = new Map<string, string>();

  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef !== undefined) {
      const { optional } = from.configMapRef;
      const name = from.configMapRef.name ?? '';
      const data = await source.configMap(namespace, name);
      if (data === undefined) {
        if (optional === true) continue;
        throw new ContainerConfigError(`couldn't get configMap ${namespace}/${name}: configmaps "${name}" not found`);
      }
      for (const [key, value] of Object.entries(data)) env.set(prefix + key, value.toString('utf8'));
    } else if (from.secretRef !== undefined) {
      const { optional } = from.secretRef;
      const name = from.secretRef.name ?? '';
      const data = await source.secret(namespace, name);
      if (data === undefined) {
        if (optional === true) continue;
        throw new ContainerConfigError(`couldn't get secret ${namespace}/${name}: secrets "${name}" not found`);
      }
      for (const [key, value] of Object.entries(data)) env.set(prefix + key, value.toString('utf8'));
    }
  }

  const lookup = lookupIn(env, ctx.serviceEnv);
  for (const variable of container.env ?? []) {
    const value = await resolveValue(ctx, variable, namespace, lookup);
    if (value !== undefined) env.set(variable.name, value);
  }

  for (const [key, value] of Object.entries(ctx.serviceEnv)) {
    if (!env.has(key)) env.set(key, value);
  }
  return env;
}

type EnvVar = NonNullable<V1Container['env']>[number];

/** The value of one env entry; undefined when an optional reference is missing (the var is left out). */
async function resolveValue(ctx: EnvContext, variable: EnvVar, namespace: string, lookup: (n: string) => string | undefined): Promise<string | undefined> {
  if (variable.value !== undefined && variable.value !== '') return expand(variable.value, lookup);
  const from = variable.valueFrom;
  if (from === undefined) return '';
  if (from.fieldRef !== undefined) {
    try {
      return resolveFieldRef(ctx.pod, from.fieldRef.fieldPath, ctx.runtime);
    } catch (err: unknown) {
      throw new ContainerConfigError(`env ${variable.name}: ${(err as Error).message}`);
    }
  }
  if (from.resourceFieldRef !== undefined) {
    const ref = from.resourceFieldRef;
    const target = ref.containerName === undefined || ref.containerName === '' ? ctx.container : findContainer(ctx.pod, ref.containerName);
    if (target === undefined) throw new ContainerConfigError(`env ${variable.name}: no container "${ref.containerName ?? ''}" in the pod`);
    try {
      return resolveResourceFieldRef(target, ref.resource, ref.divisor, ctx.allocatable);
    } catch (err: unknown) {
      throw new ContainerConfigError(`env ${variable.name}: ${(err as Error).message}`);
    }
  }
  if (from.configMapKeyRef !== undefined) {
    const { key, optional } = from.configMapKeyRef;
    const name = from.configMapKeyRef.name ?? '';
    const data = await ctx.source.configMap(namespace, name);
    if (data === undefined) {
      if (optional === true) return undefined;
      throw new ContainerConfigError(`couldn't get configMap ${namespace}/${name}: configmaps "${name}" not found`);
    }
    const value = data[key];
    if (value === undefined) {
      if (optional === true) return undefined;
      throw new ContainerConfigError(`couldn't find key ${key} in ConfigMap ${namespace}/${name}`);
    }
    return value.toString('utf8');
  }
  if (from.secretKeyRef !== undefined) {
    const { key, optional } = from.secretKeyRef;
    const name = from.secretKeyRef.name ?? '';
    const data = await ctx.source.secret(namespace, name);
    if (data === undefined) {
      if (optional === true) return undefined;
      throw new ContainerConfigError(`couldn't get secret ${namespace}/${name}: secrets "${name}" not found`);
    }
    const value = data[key];
    if (value === undefined) {
      if (optional === true) return undefined;
      throw new ContainerConfigError(`couldn't find key ${key} in Secret ${namespace}/${name}`);
    }
    return value.toString('utf8');
  }
  throw new ContainerConfigError(`env ${variable.name}: unsupported valueFrom ${JSON.stringify(Object.keys(from))}`);
}

function findContainer(pod: V1Pod, name: string): V1Container | undefined {
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === name);
}

/**
 * The variables every pod gets for the `kubernetes` service. Here they point straight at the API
 * server (no Service VIP exists without kube-proxy), so the port is the API server's own.
 */
export function kubernetesServiceEnv(apiServer: { host: string; port: number }): Record<string, string> {
  const { host, port } = apiServer;
  const url = `tcp://${host}:${port}`;
  return {
    KUBERNETES_SERVICE_HOST: host,
    KUBERNETES_SERVICE_PORT: String(port),
    KUBERNETES_SERVICE_PORT_HTTPS: String(port),
    KUBERNETES_PORT: url,
    [`KUBERNETES_PORT_${port}_TCP`]: url,
    [`KUBERNETES_PORT_${port}_TCP_PROTO`]: 'tcp',
    [`KUBERNETES_PORT_${port}_TCP_PORT`]: String(port),
    [`KUBERNETES_PORT_${port}_TCP_ADDR`]: host,
  };
}
