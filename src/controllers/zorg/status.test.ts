import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Condition } from '../../runtime/index.ts';
import { conditionEvents, zorgStatus, type ZorgObservation } from './status.ts';

const healthy: ZorgObservation = {
  generation: 3,
  namespaces: [{ name: 'acme-prod', state: 'Ready' }, { name: 'acme-test', state: 'Ready' }],
  members: 2,
  failures: {},
  quotasPending: [],
  zcc: { state: 'Exists', names: ['acme'] },
  profiles: { allowed: 1, missing: [], deleting: [] },
  vpgCount: 2,
  protectedBytes: 15n * 2n ** 30n,
  quotas: { maxVPGs: 10, maxProtectedSize: '1Ti' },
};
const t0 = new Date('2026-01-01T00:00:00Z');
const conditions = (s: Record<string, unknown>): Condition[] => s['conditions'] as Condition[];
const cond = (s: Record<string, unknown>, type: string): Condition | undefined => conditions(s).find((c) => c.type === type);

describe('zorgStatus', () => {
  it('is Ready when every part is in place, with usage and observedGeneration', () => {
    const s = zorgStatus(undefined, healthy, t0);
    assert.equal(s['observedGeneration'], 3);
    assert.equal(s['vpgCount'], 2);
    assert.equal(s['protectedSize'], '15Gi');
    assert.equal(cond(s, 'Ready')?.status, 'True');
    assert.ok(conditions(s).every((c) => c.observedGeneration === 3));
    assert.equal(cond(s, 'QuotaExceeded')?.status, 'False');
    assert.equal(cond(s, 'QuotaExceeded')?.message, '2 of 10 VPGs, 15Gi of 1Ti protected');
    assert.deepEqual(Object.keys(s).sort(), ['conditions', 'namespaces', 'observedGeneration', 'protectedSize', 'vpgCount'], 'only fields the CRD schema has');
    assert.deepEqual(s['namespaces'], healthy.namespaces.map((n) => ({ name: n.name, state: n.state })));
  });

  it('is the same status (no write) when nothing changed, later', () => {
    const first = zorgStatus(undefined, healthy, t0);
    assert.deepEqual(zorgStatus(first, healthy, new Date('2026-02-01T00:00:00Z')), first);
  });

  it('reports a namespace conflict, and Ready False for it', () => {
    const s = zorgStatus(undefined, { ...healthy, namespaces: [{ name: 'acme-prod', state: 'Ready' }, { name: 'shared', state: 'Conflict', message: 'namespace shared belongs to Zorg globex' }] }, t0);
    assert.equal(cond(s, 'NamespacesReady')?.reason, 'NamespaceConflict');
    assert.equal(cond(s, 'Ready')?.status, 'False');
    assert.equal(cond(s, 'Ready')?.reason, 'NamespaceConflict');
    assert.match(cond(s, 'Ready')?.message ?? '', /NamespacesReady: namespace shared belongs to Zorg globex/);
    assert.deepEqual(s['namespaces'], [
      { name: 'acme-prod', state: 'Ready' },
      { name: 'shared', state: 'Conflict', message: 'namespace shared belongs to Zorg globex' },
    ]);
  });

  it('reports missing and deleting service profiles', () => {
    const s = zorgStatus(undefined, { ...healthy, profiles: { allowed: 2, missing: ['platinum'], deleting: ['gold'] } }, t0);
    assert.equal(cond(s, 'ServiceProfilesReady')?.reason, 'ServiceProfileNotFound');
    assert.equal(cond(s, 'ServiceProfilesReady')?.message, 'ServiceProfile platinum does not exist; ServiceProfile gold is being deleted');
    assert.equal(cond(s, 'Ready')?.reason, 'ServiceProfileNotFound');
  });

  it('puts write failures on the condition of their kind', () => {
    const s = zorgStatus(undefined, { ...healthy, failures: { rbac: 'apply Role acme-prod/zcsp-tenant-admin: 403 forbidden' } }, t0);
    assert.equal(cond(s, 'RBACReady')?.status, 'False');
    assert.equal(cond(s, 'RBACReady')?.reason, 'ApplyFailed');
    assert.equal(cond(s, 'Ready')?.reason, 'ApplyFailed');
  });

  it('waits for the quota controller before Ready', () => {
    const s = zorgStatus(undefined, { ...healthy, quotasPending: ['acme-prod'] }, t0);
    assert.equal(cond(s, 'ResourceQuotaReady')?.reason, 'QuotaPending');
    assert.equal(cond(s, 'Ready')?.status, 'False');
  });

  it('says when the tenant is past its quotas, without making it not Ready', () => {
    const s = zorgStatus(undefined, { ...healthy, vpgCount: 11, protectedBytes: 2n ** 41n }, t0);
    assert.equal(cond(s, 'QuotaExceeded')?.status, 'True');
    assert.equal(cond(s, 'QuotaExceeded')?.reason, 'TooManyVPGs');
    assert.equal(cond(s, 'QuotaExceeded')?.message, '11 VPGs, the quota is 10; 2Ti protected, the quota is 1Ti');
    assert.equal(cond(s, 'Ready')?.status, 'True');
    assert.equal(cond(zorgStatus(undefined, { ...healthy, protectedBytes: 2n ** 41n }, t0), 'QuotaExceeded')?.reason, 'ProtectedSizeExceeded');
  });

  it('reports a ZCC conflict', () => {
    const s = zorgStatus(undefined, { ...healthy, zcc: { state: 'Conflict', message: 'ZCC zcsp-system/acme serves Zorg globex' } }, t0);
    assert.equal(cond(s, 'ZCCConfigured')?.reason, 'ZCCConflict');
    assert.match(cond(s, 'NetworkPoliciesReady')?.message ?? '', /DNS only/);
  });
});

describe('conditionEvents', () => {
  it('warns when a condition turns into a problem, once', () => {
    const good = conditions(zorgStatus(undefined, healthy, t0));
    const broken = conditions(zorgStatus({ conditions: good }, { ...healthy, profiles: { allowed: 1, missing: ['platinum'], deleting: [] } }, t0));
    const events = conditionEvents(good, broken);
    assert.deepEqual(events.map((e) => `${e.type} ${e.reason}`), ['Warning ServiceProfileNotFound']);
    assert.match(events[0]?.note ?? '', /^ServiceProfilesReady: ServiceProfile platinum does not exist/);
    assert.deepEqual(conditionEvents(broken, broken), [], 'no event without a transition (a restart records nothing)');
  });

  it('says when the Zorg becomes Ready', () => {
    const events = conditionEvents(undefined, conditions(zorgStatus(undefined, healthy, t0)));
    assert.deepEqual(events.map((e) => `${e.type} ${e.reason}`), ['Normal Ready']);
  });

  it('warns about a quota being exceeded', () => {
    const good = conditions(zorgStatus(undefined, healthy, t0));
    const over = conditions(zorgStatus({ conditions: good }, { ...healthy, vpgCount: 11 }, t0));
    assert.deepEqual(conditionEvents(good, over).map((e) => e.reason), ['TooManyVPGs']);
  });
});
