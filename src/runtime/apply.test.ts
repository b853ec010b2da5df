import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { APPLIED_HASH_ANNOTATION, appliedConfiguration, ensure, isUpToDate } from './apply.ts';
import type { KubeClient } from './client.ts';
import { CONFIG_MAPS, resourceForKind } from './resources.ts';
import type { ConfigMap } from './types.ts';

const sites = resourceForKind({ kind: 'Site', plural: 'sites', scope: 'Cluster' });
const owner = { object: { apiVersion: 'zcsp.io/v1alpha1', kind: 'Site', metadata: { name: 'prod', uid: 'uid-1' } }, resource: sites };
const desired: ConfigMap = { metadata: { name: 'prod-config', namespace: 'zcsp-system', labels: { app: 'zcsp' } }, data: { a: '1' } };

describe('appliedConfiguration', () => {
  it('adds apiVersion, kind, the controller owner reference and a stable hash of the rest', () => {
    const applied = appliedConfiguration(CONFIG_MAPS, desired, owner);
    assert.equal(applied.apiVersion, 'v1');
    assert.equal(applied.kind, 'ConfigMap');
    assert.deepEqual(applied.metadata?.ownerReferences, [{ apiVersion: 'zcsp.io/v1alpha1', kind: 'Site', name: 'prod', uid: 'uid-1', controller: true, blockOwnerDeletion: true }]);
    const hash = applied.metadata.annotations?.[APPLIED_HASH_ANNOTATION];
    assert.match(hash ?? '', /^[0-9a-f]{16}$/);
    const reordered: ConfigMap = { data: { a: '1' }, metadata: { labels: { app: 'zcsp' }, namespace: 'zcsp-system', name: 'prod-config' } };
    assert.equal(appliedConfiguration(CONFIG_MAPS, reordered, owner).metadata?.annotations?.[APPLIED_HASH_ANNOTATION], hash, 'key order does not matter');
    assert.notEqual(appliedConfiguration(CONFIG_MAPS, { ...desired, data: { a: '2' } }, owner).metadata?.annotations?.[APPLIED_HASH_ANNOTATION], hash);
  });
});

describe('isUpToDate', () => {
  const applied = appliedConfiguration(CONFIG_MAPS, desired, owner);
  const live = structuredClone({ ...applied, metadata: { ...applied.metadata, uid: 'c1', resourceVersion: '9', creationTimestamp: '2026-01-01T00:00:00Z' } });
  it('says unchanged when the live object has everything applied', () => assert.equal(isUpToDate(applied, live), 'unchanged'));
  it('says created when there is none', () => assert.equal(isUpToDate(applied, undefined), 'created'));
  it('says updated when the desired state changed (the hash differs)', () => {
    assert.equal(isUpToDate(appliedConfiguration(CONFIG_MAPS, { ...desired, data: {} }, owner), live), 'updated');
  });
  it('says drifted when someone changed a field we own', () => {
    const edited: ConfigMap = { ...live, data: { a: 'edited' } };
    assert.equal(isUpToDate(applied, edited), 'drifted');
  });
});

describe('ensure', () => {
  it('makes no request when the cached child is up to date', async () => {
    const refusing = { apply: () => assert.fail('no apply expected'), tryGet: () => assert.fail('no read expected') } as unknown as KubeClient;
    const applied = appliedConfiguration(CONFIG_MAPS, desired, owner);
    const result = await ensure(refusing, CONFIG_MAPS, desired, { owner, live: applied });
    assert.equal(result.changed, false);
  });
  it('applies with force as the field manager when the child is missing', async () => {
    const calls: unknown[] = [];
    const client = { apply: (_r: unknown, obj: unknown, o: unknown) => { calls.push(o); return Promise.resolve(obj); } } as unknown as KubeClient;
    const result = await ensure(client, CONFIG_MAPS, desired, { owner, live: null });
    assert.equal(result.reason, 'created');
    assert.deepEqual(calls, [{ fieldManager: 'zcsp-manager', force: true }]);
  });
});
