// A Zorg's members in Kubernetes RBAC: Zerto's tenant privileges (Manage VPG, Failover Test, Live
// Failover, Move, View) grouped into three roles, as one Role per role and one RoleBinding per
// role with members, in every namespace of the Zorg. Over the zcsp resources and nothing more:
// no Secrets, no workloads, nothing cluster-scoped.
//
// RBAC authorises verbs on resources, and starting a failover test or a live failover is the same
// verb (patch spec.operation of a VPG). So the operations are modelled as virtual subresources of
// vpgs that no API serves but RBAC can grant: `update vpgs/failovertest`, `vpgs/failover`,
// `vpgs/move`. Operators hold `patch` and `update` on vpgs, which alone would let them change
// anything; the chart's ValidatingAdmissionPolicy (deploy/helm/zcsp/templates/admission.yaml)
// narrows every write: a change of spec.operation needs OPERATION_PRIVILEGES[type], any other
// change needs `create vpgs` (Admins only). A client can ask the same question beforehand with a
// SubjectAccessReview (kubectl auth can-i), so kubectl, the console and the API agree.
//
// The operator can only grant what it holds itself (the RBAC escalation check): the chart's
// ClusterRole must hold every rule below (including `update` on the virtual subresources).
import { labelValue, ZORG_LABEL } from './labels.ts';
import type { PolicyRule, RoleBinding, Role, Subject } from './types.ts';

export type MemberRole = 'Admin' | 'Operator' | 'Viewer';

export interface Member {
  kind: 'User' | 'Group';
  name: string;
  role: MemberRole;
}

const GROUP = 'zcsp.io';
const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** The authorization check for each operation of spec.operation.type. */
export const OPERATION_PRIVILEGES = {
  FailoverTest: { group: GROUP, resource: 'vpgs', subresource: 'failovertest', verb: 'update' },
  Failover: { group: GROUP, resource: 'vpgs', subresource: 'failover', verb: 'update' },
  Move: { group: GROUP, resource: 'vpgs', subresource: 'move', verb: 'update' },
} as const;

const VIEW: PolicyRule = { apiGroups: [GROUP], resources: ['vpgs'], verbs: ['get', 'list', 'watch'] };
/** View, and write spec.operation: the verbs allow any change, the admission policy only the operation. */
const OPERATE: PolicyRule = { apiGroups: [GROUP], resources: ['vpgs'], verbs: ['get', 'list', 'watch', 'update', 'patch'] };
/** Manage VPG: create, edit, delete. Not deletecollection (the operator does not hold it). Not vpgs/status: that is the controllers'. */
const MANAGE: PolicyRule = { apiGroups: [GROUP], resources: ['vpgs'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] };
const operations = (...types: (keyof typeof OPERATION_PRIVILEGES)[]): PolicyRule => ({
  apiGroups: [GROUP], resources: types.map((t) => `vpgs/${OPERATION_PRIVILEGES[t].subresource}`).sort(), verbs: ['update'],
});

/** The rules of each role. */
export const ROLE_RULES: Readonly<Record<MemberRole, readonly PolicyRule[]>> = {
  Admin: [MANAGE, operations('FailoverTest', 'Failover', 'Move')],
  Operator: [OPERATE, operations('FailoverTest')],
  Viewer: [VIEW],
};

export const MEMBER_ROLES: readonly MemberRole[] = ['Admin', 'Operator', 'Viewer'];

/** zcsp-tenant-admin, zcsp-tenant-operator, zcsp-tenant-viewer: the Role and its RoleBinding. */
export function roleName(role: MemberRole): string {
  return `zcsp-tenant-${role.toLowerCase()}`;
}

/** The labels of everything the Zorg controller creates for a Zorg. */
export function childLabels(zorg: string, managedBy: { label: string; value: string }): Record<string, string> {
  return { [ZORG_LABEL]: labelValue(zorg), [managedBy.label]: managedBy.value };
}

/** The three Roles of a tenant namespace (always all three, members or not). */
export function desiredRoles(namespace: string, labels: Record<string, string>): Role[] {
  return MEMBER_ROLES.map((role) => ({
    metadata: { name: roleName(role), namespace, labels },
    rules: ROLE_RULES[role].map((r) => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] })),
  }));
}

/** One RoleBinding per role that has members, its subjects in a stable order. */
export function desiredRoleBindings(namespace: string, members: readonly Member[], labels: Record<string, string>): RoleBinding[] {
  const bindings: RoleBinding[] = [];
  for (const role of MEMBER_ROLES) {
    const subjects: Subject[] = members
      .filter((m) => m.role === role)
      .map((m) => ({ kind: m.kind, apiGroup: RBAC_GROUP, name: m.name }))
      .sort((a, b) => (a.kind === b.kind ? compare(a.name, b.name) : compare(a.kind, b.kind)));
    if (subjects.length === 0) continue;
    bindings.push({
      metadata: { name: roleName(role), namespace, labels },
      roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: roleName(role) },
      subjects,
    });
  }
  return bindings;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
