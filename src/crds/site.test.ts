import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SiteSpec } from './site.ts';

describe('Site spec', () => {
  const selector = { nodeSelector: { 'zcsp.io/site': 'dr' } };

  it('defaults the VRA settings', () => {
    assert.deepEqual(SiteSpec.parse(selector), { ...selector, vra: { readHostPaths: ['/var/lib/kubelet'], storage: { size: '50Gi' } } });
  });

  it('compares VRA requests with limits as quantities', () => {
    const resources = (requests: object, limits: object) => SiteSpec.safeParse({ ...selector, vra: { resources: { requests, limits } } }).success;
    assert.equal(resources({ cpu: '500m', memory: '512Mi' }, { cpu: 1, memory: '1Gi' }), true);
    assert.equal(resources({ cpu: '1000m' }, { cpu: 1 }), true, 'equal is fine');
    assert.equal(resources({ memory: '1025Mi' }, { memory: '1Gi' }), false);
    assert.equal(resources({ cpu: 2 }, {}), true, 'no limit');
  });

  it('limits bandwidth in a window that may span midnight', () => {
    const bandwidth = (window: object) => SiteSpec.safeParse({ ...selector, bandwidth: { limitMbps: 100, window } }).success;
    assert.equal(bandwidth({ start: '22:00', end: '06:00' }), true);
    assert.equal(bandwidth({ start: '06:00', end: '06:00' }), false);
    assert.equal(bandwidth({ start: '6:00', end: '07:00' }), false);
  });
});
