import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { claimNamespace, desiredNamespace, releasePatch } from './namespaces.ts';
import type { Namespace } from './types.ts';

const zorg = { name: 'acme', uid: 'uid-acme' };
const ref = (name: string, uid: string, kind = 'Zorg', apiVersion = 'zcsp.io/v1alpha1') => ({ apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true });
const messageOf = (c: object): string => ('message' in c && typeof c.message === 'string' ? c.message : '');
const ns = (metadata: Namespace['metadata']): Namespace => ({ metadata: { name: 'acme-prod', resourceVersion: '7', ...metadata } });

describe('claimNamespace', () => {
  it('creates what does not exist and keeps what is its own', () => {
    assert.deepEqual(claimNamespace('acme-prod', undefined, zorg, 'zcsp-system'), { state: 'Absent' });
    assert.deepEqual(claimNamespace('acme-prod', ns({ ownerReferences: [ref('acme', 'uid-acme')] }), zorg, 'zcsp-system'), { state: 'Owned' });
  });

  it('never takes over a namespace it did not create', () => {
    const existing = claimNamespace('acme-prod', ns({}), zorg, 'zcsp-system');
    assert.equal(existing.state, 'Conflict');
    assert.match(messageOf(existing), /exists and was not created for this Zorg.*zcsp\.io\/adopt=acme/);
    const other = claimNamespace('acme-prod', ns({ ownerReferences: [ref('globex', 'uid-globex')] }), zorg, 'zcsp-system');
    assert.match(messageOf(other), /belongs to Zorg globex/);
    const earlier = claimNamespace('acme-prod', ns({ ownerReferences: [ref('acme', 'uid-old')] }), zorg, 'zcsp-system');
    assert.match(messageOf(earlier), /an earlier Zorg of this name/);
    const app = claimNamespace('acme-prod', ns({ ownerReferences: [ref('x', 'u', 'Project', 'example.io/v1')] }), zorg, 'zcsp-system');
    assert.match(messageOf(app), /belongs to Project x/);
  });

  it('refuses the provider namespace even if annotated', () => {
    const c = claimNamespace('zcsp-system', ns({ name: 'zcsp-system', annotations: { 'zcsp.io/adopt': 'acme' } }), zorg, 'zcsp-system');
    assert.equal(c.state, 'Conflict');
  });

  it('adopts a namespace the provider handed over, not one handed to another Zorg or owned', () => {
    assert.deepEqual(claimNamespace('acme-prod', ns({ annotations: { 'zcsp.io/adopt': 'acme' } }), zorg, 'zcsp-system'), { state: 'Adoptable' });
    assert.equal(claimNamespace('acme-prod', ns({ annotations: { 'zcsp.io/adopt': 'globex' } }), zorg, 'zcsp-system').state, 'Conflict');
    assert.equal(claimNamespace('acme-prod', ns({ annotations: { 'zcsp.io/adopt': 'acme' }, ownerReferences: [ref('globex', 'g')] }), zorg, 'zcsp-system').state, 'Conflict');
  });

  it('waits for a namespace being deleted', () => {
    assert.equal(claimNamespace('acme-prod', ns({ deletionTimestamp: '2026-01-01T00:00:00Z', ownerReferences: [ref('acme', 'uid-acme')] }), zorg, 'zcsp-system').state, 'Terminating');
  });
});

describe('namespace shape and release', () => {
  it('labels the namespace', () => {
    assert.deepEqual(desiredNamespace('acme-prod', { 'zcsp.io/zorg': 'acme' }), { metadata: { name: 'acme-prod', labels: { 'zcsp.io/zorg': 'acme' } } });
  });

  it('removes only its own owner reference and labels, keeps the resourceVersion, and leaves the namespace adoptable by the same Zorg', () => {
    const other = { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'uid-x' };
    const live = ns({ labels: { 'zcsp.io/zorg': 'acme', 'app.kubernetes.io/managed-by': 'zcsp-operator', team: 'a' }, ownerReferences: [other, ref('acme', 'uid-acme')] });
    assert.deepEqual(releasePatch(live, zorg, 'app.kubernetes.io/managed-by'), {
      metadata: {
        resourceVersion: '7',
        labels: { 'zcsp.io/zorg': null, 'app.kubernetes.io/managed-by': null },
        annotations: { 'zcsp.io/applied-hash': null, 'zcsp.io/adopt': 'acme' },
        ownerReferences: [other],
      },
    });
    const released = ns({ annotations: { 'zcsp.io/adopt': 'acme' } });
    assert.deepEqual(claimNamespace('acme-prod', released, zorg, 'zcsp-system'), { state: 'Adoptable' });
  });
});
