import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { alertsOf } from './provider.ts';
import type { Vpg } from '../kubectl/vpg.ts';

describe('alertsOf', () => {
  it('reports VPGs not meeting their SLA, overdue tests and journals projected past their hard limit, nothing for healthy ones', () => {
    const vpgs = [
      { metadata: { namespace: 'a', name: 'ok' }, status: { phase: 'MeetingSLA', conditions: [{ type: 'Tested', status: 'True', reason: 'TestedRecently' }] } },
      { metadata: { namespace: 'a', name: 'slow' }, status: { phase: 'RpoNotMeetingSLA', conditions: [{ type: 'MeetingSLA', status: 'False', reason: 'RpoExceeded', message: 'RPO 400 s > 300 s' }] } },
      { metadata: { namespace: 'b', name: 'old' }, status: { phase: 'MeetingSLA', conditions: [{ type: 'Tested', status: 'False', reason: 'TestOverdue', message: 'due' }] } },
      { metadata: { namespace: 'b', name: 'busy' }, status: { phase: 'MeetingSLA', conditions: [{ type: 'JournalWithinHardLimit', status: 'False', reason: 'ProjectedOverHardLimit', message: 'over' }] } },
      { metadata: { namespace: 'b', name: 'fits' }, status: { phase: 'MeetingSLA', conditions: [{ type: 'JournalWithinHardLimit', status: 'True', reason: 'WithinHardLimit', message: 'fits' }] } },
    ] as unknown as Vpg[];
    assert.deepEqual(alertsOf(vpgs), [
      { kind: 'NotMeetingSLA', namespace: 'a', name: 'slow', phase: 'RpoNotMeetingSLA', reason: 'RpoExceeded', message: 'RPO 400 s > 300 s' },
      { kind: 'TestOverdue', namespace: 'b', name: 'old', reason: 'TestOverdue', message: 'due' },
      { kind: 'JournalOverHardLimit', namespace: 'b', name: 'busy', reason: 'ProjectedOverHardLimit', message: 'over' },
    ]);
  });
});
