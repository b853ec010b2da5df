import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findStatusCondition, isStatusConditionTrue, metaTime, microTime, removeStatusCondition, setStatusCondition, type Condition } from './conditions.ts';

const t0 = new Date('2026-03-01T10:00:00.750Z');
const t1 = new Date('2026-03-01T11:30:00Z');

describe('setStatusCondition', () => {
  it('adds a new condition with lastTransitionTime now (whole seconds, as metav1.Time)', () => {
    const { conditions, changed } = setStatusCondition(undefined, { type: 'Ready', status: 'False', reason: 'Initializing', message: 'starting', observedGeneration: 1 }, t0);
    assert.equal(changed, true);
    assert.deepEqual(conditions, [{ type: 'Ready', status: 'False', reason: 'Initializing', message: 'starting', observedGeneration: 1, lastTransitionTime: '2026-03-01T10:00:00Z' }]);
  });

  it('keeps lastTransitionTime when the status stays, and reports no change for the same condition', () => {
    const first = setStatusCondition(undefined, { type: 'Ready', status: 'True', reason: 'Synced', message: '', observedGeneration: 1 }, t0).conditions;
    const again = setStatusCondition(first, { type: 'Ready', status: 'True', reason: 'Synced', message: '', observedGeneration: 1 }, t1);
    assert.equal(again.changed, false);
    assert.deepEqual(again.conditions, first);
    const newGen = setStatusCondition(first, { type: 'Ready', status: 'True', reason: 'Synced', message: 'all good', observedGeneration: 2 }, t1);
    assert.equal(newGen.changed, true);
    const [ready] = newGen.conditions;
    assert.ok(ready);
    assert.equal(ready.lastTransitionTime, '2026-03-01T10:00:00Z', 'no flip: time kept');
    assert.equal(ready.observedGeneration, 2);
    assert.equal(ready.message, 'all good');
  });

  it('moves lastTransitionTime when the status flips', () => {
    const first = setStatusCondition(undefined, { type: 'Ready', status: 'True', reason: 'Synced', message: '' }, t0).conditions;
    const flipped = setStatusCondition(first, { type: 'Ready', status: 'False', reason: 'SiteDisconnection', message: 'link down' }, t1);
    assert.equal(flipped.changed, true);
    const [ready] = flipped.conditions;
    assert.ok(ready);
    assert.equal(ready.lastTransitionTime, '2026-03-01T11:30:00Z');
    assert.equal(ready.reason, 'SiteDisconnection');
  });

  it('honours an explicit lastTransitionTime, keeps other types and their order, never mutates its input', () => {
    const input: Condition[] = Object.freeze([
      Object.freeze({ type: 'A', status: 'True', reason: 'R', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }),
      Object.freeze({ type: 'B', status: 'True', reason: 'R', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }),
    ]) as unknown as Condition[];
    const { conditions } = setStatusCondition(input, { type: 'A', status: 'False', reason: 'R2', message: 'x', lastTransitionTime: '2026-02-02T00:00:00Z' }, t1);
    assert.deepEqual(conditions.map((c) => [c.type, c.status, c.lastTransitionTime]), [['A', 'False', '2026-02-02T00:00:00Z'], ['B', 'True', '2026-01-01T00:00:00Z']]);
    assert.equal(input[0]?.status, 'True');
  });

  it('drops observedGeneration when the new condition has none', () => {
    const first = setStatusCondition(undefined, { type: 'Ready', status: 'True', reason: 'R', message: '', observedGeneration: 3 }, t0).conditions;
    const { conditions, changed } = setStatusCondition(first, { type: 'Ready', status: 'True', reason: 'R', message: '' }, t0);
    assert.equal(changed, true);
    assert.equal('observedGeneration' in (conditions[0] ?? {}), false);
  });
});

describe('condition helpers', () => {
  const conditions: Condition[] = [{ type: 'Ready', status: 'True', reason: 'R', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }];
  it('finds, tests and removes', () => {
    assert.equal(findStatusCondition(conditions, 'Ready')?.reason, 'R');
    assert.equal(isStatusConditionTrue(conditions, 'Ready'), true);
    assert.equal(isStatusConditionTrue(conditions, 'Other'), false);
    assert.deepEqual(removeStatusCondition(conditions, 'Ready'), { conditions: [], changed: true });
    assert.equal(removeStatusCondition(conditions, 'Other').changed, false);
  });
  it('formats metav1.Time and MicroTime', () => {
    assert.equal(metaTime(t0), '2026-03-01T10:00:00Z');
    assert.equal(microTime(t0), '2026-03-01T10:00:00.750000Z');
  });
});
