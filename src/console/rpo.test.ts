import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RpoHistory, RpoRing } from './rpo.ts';
import type { Vpg } from '../kubectl/vpg.ts';

const vpg = (namespace: string, name: string, rpoSeconds?: number): Vpg =>
  ({ metadata: { namespace, name }, ...(rpoSeconds !== undefined && { status: { rpoSeconds } }) });

describe('RpoRing', () => {
  it('keeps the newest samples up to its capacity, oldest first', () => {
    const ring = new RpoRing(3);
    for (let t = 1; t <= 5; t++) ring.push({ t, rpoSeconds: t * 10 });
    assert.equal(ring.length, 3);
    assert.deepEqual(ring.since(0), [{ t: 3, rpoSeconds: 30 }, { t: 4, rpoSeconds: 40 }, { t: 5, rpoSeconds: 50 }]);
    assert.deepEqual(ring.since(5), [{ t: 5, rpoSeconds: 50 }]);
  });

  it('keeps a missing RPO as null', () => {
    const ring = new RpoRing(2);
    ring.push({ t: 1, rpoSeconds: null });
    assert.deepEqual(ring.since(0), [{ t: 1, rpoSeconds: null }]);
  });
});

describe('RpoHistory', () => {
  it('samples every VPG, bounds each ring to the retention, and drops VPGs that are gone', () => {
    let now = 0;
    const history = new RpoHistory({ intervalMs: 1000, retentionMs: 4000, now: () => now });
    assert.equal(history.capacity, 5);
    for (let i = 0; i < 10; i++) {
      history.record([vpg('a', 'web', i), vpg('b', 'db')]);
      now += 1000;
    }
    const web = history.series('a', 'web', 1);
    assert.deepEqual(web?.map((s) => s.rpoSeconds), [6, 7, 8, 9], 'the last 4 s, though 1 h was asked');
    assert.deepEqual(history.series('b', 'db', 1)?.at(-1), { t: 9000, rpoSeconds: null });
    history.record([vpg('a', 'web', 1)]);
    assert.equal(history.series('b', 'db', 1), undefined);
  });
});
