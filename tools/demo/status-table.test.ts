import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { age, renderStatus, table } from './status-table.ts';

const now = new Date('2026-11-26T12:00:00Z');
const ago = (s: number): Date => new Date(now.getTime() - s * 1000);

describe('status table', () => {
  it('aligns columns', () => {
    assert.deepEqual(table(['A', 'LONGER'], [['xyz', '1'], ['', '22']]), ['A    LONGER', 'xyz  1', '     22']);
  });
  it('formats ages like kubectl', () => {
    assert.equal(age(ago(5), now), '5s');
    assert.equal(age(ago(600), now), '10m');
    assert.equal(age(ago(4 * 3600), now), '4h');
    assert.equal(age(undefined, now), '-');
  });
  it('shows nodes by site and pods with readiness, waiting reasons and restarts', () => {
    const lines = renderStatus(
      [
        { metadata: { name: 'prod-1', labels: { 'zcsp.io/site': 'prod' }, creationTimestamp: ago(30) },
          status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: '127.20.1.1' }] } },
        { metadata: { name: 'dr-1', labels: { 'zcsp.io/site': 'dr' }, creationTimestamp: ago(30) },
          status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } },
      ],
      [{
        metadata: { name: 'web', namespace: 'app', creationTimestamp: ago(10) },
        spec: { nodeName: 'prod-1', containers: [{ name: 'a' }, { name: 'b' }] },
        status: { phase: 'Pending', podIP: '127.20.1.2', containerStatuses: [
          { name: 'a', ready: true, restartCount: 2, image: 'x', imageID: '' },
          { name: 'b', ready: false, restartCount: 1, image: 'x', imageID: '', state: { waiting: { reason: 'CrashLoopBackOff' } } },
        ] },
      }],
      now,
    );
    assert.deepEqual(lines, [
      'NODE    SITE  STATUS    IP          AGE',
      'dr-1    dr    NotReady  -           30s',
      'prod-1  prod  Ready     127.20.1.1  30s',
      '',
      'POD      READY  STATUS            RESTARTS  NODE    IP          AGE',
      'app/web  1/2    CrashLoopBackOff  3         prod-1  127.20.1.2  10s',
    ]);
  });
});
