import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { desiredRoleBindings, desiredRoles, OPERATION_PRIVILEGES, ROLE_RULES, roleName, type Member } from './rbac.ts';

const labels = { 'zcsp.io/zorg': 'acme' };
const allows = (role: keyof typeof ROLE_RULES, resource: string, verb: string): boolean =>
  ROLE_RULES[role].some((r) => r.apiGroups.includes('zcsp.io') && r.resources.includes(resource) && r.verbs.includes(verb));

describe('tenant RBAC', () => {
  it('maps Zerto privileges to verbs: admins manage VPGs and run every operation, operators test and view, viewers view', () => {
    for (const verb of ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']) assert.ok(allows('Admin', 'vpgs', verb), `admin ${verb}`);
    for (const op of ['vpgs/failovertest', 'vpgs/failover', 'vpgs/move']) assert.ok(allows('Admin', op, 'update'), `admin ${op}`);
    for (const verb of ['get', 'list', 'watch']) {
      assert.ok(allows('Operator', 'vpgs', verb));
      assert.ok(allows('Viewer', 'vpgs', verb));
    }
    assert.ok(allows('Operator', 'vpgs/failovertest', 'update'));
    // Operators write VPGs to set spec.operation; the chart's admission policy keeps them to it,
    // keyed on `create vpgs`, which they must never hold.
    for (const verb of ['update', 'patch']) assert.ok(allows('Operator', 'vpgs', verb), `operator ${verb}`);
    for (const verb of ['create', 'delete']) assert.ok(!allows('Operator', 'vpgs', verb), `operator must not ${verb} VPGs`);
    for (const verb of ['create', 'update', 'patch', 'delete']) assert.ok(!allows('Viewer', 'vpgs', verb), `viewer must not ${verb} VPGs`);
    assert.ok(!allows('Operator', 'vpgs/failover', 'update') && !allows('Operator', 'vpgs/move', 'update'), 'operators never touch production');
    assert.ok(!allows('Viewer', 'vpgs/failovertest', 'update'));
  });

  it('grants nothing but zcsp.io VPGs: no status writes, no deletecollection, no other group', () => {
    for (const rules of Object.values(ROLE_RULES)) {
      for (const r of rules) {
        assert.deepEqual(r.apiGroups, ['zcsp.io']);
        assert.ok(r.resources.every((res) => res === 'vpgs' || /^vpgs\/(failovertest|failover|move)$/.test(res)), r.resources.join());
        assert.ok(!r.verbs.includes('deletecollection') && !r.verbs.includes('*'));
      }
    }
  });

  it('names the check for each operation as the roles grant it', () => {
    assert.deepEqual(OPERATION_PRIVILEGES.FailoverTest, { group: 'zcsp.io', resource: 'vpgs', subresource: 'failovertest', verb: 'update' });
    for (const p of Object.values(OPERATION_PRIVILEGES)) assert.ok(allows('Admin', `${p.resource}/${p.subresource}`, p.verb));
  });

  it('keeps three Roles per namespace', () => {
    const roles = desiredRoles('acme-prod', labels);
    assert.deepEqual(roles.map((r) => r.metadata?.name), ['zcsp-tenant-admin', 'zcsp-tenant-operator', 'zcsp-tenant-viewer']);
    assert.ok(roles.every((r) => r.metadata?.namespace === 'acme-prod' && r.metadata.labels?.['zcsp.io/zorg'] === 'acme'));
  });

  it('binds members by role, in a stable order, and skips roles without members', () => {
    const members: Member[] = [
      { kind: 'User', name: 'zoe', role: 'Admin' },
      { kind: 'Group', name: 'acme-admins', role: 'Admin' },
      { kind: 'User', name: 'alice', role: 'Admin' },
      { kind: 'User', name: 'otto', role: 'Operator' },
    ];
    const bindings = desiredRoleBindings('acme-prod', members, labels);
    assert.deepEqual(bindings.map((b) => b.metadata?.name), [roleName('Admin'), roleName('Operator')]);
    assert.deepEqual(bindings[0]?.subjects.map((s) => `${s.kind}:${s.name}`), ['Group:acme-admins', 'User:alice', 'User:zoe']);
    assert.deepEqual(bindings[0].roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'zcsp-tenant-admin' });
    assert.ok(bindings.every((b) => b.subjects.every((s) => s.apiGroup === 'rbac.authorization.k8s.io')));
    assert.deepEqual(desiredRoleBindings('acme-prod', [], labels), []);
    assert.deepEqual(desiredRoleBindings('x', [...members].reverse(), labels), desiredRoleBindings('x', members, labels), 'member order does not matter');
  });
});
