// A Zorg's connector: the ZCC object "<zorg>" in the provider namespace, created (owned by the
// Zorg) when no ZCC serves the Zorg yet. A ZCC the provider made for it under another name is
// used as it is. The ZCC controller turns the object into a running connector; the Zorg
// controller never edits a ZCC after creating it (replicas, service type are the provider's).
import type { CustomObject } from '../../runtime/index.ts';

export type ZccPlan =
  | { state: 'Found'; names: string[]; external: boolean }
  | { state: 'Create'; desired: CustomObject }
  | { state: 'Terminating'; message: string }
  | { state: 'Conflict'; message: string };

interface ZccFields {
  zorg?: unknown;
  serviceType?: unknown;
}

const spec = (zcc: CustomObject): ZccFields => (typeof zcc.spec === 'object' && zcc.spec !== null ? zcc.spec : {});

/** What to do about the Zorg's ZCC, given the ZCCs of the provider namespace. */
export function planZcc(zorg: string, providerNamespace: string, zccs: readonly CustomObject[], labels: Record<string, string>): ZccPlan {
  const serving = zccs.filter((z) => spec(z).zorg === zorg && z.metadata?.deletionTimestamp === undefined);
  if (serving.length > 0) {
    return {
      state: 'Found',
      names: serving.map((z) => z.metadata?.name ?? '').sort(),
      external: serving.some((z) => spec(z).serviceType === 'NodePort' || spec(z).serviceType === 'LoadBalancer'),
    };
  }
  const same = zccs.find((z) => z.metadata?.name === zorg);
  if (same?.metadata?.deletionTimestamp !== undefined) {
    return { state: 'Terminating', message: `ZCC ${providerNamespace}/${zorg} is being deleted; a new one is created once it is gone` };
  }
  if (same !== undefined) {
    return { state: 'Conflict', message: `ZCC ${providerNamespace}/${zorg} serves Zorg ${String(spec(same).zorg)}; create a ZCC with spec.zorg=${zorg} under another name` };
  }
  return {
    state: 'Create',
    desired: { apiVersion: 'zcsp.io/v1alpha1', kind: 'ZCC', metadata: { name: zorg, namespace: providerNamespace, labels }, spec: { zorg } },
  };
}
