import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configFromEnv, pullPolicy, pullSecrets } from './config.ts';

const base = { POD_NAMESPACE: 'zcsp-system', ZCSP_IMAGE: 'registry.example.com/zcsp:0.1.0' };

describe('configFromEnv', () => {
  it('reads the namespace and image, and leaves pulling to Kubernetes when told nothing', () => {
    const c = configFromEnv(base);
    assert.equal(c.namespace, 'zcsp-system');
    assert.equal(c.image, 'registry.example.com/zcsp:0.1.0');
    assert.equal(c.imagePullPolicy, undefined);
    assert.deepEqual(c.imagePullSecrets, []);
    assert.deepEqual(pullPolicy(c), {});
    assert.deepEqual(pullSecrets(c), {});
    assert.deepEqual(configFromEnv({ ...base, ZCSP_IMAGE_PULL_POLICY: '', ZCSP_IMAGE_PULL_SECRETS: ' ' }).imagePullSecrets, []);
  });

  it('reads the pull policy and a comma-separated list of pull secrets', () => {
    const c = configFromEnv({ ...base, ZCSP_IMAGE_PULL_POLICY: 'Always', ZCSP_IMAGE_PULL_SECRETS: 'regcred, mirror.example.com' });
    assert.deepEqual(pullPolicy(c), { imagePullPolicy: 'Always' });
    assert.deepEqual(pullSecrets(c), { imagePullSecrets: [{ name: 'regcred' }, { name: 'mirror.example.com' }] });
  });

  it('names every variable that is missing or wrong', () => {
    assert.throws(() => configFromEnv({}), /POD_NAMESPACE is missing or empty; ZCSP_IMAGE is missing or empty/);
    assert.throws(() => configFromEnv({ ...base, ZCSP_IMAGE: '' }), /ZCSP_IMAGE is missing or empty/);
    assert.throws(() => configFromEnv({ ...base, ZCSP_IMAGE_PULL_POLICY: 'Sometimes' }), /ZCSP_IMAGE_PULL_POLICY "Sometimes" must be one of Always, IfNotPresent, Never/);
    assert.throws(() => configFromEnv({ ...base, ZCSP_IMAGE_PULL_SECRETS: 'regcred,Reg_Cred' }), /ZCSP_IMAGE_PULL_SECRETS names "regcred,Reg_Cred": each secret name \(item 1\) must be a Kubernetes object name/);
    assert.throws(() => configFromEnv({ ...base, ZCSP_IMAGE_PULL_SECRETS: 'regcred,,other' }), /ZCSP_IMAGE_PULL_SECRETS .*\(item 1\)/);
  });
});
