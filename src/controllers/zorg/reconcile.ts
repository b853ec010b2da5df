// The Zorg reconcile: from the Zorg and the cache to its namespaces, their Roles, RoleBindings,
// ResourceQuota and NetworkPolicies, its ZCC and the ZCC's ingress policy, then its status.
//
// Each step is an ensureX that writes only what differs (ctx.ensure compares with the cache).
// A step that fails does not stop the others: its error becomes the message of its condition
// (reason ApplyFailed), the status is written, and the reconcile then fails to be retried with
// backoff. Conflicts (409, AlreadyExists: the cache was behind) are retried at once instead.
import {
  NAMESPACES, appliedConfiguration, controllerReference, errorMessage, isAlreadyExists, isConflict, isNotFound,
  type Condition, type CustomObject, type KubeObject, type ReconcileContext, type ReconcileResult, type ResourceType,
} from '../../runtime/index.ts';
import { parseObject } from '../../crds/parse.ts';
import type { SizingTotals } from '../../crds/sizing.ts';
import { zorgKind, type Zorg } from '../../crds/zorg.ts';
import { MANAGED_BY, type OperatorConfig } from '../config.ts';
import { NETWORK_POLICIES, RESOURCE_QUOTAS, ROLE_BINDINGS, ROLES, SERVICE_PROFILES, VPGS, ZCCS, ZORGS } from '../resources.ts';
import { claimNamespace, desiredNamespace, isControlledBy, releasePatch, type ZorgRef } from './namespaces.ts';
import { vraEgressPolicy, zccIngressPolicy } from './network-policies.ts';
import { desiredQuota, quotaEnforced, quotaStuck } from './quota.ts';
import { childLabels, desiredRoleBindings, desiredRoles } from './rbac.ts';
import type { ReverseIndex } from '../reverse-index.ts';
import { sizingTotals } from '../sizing-totals.ts';
import { quantityBytes } from './size.ts';
import { conditionEvents, zorgStatus, type NamespaceObservation, type ZccObservation, type ZorgObservation } from './status.ts';
import type { Namespace, ResourceQuota } from './types.ts';
import { planZcc } from './zcc.ts';

export interface ZorgIndexes {
  /** namespace → Zorgs that list it */
  namespaces: ReverseIndex;
  /** ServiceProfile → Zorgs that allow it */
  profiles: ReverseIndex;
}

type Failures = ZorgObservation['failures'];
type Ctx = ReconcileContext<CustomObject>;

/** The kinds the controller keeps in tenant namespaces (and the ZCC policy in the provider's). */
const CHILD_KINDS: readonly { resource: ResourceType; failure: keyof Failures }[] = [
  { resource: ROLES, failure: 'rbac' },
  { resource: ROLE_BINDINGS, failure: 'rbac' },
  { resource: RESOURCE_QUOTAS, failure: 'quota' },
  { resource: NETWORK_POLICIES, failure: 'networkPolicies' },
];

class Steps {
  readonly failures: Failures = {};
  readonly errors: unknown[] = [];
  readonly #ctx: Ctx;

  constructor(ctx: Ctx) {
    this.#ctx = ctx;
  }

  /** Runs a step; a failure is recorded for `condition` unless it is a conflict (rethrown: retry at once). */
  async run(condition: keyof Failures, what: string, fn: () => Promise<void>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (err: unknown) {
      if (this.#ctx.signal.aborted || isConflict(err) || isAlreadyExists(err)) throw err;
      this.#ctx.log.warn({ err: errorMessage(err), step: what }, 'step failed');
      this.failures[condition] ??= `${what}: ${errorMessage(err)}`;
      this.errors.push(err);
      return false;
    }
  }
}

export async function reconcileZorg(ctx: Ctx, config: OperatorConfig, indexes: ZorgIndexes): Promise<ReconcileResult | undefined> {
  const obj = ctx.get();
  if (obj === undefined) {
    indexes.namespaces.delete(ctx.name);
    indexes.profiles.delete(ctx.name);
    return undefined;
  }
  // Being deleted: the garbage collector takes what it owns; recreate nothing.
  if (obj.metadata?.deletionTimestamp !== undefined) return undefined;
  const zorg = parseObject(zorgKind, obj);
  const spec = zorg.spec;
  indexes.namespaces.set(ctx.name, spec.namespaces);
  indexes.profiles.set(ctx.name, spec.allowedServiceProfiles);

  const ref: ZorgRef = { name: ctx.name, uid: obj.metadata?.uid ?? '' };
  const labels = childLabels(ctx.name, { label: config.managedByLabel, value: MANAGED_BY });
  const steps = new Steps(ctx);

  const zcc = await ensureZcc(ctx, obj, config, labels, steps);
  const zccNames = zcc.state === 'Exists' ? zcc.names : [];
  const namespaces = await ensureNamespaces(ctx, obj, spec, ref, config, labels, steps);
  const managed = namespaces.filter((n) => n.state === 'Ready').map((n) => n.name);

  const quotasPending: string[] = [];
  for (const ns of managed) {
    const quota = desiredQuota(ns, spec.quotas, labels);
    const desired: Child[] = [
      ...desiredRoles(ns, labels).map((object) => ({ resource: ROLES, object })),
      ...desiredRoleBindings(ns, spec.members, labels).map((object) => ({ resource: ROLE_BINDINGS, object })),
      ...(quota === undefined ? [] : [{ resource: RESOURCE_QUOTAS, object: quota }]),
      { resource: NETWORK_POLICIES, object: vraEgressPolicy(ns, config.namespace, zccNames, labels) },
    ];
    await ensureChildren(ctx, ref, ns, desired, steps);
    if (quota !== undefined) await checkQuota(ctx, ns, quota, quotasPending, steps);
  }
  await releaseNamespaces(ctx, ref, spec.namespaces, config, steps);

  const external = zcc.state === 'Exists' && zcc.external === true;
  const ingress = zccIngressPolicy(ctx.name, config.namespace, zccNames, managed, external, labels);
  await ensureChildren(ctx, ref, config.namespace, ingress === undefined ? [] : [{ resource: NETWORK_POLICIES, object: ingress }], steps, [NETWORK_POLICIES]);

  const usage = vpgUsage(ctx, managed);
  const observation: ZorgObservation = {
    generation: obj.metadata?.generation,
    namespaces,
    members: spec.members.length,
    failures: steps.failures,
    quotasPending,
    zcc: zcc.state === 'Exists' ? { state: 'Exists', names: zcc.names } : zcc,
    profiles: profileProblems(ctx, spec.allowedServiceProfiles),
    vpgCount: usage.count,
    protectedBytes: usage.bytes,
    sizing: usage.sizing,
    quotas: spec.quotas,
  };
  const status = zorgStatus(obj.status, observation);
  const { changed } = await ctx.patchStatusIfChanged(obj, status);
  if (changed) {
    for (const event of conditionEvents(obj.status?.['conditions'] as Condition[] | undefined, status['conditions'] as Condition[])) ctx.event(obj, event);
  }
  if (steps.errors.length > 0) throw steps.errors[0];
  // A quota waiting to be counted sends no event when it is stuck: look again.
  return quotasPending.length > 0 ? { requeueAfter: QUOTA_RECHECK_MS } : undefined;
}

const QUOTA_RECHECK_MS = 5000;

/** Notes a quota not enforced yet; recreates one the quota controller will not count soon (see quotaStuck). */
async function checkQuota(ctx: Ctx, namespace: string, desired: ResourceQuota, pending: string[], steps: Steps): Promise<void> {
  const live = ctx.cache.get(RESOURCE_QUOTAS, desired.metadata?.name ?? '', namespace) as ResourceQuota | undefined;
  if (quotaEnforced(desired, live)) return;
  pending.push(namespace);
  if (live === undefined || !quotaStuck(desired, live, new Date())) return;
  ctx.log.info({ namespace }, 'the quota controller has not counted VPGs for this quota: recreating it so that it does');
  await steps.run('quota', `recreate ResourceQuota ${namespace}/${desired.metadata?.name ?? ''}`, () => deleteExactly(ctx, RESOURCE_QUOTAS, live));
}

/** Creates the namespaces of the spec that do not exist, keeps those that are the Zorg's, reports the others. */
async function ensureNamespaces(
  ctx: Ctx, obj: CustomObject, spec: Zorg['spec'], ref: ZorgRef, config: OperatorConfig, labels: Record<string, string>, steps: Steps,
): Promise<NamespaceObservation[]> {
  const observed: NamespaceObservation[] = [];
  for (const name of spec.namespaces) {
    const live = ctx.cache.get(NAMESPACES, name) as Namespace | undefined;
    const claim = claimNamespace(name, live, ref, config.namespace);
    const desired = desiredNamespace(name, labels);
    let ok = false;
    switch (claim.state) {
      case 'Absent':
        // A create, not an apply: if the cache is behind and the namespace exists after all,
        // AlreadyExists says so (retry) where a forced apply would silently take it over.
        ok = await steps.run('namespaces', `create namespace ${name}`, async () => {
          await ctx.client.create(NAMESPACES, appliedConfiguration(NAMESPACES, desired, { object: obj, resource: ZORGS }), { fieldManager: ctx.fieldManager });
          ctx.event(obj, { type: 'Normal', reason: 'NamespaceCreated', action: 'CreateNamespace', note: `created namespace ${name}` });
        });
        break;
      case 'Owned':
      case 'Adoptable':
        ok = await steps.run('namespaces', `apply namespace ${name}`, async () => {
          const result = await ctx.ensure(NAMESPACES, desired);
          if (claim.state === 'Adoptable' && result.changed) {
            ctx.event(obj, { type: 'Normal', reason: 'NamespaceAdopted', action: 'AdoptNamespace', note: `adopted namespace ${name} (annotated zcsp.io/adopt)` });
          }
        });
        break;
      case 'Terminating':
      case 'Conflict':
        observed.push({ name, state: claim.state, message: claim.message });
        continue;
    }
    // A namespace that could not be written is not the Zorg's yet: nothing goes into it.
    if (ok) observed.push({ name, state: 'Ready' });
  }
  return observed;
}

/** A child to keep: its kind and its desired state. */
interface Child {
  resource: ResourceType;
  object: KubeObject;
}

/**
 * Makes the Zorg's children of `kinds` in `namespace` exactly `desired`: applies each, and deletes
 * the ones the Zorg controls there that are no longer desired.
 */
async function ensureChildren(
  ctx: Ctx, ref: ZorgRef, namespace: string, desired: readonly Child[], steps: Steps, kinds: readonly ResourceType[] = CHILD_KINDS.map((k) => k.resource),
): Promise<boolean> {
  let ok = true;
  for (const { resource, failure } of CHILD_KINDS.filter((k) => kinds.includes(k.resource))) {
    const want = desired.filter((d) => d.resource === resource).map((d) => d.object);
    for (const child of want) {
      ok = (await steps.run(failure, `apply ${resource.kind} ${namespace}/${child.metadata?.name ?? ''}`, async () => {
        await ctx.ensure(resource, child);
      })) && ok;
    }
    const names = new Set(want.map((c) => c.metadata?.name));
    for (const stale of ctx.cache.list(resource, { namespace }).filter((c) => isControlledBy(c, ref) && !names.has(c.metadata?.name))) {
      ok = (await steps.run(failure, `delete ${resource.kind} ${namespace}/${stale.metadata?.name ?? ''}`, async () => {
        await deleteExactly(ctx, resource, stale);
      })) && ok;
    }
  }
  return ok;
}

/** Deletes this very object (uid precondition): never a successor created meanwhile. */
async function deleteExactly(ctx: Ctx, resource: ResourceType, obj: KubeObject): Promise<void> {
  const uid = obj.metadata?.uid;
  try {
    await ctx.client.delete(resource, obj.metadata?.name ?? '', obj.metadata?.namespace, uid === undefined ? {} : { preconditions: { uid } });
  } catch (err: unknown) {
    // 409 on a uid precondition: it is gone and something else has the name now.
    if (!isNotFound(err)) throw err;
  }
}

/**
 * Lets go of the namespaces the Zorg controls that left its spec: its children there are deleted,
 * then its owner reference and labels removed. The namespace and the tenant's data stay.
 */
async function releaseNamespaces(ctx: Ctx, ref: ZorgRef, inSpec: readonly string[], config: OperatorConfig, steps: Steps): Promise<void> {
  const obj = ctx.get();
  for (const ns of ctx.cache.list(NAMESPACES) as Namespace[]) {
    const name = ns.metadata?.name ?? '';
    if (inSpec.includes(name) || !isControlledBy(ns, ref)) continue;
    if (!(await ensureChildren(ctx, ref, name, [], steps))) continue;
    await steps.run('namespaces', `release namespace ${name}`, async () => {
      await ctx.client.mergePatch(NAMESPACES, name, undefined, releasePatch(ns, ref, config.managedByLabel), { fieldManager: ctx.fieldManager });
      if (obj !== undefined) {
        ctx.event(obj, { type: 'Normal', reason: 'NamespaceReleased', action: 'ReleaseNamespace', note: `namespace ${name} left the Zorg's spec: the operator's roles, quota and policies were removed, the namespace and its content kept` });
      }
    });
  }
}

/** Finds the Zorg's ZCC, or creates "<zorg>" in the provider namespace. */
async function ensureZcc(
  ctx: Ctx, obj: CustomObject, config: OperatorConfig, labels: Record<string, string>, steps: Steps,
): Promise<ZccObservation & { external?: boolean }> {
  const plan = planZcc(ctx.name, config.namespace, ctx.cache.list(ZCCS, { namespace: config.namespace }), labels);
  switch (plan.state) {
    case 'Found':
      return { state: 'Exists', names: plan.names, external: plan.external };
    case 'Terminating':
    case 'Conflict':
      return { state: plan.state, message: plan.message };
    case 'Create': {
      const body: CustomObject = { ...plan.desired, metadata: { ...plan.desired.metadata, ownerReferences: [controllerReference(obj, ZORGS)] } };
      const created = await steps.run('zcc', `create ZCC ${config.namespace}/${ctx.name}`, async () => {
        await ctx.client.create(ZCCS, body, { fieldManager: ctx.fieldManager });
        ctx.event(obj, { type: 'Normal', reason: 'ZCCCreated', action: 'CreateZCC', note: `created ZCC ${config.namespace}/${ctx.name}` });
      });
      return created ? { state: 'Exists', names: [ctx.name], external: false } : { state: 'Conflict', message: steps.failures.zcc ?? '' };
    }
  }
}

function profileProblems(ctx: Ctx, allowed: readonly string[]): ZorgObservation['profiles'] {
  const missing: string[] = [];
  const deleting: string[] = [];
  for (const name of allowed) {
    const profile = ctx.cache.get(SERVICE_PROFILES, name);
    if (profile === undefined) missing.push(name);
    else if (profile.metadata?.deletionTimestamp !== undefined) deleting.push(name);
  }
  return { allowed: allowed.length, missing, deleting };
}

/** VPGs in the Zorg's namespaces, and the sum of their volumes' sizes as the VPG controller reports them. */
function vpgUsage(ctx: Ctx, namespaces: readonly string[]): { count: number; bytes: bigint; sizing: SizingTotals | undefined } {
  let count = 0;
  let bytes = 0n;
  const all: CustomObject[] = [];
  for (const ns of namespaces) {
    for (const vpg of ctx.cache.list(VPGS, { namespace: ns })) {
      count++;
      all.push(vpg);
      // An assessment measures and stores nothing: its volumes are not protected (yet).
      if ((vpg.spec as { mode?: unknown } | undefined)?.mode === 'Assess') continue;
      const volumes = vpg.status?.['volumes'];
      if (!Array.isArray(volumes)) continue;
      for (const v of volumes as { size?: unknown }[]) {
        if (typeof v.size !== 'string' && typeof v.size !== 'number') continue;
        try {
          bytes += quantityBytes(v.size);
        } catch {
          // not a quantity: the VPG's status is the VPG controller's to fix
        }
      }
    }
  }
  return { count, bytes, sizing: sizingTotals(all) };
}
