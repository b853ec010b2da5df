import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { CustomObject } from '../../runtime/index.ts';
import { OperatorConfig } from '../config.ts';
import { recoverySitesOf } from './index.ts';
import {
  credentialsHash, credentialsProblem, credentialsSecretName, desiredDeployment, desiredRole, desiredRoleBinding, desiredRoutes, desiredService,
  desiredServiceAccount, generateCredentials, zccChildName,
} from './objects.ts';

const config = OperatorConfig.parse({ namespace: 'zcsp-system', image: 'ghcr.io/zcsp/zcsp:1.0.0' });
const ref = { name: 'acme', zorg: 'acme' };

function must<T>(value: T | undefined): T {
  assert.ok(value !== undefined);
  return value;
}

describe('ZCC children', () => {
  it('are named after the ZCC; the credentials Secret is <name>-credentials unless the spec names one', () => {
    assert.equal(zccChildName('acme'), 'zcc-acme');
    assert.equal(credentialsSecretName('acme', undefined), 'acme-credentials');
    assert.equal(credentialsSecretName('acme', 'provided'), 'provided');
  });

  it('a Deployment running `zcsp zcc` for the Zorg, non-root, with the credentials mounted read-only and their hash in the template', () => {
    const d = desiredDeployment(config, ref, { replicas: 2, secretName: 'acme-credentials', credentialsHash: 'abcd' });
    const spec = must(d.spec);
    const pod = must(spec.template.spec);
    const c = must(pod.containers[0]);
    assert.equal(spec.replicas, 2);
    assert.deepEqual(spec.selector.matchLabels, { 'zcsp.io/role': 'zcc', 'zcsp.io/zcc': 'acme' });
    assert.equal(spec.template.metadata?.labels?.['zcsp.io/zorg'], 'acme');
    assert.equal(spec.template.metadata.annotations?.['zcsp.io/credentials-hash'], 'abcd');
    assert.deepEqual(spec.strategy?.rollingUpdate, { maxUnavailable: 0, maxSurge: 1 });
    assert.equal(pod.serviceAccountName, 'zcc-acme');
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(pod.securityContext.fsGroup, 65532, 'the secret files are readable by the nonroot group');
    assert.equal(c.image, 'ghcr.io/zcsp/zcsp:1.0.0');
    assert.deepEqual(c.args, ['zcc', '--listen', '0.0.0.0:9443', '--health-port', '9441', '--zorg', 'acme', '--routes', 'zcc-acme-routes', '--credentials-dir', '/etc/zcsp/zcc']);
    assert.deepEqual(c.ports?.map((p) => [p.name, p.containerPort]), [['tls', 9443], ['health', 9441]]);
    assert.equal(c.readinessProbe?.httpGet?.path, '/readyz');
    assert.deepEqual(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    assert.deepEqual(c.volumeMounts, [{ name: 'credentials', mountPath: '/etc/zcsp/zcc', readOnly: true }]);
    assert.deepEqual(pod.volumes, [{ name: 'credentials', secret: { secretName: 'acme-credentials', defaultMode: 0o440 } }]);
    assert.equal(pod.imagePullSecrets, undefined);
    assert.equal(c.imagePullPolicy, undefined);
    const pulling = desiredDeployment(OperatorConfig.parse({ ...config, imagePullPolicy: 'IfNotPresent', imagePullSecrets: ['regcred'] }), ref, { replicas: 2, secretName: 'acme-credentials', credentialsHash: 'abcd' });
    assert.deepEqual(pulling.spec?.template.spec?.imagePullSecrets, [{ name: 'regcred' }]);
    assert.equal(pulling.spec.template.spec.containers[0]?.imagePullPolicy, 'IfNotPresent');
  });

  it('a Service of the asked type on port 9443 in front of the connector pods', () => {
    const s = desiredService(config, ref, 'LoadBalancer');
    assert.equal(s.metadata?.name, 'zcc-acme');
    assert.deepEqual(s.spec, { type: 'LoadBalancer', selector: { 'zcsp.io/role': 'zcc', 'zcsp.io/zcc': 'acme' }, ports: [{ name: 'tls', port: 9443, targetPort: 'tls', protocol: 'TCP' }] });
  });

  it('a ServiceAccount whose Role reads VRA pods and its own routes, nothing else', () => {
    assert.equal(desiredServiceAccount(config, ref).metadata?.name, 'zcc-acme');
    assert.deepEqual(desiredRole(config, ref).rules, [
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['zcc-acme-routes'], verbs: ['get', 'list', 'watch'] },
    ]);
    const rb = desiredRoleBinding(config, ref);
    assert.deepEqual(rb.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'zcc-acme' });
    assert.deepEqual(rb.subjects, [{ kind: 'ServiceAccount', name: 'zcc-acme', namespace: 'zcsp-system' }]);
  });

  it('routes naming the recovery sites of the Zorg\'s VPGs', () => {
    assert.deepEqual(desiredRoutes(config, ref, ['dr', 'dr2']).data, { 'routes.json': '{"recoverySites":["dr","dr2"],"v":1,"zorg":"acme"}' });
    const vpg = (namespace: string, recoverySite: unknown): CustomObject => ({ metadata: { name: 'v', namespace }, spec: { recoverySite } });
    assert.deepEqual(recoverySitesOf([
      vpg('acme-prod', 'dr'), vpg('acme-prod', 'dr'), vpg('acme-test', 'dr2'), vpg('globex-prod', 'secret-site'), vpg('acme-prod', 42),
    ], ['acme-prod', 'acme-test']), ['dr', 'dr2']);
  });
});

describe('generateCredentials', () => {
  const secret = generateCredentials(config, ref, 'acme-credentials');
  const text = (k: string): string => Buffer.from(must(secret.data?.[k]), 'base64').toString('utf8');

  it('holds a 256-bit token and a TLS identity valid for the Service\'s names, given as ca.crt too', () => {
    assert.equal(secret.type, 'kubernetes.io/tls');
    assert.match(text('token'), /^[A-Za-z0-9_-]{43}$/);
    const cert = new X509Certificate(text('tls.crt'));
    assert.ok(cert.checkPrivateKey(createPrivateKey(text('tls.key'))));
    assert.equal(cert.checkHost('zcc-acme.zcsp-system.svc'), 'zcc-acme.zcsp-system.svc');
    assert.equal(cert.checkHost('zcc-acme.zcsp-system.svc.cluster.local'), 'zcc-acme.zcsp-system.svc.cluster.local');
    assert.equal(text('ca.crt'), text('tls.crt'));
    assert.equal(credentialsProblem(secret, 'acme-credentials'), undefined);
  });

  it('is new every time: nothing is derived from the name', () => {
    const again = generateCredentials(config, ref, 'acme-credentials');
    assert.notEqual(again.data?.['token'], secret.data?.['token']);
    assert.notEqual(again.data?.['tls.key'], secret.data?.['tls.key']);
    assert.notEqual(credentialsHash(again), credentialsHash(secret));
    assert.equal(credentialsHash(secret), credentialsHash({ data: { ...secret.data } }), 'the hash depends on the content only');
  });

  it('a provided Secret must hold tls.crt, tls.key and token', () => {
    assert.equal(credentialsProblem(undefined, 'provided'), 'Secret provided does not exist');
    assert.equal(credentialsProblem({ data: { 'tls.crt': 'x' } }, 'provided'), 'Secret provided lacks tls.key, token');
  });
});
