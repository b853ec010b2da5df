import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PersistentVolumeClaim, Pod } from '../../kube/objects.ts';
import { claimPlan, orphanPatch, podAction } from './plan.ts';

const desired: Pod = { metadata: { name: 'vra-dr-dr-1', annotations: { 'zcsp.io/spec-hash': 'aaaa' } }, spec: { containers: [] } };
const live = (o: { hash?: string; owner?: string; phase?: 'Running' | 'Failed' | 'Succeeded'; deleting?: boolean; reason?: string } = {}): Pod => ({
  metadata: {
    name: 'vra-dr-dr-1', uid: 'pod-1',
    annotations: { 'zcsp.io/spec-hash': o.hash ?? 'aaaa' },
    ownerReferences: [{ apiVersion: 'zcsp.io/v1alpha1', kind: 'Site', name: 'dr', uid: o.owner ?? 'site-1', controller: true }],
    ...(o.deleting === true && { deletionTimestamp: '2026-01-01T00:00:00Z' }),
  },
  status: { phase: o.phase ?? 'Running', ...(o.reason !== undefined && { reason: o.reason }) },
});

describe('podAction', () => {
  it('creates a missing pod, keeps a current one, waits for a terminating one', () => {
    assert.deepEqual(podAction(undefined, desired, 'site-1'), { kind: 'create' });
    assert.deepEqual(podAction(live(), desired, 'site-1'), { kind: 'keep' });
    assert.equal(podAction(live({ deleting: true, hash: 'old' }), desired, 'site-1').kind, 'wait');
  });

  it('replaces a pod whose spec hash differs, one of an earlier Site of the name, and one that finished', () => {
    const changed = podAction(live({ hash: 'bbbb' }), desired, 'site-1');
    assert.deepEqual(changed, { kind: 'delete', reason: 'SpecChanged', why: 'the desired VRA changed (spec hash bbbb → aaaa)' });
    assert.equal(podAction(live({ owner: 'site-0' }), desired, 'site-1').kind === 'delete' && 'NotOwned', 'NotOwned');
    const failed = podAction(live({ phase: 'Failed', reason: 'Evicted' }), desired, 'site-1');
    assert.deepEqual(failed, { kind: 'delete', reason: 'Finished', why: 'the VRA pod failed (Evicted)' });
    assert.equal(podAction(live({ phase: 'Succeeded' }), desired, 'site-1').kind, 'delete');
  });
});

describe('claimPlan', () => {
  const want: PersistentVolumeClaim = {
    metadata: { name: 'vra-dr-dr-1', labels: { 'zcsp.io/role': 'vra', 'zcsp.io/site': 'dr' } },
    spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: { requests: { storage: '20Gi' } } },
  };
  const have = (o: { labels?: Record<string, string>; size?: string; cls?: string; deleting?: boolean; orphaned?: boolean } = {}): PersistentVolumeClaim => ({
    metadata: {
      name: 'vra-dr-dr-1',
      labels: { ...(o.labels ?? want.metadata?.labels), ...(o.orphaned === true && { 'zcsp.io/orphaned': 'true' }) },
      ...(o.orphaned === true && { annotations: { 'zcsp.io/orphaned-since': '2026-01-01T00:00:00Z' } }),
      ...(o.deleting === true && { deletionTimestamp: '2026-01-01T00:00:00Z' }),
    },
    spec: { accessModes: ['ReadWriteOnce'], storageClassName: o.cls ?? 'fast', resources: { requests: { storage: o.size ?? '20Gi' } }, volumeName: 'pv-1' },
    status: { phase: 'Bound' },
  });

  it('creates a missing volume and leaves a matching one alone (server-side normal forms included)', () => {
    assert.deepEqual(claimPlan(undefined, want), { create: true });
    assert.deepEqual(claimPlan(have(), want), {});
    assert.deepEqual(claimPlan(have({ size: '21474836480' }), want), {}, '20Gi written as bytes is the same size');
  });

  it('waits while the volume is being deleted', () => {
    assert.match(claimPlan(have({ deleting: true }), want).wait ?? '', /being deleted/);
  });

  it('puts back removed labels and lifts the orphan mark of a node that came back', () => {
    assert.deepEqual(claimPlan(have({ labels: { 'zcsp.io/role': 'vra' } }), want).metadataPatch, { metadata: { labels: want.metadata?.labels } });
    assert.deepEqual(claimPlan(have({ orphaned: true }), want).metadataPatch, {
      metadata: { labels: { 'zcsp.io/orphaned': null }, annotations: { 'zcsp.io/orphaned-since': null } },
    });
  });

  it('grows a volume, never shrinks it, and reports a class it cannot change', () => {
    assert.equal(claimPlan(have({ size: '10Gi' }), want).grow, '20Gi');
    assert.equal(claimPlan(have({ size: '30Gi' }), want).grow, undefined);
    assert.match(claimPlan(have({ cls: 'slow' }), want).problem ?? '', /has StorageClass slow, the Site asks for fast/);
    const { storageClassName: _cls, ...anyClass } = want.spec ?? {};
    const defaultClass: PersistentVolumeClaim = { ...want, spec: anyClass };
    assert.equal(claimPlan(have({ cls: 'whatever-the-default-was' }), defaultClass).problem, undefined, 'no class asked: any will do');
  });
});

describe('orphanPatch', () => {
  it('marks a volume once, with the time', () => {
    const claim: PersistentVolumeClaim = { metadata: { name: 'v', labels: { 'zcsp.io/role': 'vra' } } };
    assert.deepEqual(orphanPatch(claim, '2026-01-02T03:04:05Z'), {
      metadata: { labels: { 'zcsp.io/orphaned': 'true' }, annotations: { 'zcsp.io/orphaned-since': '2026-01-02T03:04:05Z' } },
    });
    assert.equal(orphanPatch({ metadata: { labels: { 'zcsp.io/orphaned': 'true' } } }, 'later'), undefined);
  });
});
