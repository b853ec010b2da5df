import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeClient } from './client.ts';
import { deepEqual, mergePatchDiff } from './equal.ts';
import { resourceForKind } from './resources.ts';
import { patchStatusIfChanged, statusPatch } from './status.ts';

const live = {
  apiVersion: 'zcsp.io/v1alpha1', kind: 'VPG', metadata: { name: 'db', namespace: 'tenant-a', generation: 2 },
  status: {
    observedGeneration: 2,
    phase: 'MeetingSLA',
    conditions: [{ type: 'Ready', status: 'True', reason: 'MeetingSLA', message: '', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 2 }],
    sync: { kind: 'None', etaSeconds: 0 },
  },
};

describe('status diffing', () => {
  it('sees no change when only the key order differs', () => {
    const reordered = {
      sync: { etaSeconds: 0, kind: 'None' },
      conditions: [{ lastTransitionTime: '2026-01-01T00:00:00Z', message: '', observedGeneration: 2, reason: 'MeetingSLA', status: 'True', type: 'Ready' }],
      phase: 'MeetingSLA',
      observedGeneration: 2,
    };
    assert.equal(statusPatch(live, reordered), undefined);
  });

  it('treats undefined-valued keys as absent', () => {
    assert.equal(statusPatch(live, { ...live.status, message: undefined }), undefined);
  });

  it('patches only what changed, with removed fields as null and lists whole', () => {
    const desired = {
      observedGeneration: 3,
      conditions: [{ type: 'Ready', status: 'False', reason: 'RpoNotMeetingSLA', message: 'rpo 400 s', lastTransitionTime: '2026-01-02T00:00:00Z', observedGeneration: 3 }],
      sync: { kind: 'None' },
    };
    assert.deepEqual(statusPatch(live, desired), {
      observedGeneration: 3,
      phase: null,
      conditions: desired.conditions,
      sync: { etaSeconds: null },
    });
  });

  it('writes the whole status when there was none', () => {
    const bare = { metadata: { name: 'x' } };
    assert.deepEqual(statusPatch(bare, { phase: 'Initializing' }), { phase: 'Initializing' });
    assert.equal(statusPatch(bare, {}), undefined);
  });

  it('a merge patch of the diff turns the old status into the new one', () => {
    const apply = (target: unknown, patch: unknown): unknown => {
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
      const out: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
      const entries = Object.entries(patch as Record<string, unknown>);
      return Object.fromEntries([
        ...Object.entries(out).filter(([k]) => !entries.some(([pk]) => pk === k)),
        ...entries.filter(([, v]) => v !== null).map(([k, v]) => [k, apply(out[k], v)]),
      ]);
    };
    const cases: [unknown, unknown][] = [
      [{ a: 1, b: { c: 2, d: [1, 2] } }, { a: 1, b: { d: [2] }, e: 'x' }],
      [{ a: { b: { c: 1 } } }, { a: { b: {} } }],
      [{}, { a: [{ x: 1 }] }],
    ];
    for (const [from, to] of cases) assert.ok(deepEqual(apply(from, mergePatchDiff(from, to)), to), JSON.stringify({ from, to }));
  });

  it('patchStatusIfChanged makes no request when nothing changed', async () => {
    const refusing = { mergePatch: () => assert.fail('no request expected') } as unknown as KubeClient;
    const vpgs = resourceForKind({ kind: 'VPG', plural: 'vpgs', scope: 'Namespaced' });
    const result = await patchStatusIfChanged(refusing, vpgs, live, structuredClone(live.status));
    assert.deepEqual(result, { changed: false, object: live });
  });

  it('patchStatusIfChanged patches the status subresource with the difference', async () => {
    const calls: unknown[] = [];
    const recording = {
      mergePatch: (...args: unknown[]) => {
        calls.push(args.slice(1));
        return Promise.resolve({ ...live, status: { ...live.status, phase: 'Testing' } });
      },
    } as unknown as KubeClient;
    const vpgs = resourceForKind({ kind: 'VPG', plural: 'vpgs', scope: 'Namespaced' });
    const result = await patchStatusIfChanged(recording, vpgs, live, { ...live.status, phase: 'Testing' });
    assert.equal(result.changed, true);
    assert.deepEqual(calls, [['db', 'tenant-a', { status: { phase: 'Testing' } }, { fieldManager: 'zcsp-manager', subresource: 'status' }]]);
  });
});
