import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkpointsText, declaredText, historyEntryText, statusDetail, statusTable } from './describe.ts';
import type { Vpg } from './vpg.ts';

const now = Date.parse('2025-03-01T10:00:00Z');
const spec = {
  protectedSite: 'prod', recoverySite: 'dr', volumes: { claimNames: ['app-data'] },
  recovery: { namespace: 'acme-dr', testNamespace: 'acme-test' }, deletionPolicy: 'Delete' as const, mode: 'Protect' as const,
};

const web: Vpg = {
  metadata: { name: 'web', namespace: 'acme-prod', generation: 3 },
  spec: { ...spec, operation: { type: 'Failover', checkpoint: { type: 'Latest' }, commitPolicy: { type: 'AutoCommit', timeoutMinutes: 5 }, reverseProtection: true } },
  status: {
    observedGeneration: 3,
    phase: 'FailingOver', substatus: 'BeforeCommit', rpoSeconds: 4,
    placement: { protectedNode: 'prod-1', recoveryNode: 'dr-2', streamId: 's-1' },
    journal: { actualHistorySeconds: 7200, actualHistory: '2h', configuredHistorySeconds: 86_400, used: '1Gi', limit: 'Unlimited' },
    checkpoints: {
      count: 1440,
      latest: { id: 'cp-1440', time: '2025-03-01T09:59:55Z' },
      oldest: { id: 'cp-1', time: '2025-03-01T08:00:00Z' },
      tagged: [{ id: 'cp-1000', time: '2025-03-01T09:20:00Z', tag: 'before-upgrade' }],
    },
    volumes: [{ claimName: 'app-data', size: '1Gi', state: 'Protected' }],
    conditions: [{ type: 'Ready', status: 'True', reason: 'Replicating', message: 'both ends configured', lastTransitionTime: '2025-03-01T08:00:00Z' }],
    operation: {
      type: 'Failover', stage: 'BeforeCommit', startTime: '2025-03-01T09:58:00Z', rtoSeconds: 95,
      checkpoint: { id: 'cp-1430', time: '2025-03-01T09:57:55Z' }, commitDeadline: '2025-03-01T10:03:00Z', message: 'workloads ready',
      steps: [
        { name: 'Prepare', startTime: '2025-03-01T09:58:00Z', endTime: '2025-03-01T09:58:04Z' },
        { name: 'Restore', startTime: '2025-03-01T09:58:04Z', endTime: '2025-03-01T09:59:20Z' },
        { name: 'Start app', startTime: '2025-03-01T09:59:20Z' },
      ],
    },
    lastTest: { startTime: '2025-02-01T10:00:00Z', endTime: '2025-02-01T10:20:00Z', checkpoint: { id: 'cp-7', time: '2025-02-01T09:59:00Z' }, result: 'Succeeded', rtoSeconds: 72 },
    history: [{ type: 'FailoverTest', startTime: '2025-02-01T10:00:00Z', endTime: '2025-02-01T10:20:00Z', result: 'Succeeded', rtoSeconds: 72, checkpoint: { id: 'cp-7', time: '2025-02-01T09:59:00Z' } }],
  },
};
const fresh: Vpg = { metadata: { name: 'db', namespace: 'acme-prod' }, spec };

describe('describe', () => {
  it('lists VPGs with their phase, RPO, history, journal and operation stage', () => {
    assert.equal(statusTable([web, fresh], { allNamespaces: false }), [
      'NAME  PHASE        SUBSTATUS     RPO  HISTORY  JOURNAL        OPERATION',
      'web   FailingOver  BeforeCommit  4s   2h       1Gi/Unlimited  Failover/BeforeCommit',
      'db    -            -             -    -        -              -',
    ].join('\n'));
    assert.match(statusTable([web], { allNamespaces: true }), /^NAMESPACE\s+NAME.*\nacme-prod\s+web/);
    const declared: Vpg = { ...fresh, spec: { ...spec, operation: { type: 'FailoverTest', checkpoint: { type: 'Latest' } } } };
    assert.match(statusTable([declared], { allNamespaces: false }), /FailoverTest\/declared$/);
  });

  it('shows one VPG in detail', () => {
    const text = statusDetail(web, now);
    for (const expected of [
      /^Phase: +FailingOver \(BeforeCommit\)$/m,
      /^Sites: +prod -> dr \(recovers into acme-dr, tests into acme-test\)$/m,
      /^Placement: +protected node prod-1, recovery node dr-2, stream s-1$/m,
      /^Journal: +1Gi used \(limit Unlimited\); history 2h of 1d$/m,
      /^Checkpoints: +1440, 1 tagged$/m,
      /^ +latest: +cp-1440 at 2025-03-01T09:59:55Z \(5s ago\)$/m,
      /^ +oldest: +cp-1 at 2025-03-01T08:00:00Z \(2h ago\)$/m,
      /^ +app-data +1Gi +Protected +-$/m,
      /^ +Ready +True +Replicating +2h +both ends configured$/m,
      /^Operation: +Failover, stage BeforeCommit, started 2025-03-01T09:58:00Z \(2m ago\)$/m,
      /^ +commit policy acts at 2025-03-01T10:03:00Z \(in 3m\)$/m,
      /^ +message: +workloads ready$/m,
      /^ +RTO: +1m35s$/m,
      /^ +steps:\n +STEP +STARTED +TOOK\n +Prepare +2m ago +4s\n +Restore +1m56s ago +1m16s\n +Start app +40s ago +running for 40s$/m,
      /^ +declared: +Failover, of the latest checkpoint, commit policy auto-commit after 5 minutes, reverse protection$/m,
      /^Last test: +Succeeded, started 2025-02-01T10:00:00Z \(28d ago\), ended .*, RTO 1m12s; checkpoint cp-7 at/m,
      /^ +FailoverTest +Succeeded +28d ago +20m +1m12s +cp-7$/m,
    ]) assert.match(text, expected);
    assert.match(statusDetail(fresh, now), /^Phase: +-$/m);
  });

  it('shows the checkpoints', () => {
    assert.equal(checkpointsText(web, now), [
      'Latest:  cp-1440 at 2025-03-01T09:59:55Z (5s ago)',
      'Oldest:  cp-1 at 2025-03-01T08:00:00Z (2h ago)',
      'Count:   1440',
      'Tagged:',
      '  ID       TIME                  AGE      TAG',
      '  cp-1000  2025-03-01T09:20:00Z  40m ago  before-upgrade',
    ].join('\n'));
    assert.equal(checkpointsText(fresh, now), 'VPG db has no checkpoints yet');
  });

  it('shows a history entry and a declared operation', () => {
    assert.equal(historyEntryText({
      type: 'Failover', startTime: '2025-03-01T09:50:00Z', endTime: '2025-03-01T09:58:30Z', result: 'Failed', message: 'no Ready recovery VRA',
    }, now), 'Failover Failed: ended 2025-03-01T09:58:30Z (1m30s ago) after 8m30s\n  no Ready recovery VRA');
    assert.equal(historyEntryText({
      type: 'FailoverTest', startTime: '2025-03-01T09:50:00Z', endTime: '2025-03-01T09:58:30Z', result: 'Succeeded', rtoSeconds: 61, checkpoint: { id: 'cp-3', time: '2025-03-01T09:49:00Z', tag: 'nightly' },
    }, now), 'FailoverTest Succeeded: ended 2025-03-01T09:58:30Z (1m30s ago) after 8m30s (RTO 1m1s)\n  checkpoint cp-3 at 2025-03-01T09:49:00Z (11m ago), tagged "nightly"');
    assert.equal(declaredText({ type: 'Move', checkpoint: { type: 'Latest' }, decision: 'Commit' }),
      'Move, of the checkpoint it takes after stopping the workloads, commit policy auto-commit after 10 minutes (the default), decision Commit');
  });
});
