import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceQuota } from './types.ts';
import { desiredQuota, quotaEnforced, quotaStuck } from './quota.ts';

describe('tenant ResourceQuota', () => {
  it('limits the VPG count of each namespace to the tenant\'s maxVPGs', () => {
    assert.deepEqual(desiredQuota('acme-prod', { maxVPGs: 10 }, {}), {
      metadata: { name: 'zcsp-quota', namespace: 'acme-prod', labels: {} }, spec: { hard: { 'count/vpgs.zcsp.io': '10' } },
    });
    assert.equal(desiredQuota('acme-prod', { maxVPGs: 0 }, {})?.spec.hard['count/vpgs.zcsp.io'], '0');
  });

  it('has none without maxVPGs (maxProtectedSize is tenant-wide, not a namespace quota)', () => {
    assert.equal(desiredQuota('acme-prod', undefined, {}), undefined);
    assert.equal(desiredQuota('acme-prod', { maxProtectedSize: '1Ti' } as { maxVPGs?: number }, {}), undefined);
  });

  it('is enforced once the quota controller reports the desired limits and counts the usage', () => {
    const desired = desiredQuota('a', { maxVPGs: 5 }, {});
    assert.ok(desired);
    assert.equal(quotaEnforced(desired, undefined), false);
    assert.equal(quotaEnforced(desired, { ...desired }), false, 'no status yet');
    assert.equal(quotaEnforced(desired, { ...desired, status: { hard: { 'count/vpgs.zcsp.io': '4' } } }), false, 'an older limit');
    assert.equal(quotaEnforced(desired, { ...desired, status: { hard: { 'count/vpgs.zcsp.io': '5' } } }), false, 'not counted yet: the API server refuses creates');
    assert.equal(quotaEnforced(desired, { ...desired, status: { hard: { 'count/vpgs.zcsp.io': '5' }, used: { 'count/vpgs.zcsp.io': '1' } } }), true);
  });

  it('is recreated when taken in but not counted for a while (created before the quota controller knew vpgs)', () => {
    const desired = desiredQuota('a', { maxVPGs: 5 }, {});
    assert.ok(desired);
    const at = (creationTimestamp: string, status: NonNullable<ResourceQuota['status']>): ResourceQuota => ({ ...desired, metadata: { ...desired.metadata, creationTimestamp }, status });
    const now = new Date('2026-01-01T00:01:00Z');
    const hard = { 'count/vpgs.zcsp.io': '5' };
    assert.equal(quotaStuck(desired, at('2026-01-01T00:00:00Z', { hard }), now), true);
    assert.equal(quotaStuck(desired, at('2026-01-01T00:00:52Z', { hard }), now), false, 'give the quota controller a moment to count it');
    assert.equal(quotaStuck(desired, at('2026-01-01T00:00:00Z', { hard, used: { 'count/vpgs.zcsp.io': '0' } }), now), false, 'counted');
    assert.equal(quotaStuck(desired, at('2026-01-01T00:00:00Z', {}), now), false, 'not taken in at all: no quota controller, recreating would not help');
    assert.equal(quotaStuck(desired, undefined, now), false);
  });
});
