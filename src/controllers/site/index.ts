// The Site controller: one VRA per node matching the Site's node selector, in the provider
// namespace: a pod pinned to the node (see vra-pod.ts) and its volume (a PVC per VRA).
//
// - A node joins (labels match): its VRA volume and pod are created.
// - The VRA pod is deleted, fails, or what we want of it changes (spec hash): it is replaced.
//   A failed pod is replaced after a per-node exponential backoff (10 s doubling to 5 min), as
//   the DaemonSet controller does, so a VRA that cannot run does not spin. A changed spec rolls
//   out one node at a time: a pod is replaced only while all other VRAs of the site are Ready.
// - A node leaves (labels no longer match, or the Node is gone): its VRA pod is deleted; its
//   volume is KEPT, labelled zcsp.io/orphaned=true with the time in zcsp.io/orphaned-since, and
//   listed in the OrphanedVolumes condition. The volume holds the VRA's journals (and replicas on a
//   recovery site): deleting it would throw away replicated data and force a full initial sync
//   of every VPG using it, and a node often leaves only for a while (maintenance, a relabel by
//   mistake). If the node comes back, its VRA gets the same volume again and the mark goes.
//   Orphaned volumes go with the Site (owner reference) or when the provider deletes them.
// - The Site is deleted: the garbage collector removes pods and volumes (owner references).
//
// Status: matching Ready nodes, VRAs desired/ready, Ready and OrphanedVolumes conditions.
import { SITES, VPGS } from '../resources.ts';
import { siteSizing, sitesOfVpg } from './sizing.ts';
import { quantityBytes } from '../zorg/size.ts';
import { siteKind } from '../../crds/site.ts';
import { parseObject } from '../../crds/parse.ts';
import { hasLabels, isNodeReady, isPodReady, type Node, type PersistentVolumeClaim, type Pod } from '../../kube/objects.ts';
import {
  KeyedBackoff, NODES, PERSISTENT_VOLUME_CLAIMS, PODS, TerminalError, controllerReference, defineController, isAlreadyExists,
  isConflict, isDeleting, isNotFound, metaTime, watchSource,
  type ControllerDefinition, type CustomObject, type ReconcileContext, type ReconcileResult,
} from '../../runtime/index.ts';
import type { OperatorConfig } from '../config.ts';
import { ANNOTATION_NODE, LABEL_ORPHANED, LABEL_ROLE, LABEL_SITE, ROLE_VRA, labelValue } from '../labels.ts';
import { claimPlan, orphanPatch, podAction } from './plan.ts';
import { siteStatus, type NodeReport, type OrphanedVolume } from './status.ts';
import { desiredVraClaim, desiredVraPod, vraName } from './vra-pod.ts';
import { ensureControlSecret } from './control-secret.ts';

export { desiredVraClaim, desiredVraPod, specHash, vraName, vraPodSpec, VRA_DATA_DIR, VRA_HOST_ROOT } from './vra-pod.ts';

/** Delay before a failed VRA pod of a node is replaced: 10 s, doubling to 5 min. */
const FAILED_POD_BACKOFF = { baseMs: 10_000, maxMs: 300_000 };

export function siteController(config: OperatorConfig): ControllerDefinition<CustomObject> {
  // Which Sites a node event concerns: the node selectors seen by the last reconcile of each
  // Site. A node event before a Site's first reconcile is harmless: that reconcile reads all nodes.
  const selectors = new Map<string, Readonly<Record<string, string>>>();
  const failures = new KeyedBackoff<string>(FAILED_POD_BACKOFF);
  /** Failed pod uid → not replaced before this time (ms). */
  const replaceFailedAt = new Map<string, number>();
  /** Volume → the Site generation whose size was last asked for (a refused resize is not retried in a loop). */
  const growAsked = new Map<string, number>();
  const ns = config.namespace;
  /** The VRAs' control token Secret is checked once per process: it is never changed afterwards. */
  let controlSecretReady = false;

  return defineController({
    name: 'site',
    for: SITES,
    owns: [{ resource: PODS, namespace: ns }, { resource: PERSISTENT_VOLUME_CLAIMS, namespace: ns }],
    watches: [
      watchSource<Node>({
        resource: NODES,
        map: (node) => [...selectors].filter(([, selector]) => hasLabels(node, selector)).map(([site]) => site),
      }),
      // The capacity figures sum the VPGs protected at or recovering to the site.
      watchSource<CustomObject>({ resource: VPGS, map: (vpg) => sitesOfVpg(vpg) }),
    ],
    async reconcile(key, ctx): Promise<ReconcileResult | undefined> {
      const obj = ctx.get();
      if (obj === undefined) {
        selectors.delete(key);
        return undefined;
      }
      const site = parseObject(siteKind, obj);
      const name = site.metadata.name ?? key;
      const uid = site.metadata.uid ?? '';
      selectors.set(name, site.spec.nodeSelector);
      if (isDeleting(obj)) return undefined; // the garbage collector takes the VRAs
      if (site.spec.remote !== undefined) {
        throw new TerminalError('RemoteSiteNotSupported', 'spec.remote: sites that stand for a paired remote cluster are not supported yet; this Site runs no VRAs');
      }
      if (!controlSecretReady) {
        const { created } = await ensureControlSecret(ctx.client, config, ctx.fieldManager);
        if (created) ctx.event(obj, { type: 'Normal', reason: 'ControlTokenCreated', action: 'Create', note: 'generated the token the operator presents to VRAs (Secret zcsp-vra-control)' });
        controlSecretReady = true;
      }
      const generation = obj.metadata?.generation;
      for (const [podUid, at] of replaceFailedAt) if (at < Date.now() - 3600_000) replaceFailedAt.delete(podUid); // pods gone otherwise
      const nodes = ctx.cache.list<Node>(NODES).filter((n) => hasLabels(n, site.spec.nodeSelector))
        .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
      const wanted = new Set(nodes.map((n) => n.metadata?.name ?? ''));
      const siteLabels = { [LABEL_ROLE]: ROLE_VRA, [LABEL_SITE]: labelValue(name) };
      const reports: NodeReport[] = [];
      let requeueAfter: number | undefined;
      // A changed VRA spec rolls out one node at a time (a DaemonSet's maxUnavailable: 1): only
      // while every other VRA of the site is up is one replaced, so a new image never takes all
      // of a site's journals offline at once.
      let unavailable = nodes.filter((n) => {
        const pod = ctx.cache.get<Pod>(PODS, vraName(name, n.metadata?.name ?? ''), ns);
        return pod === undefined || isDeleting(pod) || !isPodReady(pod);
      }).length;

      for (const node of nodes) {
        const nodeName = node.metadata?.name ?? '';
        const desiredClaim = desiredVraClaim(config, name, site.spec, nodeName);
        const desiredPod = desiredVraPod(config, name, site.spec, nodeName);
        const vra = desiredPod.metadata?.name ?? '';
        const nodeKey = `${name}/${nodeName}`;
        let note: string | undefined;

        // The volume first: the pod mounts it.
        let claim = ctx.cache.get<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, vra, ns);
        const plan = claimPlan(claim, desiredClaim);
        if (plan.create === true) {
          claim = (await ctx.ensure(PERSISTENT_VOLUME_CLAIMS, desiredClaim)).object;
          ctx.event(obj, { type: 'Normal', reason: 'VolumeCreated', action: 'Create', note: `VRA volume ${vra} for node ${nodeName}`, related: claim });
        }
        if (plan.metadataPatch !== undefined) {
          claim = await ctx.client.mergePatch(PERSISTENT_VOLUME_CLAIMS, vra, ns, plan.metadataPatch, { fieldManager: ctx.fieldManager });
          if (plan.metadataPatch.metadata.labels?.[LABEL_ORPHANED] === null) {
            ctx.event(obj, { type: 'Normal', reason: 'VolumeAdopted', action: 'Adopt', note: `node ${nodeName} is back in the site: its VRA uses its kept volume ${vra} again` });
          }
        }
        if (plan.grow !== undefined && growAsked.get(vra) !== generation) {
          growAsked.set(vra, generation ?? 0);
          try {
            claim = await ctx.client.mergePatch(PERSISTENT_VOLUME_CLAIMS, vra, ns, { spec: { resources: { requests: { storage: plan.grow } } } }, { fieldManager: ctx.fieldManager });
            ctx.event(obj, { type: 'Normal', reason: 'VolumeResized', action: 'Resize', note: `VRA volume ${vra} asked to grow to ${plan.grow}` });
          } catch (err: unknown) {
            if (isNotFound(err) || isConflict(err)) throw err;
            ctx.event(obj, { type: 'Warning', reason: 'VolumeResizeRefused', action: 'Resize', note: `VRA volume ${vra} cannot grow to ${plan.grow}: ${err instanceof Error ? err.message : String(err)}` });
          }
        }
        note = plan.wait ?? plan.problem;

        // Then the pod.
        const pod = ctx.cache.get<Pod>(PODS, vra, ns);
        const action = plan.wait === undefined ? podAction(pod, desiredPod, uid) : { kind: 'wait' as const, why: plan.wait };
        switch (action.kind) {
          case 'create':
            await createPod(ctx, obj, desiredPod);
            ctx.event(obj, { type: 'Normal', reason: 'VRACreated', action: 'Create', note: `VRA ${vra} on node ${nodeName}` });
            break;
          case 'delete': {
            const podUid = pod?.metadata?.uid ?? '';
            // A VRA that is down anyway is replaced at once (a broken spec can be fixed); a Ready
            // one only while no other VRA of the site is down.
            if (action.reason === 'SpecChanged' && pod !== undefined && isPodReady(pod)) {
              if (unavailable > 0) {
                note = `${action.why}; waits its turn (${unavailable} VRA${unavailable === 1 ? ' is' : 's are'} not Ready)`;
                break;
              }
              unavailable++;
            }
            if (action.reason === 'Finished') {
              let at = replaceFailedAt.get(podUid);
              if (at === undefined) {
                at = Date.now() + failures.next(nodeKey);
                replaceFailedAt.set(podUid, at);
              }
              const wait = at - Date.now();
              if (wait > 0) {
                note = `${action.why}; replaced after a back-off, at ${metaTime(new Date(at))}`;
                requeueAfter = Math.min(requeueAfter ?? wait, wait);
                break;
              }
              replaceFailedAt.delete(podUid);
            }
            await deletePod(ctx, ns, vra, podUid);
            ctx.event(obj, { type: action.reason === 'Finished' ? 'Warning' : 'Normal', reason: 'VRAReplaced', action: 'Replace', note: `VRA ${vra} on node ${nodeName}: ${action.why}` });
            break;
          }
          case 'wait':
            note ??= action.why;
            break;
          case 'keep':
            if (pod !== undefined && isPodReady(pod)) failures.forget(nodeKey);
            break;
        }
        reports.push({ node: nodeName, nodeReady: isNodeReady(node), pod, podCurrent: action.kind === 'keep', claim, note });
      }

      // VRAs of nodes that left the site: the pod goes, the volume stays, marked orphaned.
      for (const pod of ctx.cache.list<Pod>(PODS, { namespace: ns, labels: siteLabels })) {
        const nodeName = pod.metadata?.annotations?.[ANNOTATION_NODE];
        if (nodeName === undefined || wanted.has(nodeName) || isDeleting(pod)) continue;
        await deletePod(ctx, ns, pod.metadata?.name ?? '', pod.metadata?.uid ?? '');
        ctx.event(obj, { type: 'Normal', reason: 'VRARemoved', action: 'Delete', note: `node ${nodeName} left the site: VRA ${pod.metadata?.name ?? ''} removed` });
      }
      const orphaned: OrphanedVolume[] = [];
      for (const claim of ctx.cache.list<PersistentVolumeClaim>(PERSISTENT_VOLUME_CLAIMS, { namespace: ns, labels: siteLabels })) {
        const nodeName = claim.metadata?.annotations?.[ANNOTATION_NODE];
        const claimName = claim.metadata?.name ?? '';
        if (nodeName === undefined || wanted.has(nodeName) || isDeleting(claim)) continue;
        orphaned.push({ claim: claimName, node: nodeName });
        const patch = orphanPatch(claim, metaTime());
        if (patch !== undefined) {
          await ctx.client.mergePatch(PERSISTENT_VOLUME_CLAIMS, claimName, ns, patch, { fieldManager: ctx.fieldManager });
          ctx.event(obj, { type: 'Normal', reason: 'VolumeOrphaned', action: 'Keep', note: `node ${nodeName} left the site: VRA volume ${claimName} kept, labelled zcsp.io/orphaned=true` });
        }
      }

      const sizing = siteSizing(ctx.cache.list<CustomObject>(VPGS), name, quantityBytes(site.spec.vra.storage.size), nodes.length);
      const status = siteStatus({ previous: obj.status, generation, selector: site.spec.nodeSelector, reports, orphaned: orphaned.sort((a, b) => a.claim.localeCompare(b.claim)), sizing });
      await ctx.patchStatusIfChanged(obj, status);
      return requeueAfter === undefined ? undefined : { requeueAfter };
    },
  });
}

async function createPod(ctx: ReconcileContext<CustomObject>, site: CustomObject, desired: Pod): Promise<void> {
  const owned: Pod = { ...desired, metadata: { ...desired.metadata, ownerReferences: [controllerReference(site, SITES)] } };
  try {
    await ctx.client.create(PODS, owned, { fieldManager: ctx.fieldManager });
  } catch (err: unknown) {
    // The cache was behind: the pod's own event brings the next reconcile.
    if (!isAlreadyExists(err)) throw err;
  }
}

async function deletePod(ctx: ReconcileContext<CustomObject>, namespace: string, name: string, uid: string): Promise<void> {
  try {
    await ctx.client.delete(PODS, name, namespace, { preconditions: { uid } });
  } catch (err: unknown) {
    // Another pod of that name by now (uid precondition): the next reconcile looks at it.
    if (!isConflict(err)) throw err;
  }
}
