import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Condition, CustomObject } from '../../runtime/index.ts';
import { bounded, describeUsage, profileEvents, profileStatus, profileUsage, profilesOfVpg, profilesOfZorg, defaultProfilesByNamespace } from './usage.ts';

const zorg = (name: string, spec: Record<string, unknown>): CustomObject => ({ metadata: { name }, spec });
const vpg = (namespace: string, name: string, spec: Record<string, unknown>): CustomObject => ({ metadata: { namespace, name }, spec });
const zorgs = [
  zorg('acme', { namespaces: ['acme-prod'], allowedServiceProfiles: ['gold', 'silver'], defaultServiceProfile: 'gold' }),
  zorg('globex', { namespaces: ['globex-prod'], allowedServiceProfiles: ['silver'] }),
];
const vpgs = [
  vpg('acme-prod', 'named', { serviceProfile: 'silver' }),
  vpg('acme-prod', 'defaulted', {}),
  vpg('acme-prod', 'custom', { sla: { rpoAlertSeconds: 60 } }),
  vpg('globex-prod', 'no-default', {}),
  vpg('other', 'stray', { serviceProfile: 'gold' }),
];

describe('profile usage', () => {
  it('counts the Zorgs that allow a profile and the VPGs that use it, by name or through their Zorg\'s default', () => {
    assert.deepEqual(profileUsage('gold', zorgs, vpgs), { zorgs: ['acme'], vpgs: ['acme-prod/defaulted', 'other/stray'] });
    assert.deepEqual(profileUsage('silver', zorgs, vpgs), { zorgs: ['acme', 'globex'], vpgs: ['acme-prod/named'] });
    assert.deepEqual(profileUsage('bronze', zorgs, vpgs), { zorgs: [], vpgs: [] });
  });

  it('maps Zorgs and VPGs to the profiles to reconcile', () => {
    assert.deepEqual(profilesOfZorg(zorgs[0] ?? zorg('x', {})), ['gold', 'silver']);
    const defaults = defaultProfilesByNamespace(zorgs);
    assert.deepEqual(profilesOfVpg(vpg('acme-prod', 'x', {}), defaults), ['gold']);
    assert.deepEqual(profilesOfVpg(vpg('acme-prod', 'x', { sla: {} }), defaults), []);
    assert.deepEqual(profilesOfVpg(vpg('acme-prod', 'x', { serviceProfile: 'silver' }), defaults), ['silver']);
    assert.deepEqual(profilesOfZorg({ metadata: { name: 'broken' }, spec: { allowedServiceProfiles: 'gold' } }), [], 'a malformed spec is read defensively');
  });

  it('keeps the list of users bounded', () => {
    assert.equal(bounded(Array.from({ length: 12 }, (_, i) => `z${i}`)), 'z0, z1, z2, z3, z4, z5, z6, z7, z8, z9 and 2 more');
    assert.equal(describeUsage({ zorgs: ['acme'], vpgs: ['a/b'] }), 'allowed by 1 Zorg(s): acme; used by 1 VPG(s): a/b');
  });
});

describe('profile status', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  const cond = (s: Record<string, unknown>, type: string): Condition | undefined => (s['conditions'] as Condition[]).find((c) => c.type === type);

  it('is Ready and Deletable when valid and unused', () => {
    const s = profileStatus(undefined, { generation: 2, invalid: undefined, usage: { zorgs: [], vpgs: [] }, deleting: false }, t0);
    assert.equal(s['vpgCount'], 0);
    assert.equal(s['observedGeneration'], 2);
    assert.equal(cond(s, 'Ready')?.status, 'True');
    assert.equal(cond(s, 'Deletable')?.status, 'True');
  });

  it('says who holds a profile being deleted, and warns each time that changes', () => {
    const usage = { zorgs: ['acme'], vpgs: ['acme-prod/web'] };
    const before = profileStatus(undefined, { generation: 1, invalid: undefined, usage, deleting: false }, t0);
    assert.equal(cond(before, 'Deletable')?.reason, 'InUse');
    const deleting = profileStatus(before, { generation: 1, invalid: undefined, usage, deleting: true }, t0);
    assert.equal(cond(deleting, 'Deletable')?.message, 'deletion waits until the profile is unused: allowed by 1 Zorg(s): acme; used by 1 VPG(s): acme-prod/web');
    const conds = (s: Record<string, unknown>): Condition[] => s['conditions'] as Condition[];
    assert.deepEqual(profileEvents(conds(before), conds(deleting), true).map((e) => e.reason), ['DeletionBlocked']);
    assert.deepEqual(profileEvents(conds(deleting), conds(deleting), true), []);
    assert.deepEqual(profileEvents(conds(before), conds(before), false), [], 'in use without a deletion is no news');
  });

  it('reports an invalid spec', () => {
    const s = profileStatus(undefined, { generation: 1, invalid: 'spec.rpoAlertSeconds: too small', usage: { zorgs: [], vpgs: [] }, deleting: false }, t0);
    assert.equal(cond(s, 'Ready')?.reason, 'InvalidSpec');
    assert.deepEqual(profileEvents(undefined, s['conditions'] as Condition[], false).map((e) => e.reason), ['InvalidSpec']);
  });
});
