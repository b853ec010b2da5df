import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { age, clip, columns, fitScreen, renderDemo, renderStatus, renderVpgs, seconds, table, type VpgView } from './status-table.ts';

const now = new Date('2026-11-26T12:00:00Z');
const ago = (s: number): Date => new Date(now.getTime() - s * 1000);

describe('status table', () => {
  it('aligns columns', () => {
    assert.deepEqual(table(['A', 'LONGER'], [['xyz', '1'], ['', '22']]), ['A    LONGER', 'xyz  1', '     22']);
    assert.deepEqual(columns([['a', 'b', 'c'], ['dd']]), ['a   b  c', 'dd']);
  });
  it('formats ages like kubectl', () => {
    assert.equal(age(ago(5), now), '5s');
    assert.equal(age(ago(600), now), '10m');
    assert.equal(age(ago(4 * 3600), now), '4h');
    assert.equal(age(undefined, now), '-');
  });
  it('formats seconds for people', () => {
    assert.equal(seconds(0), '0s');
    assert.equal(seconds(59), '59s');
    assert.equal(seconds(185), '3m05s');
    assert.equal(seconds(7800), '2h10m');
    assert.equal(seconds(undefined), '-');
    assert.equal(seconds(-1), '-');
  });
  it('clips long text with an ellipsis', () => {
    assert.equal(clip('short', 10), 'short');
    assert.equal(clip('0123456789abc', 10), '012345678…');
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

const protectedVpg: VpgView = {
  metadata: { name: 'web', namespace: 'acme-prod' },
  status: { phase: 'MeetingSLA', rpoSeconds: 4, journal: { actualHistory: '23h58m', used: '1200Mi' } },
};
const syncing: VpgView = {
  metadata: { name: 'db', namespace: 'acme-prod' },
  status: { phase: 'Initializing', substatus: 'InitialSync', sync: { type: 'Initial', progressPercent: 42 } },
};
const prod = { metadata: { name: 'prod' }, status: { vras: { desired: 2, ready: 2 }, conditions: [{ type: 'Ready', status: 'True', reason: 'VRAsReady' }] } };
const dr = { metadata: { name: 'dr' }, status: { vras: { desired: 2, ready: 1 }, conditions: [{ type: 'Ready', status: 'False', reason: 'VRAsNotReady' }] } };
const zcc = { metadata: { name: 'acme', namespace: 'zcsp-system' }, spec: { zorg: 'acme', replicas: 1 },
  status: { readyReplicas: 1, endpoint: 'zcc-acme.zcsp-system.svc:9443', conditions: [{ type: 'Ready', status: 'True' }] } };

describe('VPG, Site and ZCC lines', () => {
  it('shows one row per VPG, sorted, with the sync in progress, then sites and connectors', () => {
    assert.deepEqual(renderVpgs([protectedVpg, syncing], [prod, dr], [zcc]), [
      'NAMESPACE  VPG  PHASE         SUBSTATUS    RPO  HISTORY  JOURNAL  SYNC%',
      'acme-prod  db   Initializing  InitialSync  -    -        -        42% Initial',
      'acme-prod  web  MeetingSLA    -            4s   23h58m   1200Mi   -',
      '',
      'site  dr                VRAs 1/2 ready  not ready: VRAsNotReady',
      'site  prod              VRAs 2/2 ready',
      'zcc   zcsp-system/acme  pods 1/1 ready  zorg acme, at zcc-acme.zcsp-system.svc:9443',
    ]);
  });

  it('shows "-" for whatever a status lacks, down to no status at all', () => {
    const lines = renderVpgs(
      [{ metadata: { name: 'new', namespace: 'ns' } }, { metadata: { name: 'half', namespace: 'ns' }, status: { journal: {}, sync: {} } }],
      [{ metadata: { name: 'fresh' } }],
      [{ metadata: { name: 'c', namespace: 'p' } }],
    );
    assert.deepEqual(lines, [
      'NAMESPACE  VPG   PHASE  SUBSTATUS  RPO  HISTORY  JOURNAL  SYNC%',
      'ns         half  -      -          -    -        -        -',
      'ns         new   -      -          -    -        -        -',
      '',
      'site  fresh  VRAs -/- ready',
      'zcc   p/c    pods -/- ready',
    ]);
  });

  it('says what to apply when there is nothing yet', () => {
    assert.deepEqual(renderVpgs([], [], []), [
      'no VPGs yet: kubectl apply -f examples/06-vpg.yaml makes one',
      '',
      'site  -  no Sites yet: kubectl apply -f examples/01-sites.yaml',
      'zcc   -  no ZCCs yet: kubectl apply -f examples/04-zcc.yaml',
    ]);
  });

  it('keeps columns aligned under long names, which are clipped', () => {
    const long = 'a-very-long-namespace-name-that-goes-on-and-on-for-ever';
    const lines = renderVpgs([{ metadata: { name: 'web', namespace: long }, status: { phase: 'Pending' } }, protectedVpg], [], []);
    const header = lines[0] ?? '';
    const clipped = `${long.slice(0, 39)}…`;
    assert.equal(lines[1]?.startsWith(`${clipped}  web`), true, lines[1]);
    for (const column of ['VPG', 'PHASE', 'RPO', 'SYNC%']) {
      const at = header.indexOf(column);
      for (const row of lines.slice(1, 3)) assert.notEqual(row[at - 1], undefined, `${row} reaches ${column}`);
      for (const row of lines.slice(1, 3)) assert.equal(row[at - 1], ' ', `a column boundary before ${column} in ${row}`);
    }
    const second = lines[2] ?? '';
    assert.equal(second.indexOf('web'), header.indexOf('VPG'));
    assert.equal(second.indexOf('MeetingSLA'), header.indexOf('PHASE'));
  });

  it('without figures, moving numbers do not change the rendering', () => {
    const later: VpgView = { ...protectedVpg, status: { ...protectedVpg.status, rpoSeconds: 7, journal: { actualHistory: '23h59m', used: '1210Mi' } } };
    const a = renderVpgs([protectedVpg], [], [], { figures: false });
    assert.deepEqual(renderVpgs([later], [], [], { figures: false }), a);
    assert.notDeepEqual(renderVpgs([later], [], []), renderVpgs([protectedVpg], [], []));
    // A sync shows in steps of 10 %; a phase change always shows.
    const at = (p: number): string[] => renderVpgs([{ ...syncing, status: { ...syncing.status, sync: { type: 'Initial', progressPercent: p } } }], [], [], { figures: false });
    assert.deepEqual(at(41), at(49));
    assert.notDeepEqual(at(49), at(50));
    assert.notDeepEqual(renderVpgs([{ ...protectedVpg, status: { ...protectedVpg.status, phase: 'RpoNotMeetingSLA' } }], [], [], { figures: false }), a);
  });

  it('puts the VPGs above the nodes and pods', () => {
    const lines = renderDemo({ vpgs: [protectedVpg], sites: [], zccs: [], nodes: [], pods: [] }, now);
    assert.equal(lines[0]?.startsWith('NAMESPACE'), true);
    assert.equal(lines.includes('NODE  SITE  STATUS  IP  AGE'), true);
    assert.equal(lines.at(-1), 'no pods yet: kubectl apply something');
  });
});

describe('fitting the terminal', () => {
  it('cuts long lines and counts the lines that do not fit', () => {
    const lines = ['a'.repeat(30), 'b', 'c', 'd', 'e'];
    assert.deepEqual(fitScreen(lines, 4, 20), ['a'.repeat(18) + '…', 'b', '… 3 more lines (a taller window shows them)']);
    assert.deepEqual(fitScreen(lines, 6, 40), lines);
    assert.deepEqual(fitScreen(lines, undefined, undefined), lines);
  });
});
