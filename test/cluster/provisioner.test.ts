import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PROVISIONER_NAME, storageClass, volumeFor } from './provisioner.ts';

describe('volumeFor', () => {
  const claim = {
    metadata: { name: 'data', namespace: 'app', uid: 'u-1' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } }, storageClassName: 'zcsp-local' },
  };
  it('makes a hostPath PV pinned to the node and pre-bound to the claim', () => {
    const pv = volumeFor(claim, storageClass(), 'dr-1');
    assert.equal(pv.metadata?.name, 'pvc-u-1');
    assert.equal(pv.metadata.annotations?.['pv.kubernetes.io/provisioned-by'], PROVISIONER_NAME);
    assert.equal(pv.spec?.capacity?.['storage'], '2Gi');
    assert.equal(pv.spec.hostPath?.path, '/var/lib/zcsp-local-pv/pvc-u-1');
    assert.deepEqual(pv.spec.claimRef, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'app', name: 'data', uid: 'u-1' });
    assert.deepEqual(pv.spec.nodeAffinity?.required?.nodeSelectorTerms[0]?.matchExpressions?.[0]?.values, ['dr-1']);
    assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Delete');
  });
  it('refuses a claim without a uid', () => {
    assert.throws(() => volumeFor({ metadata: { name: 'x' } }, storageClass(), 'n'), /no uid/);
  });
});
