// The VPG controller: protects a VPG's volumes by configuring the two ends of its replication
// stream on the VRAs, and reports what the VRAs report.
//
// Every reconcile (on a change, and every 5 s while the VPG exists: the VRAs' figures are polled):
// 1. The tenant's rules (plan.ts): its Zorg, the SLA (a profile it may use, or its own SLA if
//    allowed), recovery namespaces of its own, room in its protected-size quota; the volumes
//    (claim → PV → node and path, readable by the protected Site's VRA); the protected VRA (the
//    volumes' node) and the recovery VRA (chosen once, least loaded, then kept); the tenant's
//    ZCC, through which the replication traffic goes. Anything missing or refused is a False
//    condition with a reason and an Event, and the VPG waits; other VPGs are not affected.
// 2. The VRAs (reconcile.ts, through vra-client.ts): the target stream on the recovery VRA,
//    then the source on the protected VRA; each only when what the operator wants of it changed
//    (or the pod is new).
// 3. Status (status/) from both ends' figures, written only when it changed; per-VPG metrics.
//
// Deleting a VPG (reconcile.ts, finalizer): both ends are stopped, and the journal and replica
// removed unless spec.deletionPolicy is Retain.
import { parseObject } from '../../crds/parse.ts';
import { vpgKind } from '../../crds/vpg.ts';
import {
  DEPLOYMENTS, PERSISTENT_VOLUME_CLAIMS, PODS, SECRETS, defineController, isDeleting, watchSource,
  type ControllerDefinition, type CustomObject, type Secret,
} from '../../runtime/index.ts';
import type { PersistentVolume, Pod } from '../../kube/objects.ts';
import type { OperatorConfig } from '../config.ts';
import { LABEL_ROLE, ROLE_VRA } from '../labels.ts';
import { JOBS, NETWORK_POLICIES, PERSISTENT_VOLUMES, SERVICE_PROFILES, SITES, STATEFUL_SETS, VPGS, ZCCS, ZORGS } from '../resources.ts';
import { vpgKeyOf } from './operation/labels.ts';
import { ReverseIndex } from '../reverse-index.ts';
import { VRA_CONTROL_SECRET } from '../site/control-secret.ts';
import { VpgMetrics } from './metrics.ts';
import { HookRunner } from './hooks/runner.ts';
import { planVpg } from './plan.ts';
import { reconcileVpg, type VpgState } from './reconcile.ts';
import { VraClient } from './vra-client.ts';

export { POLL_MS, VPG_FINALIZER } from './reconcile.ts';

export function vpgController(config: OperatorConfig): ControllerDefinition<CustomObject> {
  const ns = config.namespace;
  // What each VPG's last reconcile depended on (its namespace, sites, profile, Zorg): events on
  // those map back to it. The 5 s poll catches anything else.
  const refs = new ReverseIndex();
  const state: VpgState = { refs, configured: new Map(), client: undefined, controlToken: undefined, metrics: undefined, hooks: new HookRunner() };
  const keysOf = (ref: string): string[] => refs.owners(ref);
  const zorgOfZcc = (obj: CustomObject): string => {
    const zorg = (obj.spec as { zorg?: unknown } | undefined)?.zorg;
    return typeof zorg === 'string' ? zorg : '';
  };

  return defineController({
    name: 'vpg',
    for: VPGS,
    workers: 4,
    watches: [
      watchSource({ resource: PERSISTENT_VOLUME_CLAIMS, map: (pvc) => [...keysOf(`ns:${pvc.metadata?.namespace ?? ''}`), ...vpgKeyOf(pvc)] }),
      watchSource<PersistentVolume>({ resource: PERSISTENT_VOLUMES, map: (pv) => keysOf(`ns:${pv.spec?.claimRef?.namespace ?? ''}`) }),
      // Pods everywhere: VRA and ZCC pods of the provider namespace, and the tenants' pods that
      // mount a claim (a CSI volume is read through the mount of a pod that uses it).
      watchSource({
        resource: PODS,
        map: (pod) => {
          if (pod.metadata?.namespace !== ns) return [...keysOf(`ns:${pod.metadata?.namespace ?? ''}`), ...vpgKeyOf(pod)];
          return pod.metadata.labels?.[LABEL_ROLE] === ROLE_VRA
            ? keysOf(`site:${pod.metadata.annotations?.['zcsp.io/site-name'] ?? ''}`)
            : keysOf(`zorg:${pod.metadata.labels?.['zcsp.io/zorg'] ?? ''}`);
        },
      }),
      watchSource({ resource: SECRETS, namespace: ns, map: () => [] }),
      // What a recovery made in a recovery namespace (restore Jobs, workload copies): by the
      // VPG they are labelled with. Deployments and StatefulSets are also the workloads copied.
      watchSource({ resource: JOBS, map: vpgKeyOf }),
      watchSource({ resource: DEPLOYMENTS, map: vpgKeyOf }),
      watchSource({ resource: STATEFUL_SETS, map: vpgKeyOf }),
      watchSource({ resource: NETWORK_POLICIES, map: vpgKeyOf }),
      watchSource({ resource: ZORGS, map: (z) => keysOf(`zorg:${z.metadata?.name ?? ''}`) }),
      watchSource({ resource: SERVICE_PROFILES, map: (p) => keysOf(`profile:${p.metadata?.name ?? ''}`) }),
      watchSource({ resource: SITES, map: (s) => keysOf(`site:${s.metadata?.name ?? ''}`) }),
      watchSource({ resource: ZCCS, namespace: ns, map: (z) => keysOf(`zorg:${zorgOfZcc(z)}`) }),
    ],
    // A standby serves no VPG figures (the leader's are the ones to read) and keeps no hook runs.
    onStop: () => {
      state.metrics?.clear();
      state.hooks.clear();
    },
    async reconcile(key, ctx) {
      const obj = ctx.get();
      state.metrics ??= new VpgMetrics(ctx.metrics);
      if (obj === undefined) {
        refs.delete(key);
        const [namespace = '', name = ''] = key.split('/');
        state.metrics.forget(namespace, name);
        return undefined;
      }
      const vpg = parseObject(vpgKind, obj);
      if (state.client === undefined) {
        const secret = ctx.cache.get<Secret>(SECRETS, VRA_CONTROL_SECRET, ns);
        const token = secret?.data?.['token'];
        // The Site controller creates the token with the first Site; no Site, no VRA to talk to.
        if (token !== undefined && token !== '') {
          state.controlToken = Buffer.from(token, 'base64').toString('utf8').trim();
          state.client = new VraClient(state.controlToken);
        }
      }
      // Pins of VRA pods that are gone (replaced, node left) are dropped.
      state.client?.retain(new Set(ctx.cache.list<Pod>(PODS, { namespace: ns, labels: { [LABEL_ROLE]: ROLE_VRA } }).map((p) => p.metadata?.uid ?? '')));
      if (isDeleting(obj)) {
        const wait = await reconcileVpg.deleting(ctx, config, obj, vpg, state);
        return wait === undefined ? undefined : { requeueAfter: wait };
      }
      const plan = planVpg(ctx.cache, config, vpg, new Date());
      refs.set(key, plan.refs);
      return { requeueAfter: await reconcileVpg.protect(ctx, config, obj, vpg, plan, state) };
    },
  });
}
