import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nodePath, nodeRoot } from './layout.ts';

describe('nodePath', () => {
  it('maps a node path under that node root', () => {
    assert.equal(nodePath('/c', 'prod-1', '/var/lib/x'), '/c/nodes/prod-1/root/var/lib/x');
    assert.equal(nodePath('/c', 'prod-1', '/'), nodeRoot('/c', 'prod-1'));
  });
  it('keeps two nodes apart', () => {
    assert.notEqual(nodePath('/c', 'a', '/data'), nodePath('/c', 'b', '/data'));
  });
  it('refuses relative paths and escapes', () => {
    assert.throws(() => nodePath('/c', 'a', 'data'), /must be absolute/);
    assert.equal(nodePath('/c', 'a', '/../../etc/passwd'), '/c/nodes/a/root/etc/passwd');
  });
});
