import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceProfileSpec } from './service-profile.ts';

describe('ServiceProfile spec', () => {
  it('defaults to Zerto\'s values', () => {
    assert.deepEqual(ServiceProfileSpec.parse({}), {
      rpoAlertSeconds: 300,
      journal: { historyHours: 24, hardLimit: { type: 'Size', size: '150Gi' } },
      testReminderMonths: 6,
      wanCompression: true,
      priority: 'Medium',
      checkpointIntervalSeconds: 5,
    });
  });

  it('takes a warning threshold below the hard limit, in the same terms', () => {
    const ok = (hardLimit: object, warningThreshold: object): boolean =>
      ServiceProfileSpec.safeParse({ journal: { hardLimit, warningThreshold } }).success;
    assert.equal(ok({ type: 'Size', size: '150Gi' }, { type: 'Size', size: '115Gi' }), true);
    assert.equal(ok({ type: 'Size', size: '1Gi' }, { type: 'Size', size: 1073741823 }), true);
    assert.equal(ok({ type: 'Percent', percent: 100 }, { type: 'Percent', percent: 75 }), true);
    assert.equal(ok({ type: 'Unlimited' }, { type: 'Percent', percent: 500 }), true, 'anything is below unlimited');
    assert.equal(ok({ type: 'Size', size: '150Gi' }, { type: 'Unlimited' }), true, 'no warning at all');
    assert.equal(ok({ type: 'Size', size: '150Gi' }, { type: 'Size', size: '150Gi' }), false, 'at the limit');
    assert.equal(ok({ type: 'Size', size: '150Gi' }, { type: 'Percent', percent: 10 }), false, 'not comparable');
  });

  it('refuses unknown fields', () => {
    assert.equal(ServiceProfileSpec.safeParse({ rpoAlert: 60 }).success, false);
  });
});
