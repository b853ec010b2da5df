import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Condition } from '../../runtime/index.ts';
import type { Pod } from '../../kube/objects.ts';
import { describeVra, siteStatus, type NodeReport } from './status.ts';

const now = new Date('2026-03-01T12:00:00Z');
const pod = (o: { ready?: boolean; phase?: 'Pending' | 'Running'; waiting?: string; unschedulable?: string } = {}): Pod => ({
  metadata: { name: 'vra' },
  status: {
    phase: o.phase ?? 'Running',
    conditions: [
      { type: 'Ready', status: o.ready === false ? 'False' : 'True' },
      ...(o.unschedulable !== undefined ? [{ type: 'PodScheduled', status: 'False' as const, message: o.unschedulable }] : []),
    ],
    ...(o.waiting !== undefined && { containerStatuses: [{ name: 'vra', state: { waiting: { reason: o.waiting } } }] }),
  },
});
const report = (node: string, p: Pod | undefined, extra: Partial<NodeReport> = {}): NodeReport =>
  ({ node, nodeReady: true, pod: p, podCurrent: p !== undefined, claim: { status: { phase: 'Bound' } }, ...extra });
const condition = (status: Record<string, unknown>, type: string): Condition | undefined =>
  (status['conditions'] as Condition[]).find((c) => c.type === type);

describe('siteStatus', () => {
  const selector = { 'zcsp.io/site': 'dr' };

  it('is Ready when every matching node has a Ready VRA', () => {
    const s = siteStatus({ previous: undefined, generation: 3, selector, reports: [report('dr-1', pod()), report('dr-2', pod())], orphaned: [], now });
    assert.equal(s['observedGeneration'], 3);
    assert.equal(s['nodeCount'], 2);
    assert.deepEqual(s['vras'], { desired: 2, ready: 2 });
    assert.deepEqual(condition(s, 'Ready'), { type: 'Ready', status: 'True', reason: 'VRAsReady', message: '2/2 VRAs ready', observedGeneration: 3, lastTransitionTime: '2026-03-01T12:00:00Z' });
    assert.equal(condition(s, 'OrphanedVolumes')?.status, 'False');
  });

  it('says which VRAs are not ready, and why', () => {
    const s = siteStatus({
      previous: undefined, generation: 1, selector, now, orphaned: [],
      reports: [
        report('dr-1', pod()),
        report('dr-2', pod({ phase: 'Pending', ready: false }), { claim: { status: { phase: 'Pending' } } }),
        report('dr-3', undefined, { nodeReady: false }),
      ],
    });
    assert.deepEqual(s['vras'], { desired: 3, ready: 1 });
    assert.equal(s['nodeCount'], 2, 'Ready nodes only');
    const ready = condition(s, 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready.reason, 'VRAsNotReady');
    assert.equal(ready.message, '1/3 VRAs ready; dr-2: Pending (volume not bound yet); dr-3: node not Ready, VRA pod not created yet');
  });

  it('is not Ready without nodes, naming the selector', () => {
    const s = siteStatus({ previous: undefined, generation: 1, selector, reports: [], orphaned: [], now });
    assert.deepEqual(s['vras'], { desired: 0, ready: 0 });
    assert.equal(condition(s, 'Ready')?.reason, 'NoNodes');
    assert.match(condition(s, 'Ready')?.message ?? '', /zcsp\.io\/site=dr/);
  });

  it('counts a Ready VRA of an earlier spec as ready, and says the rollout goes on', () => {
    const s = siteStatus({ previous: undefined, generation: 2, selector, reports: [report('dr-1', pod()), report('dr-2', pod(), { podCurrent: false })], orphaned: [], now });
    assert.deepEqual(s['vras'], { desired: 2, ready: 2 });
    assert.equal(condition(s, 'Ready')?.message, '2/2 VRAs ready; 1 to be replaced by the changed spec, one at a time');
  });

  it('lists kept volumes of nodes that left', () => {
    const s = siteStatus({ previous: undefined, generation: 1, selector, reports: [report('dr-1', pod())], orphaned: [{ claim: 'vra-dr-dr-2', node: 'dr-2' }], now });
    const o = condition(s, 'OrphanedVolumes');
    assert.equal(o?.status, 'True');
    assert.match(o.message, /vra-dr-dr-2 \(node dr-2\)/);
  });

  it('is the same status for the same world: conditions keep their transition times', () => {
    const first = siteStatus({ previous: undefined, generation: 1, selector, reports: [report('dr-1', pod())], orphaned: [], now });
    const later = siteStatus({ previous: first, generation: 1, selector, reports: [report('dr-1', pod())], orphaned: [], now: new Date(now.getTime() + 60_000) });
    assert.deepEqual(later, first);
  });
});

describe('describeVra', () => {
  it('names the stage a VRA is stuck in', () => {
    assert.equal(describeVra(report('n', pod({ phase: 'Pending', ready: false, waiting: 'ContainerCreating' }))), 'Pending (ContainerCreating)');
    assert.equal(describeVra(report('n', pod({ phase: 'Pending', ready: false, unschedulable: '0/4 nodes are available' }))), 'not scheduled: 0/4 nodes are available');
    assert.equal(describeVra(report('n', pod({ ready: false }))), 'Running, not Ready');
    assert.equal(describeVra(report('n', pod({ ready: false }), { podCurrent: false })), 'VRA pod being replaced');
    assert.equal(describeVra(report('n', pod(), { podCurrent: false, note: 'waits its turn' })), 'Ready, to be replaced (waits its turn)');
    assert.equal(describeVra(report('n', undefined, { note: 'its volume is being deleted; a new one follows' })), 'its volume is being deleted; a new one follows, VRA pod not created yet');
  });
});
