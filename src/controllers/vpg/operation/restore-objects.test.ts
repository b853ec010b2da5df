import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { recoveredClaim, restoreJob, restoreName, restoreSecret, restoreState, type RestoreTarget } from './restore-objects.ts';

const target: RestoreTarget = {
  vpg: { namespace: 'acme-prod', name: 'web', uid: 'u-1' },
  namespace: 'acme-test',
  source: { metadata: { name: 'app-data', namespace: 'acme-prod', labels: { app: 'web' } }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: { requests: { storage: '1Gi' } } } },
  size: '2Gi',
  storageClassName: 'dr-class',
  checkpointId: '42',
  nodeSelector: { 'zcsp.io/site': 'dr' },
  image: 'ghcr.io/zcsp/zcsp:0.1.0',
  vra: { host: '10.1.2.3', port: 9441, cert: 'CERT', servername: 'vra.zcsp.io' },
};
const exp = { id: 'e1', token: 'secret-token', path: '/v1/exports/e1' };

describe('restore objects', () => {
  it('makes a claim like the protected one, at its bound size, in the recovery storage class', () => {
    assert.deepEqual(recoveredClaim(target), {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: 'app-data', namespace: 'acme-test',
        labels: { app: 'web', 'zcsp.io/vpg-uid': 'u-1', 'zcsp.io/recovery-role': 'restore' },
        annotations: { 'zcsp.io/vpg': 'acme-prod/web', 'zcsp.io/checkpoint': '42' },
      },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } }, storageClassName: 'dr-class' },
    });
    assert.deepEqual(recoveredClaim({ ...target, storageClassName: undefined }).spec?.storageClassName, undefined);
  });

  it('keeps the token in a Secret and runs zcsp restore with --verify on the recovery site', () => {
    const secret = restoreSecret(target, exp);
    assert.deepEqual({ name: secret.metadata?.name, data: secret.stringData, annotations: secret.metadata?.annotations }, {
      name: restoreName(target),
      data: { token: 'secret-token', 'ca.crt': 'CERT', url: 'https://10.1.2.3:9441/v1/exports/e1' },
      annotations: { 'zcsp.io/vpg': 'acme-prod/web', 'zcsp.io/export': 'e1' },
    });
    const job = restoreJob(target, exp);
    const pod = job.spec?.template.spec ?? { containers: [] };
    assert.deepEqual({ nodeSelector: pod.nodeSelector, restartPolicy: pod.restartPolicy, args: pod.containers[0]?.args, volumes: pod.volumes?.map((v) => v.persistentVolumeClaim?.claimName ?? v.secret?.secretName) }, {
      nodeSelector: { 'zcsp.io/site': 'dr' },
      restartPolicy: 'Never',
      args: [
        'restore', '--from', 'https://10.1.2.3:9441/v1/exports/e1', '--token-file', '/var/run/zcsp/export/token', '--ca-file', '/var/run/zcsp/export/ca.crt',
        '--servername', 'vra.zcsp.io', '--into', '/restore', '--verify',
      ],
      volumes: ['app-data', restoreName(target)],
    });
    assert.equal(JSON.stringify(job).includes('secret-token'), false, 'the token is only in the Secret');
    assert.equal(pod.containers[0]?.imagePullPolicy, undefined);
    // Pulled as the recovery VRA is (its pull secrets are in the provider namespace, not here).
    const pulled = restoreJob({ ...target, imagePullPolicy: 'Always' }, exp).spec?.template.spec;
    assert.equal(pulled?.containers[0]?.imagePullPolicy, 'Always');
    assert.equal(pulled.imagePullSecrets, undefined);
  });

  it('names long claims within 63 characters, uniquely', () => {
    const long = (n: string): string => restoreName({ vpg: target.vpg, source: { metadata: { name: n } } });
    assert.ok(long('x'.repeat(200)).length <= 63);
    assert.notEqual(long(`${'x'.repeat(200)}a`), long(`${'x'.repeat(200)}b`));
  });

  it('reads a Job\'s outcome', () => {
    assert.deepEqual(restoreState(undefined), { state: 'missing' });
    assert.deepEqual(restoreState({ status: { active: 1 } }), { state: 'running' });
    assert.deepEqual(restoreState({ status: { conditions: [{ type: 'Complete', status: 'True' }] } }), { state: 'done' });
    assert.deepEqual(restoreState({ status: { conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] } }),
      { state: 'failed', reason: 'Job has reached the specified backoff limit' });
  });
});
