import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidObjectError, fieldPath, parseObject } from './parse.ts';
import { zccKind } from './zcc.ts';

describe('parseObject', () => {
  const zcc = { apiVersion: 'zcsp.io/v1alpha1', kind: 'ZCC', metadata: { name: 'acme', namespace: 'zcsp-system', uid: 'u1' }, spec: { zorg: 'acme' } };

  it('returns the object with the defaults the API server would set, metadata untouched', () => {
    const parsed = parseObject(zccKind, zcc);
    assert.deepEqual(parsed.spec, { zorg: 'acme', replicas: 1, serviceType: 'ClusterIP' });
    assert.equal(parsed.metadata['uid'], 'u1');
  });

  it('refuses with every problem at its field, as the API server writes it', () => {
    const bad = { ...zcc, spec: { zorg: 'Acme', replicas: 0, port: 1 } };
    assert.throws(() => parseObject(zccKind, bad), (err: unknown) => {
      assert.ok(err instanceof InvalidObjectError);
      assert.equal(err.code, 'InvalidObject');
      assert.deepEqual(err.problems.map((p) => p.field).sort(), ['spec.port', 'spec.replicas', 'spec.zorg']);
      assert.match(err.message, /spec\.port: unknown field/);
      return true;
    });
  });

  it('writes paths as the API server does', () => {
    assert.equal(fieldPath(['spec', 'bootOrder', 0, 'workloads', 1, 'name']), 'spec.bootOrder[0].workloads[1].name');
    assert.equal(fieldPath(['spec', 'nodeSelector', 'zcsp.io/site']), 'spec.nodeSelector.zcsp.io/site');
  });
});
