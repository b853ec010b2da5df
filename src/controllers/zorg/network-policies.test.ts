import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { vraEgressPolicy, zccIngressPolicy, zccPolicyName } from './network-policies.ts';

describe('VRA egress policy in a tenant namespace', () => {
  it('lets VRA pods reach only the Zorg\'s ZCC pods in the provider namespace, and DNS', () => {
    const p = vraEgressPolicy('acme-prod', 'zcsp-system', ['acme'], { l: 'v' });
    assert.equal(p.metadata?.name, 'zcsp-vra-egress');
    assert.equal(p.metadata.namespace, 'acme-prod');
    assert.deepEqual(p.spec.podSelector, { matchLabels: { 'zcsp.io/role': 'vra' } });
    assert.deepEqual(p.spec.policyTypes, ['Egress']);
    assert.deepEqual(p.spec.egress, [
      { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'zcsp-system' } }, podSelector: { matchExpressions: [{ key: 'zcsp.io/zcc', operator: 'In', values: ['acme'] }] } }] },
      { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }], ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] },
    ]);
  });

  it('allows DNS only when the Zorg has no ZCC', () => {
    const p = vraEgressPolicy('acme-prod', 'zcsp-system', [], {});
    assert.equal(p.spec.egress?.length, 1);
    assert.ok(p.spec.egress.every((r) => (r.ports ?? []).every((port) => port.port === 53)));
  });

  it('never has a rule without peers (that would allow every destination)', () => {
    for (const zccs of [[], ['a', 'b']]) {
      assert.ok(vraEgressPolicy('n', 'p', zccs, {}).spec.egress?.every((r) => (r.to?.length ?? 0) > 0));
    }
  });
});

describe('ZCC ingress policy in the provider namespace', () => {
  it('admits the Zorg\'s namespaces and the provider\'s VRAs only', () => {
    const p = zccIngressPolicy('acme', 'zcsp-system', ['acme'], ['acme-test', 'acme-prod'], false, {});
    assert.ok(p);
    assert.equal(p.metadata?.name, 'zcsp-zcc-acme');
    assert.equal(p.metadata.namespace, 'zcsp-system');
    assert.deepEqual(p.spec.podSelector, { matchExpressions: [{ key: 'zcsp.io/zcc', operator: 'In', values: ['acme'] }] });
    assert.deepEqual(p.spec.policyTypes, ['Ingress']);
    assert.deepEqual(p.spec.ingress, [{ from: [
      { namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['acme-prod', 'acme-test'] }] } },
      { podSelector: { matchLabels: { 'zcsp.io/role': 'vra' } } },
    ] }]);
  });

  it('drops the namespace peer when the Zorg has no namespace yet (an In selector needs values)', () => {
    const p = zccIngressPolicy('acme', 'zcsp-system', ['acme'], [], false, {});
    assert.deepEqual(p?.spec.ingress, [{ from: [{ podSelector: { matchLabels: { 'zcsp.io/role': 'vra' } } }] }]);
  });

  it('admits any source for a ZCC exposed outside the cluster', () => {
    assert.deepEqual(zccIngressPolicy('acme', 'zcsp-system', ['acme'], ['acme-prod'], true, {})?.spec.ingress, [{}]);
  });

  it('has no policy without a ZCC', () => {
    assert.equal(zccIngressPolicy('acme', 'zcsp-system', [], ['acme-prod'], false, {}), undefined);
  });

  it('keeps long Zorg names within object name limits', () => {
    assert.ok(zccPolicyName('x'.repeat(200)).length <= 63);
  });
});
