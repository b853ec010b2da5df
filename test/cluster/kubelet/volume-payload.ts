// The files of configMap, secret, downwardAPI and projected volumes, computed as the kubelet's
// volume plugins do (items, modes, optional sources). Pure apart from the injected readers.
import type { V1DownwardAPIVolumeFile, V1KeyToPath, V1Pod, V1VolumeProjection } from '@kubernetes/client-node';
import type { FileProjection } from './atomic-writer.ts';
import type { ConfigData, ConfigSource } from './config-source.ts';
import { resolveFieldRef, type RuntimeFields } from './fieldpath.ts';
import { resolveResourceFieldRef, type NodeAllocatable } from './quantity.ts';

/** The volume cannot be set up yet (the kubelet's FailedMount): the pod waits and retries. */
export class VolumeNotReadyError extends Error {
  override readonly name = 'VolumeNotReadyError';
}

/** 0644, the API's default for defaultMode. */
export const DEFAULT_MODE = 0o644;

type Kind = 'ConfigMap' | 'Secret';

export function keyedPayload(
  kind: Kind,
  name: string,
  data: ConfigData | undefined,
  items: readonly V1KeyToPath[] | undefined,
  defaultMode: number,
  optional: boolean,
): Map<string, FileProjection> {
  const payload = new Map<string, FileProjection>();
  const lower = kind === 'ConfigMap' ? 'configmap' : 'secret';
  if (data === undefined) {
    if (optional) return payload;
    throw new VolumeNotReadyError(`${lower} "${name}" not found`);
  }
  if (items === undefined || items.length === 0) {
    for (const [key, value] of Object.entries(data)) payload.set(key, { data: value, mode: defaultMode });
    return payload;
  }
  for (const item of items) {
    const value = data[item.key];
    if (value === undefined) {
      if (optional) continue;
      throw new VolumeNotReadyError(kind === 'ConfigMap' ? `configmap references non-existent config key: ${item.key}` : `secret references non-existent secret key: ${item.key}`);
    }
    payload.set(item.path, { data: value, mode: item.mode ?? defaultMode });
  }
  return payload;
}

export interface DownwardContext {
  pod: V1Pod;
  runtime: RuntimeFields;
  allocatable: NodeAllocatable;
}

export function downwardPayload(items: readonly V1DownwardAPIVolumeFile[] | undefined, defaultMode: number, ctx: DownwardContext): Map<string, FileProjection> {
  const payload = new Map<string, FileProjection>();
  for (const item of items ?? []) {
    let text: string;
    if (item.fieldRef !== undefined) {
      text = resolveFieldRef(ctx.pod, item.fieldRef.fieldPath, ctx.runtime);
    } else if (item.resourceFieldRef !== undefined) {
      const ref = item.resourceFieldRef;
      const container = [...(ctx.pod.spec?.containers ?? []), ...(ctx.pod.spec?.initContainers ?? [])].find((c) => c.name === ref.containerName);
      if (container === undefined) throw new VolumeNotReadyError(`downwardAPI ${item.path}: no container "${ref.containerName ?? ''}"`);
      text = resolveResourceFieldRef(container, ref.resource, ref.divisor, ctx.allocatable);
    } else {
      throw new VolumeNotReadyError(`downwardAPI ${item.path}: neither fieldRef nor resourceFieldRef`);
    }
    payload.set(item.path, { data: Buffer.from(text, 'utf8'), mode: item.mode ?? defaultMode });
  }
  return payload;
}

export interface TokenRequest {
  audience?: string;
  expirationSeconds: number;
}

export interface ProjectedContext extends DownwardContext {
  source: ConfigSource;
  /** A service account token for the pod (TokenRequest bound to it). */
  token(request: TokenRequest): Promise<string>;
}

export async function projectedPayload(sources: readonly V1VolumeProjection[] | undefined, defaultMode: number, ctx: ProjectedContext): Promise<Map<string, FileProjection>> {
  const namespace = ctx.pod.metadata?.namespace ?? 'default';
  const payload = new Map<string, FileProjection>();
  const merge = (part: ReadonlyMap<string, FileProjection>): void => {
    for (const [path, file] of part) payload.set(path, file);
  };
  for (const source of sources ?? []) {
    if (source.configMap !== undefined) {
      const { items, optional } = source.configMap;
      const name = source.configMap.name ?? '';
      merge(keyedPayload('ConfigMap', name, await ctx.source.configMap(namespace, name), items, defaultMode, optional === true));
    } else if (source.secret !== undefined) {
      const { items, optional } = source.secret;
      const name = source.secret.name ?? '';
      merge(keyedPayload('Secret', name, await ctx.source.secret(namespace, name), items, defaultMode, optional === true));
    } else if (source.downwardAPI !== undefined) {
      merge(downwardPayload(source.downwardAPI.items, defaultMode, ctx));
    } else if (source.serviceAccountToken !== undefined) {
      const { audience, expirationSeconds, path } = source.serviceAccountToken;
      const token = await ctx.token({ ...(audience !== undefined && audience !== '' && { audience }), expirationSeconds: expirationSeconds ?? 3600 });
      payload.set(path, { data: Buffer.from(token, 'utf8'), mode: defaultMode });
    } else {
      throw new VolumeNotReadyError(`projected source ${JSON.stringify(Object.keys(source))} is not supported by the simulated node`);
    }
  }
  return payload;
}
