// What a recovery needs of the recovery site, found from the VPG's status and the cache alone:
// a recovery must work when the protected site is gone, so it never waits for the protection
// plan (which needs both sites).
import { parseObject } from '../../../crds/parse.ts';
import { siteKind } from '../../../crds/site.ts';
import type { VPG } from '../../../crds/vpg.ts';
import { isPodReady, type PersistentVolumeClaim, type Pod } from '../../../kube/objects.ts';
import { PERSISTENT_VOLUME_CLAIMS, PODS, type CacheReader, type CustomObject } from '../../../runtime/index.ts';
import type { OperatorConfig } from '../../config.ts';
import { VRA_CONTROL_PORT } from '../../labels.ts';
import { SITES } from '../../resources.ts';
import { vraName } from '../../site/vra-pod.ts';
import type { VraEndpoint } from '../vra-client.ts';

export interface RecoverySide {
  vra: VraEndpoint;
  /** The VRA pod's image: the restore pods run the same version as the VRA that serves the export. */
  image: string;
  /** Its pull policy too; not its pull secrets: those are in the provider namespace, restore pods in the tenant's. */
  imagePullPolicy: string | undefined;
  nodeSelector: Record<string, string>;
  streamId: string;
}

export type RecoverySideResult = { side: RecoverySide } | { problem: string };

export function recoverySide(cache: CacheReader, config: OperatorConfig, vpg: VPG): RecoverySideResult {
  const placement = vpg.status?.placement;
  if (placement?.recoveryNode === undefined || placement.streamId === undefined) {
    return { problem: 'the VPG has not replicated yet: no journal to recover from' };
  }
  const siteObj = cache.get<CustomObject>(SITES, vpg.spec.recoverySite);
  if (siteObj === undefined) return { problem: `the recovery Site ${vpg.spec.recoverySite} does not exist` };
  const site = parseObject(siteKind, siteObj);
  const pod = cache.get<Pod>(PODS, vraName(vpg.spec.recoverySite, placement.recoveryNode), config.namespace);
  if (pod === undefined || pod.status?.podIP === undefined || !isPodReady(pod)) {
    return { problem: `the recovery VRA on node ${placement.recoveryNode} (which holds the journal) is not ready` };
  }
  return {
    side: {
      vra: { uid: pod.metadata?.uid ?? '', host: pod.status.podIP, port: VRA_CONTROL_PORT },
      image: pod.spec?.containers[0]?.image ?? config.image,
      imagePullPolicy: pod.spec?.containers[0]?.imagePullPolicy ?? config.imagePullPolicy,
      nodeSelector: site.spec.nodeSelector,
      streamId: placement.streamId,
    },
  };
}

/** The protected claims to recover: as they are in the VPG's namespace, or (gone with the site) as the status last saw them. */
export function protectedClaims(cache: CacheReader, vpg: VPG): { claim: PersistentVolumeClaim; size: string }[] {
  const namespace = vpg.metadata.namespace ?? '';
  return (vpg.status?.volumes ?? []).map((v) => {
    const live = cache.get<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, v.claimName, namespace);
    const size = live?.status?.capacity?.['storage'] ?? v.size ?? live?.spec?.resources?.requests?.['storage'] ?? '1Gi';
    return {
      claim: live ?? { metadata: { name: v.claimName, namespace }, spec: { accessModes: ['ReadWriteOnce'] } },
      size: String(size),
    };
  });
}
