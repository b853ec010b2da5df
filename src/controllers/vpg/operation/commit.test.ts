import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VPG } from '../../../crds/vpg.ts';
import { reverseVpg } from './commit.ts';
import { seedOf } from './seed.ts';

const vpg = VPG.parse({
  apiVersion: 'zcsp.io/v1alpha1',
  kind: 'VPG',
  metadata: { name: 'web', namespace: 'acme-prod', uid: 'u-1', labels: { team: 'shop' } },
  spec: {
    serviceProfile: 'gold', protectedSite: 'prod', recoverySite: 'dr', volumes: { selector: { matchLabels: { app: 'web' } } },
    bootOrder: [{ name: 'app', workloads: [{ kind: 'Deployment', name: 'web' }] }],
    recovery: { namespace: 'acme-dr', testNamespace: 'acme-test', storageClassName: 'fast' },
    deletionPolicy: 'Retain',
    operation: { type: 'Failover', reverseProtection: true },
  },
  status: { volumes: [{ claimName: 'app-data', state: 'Protected' }, { claimName: 'app-logs', state: 'Protected' }] },
});

describe('reverse VPG', () => {
  it('protects the recovered claims from the recovery site back home, with the same SLA and workloads', () => {
    const r = reverseVpg(vpg, undefined, 'acme-prod/web');
    assert.deepEqual(r.metadata, { name: 'web', namespace: 'acme-dr', labels: { team: 'shop' }, annotations: { 'zcsp.io/reverse-of': 'acme-prod/web' } });
    assert.deepEqual(r.spec, {
      serviceProfile: 'gold', protectedSite: 'dr', recoverySite: 'prod', volumes: { claimNames: ['app-data', 'app-logs'] },
      bootOrder: [{ name: 'app', delaySeconds: 0, workloads: [{ kind: 'Deployment', name: 'web' }] }],
      recovery: { namespace: 'acme-prod', testNamespace: 'acme-test', storageClassName: 'fast' },
      deletionPolicy: 'Retain',
    });
    // It is a valid VPG, and carries no operation.
    assert.equal(VPG.parse(r).spec.operation, undefined);
  });

  it('names where its target starts from: the old volumes on their node', () => {
    const r = reverseVpg(vpg, { node: 'prod-1', streamVolumes: [
      { name: 'app-data', kind: 'fs', path: '/host/var/lib/pv/a' }, { name: 'app-logs', kind: 'fs', path: '/host/var/lib/pv/b' }, { name: 'gone', kind: 'fs', path: '/x' },
    ] }, 'acme-prod/web');
    assert.deepEqual(seedOf(r), { node: 'prod-1', volumes: { 'app-data': '/host/var/lib/pv/a', 'app-logs': '/host/var/lib/pv/b' } });
  });

  it('ignores a malformed seed (the sync is then a full one)', () => {
    assert.equal(seedOf({ metadata: { annotations: { 'zcsp.io/seed': '{"node": 3}' } } }), undefined);
    assert.equal(seedOf({ metadata: { annotations: { 'zcsp.io/seed': 'not json' } } }), undefined);
    assert.equal(seedOf({ metadata: { annotations: { 'zcsp.io/seed': '{"node":"n","volumes":{"a":"relative"}}' } } }), undefined);
  });
});
