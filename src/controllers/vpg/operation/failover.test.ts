import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { VPG } from '../../../crds/vpg.ts';
import { recoveringWithoutProtectedSite } from './failover.ts';

type Op = NonNullable<NonNullable<VPG['status']>['operation']>;

function vpg(op: Partial<Op> | undefined, decision?: 'Commit' | 'Rollback'): VPG {
  return {
    apiVersion: 'zcsp.io/v1alpha1', kind: 'VPG', metadata: { name: 'web', namespace: 'acme' },
    spec: { operation: { type: op?.type ?? 'Failover', checkpoint: { type: 'Latest' }, ...(decision !== undefined && { decision }) } },
    status: op === undefined ? {} : { operation: { type: 'Failover', stage: 'Recovering', startTime: '2026-11-28T10:00:00Z', ...op } },
  } as unknown as VPG;
}

const step = (name: string) => ({ name, startTime: '2026-11-28T10:00:00Z' });

describe('recoveringWithoutProtectedSite', () => {
  it('holds while a failover that went on without the protected site restores and waits for its commit', () => {
    assert.equal(recoveringWithoutProtectedSite(vpg({ stage: 'Recovering', steps: [step('Prepare'), step('Restore')] })), true);
    assert.equal(recoveringWithoutProtectedSite(vpg({ stage: 'BeforeCommit', steps: [step('Prepare'), step('Restore'), step('Start app'), step('Before commit')] })), true);
  });
  it('not when the protected site took part, before the decision, once rolling back, or for a move or test', () => {
    assert.equal(recoveringWithoutProtectedSite(vpg({ stage: 'Recovering', steps: [step('Prepare'), step('Stop protected workloads'), step('Final checkpoint'), step('Restore')] })), false);
    assert.equal(recoveringWithoutProtectedSite(vpg({ stage: 'Preparing', steps: [step('Prepare')] })), false, 'whether it answers is still to be found out');
    assert.equal(recoveringWithoutProtectedSite(vpg({ stage: 'BeforeCommit', steps: [step('Prepare')] }, 'Rollback')), false, 'a rollback needs it again');
    assert.equal(recoveringWithoutProtectedSite(vpg({ stage: 'RollingBack', steps: [step('Prepare')] })), false);
    assert.equal(recoveringWithoutProtectedSite(vpg({ stage: 'Committing', steps: [step('Prepare')] })), false);
    assert.equal(recoveringWithoutProtectedSite(vpg({ type: 'Move', stage: 'Recovering', steps: [step('Prepare')] })), false);
    assert.equal(recoveringWithoutProtectedSite(vpg({ type: 'FailoverTest', stage: 'Running', steps: [step('Prepare')] })), false);
    assert.equal(recoveringWithoutProtectedSite(vpg(undefined)), false);
  });
});
