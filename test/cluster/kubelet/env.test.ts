import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { ContainerConfigError, kubernetesServiceEnv, resolveEnv, type EnvContext } from './env.ts';
import { staticConfigSource } from './config-source.ts';
import { formatMap, resolveFieldRef } from './fieldpath.ts';
import { parseQuantity, resolveResourceFieldRef } from './quantity.ts';

const pod: V1Pod = {
  metadata: {
    name: 'web-0',
    namespace: 'shop',
    uid: 'u-1',
    labels: { app: 'web', tier: 'front' },
    annotations: { 'example.com/note': 'say "hi"' },
  },
  spec: { nodeName: 'node-a', serviceAccountName: 'web-sa', containers: [] },
};
const runtime = { podIPs: ['127.0.41.5'], hostIPs: ['127.0.41.1'] };
const allocatable = { cpu: '2', memory: '8Gi', 'ephemeral-storage': '100Gi' };
const source = staticConfigSource({
  configMaps: { 'shop/settings': { MODE: 'fast', LEVEL: 'debug' } },
  secrets: { 'shop/creds': { password: 's3cret', user: 'admin' } },
});

function ctx(container: Partial<V1Container>): EnvContext {
  return {
    pod,
    container: { name: 'main', ...container },
    runtime,
    allocatable,
    serviceEnv: kubernetesServiceEnv({ host: '127.0.0.1', port: 6443 }),
    source,
  };
}

describe('resolveEnv', () => {
  it('resolves values, field refs, resource refs, ConfigMap and Secret keys', async () => {
    const env = await resolveEnv(
      ctx({
        resources: { limits: { memory: '512Mi' }, requests: { cpu: '250m' } },
        env: [
          { name: 'PLAIN', value: 'x' },
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: 'NOTE', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['example.com/note']" } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
          { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
          { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
          { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
          { name: 'CPU_REQ_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
          { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'MODE' } } },
          { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
        ],
      }),
    );
    assert.deepEqual(Object.fromEntries([...env].filter(([k]) => !k.startsWith('KUBERNETES_'))), {
      PLAIN: 'x',
      POD_NAME: 'web-0',
      POD_NAMESPACE: 'shop',
      POD_UID: 'u-1',
      APP: 'web',
      NOTE: 'say "hi"',
      NODE: 'node-a',
      SA: 'web-sa',
      POD_IP: '127.0.41.5',
      HOST_IP: '127.0.41.1',
      MEM_MI: '512',
      CPU_LIMIT: '2',
      CPU_REQ_M: '250',
      MODE: 'fast',
      PASSWORD: 's3cret',
    });
  });

  it('applies envFrom first with prefixes, and env overrides it', async () => {
    const env = await resolveEnv(
      ctx({
        envFrom: [{ configMapRef: { name: 'settings' } }, { prefix: 'DB_', secretRef: { name: 'creds' } }],
        env: [{ name: 'MODE', value: 'slow' }],
      }),
    );
    assert.equal(env.get('MODE'), 'slow');
    assert.equal(env.get('LEVEL'), 'debug');
    assert.equal(env.get('DB_user'), 'admin');
    assert.equal(env.get('DB_password'), 's3cret');
  });

  it('expands $(VAR) from earlier entries and the service variables, not later ones', async () => {
    const env = await resolveEnv(
      ctx({
        envFrom: [{ configMapRef: { name: 'settings' } }],
        env: [
          { name: 'A', value: 'a' },
          { name: 'B', value: '$(A)-$(LATER)-$(LEVEL)' },
          { name: 'URL', value: 'https://$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)' },
          { name: 'ESCAPED', value: '$$(A)' },
          { name: 'LATER', value: 'late' },
        ],
      }),
    );
    assert.equal(env.get('B'), 'a-$(LATER)-debug');
    assert.equal(env.get('URL'), 'https://127.0.0.1:6443');
    assert.equal(env.get('ESCAPED'), '$(A)');
  });

  it('adds the kubernetes service variables unless the pod defines them', async () => {
    const env = await resolveEnv(ctx({ env: [{ name: 'KUBERNETES_SERVICE_HOST', value: 'mine' }] }));
    assert.equal(env.get('KUBERNETES_SERVICE_HOST'), 'mine');
    assert.equal(env.get('KUBERNETES_SERVICE_PORT'), '6443');
    assert.equal(env.get('KUBERNETES_PORT'), 'tcp://127.0.0.1:6443');
    assert.equal(env.get('KUBERNETES_PORT_6443_TCP_ADDR'), '127.0.0.1');
  });

  it('leaves out optional references that are missing', async () => {
    const env = await resolveEnv(
      ctx({
        envFrom: [{ configMapRef: { name: 'absent', optional: true } }, { secretRef: { name: 'absent', optional: true } }],
        env: [
          { name: 'NO_CM', valueFrom: { configMapKeyRef: { name: 'absent', key: 'k', optional: true } } },
          { name: 'NO_KEY', valueFrom: { configMapKeyRef: { name: 'settings', key: 'nope', optional: true } } },
          { name: 'NO_SECRET_KEY', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope', optional: true } } },
          { name: 'EMPTY', value: '' },
        ],
      }),
    );
    assert.equal(env.has('NO_CM'), false);
    assert.equal(env.has('NO_KEY'), false);
    assert.equal(env.has('NO_SECRET_KEY'), false);
    assert.equal(env.get('EMPTY'), '');
  });

  it('fails with the kubelet messages when a required reference is missing', async () => {
    const cases: Array<[Partial<V1Container>, RegExp]> = [
      [{ envFrom: [{ configMapRef: { name: 'absent' } }] }, /^couldn't get configMap shop\/absent: configmaps "absent" not found$/],
      [{ envFrom: [{ secretRef: { name: 'absent' } }] }, /^couldn't get secret shop\/absent: secrets "absent" not found$/],
      [{ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'settings', key: 'nope' } } }] }, /^couldn't find key nope in ConfigMap shop\/settings$/],
      [{ env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope' } } }] }, /^couldn't find key nope in Secret shop\/creds$/],
      [{ env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.bogus' } } }] }, /unsupported fieldRef/],
    ];
    for (const [container, message] of cases) {
      await assert.rejects(resolveEnv(ctx(container)), (err: unknown) => {
        assert.ok(err instanceof ContainerConfigError);
        assert.equal(err.reason, 'CreateContainerConfigError');
        assert.match(err.message, message);
        return true;
      });
    }
  });
});

describe('resolveFieldRef', () => {
  it('formats whole label and annotation maps like the kubelet', () => {
    assert.equal(resolveFieldRef(pod, 'metadata.labels', runtime), 'app="web"\ntier="front"');
    assert.equal(formatMap({ b: 'x"y', a: '' }), 'a=""\nb="x\\"y"');
  });

  it('joins podIPs and hostIPs with commas and treats unknown label keys as empty', () => {
    const dual = { podIPs: ['127.0.41.5', 'fd00::5'], hostIPs: ['127.0.41.1'] };
    assert.equal(resolveFieldRef(pod, 'status.podIPs', dual), '127.0.41.5,fd00::5');
    assert.equal(resolveFieldRef(pod, 'status.hostIPs', dual), '127.0.41.1');
    assert.equal(resolveFieldRef(pod, "metadata.labels['nope']", dual), '');
  });
});

describe('quantities', () => {
  it('parses decimal, binary and exponent forms', () => {
    assert.equal(parseQuantity('250m'), 0.25);
    assert.equal(parseQuantity('1Gi'), 2 ** 30);
    assert.equal(parseQuantity('1.5k'), 1500);
    assert.equal(parseQuantity('1e3'), 1000);
    assert.equal(parseQuantity('2'), 2);
    assert.throws(() => parseQuantity('1 GB'), /invalid quantity/);
  });

  it('rounds resourceFieldRef values up to whole divisors, limits default to allocatable', () => {
    const c = { name: 'c', resources: { limits: { cpu: '1500m', memory: '100M' } } };
    assert.equal(resolveResourceFieldRef(c, 'limits.cpu', undefined, allocatable), '2');
    assert.equal(resolveResourceFieldRef(c, 'limits.cpu', '1m', allocatable), '1500');
    assert.equal(resolveResourceFieldRef(c, 'limits.memory', '1Mi', allocatable), '96');
    assert.equal(resolveResourceFieldRef(c, 'requests.memory', undefined, allocatable), '0');
    assert.equal(resolveResourceFieldRef({ name: 'd' }, 'limits.memory', '1Gi', allocatable), '8');
    assert.throws(() => resolveResourceFieldRef(c, 'limits.gpu', undefined, allocatable), /unsupported/);
  });
});
