import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VPGSpec } from './vpg.ts';

describe('VPG spec', () => {
  const minimal = {
    protectedSite: 'prod', recoverySite: 'dr', volumes: { claimNames: ['data'] }, recovery: { namespace: 'acme-dr', testNamespace: 'acme-test' },
  };

  it('takes a service profile, its own SLA (with defaults), or neither (the Zorg\'s default profile)', () => {
    assert.equal(VPGSpec.safeParse(minimal).success, true);
    assert.equal(VPGSpec.safeParse({ ...minimal, serviceProfile: 'gold' }).success, true);
    assert.equal(VPGSpec.parse({ ...minimal, sla: {} }).sla?.journal.historyHours, 24);
    assert.equal(VPGSpec.safeParse({ ...minimal, serviceProfile: 'gold', sla: {} }).success, false);
  });

  it('recovers the latest checkpoint unless told otherwise', () => {
    assert.deepEqual(VPGSpec.parse({ ...minimal, operation: { type: 'FailoverTest' } }).operation, { type: 'FailoverTest', checkpoint: { type: 'Latest' } });
    const at = VPGSpec.parse({ ...minimal, operation: { type: 'Failover', checkpoint: { type: 'Time', time: '2026-01-02T03:04:05+01:00' } } });
    assert.equal(at.operation?.checkpoint.time, '2026-01-02T03:04:05+01:00');
  });

  it('commits failovers and moves, never tests', () => {
    const op = (operation: object) => VPGSpec.safeParse({ ...minimal, operation }).success;
    assert.equal(op({ type: 'Failover', commitPolicy: { type: 'AutoRollback', timeoutMinutes: 30 }, reverseProtection: true }), true);
    assert.equal(op({ type: 'Move', decision: 'Commit' }), true);
    assert.equal(op({ type: 'FailoverTest', decision: 'Commit' }), false);
    assert.equal(op({ type: 'Move', checkpoint: { type: 'Named', name: 'cp-1' } }), false);
  });

  it('selects workloads by name or by labels, never both', () => {
    const group = (workloads: object[]) => VPGSpec.safeParse({ ...minimal, bootOrder: [{ name: 'app', workloads }] }).success;
    assert.equal(group([{ kind: 'Deployment', name: 'web' }, { kind: 'StatefulSet', selector: { matchLabels: { tier: 'db' } } }]), true);
    assert.equal(group([{ kind: 'Deployment', name: 'web', selector: { matchLabels: { app: 'web' } } }]), false);
  });
});
