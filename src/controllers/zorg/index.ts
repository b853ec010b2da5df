// The Zorg controller: a tenant's namespaces (created and owned), its members' Roles and
// RoleBindings there, a ResourceQuota from its quotas, NetworkPolicies that keep its replication
// traffic on its own ZCC, the ZCC object itself, and a status with its usage and conditions.
// See reconcile.ts for the steps and status.ts for the conditions.
import { NAMESPACES, defineController, ownerKeysOf, watchSource, type ControllerDefinition, type CustomObject } from '../../runtime/index.ts';
import type { OperatorConfig } from '../config.ts';
import { NETWORK_POLICIES, RESOURCE_QUOTAS, ROLE_BINDINGS, ROLES, SERVICE_PROFILES, VPGS, ZCCS, ZORGS } from '../resources.ts';
import { reconcileZorg, type ZorgIndexes } from './reconcile.ts';
import { ReverseIndex } from '../reverse-index.ts';

export { OPERATION_PRIVILEGES, ROLE_RULES, roleName, type MemberRole } from './rbac.ts';
export { ADOPT_ANNOTATION, QUOTA_NAME, VRA_EGRESS_POLICY_NAME } from './labels.ts';
export { zccPolicyName, zccPodSelector } from './network-policies.ts';

export function zorgController(config: OperatorConfig): ControllerDefinition<CustomObject> {
  const indexes: ZorgIndexes = { namespaces: new ReverseIndex(), profiles: new ReverseIndex() };
  const unique = (keys: readonly (string | undefined)[]): string[] => [...new Set(keys.filter((k): k is string => k !== undefined && k !== ''))];
  return defineController({
    name: 'zorg',
    for: ZORGS,
    owns: [ROLES, ROLE_BINDINGS, RESOURCE_QUOTAS, NETWORK_POLICIES],
    watches: [
      // The Zorg's own namespaces (owner reference) and any namespace a Zorg lists (a conflict
      // that goes away, a terminating namespace that is gone).
      watchSource({ resource: NAMESPACES, map: (ns) => unique([...ownerKeysOf(ns, ZORGS), ...indexes.namespaces.owners(ns.metadata?.name ?? '')]) }),
      // ZCCs of the provider namespace: by the Zorg they serve, their name (a name conflict) and owner.
      watchSource({
        resource: ZCCS, namespace: config.namespace,
        map: (zcc) => {
          const spec = zcc.spec as { zorg?: unknown } | undefined;
          return unique([typeof spec?.zorg === 'string' ? spec.zorg : undefined, zcc.metadata?.name, ...ownerKeysOf(zcc, ZORGS)]);
        },
      }),
      // VPGs: the count and protected size of the Zorg whose namespace they are in.
      watchSource({ resource: VPGS, map: (vpg) => indexes.namespaces.owners(vpg.metadata?.namespace ?? '') }),
      // ServiceProfiles: the Zorgs that allow them (one that appears, or starts being deleted).
      watchSource({ resource: SERVICE_PROFILES, map: (sp) => indexes.profiles.owners(sp.metadata?.name ?? '') }),
    ],
    reconcile: (_key, ctx) => reconcileZorg(ctx, config, indexes),
  });
}
