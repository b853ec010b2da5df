import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classifyRequest } from './api-requests.ts';

const S = 'https://127.0.0.1:6443';

describe('classifyRequest', () => {
  const cases: [string, string, string | undefined, { verb: string; resource: string; namespace?: string; name?: string }][] = [
    ['GET', '/api/v1/namespaces/a/configmaps', undefined, { verb: 'list', resource: 'configmaps', namespace: 'a' }],
    ['GET', '/api/v1/namespaces/a/configmaps?watch=true&resourceVersion=5', undefined, { verb: 'watch', resource: 'configmaps', namespace: 'a' }],
    ['GET', '/api/v1/namespaces/a/configmaps/x', undefined, { verb: 'get', resource: 'configmaps', namespace: 'a', name: 'x' }],
    ['GET', '/api/v1/namespaces/a', undefined, { verb: 'get', resource: 'namespaces', namespace: 'a', name: 'a' }],
    ['PUT', '/api/v1/namespaces/a/finalize', undefined, { verb: 'update', resource: 'namespaces/finalize', namespace: 'a', name: 'a' }],
    ['GET', '/api/v1/nodes', undefined, { verb: 'list', resource: 'nodes' }],
    ['POST', '/apis/events.k8s.io/v1/namespaces/a/events', 'application/json', { verb: 'create', resource: 'events.events.k8s.io', namespace: 'a' }],
    ['PATCH', '/apis/zcsp.io/v1alpha1/namespaces/t/vpgs/db/status', 'application/merge-patch+json', { verb: 'patch', resource: 'vpgs.zcsp.io/status', namespace: 't', name: 'db' }],
    ['PATCH', '/api/v1/namespaces/a/configmaps/x?fieldManager=zcsp-manager&force=true', 'application/apply-patch+yaml', { verb: 'apply', resource: 'configmaps', namespace: 'a', name: 'x' }],
    ['PUT', '/apis/coordination.k8s.io/v1/namespaces/a/leases/l', 'application/json', { verb: 'update', resource: 'leases.coordination.k8s.io', namespace: 'a', name: 'l' }],
    ['DELETE', '/apis/zcsp.io/v1alpha1/sites/prod', undefined, { verb: 'delete', resource: 'sites.zcsp.io', name: 'prod' }],
    ['DELETE', '/api/v1/namespaces/a/pods', undefined, { verb: 'deletecollection', resource: 'pods', namespace: 'a' }],
    ['GET', '/version', undefined, { verb: 'get', resource: '/version' }],
  ];
  for (const [method, path, contentType, expected] of cases) {
    it(`${method} ${path}`, () => assert.deepEqual(classifyRequest(method, `${S}${path}`, contentType), expected));
  }
});
