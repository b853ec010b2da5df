import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Store, objectKey, splitKey } from './store.ts';
import type { ConfigMap } from './types.ts';

const cm = (name: string, rv: string, namespace = 'a'): ConfigMap => ({ metadata: { name, namespace, resourceVersion: rv } });

describe('Store', () => {
  it('keys objects namespace/name, or name for cluster-scoped ones', () => {
    assert.equal(objectKey(cm('x', '1')), 'a/x');
    assert.equal(objectKey({ metadata: { name: 'node-1' } }), 'node-1');
    assert.deepEqual(splitKey('a/x'), { namespace: 'a', name: 'x' });
    assert.deepEqual(splitKey('node-1'), { name: 'node-1' });
  });

  it('replace says what was added, updated (new resourceVersion) and deleted', () => {
    const s = new Store<ConfigMap>();
    s.replace([cm('x', '1'), cm('y', '1'), cm('z', '1')]);
    const diff = s.replace([cm('x', '1'), cm('y', '2'), cm('w', '3')]);
    assert.deepEqual(diff.added.map(objectKey), ['a/w']);
    assert.deepEqual(diff.updated.map((u) => [objectKey(u.obj), u.old.metadata?.resourceVersion, u.obj.metadata?.resourceVersion]), [['a/y', '1', '2']]);
    assert.deepEqual(diff.deleted.map(objectKey), ['a/z']);
    assert.deepEqual(s.keys().sort(), ['a/w', 'a/x', 'a/y']);
  });

  it('freezes what it stores, so a reconcile cannot corrupt the cache', () => {
    const s = new Store<ConfigMap>();
    s.upsert({ ...cm('x', '1'), data: { k: 'v' } });
    const obj = s.get('a/x');
    assert.throws(() => {
      (obj?.data as Record<string, string>)['k'] = 'changed';
    }, TypeError);
  });

  it('lists by namespace and labels', () => {
    const s = new Store<ConfigMap>();
    s.upsert({ metadata: { name: 'x', namespace: 'a', labels: { app: 'zcsp' } } });
    s.upsert({ metadata: { name: 'y', namespace: 'b', labels: { app: 'zcsp' } } });
    s.upsert({ metadata: { name: 'z', namespace: 'a' } });
    assert.deepEqual(s.list({ namespace: 'a' }).map(objectKey).sort(), ['a/x', 'a/z']);
    assert.deepEqual(s.list({ labels: { app: 'zcsp' } }).map(objectKey).sort(), ['a/x', 'b/y']);
  });
});
