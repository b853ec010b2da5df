import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ZorgSpec } from './zorg.ts';

describe('Zorg spec', () => {
  const minimal = { displayName: 'Acme', namespaces: ['acme'], allowedServiceProfiles: ['gold'] };

  it('needs a name, namespaces and a way to get an SLA; the rest defaults', () => {
    assert.deepEqual(ZorgSpec.parse(minimal), { ...minimal, members: [], allowCustomSla: false });
    assert.equal(ZorgSpec.safeParse({ displayName: 'Acme', namespaces: ['acme'] }).success, false, 'no profile, no own SLA');
    assert.equal(ZorgSpec.safeParse({ displayName: 'Acme', namespaces: ['acme'], allowCustomSla: true }).success, true);
  });

  it('keeps the cluster\'s namespaces out of tenants\' hands', () => {
    for (const ns of ['default', 'kube-system', 'kube-node-lease']) {
      assert.equal(ZorgSpec.safeParse({ ...minimal, namespaces: [ns] }).success, false, ns);
    }
    assert.equal(ZorgSpec.safeParse({ ...minimal, namespaces: ['kubernetes-apps'] }).success, true);
  });

  it('takes each member once, as a user or a group, in one of three roles', () => {
    const members = [{ kind: 'User', name: 'alice', role: 'Admin' }, { kind: 'Group', name: 'alice', role: 'Viewer' }];
    assert.equal(ZorgSpec.safeParse({ ...minimal, members }).success, true, 'a user and a group may share a name');
    assert.equal(ZorgSpec.safeParse({ ...minimal, members: [...members, { kind: 'User', name: 'alice', role: 'Operator' }] }).success, false);
  });
});
