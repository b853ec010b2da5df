// From a pod's container spec to what runs on this machine: the process's argv and environment,
// its mounts (volume mounts with subPath, the default service account token, /etc/hosts,
// /etc/hostname, the termination message file) and its capabilities.
import { mkdir, realpath, stat, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { containerArgv, PLACEHOLDER_ARGV, PLACEHOLDER_INIT_ARGV } from './command.ts';
import type { ContainerKind, InstanceSpec } from './container.ts';
import { PLACEHOLDER_ANNOTATION, type KubeletContext } from './context.ts';
import { resolveEnv, ContainerConfigError } from './env.ts';
import { expand, lookupIn } from './expand.ts';
import { POD_IP_ENV } from './listen-preload.ts';
import type { MountRequest } from './mount-plan.ts';
import { DEFAULT_CAPABILITIES } from './sandbox.ts';
import { DEFAULT_SA_VOLUME, SERVICE_ACCOUNT_MOUNT_PATH, type PreparedVolume } from './volumes.ts';
import type { ConfigSource } from './config-source.ts';

/** The image's PATH; the kubelet's bin folder (zcsp, node) and Node 24 come first. */
const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function isPlaceholderPod(pod: V1Pod): boolean {
  return pod.metadata?.annotations?.[PLACEHOLDER_ANNOTATION] === 'true';
}

/** The pod's hostname: spec.hostname, else its name (at most 63 characters, as the kubelet cuts it). */
export function podHostname(pod: V1Pod): string {
  const name = pod.spec?.hostname ?? pod.metadata?.name ?? 'pod';
  return name.slice(0, 63).replace(/[-.]+$/, '');
}

export interface BuildContext {
  kubelet: KubeletContext;
  pod: V1Pod;
  container: V1Container;
  kind: ContainerKind;
  /** The restart count of the instance being built: it names the log file. */
  index: number;
  podDir: string;
  podIP: string;
  volumes: ReadonlyMap<string, PreparedVolume>;
  /** Mount the default service account volume into this container. */
  defaultServiceAccount: boolean;
  source: ConfigSource;
}

export function logFilePath(podDir: string, container: string, index: number): string {
  return join(podDir, container, `${index}.log`);
}

/** Throws ContainerConfigError when the container cannot be created as specified. */
export async function buildInstanceSpec(b: BuildContext): Promise<InstanceSpec> {
  const { kubelet, pod, container } = b;
  const hostNetwork = pod.spec?.hostNetwork === true;
  const env = await resolveEnv({
    pod,
    container,
    runtime: { podIPs: [b.podIP], hostIPs: [kubelet.nodeIP] },
    allocatable: kubelet.allocatable,
    serviceEnv: kubelet.serviceEnv,
    source: b.source,
  });
  const lookup = lookupIn(env);
  const placeholder = isPlaceholderPod(pod);
  const argv = placeholder ? [...(b.kind === 'init' ? PLACEHOLDER_INIT_ARGV : PLACEHOLDER_ARGV)] : containerArgv(container, lookup, kubelet.project);

  const hostname = hostNetwork ? kubelet.nodeName : podHostname(pod);
  const sandboxEnv: Record<string, string> = {
    PATH: `${kubelet.binDir}:${dirname(kubelet.project.nodeBinary)}:${IMAGE_PATH}`,
    HOME: '/root',
    HOSTNAME: hostname,
    ...Object.fromEntries(env),
  };
  // Node processes started by scripts (sh -c "node …") get the listen preload too.
  sandboxEnv[POD_IP_ENV] = b.podIP;
  const importFlag = `--import=${JSON.stringify(kubelet.project.preloadPath)}`;
  sandboxEnv['NODE_OPTIONS'] = sandboxEnv['NODE_OPTIONS'] === undefined || sandboxEnv['NODE_OPTIONS'] === '' ? importFlag : `${sandboxEnv['NODE_OPTIONS']} ${importFlag}`;

  const sandboxDir = join(b.podDir, '_sandbox');
  await mkdir(sandboxDir, { recursive: true });
  const mounts = await volumeMounts(b, lookup);
  const mountedAt = new Set(mounts.map((m) => posix.normalize(m.containerPath).replace(/\/+$/, '')));
  if (b.defaultServiceAccount && !mountedAt.has(SERVICE_ACCOUNT_MOUNT_PATH)) {
    const sa = b.volumes.get(DEFAULT_SA_VOLUME);
    if (sa !== undefined) mounts.push({ containerPath: SERVICE_ACCOUNT_MOUNT_PATH, source: sa.path, readOnly: true, kind: 'dir' });
  }
  if (!hostNetwork) {
    const { hosts, hostnameFile } = await writeEtcFiles(sandboxDir, pod, b.podIP, hostname);
    if (!mountedAt.has('/etc/hosts')) mounts.push({ containerPath: '/etc/hosts', source: hosts, readOnly: false, kind: 'file' });
    if (!mountedAt.has('/etc/hostname')) mounts.push({ containerPath: '/etc/hostname', source: hostnameFile, readOnly: true, kind: 'file' });
  }
  const terminationLogFile = join(sandboxDir, `${container.name}-${b.index}.termination-log`);
  await writeFile(terminationLogFile, '');
  mounts.push({ containerPath: container.terminationMessagePath ?? '/dev/termination-log', source: terminationLogFile, readOnly: false, kind: 'file' });

  return {
    sandbox: {
      name: `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}/${container.name}`,
      argv,
      env: sandboxEnv,
      workingDir: container.workingDir ?? '/',
      hostname,
      mounts,
      capabilities: capabilities(container),
      logFile: logFilePath(b.podDir, container.name, b.index),
      clusterId: kubelet.clusterId,
    },
    terminationLogFile,
    terminationMessagePolicy: container.terminationMessagePolicy,
  };
}

async function volumeMounts(b: BuildContext, lookup: (name: string) => string | undefined): Promise<MountRequest[]> {
  const mounts: MountRequest[] = [];
  for (const vm of b.container.volumeMounts ?? []) {
    const volume = b.volumes.get(vm.name);
    if (volume === undefined) throw new ContainerConfigError(`volume "${vm.name}" of volumeMount ${vm.mountPath} is not defined in the pod`);
    const subPath = vm.subPathExpr !== undefined && vm.subPathExpr !== '' ? expand(vm.subPathExpr, lookup) : vm.subPath;
    const { source, kind } = subPath === undefined || subPath === '' ? { source: volume.path, kind: volume.kind } : await resolveSubPath(volume, subPath);
    mounts.push({ containerPath: vm.mountPath, source, readOnly: vm.readOnly === true || volume.readOnly, kind });
  }
  return mounts;
}

/** A subPath of a volume, created as a folder when missing (as the kubelet does), never leaving the volume. */
export async function resolveSubPath(volume: PreparedVolume, subPath: string): Promise<{ source: string; kind: 'dir' | 'file' }> {
  if (posix.isAbsolute(subPath) || subPath.split('/').includes('..')) {
    throw new ContainerConfigError(`subPath "${subPath}" must be a relative path without ".."`);
  }
  if (volume.kind !== 'dir') throw new ContainerConfigError(`subPath "${subPath}" of volume "${volume.name}", which is not a folder`);
  const target = join(volume.path, subPath);
  let st = await stat(target).catch(() => undefined);
  if (st === undefined) {
    if (volume.managed) throw new ContainerConfigError(`subPath "${subPath}" does not exist in volume "${volume.name}"`);
    await mkdir(target, { recursive: true, mode: 0o755 });
    st = await stat(target);
  }
  const real = await realpath(target);
  const root = await realpath(volume.path);
  if (real !== root && !real.startsWith(root + '/')) throw new ContainerConfigError(`subPath "${subPath}" leaves volume "${volume.name}"`);
  return { source: real, kind: st.isDirectory() ? 'dir' : 'file' };
}

function capabilities(container: V1Container): readonly string[] | 'all' {
  const sc = container.securityContext;
  if (sc?.privileged === true) return 'all';
  const norm = (c: string) => (c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : `CAP_${c.toUpperCase()}`);
  const drop = (sc?.capabilities?.drop ?? []).map(norm);
  const base = drop.includes('CAP_ALL') ? [] : DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c));
  const add = (sc?.capabilities?.add ?? []).map(norm);
  if (add.includes('CAP_ALL')) return 'all';
  return [...new Set([...base, ...add])];
}

/** The kubelet-managed /etc/hosts (localhost, the pod's own name, hostAliases) and /etc/hostname. */
async function writeEtcFiles(dir: string, pod: V1Pod, podIP: string, hostname: string): Promise<{ hosts: string; hostnameFile: string }> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const subdomain = pod.spec?.subdomain;
  const names = subdomain !== undefined && subdomain !== '' ? `${hostname}.${subdomain}.${namespace}.svc.cluster.local\t${hostname}` : hostname;
  const lines = [
    '# Kubernetes-managed hosts file (simulated node).',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
    `${podIP}\t${names}`,
  ];
  const aliases = pod.spec?.hostAliases ?? [];
  if (aliases.length > 0) {
    lines.push('', '# Entries added by HostAliases.');
    for (const alias of aliases) lines.push(`${alias.ip}\t${(alias.hostnames ?? []).join('\t')}`);
  }
  const hosts = join(dir, 'etc-hosts');
  const hostnameFile = join(dir, 'etc-hostname');
  await writeFile(hosts, lines.join('\n') + '\n');
  await writeFile(hostnameFile, hostname + '\n');
  return { hosts, hostnameFile };
}
