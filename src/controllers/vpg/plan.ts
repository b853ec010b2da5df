// Step 1 of a VPG's reconcile: what protecting it takes, read from the cache. Either everything
// the VRAs need (volumes and their paths, both VRAs, the ZCC to go through, the SLA) or the first
// reason it cannot be protected yet. No writes, no network.
import { parseObject } from '../../crds/parse.ts';
import { serviceProfileKind } from '../../crds/service-profile.ts';
import { siteKind, type Site } from '../../crds/site.ts';
import type { VPG } from '../../crds/vpg.ts';
import { zccKind } from '../../crds/zcc.ts';
import { zorgKind, type Zorg } from '../../crds/zorg.ts';
import { isPodReady, type PersistentVolume, type PersistentVolumeClaim, type Pod } from '../../kube/objects.ts';
import { PERSISTENT_VOLUME_CLAIMS, PODS, SECRETS, type CacheReader, type CustomObject, type Secret } from '../../runtime/index.ts';
import type { OperatorConfig } from '../config.ts';
import { LABEL_ROLE, LABEL_SITE, ROLE_VRA, VRA_CONTROL_PORT, labelValue } from '../labels.ts';
import { PERSISTENT_VOLUMES, SERVICE_PROFILES, SITES, VPGS, ZCCS, ZORGS } from '../resources.ts';
import { VRA_HOST_ROOT, vraName } from '../site/vra-pod.ts';
import { credentialsSecretName, serviceDnsNames, zccSelector } from '../zcc/objects.ts';
import { ZCC_PORT } from '../zcc/objects.ts';
import { quantityBytes } from '../zorg/size.ts';
import { protectedNode, recoveryNode, vraPath, type RecoveryCandidate } from './placement.ts';
import { quotaProblem, recoveryNamespacesProblem, resolveSla, zorgOf, type Blocker, type EffectiveSla } from './sla.ts';
import { seedOf } from './operation/seed.ts';
import { bandwidthNow, type StreamVolume } from './streams.ts';
import { resolveVolumes, selectClaims, type ResolvedVolume } from './volumes.ts';
import type { VraEndpoint } from './vra-client.ts';

export interface Zcc {
  address: { host: string; port: number };
  ca: string;
  servername: string;
  token: string;
  zorg: string;
}

export interface Ready {
  sla: EffectiveSla;
  volumes: ResolvedVolume[];
  streamVolumes: StreamVolume[];
  protectedNode: string;
  recoveryNode: string;
  /** The recovery VRA was chosen by this reconcile (not kept from status). */
  recoveryChosen: boolean;
  protectedVra: VraEndpoint & { ready: boolean };
  recoveryVra: VraEndpoint & { ready: boolean };
  zcc: Zcc;
  bandwidthBytesPerSecond: number | undefined;
  /** A reverse VPG on its seed node: where the target's replica starts from (old volumes, read locally). */
  seed: { volume: string; path: string }[] | undefined;
  /** When the protected site's bandwidth limit next changes (its daily window). */
  bandwidthChangesInMs: number | undefined;
  warnings: string[];
}

/** spec.mode Assess: what measuring the volumes' change rate takes (the protected VRA only). */
export interface AssessReady {
  sla: EffectiveSla;
  volumes: ResolvedVolume[];
  streamVolumes: StreamVolume[];
  protectedNode: string;
  protectedVra: VraEndpoint & { ready: boolean };
}

export interface Plan {
  /** What the VPG depends on, for the watch maps: ns:, site:, profile:, zorg: keys. */
  refs: string[];
  /** Why it cannot be protected now; `ready` is then undefined. */
  blocker?: Blocker;
  /** The SLA when it could be resolved (kept for status even when something else blocks). */
  sla?: EffectiveSla;
  volumes?: ResolvedVolume[];
  ready?: Ready;
  /** spec.mode Assess, when it can run: then `ready` is undefined. */
  assess?: AssessReady;
}

export function planVpg(cache: CacheReader, config: OperatorConfig, vpg: VPG, now: Date): Plan {
  const namespace = vpg.metadata.namespace ?? '';
  const refs = [`ns:${namespace}`, `site:${vpg.spec.protectedSite}`, `site:${vpg.spec.recoverySite}`];
  if (vpg.spec.serviceProfile !== undefined) refs.push(`profile:${vpg.spec.serviceProfile}`);
  // Parsed only where the namespace is listed: this runs for every VPG every few seconds.
  const listing = (o: CustomObject): boolean => ((o.spec as { namespaces?: unknown } | undefined)?.namespaces as unknown[] | undefined)?.includes(namespace) === true;
  const zorgs = cache.list<CustomObject>(ZORGS).filter(listing).flatMap((z) => parseLenient(() => parseObject(zorgKind, z)));
  const zorg = zorgOf(zorgs, namespace);
  if (zorg === undefined) {
    return { refs, blocker: { reason: 'ZorgNotFound', message: `namespace ${namespace} belongs to no Zorg: a VPG must live in a tenant's namespace` } };
  }
  const zorgName = zorg.metadata.name ?? '';
  refs.push(`zorg:${zorgName}`);
  if (zorg.spec.defaultServiceProfile !== undefined) refs.push(`profile:${zorg.spec.defaultServiceProfile}`);

  // Volumes first: a Percent journal limit depends on their size.
  const volumeResult = resolveVolumes(vpg.spec.volumes, {
    claims: cache.list<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, { namespace }),
    pv: (name) => cache.get<PersistentVolume>(PERSISTENT_VOLUMES, name),
    pods: cache.list<Pod>(PODS, { namespace }),
  });
  const volumes = 'volumes' in volumeResult ? volumeResult.volumes : undefined;
  const ownBytes = (volumes ?? []).reduce((n, v) => n + v.sizeBytes, 0n);
  const profile = (name: string) => {
    const obj = cache.get<CustomObject>(SERVICE_PROFILES, name);
    return obj === undefined ? undefined : parseLenient(() => parseObject(serviceProfileKind, obj))[0];
  };
  const slaResult = resolveSla(vpg, zorg, profile, ownBytes);
  if ('blocker' in slaResult) return { refs, blocker: slaResult.blocker, ...(volumes !== undefined && { volumes }) };
  const sla = slaResult.sla;
  const base = { refs, sla, ...(volumes !== undefined && { volumes }) };
  const blocked = (blocker: Blocker): Plan => ({ ...base, blocker });

  const nsProblem = recoveryNamespacesProblem(vpg, zorg);
  if (nsProblem !== undefined) return blocked(nsProblem);
  // Where to before what: a site without VRAs is the provider's to fix, whatever the volumes.
  const sites = { protected: site(cache, vpg.spec.protectedSite), recovery: site(cache, vpg.spec.recoverySite) };
  if (sites.protected === undefined) return blocked({ reason: 'SiteNotFound', message: `spec.protectedSite: Site ${vpg.spec.protectedSite} does not exist` });
  if (sites.recovery === undefined) return blocked({ reason: 'SiteNotFound', message: `spec.recoverySite: Site ${vpg.spec.recoverySite} does not exist` });
  // An assessment stores nothing at the recovery site: no journal to place, no quota to use.
  const assessing = vpg.spec.mode === 'Assess';
  const candidates = assessing ? [] : recoveryCandidates(cache, config, vpg, sites.recovery);
  const seed = seedOf(vpg);
  const target = assessing ? { node: '', chosen: false } : recoveryNode(vpg.status?.placement?.recoveryNode, candidates, vpg.spec.recoverySite, seed?.node);
  if ('blocker' in target) return blocked(target.blocker);

  if ('blocker' in volumeResult) return blocked(volumeResult.blocker);
  if (volumes === undefined) return blocked({ reason: 'NoVolumes', message: 'spec.volumes: nothing to protect' });
  const taken = claimedElsewhere(cache, vpg, volumes.map((v) => v.claimName));
  if (taken !== undefined) return blocked(taken);
  const quota = assessing ? undefined : quotaProblem(zorg, earlierBytes(cache, zorg, vpg), ownBytes);
  if (quota !== undefined) return blocked(quota);


  const source = protectedNode(volumes);
  if ('blocker' in source) return blocked(source.blocker);
  const streamVolumes: StreamVolume[] = [];
  for (const v of volumes) {
    const path = vraPath(v.nodePath, sites.protected.spec.vra.readHostPaths, VRA_HOST_ROOT);
    if (path === undefined) {
      return blocked({
        reason: 'VolumeNotReadable',
        message: `volume ${v.claimName} is at ${v.nodePath} on node ${v.node}, outside what Site ${vpg.spec.protectedSite} lets its VRAs read (spec.vra.readHostPaths: ${sites.protected.spec.vra.readHostPaths.join(', ')})`,
      });
    }
    streamVolumes.push({ name: v.claimName, kind: v.kind, path });
  }
  const protectedPod = cache.get<Pod>(PODS, vraName(vpg.spec.protectedSite, source.node), config.namespace);
  if (protectedPod === undefined || protectedPod.status?.podIP === undefined) {
    return blocked({ reason: 'NoProtectedVra', message: `Site ${vpg.spec.protectedSite} has no running VRA on node ${source.node}, where the volumes live (is the node in the site's nodeSelector?)` });
  }

  if (assessing) return { ...base, assess: { sla, volumes, streamVolumes, protectedNode: source.node, protectedVra: endpoint(protectedPod) } };

  const recoveryPod = cache.get<Pod>(PODS, vraName(vpg.spec.recoverySite, target.node), config.namespace);
  if (recoveryPod === undefined) return blocked({ reason: 'NoRecoveryVra', message: `Site ${vpg.spec.recoverySite} has no VRA on node ${target.node}` });

  const zcc = zccOf(cache, config, zorgName);
  if ('blocker' in zcc) return blocked(zcc.blocker);

  const warnings: string[] = [];
  const bandwidth = bandwidthNow(sites.protected.spec.bandwidth, now);
  if (bandwidth.problem !== undefined) warnings.push(bandwidth.problem);
  return {
    ...base,
    ready: {
      sla,
      volumes,
      streamVolumes,
      protectedNode: source.node,
      recoveryNode: target.node,
      recoveryChosen: target.chosen,
      protectedVra: endpoint(protectedPod),
      recoveryVra: endpoint(recoveryPod),
      zcc: zcc.zcc,
      bandwidthBytesPerSecond: bandwidth.bytesPerSecond,
      seed: seed?.node === target.node ? streamVolumes.flatMap((v) => {
        const path = seed.volumes[v.name];
        return path === undefined ? [] : [{ volume: v.name, path }];
      }) : undefined,
      bandwidthChangesInMs: bandwidth.changesInMs,
      warnings,
    },
  };
}

function endpoint(pod: Pod): VraEndpoint & { ready: boolean } {
  return { uid: pod.metadata?.uid ?? '', host: pod.status?.podIP ?? '', port: VRA_CONTROL_PORT, ready: isPodReady(pod) && pod.status?.podIP !== undefined };
}

function site(cache: CacheReader, name: string): Site | undefined {
  const obj = cache.get<CustomObject>(SITES, name);
  return obj === undefined || obj.metadata?.deletionTimestamp !== undefined ? undefined : parseLenient(() => parseObject(siteKind, obj))[0];
}

/** The recovery site's VRAs, with the VPGs already placed on each. */
function recoveryCandidates(cache: CacheReader, config: OperatorConfig, vpg: VPG, recoverySite: Site): RecoveryCandidate[] {
  const siteName = recoverySite.metadata.name ?? '';
  const pods = cache.list<Pod>(PODS, { namespace: config.namespace, labels: { [LABEL_ROLE]: ROLE_VRA, [LABEL_SITE]: labelValue(siteName) } })
    .filter((p) => p.metadata?.deletionTimestamp === undefined);
  const load = new Map<string, { vpgs: number; bytes: bigint }>();
  for (const other of cache.list<CustomObject>(VPGS)) {
    if (other.metadata?.uid === vpg.metadata.uid) continue;
    const status = other.status as { placement?: { recoveryNode?: string }; volumes?: { size?: string }[] } | undefined;
    const spec = other.spec as { recoverySite?: string } | undefined;
    const node = status?.placement?.recoveryNode;
    if (node === undefined || spec?.recoverySite !== siteName) continue;
    const l = load.get(node) ?? { vpgs: 0, bytes: 0n };
    l.vpgs++;
    l.bytes += (status?.volumes ?? []).reduce((n, v) => n + bytesOr0(v.size), 0n);
    load.set(node, l);
  }
  return pods.map((p) => {
    const node = p.metadata?.annotations?.['zcsp.io/node-name'] ?? p.spec?.nodeName ?? '';
    const l = load.get(node) ?? { vpgs: 0, bytes: 0n };
    return { node, exists: true, ready: isPodReady(p) && p.status?.podIP !== undefined, vpgs: l.vpgs, bytes: l.bytes };
  });
}

/**
 * A volume belongs to one VPG: the first to claim it (by creation time). Two journals of one
 * volume would double the cost and recover it twice into one place.
 */
function claimedElsewhere(cache: CacheReader, vpg: VPG, claimNames: readonly string[]): Blocker | undefined {
  const namespace = vpg.metadata.namespace ?? '';
  const mine = creationOrder(vpg);
  const claims = cache.list<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, { namespace });
  for (const other of cache.list<CustomObject>(VPGS, { namespace })) {
    if (other.metadata?.uid === vpg.metadata.uid || other.metadata?.deletionTimestamp !== undefined || creationOrder(other) >= mine) continue;
    const spec = (other.spec as { volumes?: VPG['spec']['volumes'] } | undefined)?.volumes;
    if (spec === undefined) continue;
    const theirs = new Set(selectClaims(spec, claims).found.map((c) => c.metadata?.name ?? ''));
    const shared = claimNames.filter((c) => theirs.has(c));
    if (shared.length > 0) {
      return { reason: 'VolumeInAnotherVpg', message: `spec.volumes: ${shared.join(', ')} ${shared.length === 1 ? 'is' : 'are'} protected by VPG ${other.metadata?.name ?? ''} already: a volume belongs to one VPG` };
    }
  }
  return undefined;
}

function creationOrder(o: { metadata?: { creationTimestamp?: string | undefined; namespace?: string | undefined; name?: string | undefined } | undefined }): string {
  return `${o.metadata?.creationTimestamp ?? '9999'} ${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/** Protected bytes of the tenant's VPGs created before this one (by creation time, then namespace/name); assessments do not count. */
function earlierBytes(cache: CacheReader, zorg: Zorg, vpg: VPG): bigint {
  const mine = creationOrder(vpg);
  let total = 0n;
  for (const ns of zorg.spec.namespaces) {
    for (const other of cache.list<CustomObject>(VPGS, { namespace: ns })) {
      if (other.metadata?.uid === vpg.metadata.uid || creationOrder(other) >= mine) continue;
      // An assessment protects nothing, so it takes none of the quota.
      if ((other.spec as { mode?: unknown } | undefined)?.mode === 'Assess') continue;
      const volumes = (other.status as { volumes?: { size?: string }[] } | undefined)?.volumes ?? [];
      total += volumes.reduce((n, v) => n + bytesOr0(v.size), 0n);
    }
  }
  return total;
}

/** The tenant's connector: a Ready pod to tunnel through, and its credentials. */
function zccOf(cache: CacheReader, config: OperatorConfig, zorg: string): { zcc: Zcc } | { blocker: Blocker } {
  const zccs = cache.list<CustomObject>(ZCCS, { namespace: config.namespace })
    .filter((o) => (o.spec as { zorg?: unknown } | undefined)?.zorg === zorg)
    .flatMap((o) => parseLenient(() => parseObject(zccKind, o)))
    .filter((z) => z.spec.zorg === zorg && z.metadata.deletionTimestamp === undefined)
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  const zcc = zccs[0];
  if (zcc === undefined) {
    return { blocker: { reason: 'NoZCC', message: `Zorg ${zorg} has no ZCC in ${config.namespace}: its replication traffic goes only through its own connector` } };
  }
  const name = zcc.metadata.name ?? '';
  const secretName = credentialsSecretName(name, zcc.spec.credentialsSecretName);
  const secret = cache.get<Secret>(SECRETS, secretName, config.namespace);
  const field = (k: string): string => Buffer.from(secret?.data?.[k] ?? '', 'base64').toString('utf8');
  if (secret === undefined || field('token') === '' || field('tls.crt') === '') {
    return { blocker: { reason: 'ZCCNotReady', message: `ZCC ${name} has no usable credentials yet (Secret ${secretName})` } };
  }
  // A Ready connector pod: the first by name, so every reconcile picks the same one while it is up.
  const pods = cache.list<Pod>(PODS, { namespace: config.namespace, labels: zccSelector(name) })
    .filter((p) => isPodReady(p) && p.status?.podIP !== undefined && p.metadata?.deletionTimestamp === undefined)
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const pod = pods[0];
  if (pod === undefined) return { blocker: { reason: 'ZCCNotReady', message: `ZCC ${name} has no Ready connector pod` } };
  return {
    zcc: {
      address: { host: pod.status?.podIP ?? '', port: ZCC_PORT },
      ca: field('tls.crt'),
      servername: serviceDnsNames(config, name)[2] ?? '',
      token: field('token'),
      zorg,
    },
  };
}

function bytesOr0(q: string | undefined): bigint {
  try {
    return q === undefined ? 0n : quantityBytes(q);
  } catch {
    return 0n;
  }
}

/** A cached object that does not parse (the API server validated it; a newer schema?) counts as absent. */
function parseLenient<T>(parse: () => T): T[] {
  try {
    return [parse()];
  } catch {
    return [];
  }
}
