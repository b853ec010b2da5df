// A pod's volumes on this machine. hostPath and PV paths are paths on the simulated node (under
// its root in the cluster folder); everything the kubelet writes itself lives in the pod's folder:
//   <kubeletDir>/pods/<ns>_<pod>_<uid>/volumes/kubernetes.io~<plugin>/<volume>
// configMap, secret, downwardAPI and projected volumes are written with the atomic-writer layout
// and refreshed while the pod runs, as the kubelet does.
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Stats } from 'node:fs';
import type { CoreV1Api, V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import { nodePath } from '../layout.ts';
import { isNotFound } from './api.ts';
import { writeAtomically, type FileProjection } from './atomic-writer.ts';
import type { ConfigSource } from './config-source.ts';
import type { RuntimeFields } from './fieldpath.ts';
import type { NodeAllocatable } from './quantity.ts';
import type { ServiceAccountTokens } from './tokens.ts';
import { DEFAULT_MODE, downwardPayload, keyedPayload, projectedPayload, VolumeNotReadyError } from './volume-payload.ts';

export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The volume this kubelet adds when the ServiceAccount admission plugin did not (see defaultServiceAccountVolume). */
export const DEFAULT_SA_VOLUME = 'zcsp-sim-kube-api-access';

export interface PreparedVolume {
  name: string;
  /** Real path on this machine. */
  path: string;
  kind: 'dir' | 'file';
  /** The volume itself is read-only (configMap, secret, …, or a read-only claim). */
  readOnly: boolean;
  /** Written by the kubelet and refreshed while the pod runs. */
  managed: boolean;
}

export interface VolumeContext {
  pod: V1Pod;
  podDir: string;
  clusterDir: string;
  nodeName: string;
  core: CoreV1Api;
  source: ConfigSource;
  tokens: ServiceAccountTokens;
  runtime: RuntimeFields;
  allocatable: NodeAllocatable;
  /** CA bundle of the API server, for the default service account volume. */
  caFile: string;
}

/** The pod's folder: <kubeletDir>/pods/<ns>_<pod>_<uid>. */
export function podDirectory(kubeletDir: string, pod: V1Pod): string {
  const m = pod.metadata ?? {};
  return join(kubeletDir, 'pods', `${m.namespace ?? 'default'}_${m.name ?? ''}_${m.uid ?? ''}`);
}

/** Sets up (or, for managed volumes, refreshes) every volume of the pod. */
export async function setUpVolumes(ctx: VolumeContext, volumes: readonly V1Volume[]): Promise<Map<string, PreparedVolume>> {
  const prepared = new Map<string, PreparedVolume>();
  for (const volume of volumes) {
    try {
      prepared.set(volume.name, await setUpVolume(ctx, volume));
    } catch (err: unknown) {
      const message = err instanceof Error ? err.message : String(err);
      throw new VolumeNotReadyError(`MountVolume.SetUp failed for volume "${volume.name}" : ${message}`);
    }
  }
  return prepared;
}

async function setUpVolume(ctx: VolumeContext, volume: V1Volume): Promise<PreparedVolume> {
  const { pod } = ctx;
  const namespace = pod.metadata?.namespace ?? 'default';
  const plugin = (name: string): string => join(ctx.podDir, 'volumes', `kubernetes.io~${name}`, volume.name);
  const managed = async (dir: string, payload: ReadonlyMap<string, FileProjection>): Promise<PreparedVolume> => {
    await writeAtomically(dir, payload);
    return { name: volume.name, path: dir, kind: 'dir', readOnly: true, managed: true };
  };
  const downward = { pod, runtime: ctx.runtime, allocatable: ctx.allocatable };

  if (volume.hostPath !== undefined) {
    return { name: volume.name, ...(await hostPath(ctx, volume.hostPath.path, volume.hostPath.type)), readOnly: false, managed: false };
  }
  if (volume.emptyDir !== undefined) {
    const dir = plugin('empty-dir');
    await mkdir(dir, { recursive: true, mode: 0o777 });
    return { name: volume.name, path: dir, kind: 'dir', readOnly: false, managed: false };
  }
  if (volume.configMap !== undefined) {
    const { name, items, defaultMode, optional } = volume.configMap;
    const data = await ctx.source.configMap(namespace, name ?? '');
    return managed(plugin('configmap'), keyedPayload('ConfigMap', name ?? '', data, items, defaultMode ?? DEFAULT_MODE, optional === true));
  }
  if (volume.secret !== undefined) {
    const { secretName, items, defaultMode, optional } = volume.secret;
    const data = await ctx.source.secret(namespace, secretName ?? '');
    return managed(plugin('secret'), keyedPayload('Secret', secretName ?? '', data, items, defaultMode ?? DEFAULT_MODE, optional === true));
  }
  if (volume.downwardAPI !== undefined) {
    return managed(plugin('downward-api'), downwardPayload(volume.downwardAPI.items, volume.downwardAPI.defaultMode ?? DEFAULT_MODE, downward));
  }
  if (volume.projected !== undefined) {
    const payload = await projectedPayload(volume.projected.sources, volume.projected.defaultMode ?? DEFAULT_MODE, {
      ...downward,
      source: ctx.source,
      token: (request) => ctx.tokens.get(pod, request),
    });
    return managed(plugin('projected'), payload);
  }
  if (volume.persistentVolumeClaim !== undefined) {
    const claim = await claimPath(ctx, volume.persistentVolumeClaim.claimName);
    return { name: volume.name, ...claim, readOnly: volume.persistentVolumeClaim.readOnly === true, managed: false };
  }
  if (volume.ephemeral !== undefined) {
    // The ephemeral volume controller names the claim <pod>-<volume>.
    const claim = await claimPath(ctx, `${pod.metadata?.name ?? ''}-${volume.name}`);
    return { name: volume.name, ...claim, readOnly: false, managed: false };
  }
  const kind = Object.keys(volume).find((k) => k !== 'name') ?? 'unknown';
  throw new Error(`volume type "${kind}" is not supported by the simulated node (hostPath, emptyDir, configMap, secret, downwardAPI, projected, persistentVolumeClaim, ephemeral are)`);
}

/**
 * The default service account volume (token, ca.crt, namespace), for when the pod wants the token
 * mounted but has no volume at the usual path: the ServiceAccount admission plugin normally adds
 * a projected "kube-api-access-…" volume itself, and then this is not used.
 */
export async function setUpDefaultServiceAccountVolume(ctx: VolumeContext): Promise<PreparedVolume> {
  const token = await ctx.tokens.get(ctx.pod, { expirationSeconds: 3607 });
  let ca: Buffer;
  try {
    ca = await readFile(ctx.caFile);
  } catch (err: unknown) {
    throw new VolumeNotReadyError(`cannot read the API server CA ${ctx.caFile}: ${(err as Error).message}`);
  }
  const payload = new Map<string, FileProjection>([
    ['token', { data: Buffer.from(token), mode: DEFAULT_MODE }],
    ['ca.crt', { data: ca, mode: DEFAULT_MODE }],
    ['namespace', { data: Buffer.from(ctx.pod.metadata?.namespace ?? 'default'), mode: DEFAULT_MODE }],
  ]);
  const dir = join(ctx.podDir, 'volumes', 'kubernetes.io~projected', DEFAULT_SA_VOLUME);
  await writeAtomically(dir, payload);
  return { name: DEFAULT_SA_VOLUME, path: dir, kind: 'dir', readOnly: true, managed: true };
}

/** Containers that want the token but have nothing mounted at its path. */
export function containersWithoutServiceAccountMount(containers: readonly V1Container[]): V1Container[] {
  return containers.filter((c) => !(c.volumeMounts ?? []).some((m) => m.mountPath.replace(/\/+$/, '') === SERVICE_ACCOUNT_MOUNT_PATH));
}

/** Whether the token is to be mounted: the pod's setting, else the service account's, else yes. */
export async function automountServiceAccountToken(core: CoreV1Api, pod: V1Pod): Promise<boolean> {
  if (pod.spec?.automountServiceAccountToken !== undefined) return pod.spec.automountServiceAccountToken;
  try {
    const sa = await core.readNamespacedServiceAccount({ name: pod.spec?.serviceAccountName ?? 'default', namespace: pod.metadata?.namespace ?? 'default' });
    return sa.automountServiceAccountToken !== false;
  } catch (err: unknown) {
    if (isNotFound(err)) return true;
    throw err;
  }
}

async function claimPath(ctx: VolumeContext, claimName: string): Promise<{ path: string; kind: 'dir' | 'file' }> {
  const namespace = ctx.pod.metadata?.namespace ?? 'default';
  let claim;
  try {
    claim = await ctx.core.readNamespacedPersistentVolumeClaim({ name: claimName, namespace });
  } catch (err: unknown) {
    if (isNotFound(err)) throw new VolumeNotReadyError(`persistentvolumeclaim "${claimName}" not found`);
    throw err;
  }
  const volumeName = claim.spec?.volumeName;
  if (claim.status?.phase !== 'Bound' || volumeName === undefined || volumeName === '') {
    throw new VolumeNotReadyError(`PersistentVolumeClaim "${claimName}" is not bound yet`);
  }
  const pv = await ctx.core.readPersistentVolume({ name: volumeName });
  if (pv.spec?.volumeMode === 'Block') throw new VolumeNotReadyError(`PersistentVolume "${volumeName}" is a block volume; the simulated node mounts filesystems only`);
  if (pv.spec?.hostPath !== undefined) return hostPath(ctx, pv.spec.hostPath.path, pv.spec.hostPath.type);
  if (pv.spec?.local !== undefined) return hostPath(ctx, pv.spec.local.path, 'Directory');
  throw new VolumeNotReadyError(`PersistentVolume "${volumeName}" has no hostPath or local path the simulated node can mount`);
}

/** A path on the simulated node, checked or created as hostPath `type` says. */
async function hostPath(ctx: VolumeContext, path: string, type: string | undefined): Promise<{ path: string; kind: 'dir' | 'file' }> {
  const real = nodePath(ctx.clusterDir, ctx.nodeName, path);
  let st: Stats | undefined = await stat(real).catch(() => undefined);
  const fail = (what: string): never => {
    throw new VolumeNotReadyError(`hostPath type check failed: ${path} is not a ${what}`);
  };
  switch (type ?? '') {
    case '':
      // Container runtimes create a missing hostPath as a folder.
      if (st === undefined) {
        await mkdir(real, { recursive: true, mode: 0o755 });
        st = await stat(real);
      }
      break;
    case 'DirectoryOrCreate':
      if (st === undefined) {
        await mkdir(real, { recursive: true, mode: 0o755 });
        st = await stat(real);
      } else if (!st.isDirectory()) fail('directory');
      break;
    case 'Directory':
      if (st?.isDirectory() !== true) fail('directory');
      break;
    case 'FileOrCreate':
      if (st === undefined) {
        // A real node has the parents of such paths (/run, /var/lib); a simulated node's root
        // starts empty, so they are created here.
        await mkdir(dirname(real), { recursive: true, mode: 0o755 });
        await writeFile(real, '', { mode: 0o644, flag: 'a' });
        st = await stat(real);
      } else if (!st.isFile()) fail('file');
      break;
    case 'File':
      if (st?.isFile() !== true) fail('file');
      break;
    case 'Socket':
      if (st?.isSocket() !== true) fail('socket');
      break;
    case 'CharDevice':
      if (st?.isCharacterDevice() !== true) fail('character device');
      break;
    case 'BlockDevice':
      if (st?.isBlockDevice() !== true) fail('block device');
      break;
    default:
      throw new VolumeNotReadyError(`hostPath type "${type ?? ''}" is not known`);
  }
  return { path: real, kind: st?.isDirectory() === true ? 'dir' : 'file' };
}
