import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BINARY_NAMES, parseBinaryList } from './binaries.ts';

describe('parseBinaryList', () => {
  it('reads NAME=PATH lines', () => {
    const text = BINARY_NAMES.map((n) => `${n}=/cache/${n}`).join('\n') + '\n';
    const bins = parseBinaryList(text);
    assert.equal(bins['kube-apiserver'], '/cache/kube-apiserver');
    assert.equal(bins.helm, '/cache/helm');
  });
  it('names every binary that is missing', () => {
    assert.throws(() => parseBinaryList('etcd=/x\nkubectl=/y\n'), /kube-apiserver, kube-controller-manager, kube-scheduler, helm/);
  });
  it('keeps paths that contain =', () => {
    const text = BINARY_NAMES.map((n) => `${n}=/a=b/${n}`).join('\n');
    assert.equal(parseBinaryList(text).etcd, '/a=b/etcd');
  });
});
