import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CustomObject } from '../../runtime/index.ts';
import { planZcc } from './zcc.ts';

const zcc = (name: string, spec: Record<string, unknown>, deleting = false): CustomObject =>
  ({ metadata: { name, namespace: 'zcsp-system', ...(deleting && { deletionTimestamp: '2026-01-01T00:00:00Z' }) }, spec });

describe('planZcc', () => {
  it('creates ZCC <zorg> when none serves the Zorg', () => {
    assert.deepEqual(planZcc('acme', 'zcsp-system', [zcc('globex', { zorg: 'globex' })], { l: 'v' }), {
      state: 'Create',
      desired: { apiVersion: 'zcsp.io/v1alpha1', kind: 'ZCC', metadata: { name: 'acme', namespace: 'zcsp-system', labels: { l: 'v' } }, spec: { zorg: 'acme' } },
    });
  });

  it('uses the ZCCs that serve the Zorg, whatever their names, and says when one is exposed', () => {
    assert.deepEqual(planZcc('acme', 'zcsp-system', [zcc('acme-b', { zorg: 'acme' }), zcc('acme-a', { zorg: 'acme', serviceType: 'ClusterIP' })], {}),
      { state: 'Found', names: ['acme-a', 'acme-b'], external: false });
    assert.deepEqual(planZcc('acme', 'zcsp-system', [zcc('acme', { zorg: 'acme', serviceType: 'LoadBalancer' })], {}),
      { state: 'Found', names: ['acme'], external: true });
  });

  it('reports a ZCC named like the Zorg that serves another', () => {
    const plan = planZcc('acme', 'zcsp-system', [zcc('acme', { zorg: 'globex' })], {});
    assert.equal(plan.state, 'Conflict');
    assert.match('message' in plan ? plan.message : '', /serves Zorg globex/);
  });

  it('waits for its ZCC being deleted', () => {
    assert.equal(planZcc('acme', 'zcsp-system', [zcc('acme', { zorg: 'acme' }, true)], {}).state, 'Terminating');
  });
});
