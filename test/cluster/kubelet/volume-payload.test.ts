import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import type { FileProjection } from './atomic-writer.ts';
import { staticConfigSource } from './config-source.ts';
import { downwardPayload, keyedPayload, projectedPayload, VolumeNotReadyError, type TokenRequest } from './volume-payload.ts';

const text = (payload: ReadonlyMap<string, FileProjection>): Record<string, [string, string]> =>
  Object.fromEntries([...payload].map(([path, f]) => [path, [f.data.toString('utf8'), f.mode.toString(8)]]));
const data = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Buffer.from(v)]));

const pod: V1Pod = {
  metadata: { name: 'web-0', namespace: 'shop', uid: 'u-1', labels: { app: 'web' } },
  spec: { nodeName: 'node-a', containers: [{ name: 'main', resources: { limits: { memory: '64Mi' } } }] },
};
const ctx = { pod, runtime: { podIPs: ['127.0.41.5'], hostIPs: ['127.0.41.1'] }, allocatable: { cpu: '2', memory: '8Gi', 'ephemeral-storage': '100Gi' } };

describe('keyedPayload', () => {
  it('projects every key with the default mode, or the listed items with their modes', () => {
    const cm = data({ a: '1', b: '2' });
    assert.deepEqual(text(keyedPayload('ConfigMap', 'cm', cm, undefined, 0o644, false)), { a: ['1', '644'], b: ['2', '644'] });
    assert.deepEqual(text(keyedPayload('ConfigMap', 'cm', cm, [{ key: 'b', path: 'dir/bee', mode: 0o600 }], 0o644, false)), { 'dir/bee': ['2', '600'] });
  });

  it('makes an empty volume of a missing optional source and skips missing optional keys', () => {
    assert.equal(keyedPayload('Secret', 's', undefined, undefined, 0o644, true).size, 0);
    assert.equal(keyedPayload('Secret', 's', data({ a: '1' }), [{ key: 'zz', path: 'z' }], 0o644, true).size, 0);
  });

  it('fails a required source with the kubelet messages', () => {
    assert.throws(() => keyedPayload('ConfigMap', 'cm', undefined, undefined, 0o644, false), (e: unknown) => e instanceof VolumeNotReadyError && e.message === 'configmap "cm" not found');
    assert.throws(() => keyedPayload('Secret', 's', undefined, undefined, 0o644, false), /^VolumeNotReadyError: secret "s" not found$/);
    assert.throws(() => keyedPayload('ConfigMap', 'cm', data({}), [{ key: 'k', path: 'k' }], 0o644, false), /non-existent config key: k/);
    assert.throws(() => keyedPayload('Secret', 's', data({}), [{ key: 'k', path: 'k' }], 0o644, false), /non-existent secret key: k/);
  });
});

describe('downwardPayload', () => {
  it('writes field and resource values', () => {
    const payload = downwardPayload(
      [
        { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
        { path: 'name', fieldRef: { fieldPath: 'metadata.name' }, mode: 0o400 },
        { path: 'mem', resourceFieldRef: { containerName: 'main', resource: 'limits.memory', divisor: '1Mi' } },
      ],
      0o644,
      ctx,
    );
    assert.deepEqual(text(payload), { labels: ['app="web"', '644'], name: ['web-0', '400'], mem: ['64', '644'] });
  });
});

describe('projectedPayload', () => {
  it('combines a bound token, a ConfigMap and the namespace like the kube-api-access volume', async () => {
    const requests: TokenRequest[] = [];
    const payload = await projectedPayload(
      [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
        { serviceAccountToken: { audience: 'vault', path: 'vault-token' } },
      ],
      0o644,
      {
        ...ctx,
        source: staticConfigSource({ configMaps: { 'shop/kube-root-ca.crt': { 'ca.crt': 'PEM' } } }),
        token: (request) => {
          requests.push(request);
          return Promise.resolve(`token-for-${request.audience ?? 'api'}`);
        },
      },
    );
    assert.deepEqual(text(payload), {
      token: ['token-for-api', '644'],
      'ca.crt': ['PEM', '644'],
      namespace: ['shop', '644'],
      'vault-token': ['token-for-vault', '644'],
    });
    assert.deepEqual(requests, [{ expirationSeconds: 3607 }, { audience: 'vault', expirationSeconds: 3600 }]);
  });
});
