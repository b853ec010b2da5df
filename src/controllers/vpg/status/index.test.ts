import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VPGStatus } from '../../../crds/vpg.ts';
import { deepEqual } from '../../../runtime/index.ts';
import type { SourceStatus } from '../../../vra/source-stream.ts';
import type { TargetStatus } from '../../../vra/target-stream.ts';
import {
  vpgStatus, type SlaInput, type SourceReport, type StreamObservation, type TaggedCheckpoint, type TargetReport, type VpgStatusInput,
} from './index.ts';

// What the VRAs report must fit what the status reads (a compile-time check).
const _sourceFits = (s: SourceStatus): SourceReport => s;
const _targetFits = (t: TargetStatus): TargetReport => t;

const T0 = Date.parse('2026-03-01T12:00:00Z');
const at = (s: number): Date => new Date(T0 + s * 1000);
const iso = (ms: number): string => new Date(ms).toISOString();
const GiB = 2 ** 30;
const H = 3600;

const SLA: SlaInput = { rpoAlertSeconds: 300, historyHours: 24, checkpointIntervalSeconds: 5, hardLimitBytes: 150 * GiB, warningBytes: 100 * GiB };
const PLACEMENT = { protectedNode: 'prod-1', recoveryNode: 'dr-1', streamId: 'uid-1' };
const VOLUMES = [{ claimName: 'data', sizeBytes: 10 * GiB }, { claimName: 'logs', sizeBytes: GiB }];

type Target = NonNullable<VpgStatusInput['target']>;

/** A protecting source, connected, RPO 4 s; a field given as undefined is left out. */
function source(o: { [K in keyof SourceReport]?: SourceReport[K] | undefined } = {}): StreamObservation<SourceReport> {
  const status = Object.fromEntries(Object.entries({ state: 'protecting', connected: true, rpoSeconds: 4, wireBytes: 1000, ...o }).filter(([, v]) => v !== undefined));
  return { kind: 'ok', status: status as SourceReport };
}

interface TargetOptions {
  rpo?: number;
  history?: number;
  count?: number;
  bytes?: number;
  overLimit?: boolean;
  warning?: boolean;
  tagged?: TaggedCheckpoint[];
  empty?: boolean;
  /** Seconds the VRAs' clocks are behind this process's. */
  skew?: number;
}

function target(now: Date, o: TargetOptions = {}): Target {
  const rpo = o.rpo ?? 4;
  const history = o.history ?? 24 * H - 20;
  const newestSeq = 100_000 + Math.floor(now.getTime() / 5000);
  const vraNow = now.getTime() - (o.skew ?? 0) * 1000;
  const status: TargetReport = o.empty === true
    ? { journalBytes: o.bytes ?? 5 * GiB, checkpoints: 0, actualHistorySeconds: 0, journalWarning: false, journalOverHardLimit: false }
    : {
        journalBytes: o.bytes ?? 42 * GiB + 123_456,
        checkpoints: o.count ?? 17_000,
        newestCheckpoint: { seq: newestSeq, time: iso(vraNow - rpo * 1000) },
        oldestCheckpoint: { seq: newestSeq - Math.floor(history / 5), time: iso(vraNow - history * 1000) },
        actualHistorySeconds: history,
        journalWarning: o.warning ?? false,
        journalOverHardLimit: o.overLimit ?? false,
      };
  return { kind: 'ok', status, ...(o.tagged !== undefined && { tagged: o.tagged }) };
}

function input(now: Date, o: Partial<VpgStatusInput> = {}): VpgStatusInput {
  return {
    now, generation: 3, previous: undefined, sla: SLA, placement: PLACEMENT, volumes: VOLUMES,
    source: source(), target: target(now), protectedVraReady: true, recoveryVraReady: true, ...o,
  };
}

/** A previous status whose journal began at `sinceMs` (and nothing else). */
const journalSince = (sinceMs: number): Record<string, unknown> => ({
  placement: PLACEMENT,
  journal: { since: iso(sinceMs), actualHistorySeconds: 0, actualHistory: '0s', configuredHistorySeconds: 24 * H, used: '0', limit: '150Gi' },
});

const cond = (s: VPGStatus, type: string): NonNullable<VPGStatus['conditions']>[number] | undefined => s.conditions?.find((c) => c.type === type);
const brief = (s: VPGStatus, type: string): string => {
  const c = cond(s, type);
  return c === undefined ? 'none' : `${c.status}/${c.reason}`;
};
const reasons = (events: { type: string; reason: string }[]): string[] => events.map((e) => `${e.type}/${e.reason}`);
/** The status as the API server would store and return it. */
const stored = (s: VPGStatus): unknown => JSON.parse(JSON.stringify(s)) as unknown;
const valid = (s: VPGStatus): void => {
  const r = VPGStatus.safeParse(s);
  assert.ok(r.success, r.success ? '' : JSON.stringify(r.error.issues));
};

describe('vpgStatus', () => {
  it('is Pending before the stream is configured on either VRA', () => {
    const { status, events } = vpgStatus(input(at(0), { source: undefined, target: undefined }));
    assert.equal(status.phase, 'Pending');
    assert.equal(status.substatus, undefined);
    assert.equal(brief(status, 'Ready'), 'False/StreamNotConfigured');
    assert.equal(brief(status, 'Protected'), 'False/NoCheckpoint');
    assert.equal(brief(status, 'MeetingSLA'), 'False/Pending');
    assert.equal(brief(status, 'Synchronizing'), 'False/NotReplicating');
    assert.deepEqual(status.placement, PLACEMENT);
    assert.deepEqual(status.volumes, [{ claimName: 'data', size: '10Gi', state: 'Pending' }, { claimName: 'logs', size: '1Gi', state: 'Pending' }]);
    assert.equal(status.rpoSeconds, undefined);
    assert.deepEqual(events, []);
    valid(status);
  });

  it('is Initializing without substatus before the first checkpoint: configuring, connecting', () => {
    const now = at(0);
    const half = vpgStatus(input(now, { source: undefined, target: target(now, { empty: true }) })).status;
    assert.equal(half.phase, 'Initializing');
    assert.equal(half.substatus, undefined);
    assert.equal(brief(half, 'Ready'), 'False/StreamNotConfigured');
    assert.match(cond(half, 'Ready')?.message ?? '', /not configured on the protected VRA \(node prod-1\) yet/);

    const connecting = vpgStatus(input(now, { source: source({ state: 'connecting', connected: false, lastError: 'connect ECONNREFUSED' }), target: target(now, { empty: true }) }));
    assert.equal(connecting.status.phase, 'Initializing');
    assert.equal(connecting.status.substatus, undefined);
    assert.equal(brief(connecting.status, 'Ready'), 'False/Connecting');
    assert.match(cond(connecting.status, 'Ready')?.message ?? '', /ECONNREFUSED/);
    assert.equal(brief(connecting.status, 'MeetingSLA'), 'False/Initializing');
    assert.deepEqual(connecting.events, []);
    assert.deepEqual(connecting.status.journal, { actualHistorySeconds: 0, actualHistory: '0s', configuredHistorySeconds: 86400, used: '5Gi', limit: '150Gi' });
    valid(connecting.status);
  });

  it('is Initializing/InitialSync during the initial sync, with its progress; startTime stays while it continues', () => {
    const now = at(0);
    const syncing = (t: Date, done: number): VpgStatusInput => input(t, {
      source: source({ state: 'initial-sync', rpoSeconds: undefined, progress: { bytesDone: done, bytesTotal: 11 * GiB, percent: (done / (11 * GiB)) * 100, etaSeconds: 600 }, volumes: [{ name: 'data', state: 'initial-sync', percent: 30.9 }, { name: 'logs', state: 'protecting' }] }),
      target: target(t, { empty: true }),
    });
    const first = vpgStatus(syncing(now, 4.7 * GiB));
    assert.equal(first.status.phase, 'Initializing');
    assert.equal(first.status.substatus, 'InitialSync');
    assert.deepEqual(first.status.sync, { type: 'Initial', startTime: '2026-03-01T12:00:00Z', progressPercent: 42, remaining: '6.3Gi', eta: '2026-03-01T12:10:00Z' });
    assert.deepEqual(first.status.volumes, [
      { claimName: 'data', size: '10Gi', state: 'InitialSync', syncPercent: 30 },
      { claimName: 'logs', size: '1Gi', state: 'Protected' },
    ]);
    assert.equal(brief(first.status, 'Ready'), 'True/Replicating');
    assert.equal(brief(first.status, 'Protected'), 'False/NoCheckpoint');
    assert.equal(brief(first.status, 'Synchronizing'), 'True/InitialSync');
    assert.equal(brief(first.status, 'MeetingSLA'), 'False/InitialSync');
    assert.deepEqual(first.events, [{ type: 'Normal', reason: 'InitialSyncStarted', note: 'initial sync of 2 volumes to the VRA on node dr-1 started' }]);
    valid(first.status);

    const later = vpgStatus({ ...syncing(at(5), 5 * GiB), previous: stored(first.status) });
    assert.equal(later.status.sync?.startTime, '2026-03-01T12:00:00Z', 'kept while the same sync continues');
    assert.equal(later.status.sync.progressPercent, 45);
    assert.deepEqual(later.events, []);
  });

  it('without per-volume states, volumes follow the stream', () => {
    const now = at(0);
    const { status } = vpgStatus(input(now, { source: source({ state: 'initial-sync', progress: { bytesDone: 1, bytesTotal: 4, percent: 25 } }), target: target(now, { empty: true }) }));
    assert.deepEqual(status.volumes?.map((v) => [v.state, v.syncPercent]), [['InitialSync', 25], ['InitialSync', 25]]);
  });

  it('meets its SLA once protecting: RPO, journal, checkpoints, volumes, conditions, one event', () => {
    const now = at(0);
    const tagged = Array.from({ length: 40 }, (_, i) => ({ seq: 1000 + i, time: iso(T0 - (40 - i) * 60_000), tag: `t${i}` }));
    const { status, events } = vpgStatus(input(now, { target: target(now, { tagged, count: 17_280 }), source: source({ rpoSeconds: 4.4 }) }));
    assert.equal(status.phase, 'MeetingSLA');
    assert.equal(status.substatus, undefined);
    assert.equal(status.observedGeneration, 3);
    assert.equal(status.rpoSeconds, 4);
    assert.deepEqual(status.journal, {
      since: iso(T0 - (24 * H - 20) * 1000), actualHistorySeconds: 86380, actualHistory: '23h59m',
      configuredHistorySeconds: 86400, used: '42Gi', limit: '150Gi',
    });
    assert.equal(status.checkpoints?.count, 17_280);
    assert.equal(status.checkpoints.latest?.time, iso(T0 - 4000));
    assert.equal(status.checkpoints.latest.id, String(100_000 + T0 / 5000));
    assert.equal(status.checkpoints.tagged?.length, 32);
    assert.deepEqual(status.checkpoints.tagged[0], { id: '1039', time: tagged[39]?.time, tag: 't39' }, 'newest first');
    assert.equal(status.sync, undefined);
    assert.deepEqual(status.volumes?.map((v) => v.state), ['Protected', 'Protected']);
    assert.equal(brief(status, 'Ready'), 'True/Replicating');
    assert.equal(brief(status, 'Protected'), 'True/CheckpointAvailable');
    assert.equal(brief(status, 'MeetingSLA'), 'True/MeetingSLA');
    assert.equal(brief(status, 'Synchronizing'), 'False/InSync');
    assert.ok(status.conditions?.every((c) => c.observedGeneration === 3 && c.lastTransitionTime === '2026-03-01T12:00:00Z'));
    assert.deepEqual(events, [{ type: 'Normal', reason: 'MeetingSLA', note: 'meeting its SLA: RPO 4 s' }]);
    valid(status);
  });

  it('is the same status and no events for the same situation; transition times hold', () => {
    const first = vpgStatus(input(at(0)));
    const again = vpgStatus(input(at(0), { previous: stored(first.status) }));
    assert.deepEqual(again.status, first.status);
    assert.deepEqual(again.events, []);
    const later = vpgStatus(input(at(60), { previous: stored(first.status) }));
    assert.deepEqual(later.status.conditions, first.status.conditions);
    assert.deepEqual(later.events, []);
  });

  it('is RpoNotMeetingSLA when the RPO passes the alert, with one Warning', () => {
    const now = at(0);
    const ok = vpgStatus(input(now)).status;
    const late = vpgStatus(input(at(5), { previous: stored(ok), source: source({ rpoSeconds: 301 }), target: target(at(5), { rpo: 301 }) }));
    assert.equal(late.status.phase, 'RpoNotMeetingSLA');
    assert.equal(late.status.rpoSeconds, 301);
    assert.equal(brief(late.status, 'MeetingSLA'), 'False/RpoExceeded');
    assert.equal(brief(late.status, 'Protected'), 'True/CheckpointAvailable');
    assert.deepEqual(late.events, [{ type: 'Warning', reason: 'RpoNotMeetingSLA', note: 'RPO 301 s is above the 300 s alert' }]);
    const still = vpgStatus(input(at(10), { previous: stored(late.status), source: source({ rpoSeconds: 320 }), target: target(at(10), { rpo: 320 }) }));
    assert.deepEqual(still.events, []);
    const back = vpgStatus(input(at(15), { previous: stored(still.status) }));
    assert.equal(back.status.phase, 'MeetingSLA');
    assert.deepEqual(reasons(back.events), ['Normal/MeetingSLA']);
  });

  describe('the history rule (85 % warning, 75 % error)', () => {
    const since = T0 - 48 * H * 1000;
    const history = (actual: number, previous: unknown = journalSince(since), s = 0) =>
      vpgStatus(input(at(s), { previous, target: target(at(s), { history: actual }) }));

    it('is met at 85 % of the configured history or more', () => {
      const { status, events } = history(0.86 * 24 * H);
      assert.equal(status.phase, 'MeetingSLA');
      assert.equal(status.journal?.since, iso(since), 'journal.since is kept');
      assert.deepEqual(reasons(events), ['Normal/MeetingSLA']);
    });

    it('below 85 %: HistoryNotMeetingSLA, HistoryWarning, a Warning event', () => {
      const { status, events } = history(20 * H);
      assert.equal(status.phase, 'HistoryNotMeetingSLA');
      assert.equal(status.substatus, undefined);
      assert.equal(brief(status, 'MeetingSLA'), 'False/HistoryWarning');
      assert.equal(events.length, 1);
      assert.equal(events[0]?.reason, 'HistoryBelowSLA');
      assert.equal(events[0].type, 'Warning');
      assert.equal(events[0].note, 'warning: journal history 20h0m is below 85 % of the expected 24h0m');
      assert.doesNotMatch(events[0].note, /error/);
    });

    it('below 75 %: HistoryError, and an event saying error; back to warning says nothing', () => {
      const warning = history(20 * H).status;
      const error = history(17 * H, stored(warning), 5);
      assert.equal(error.status.phase, 'HistoryNotMeetingSLA');
      assert.equal(brief(error.status, 'MeetingSLA'), 'False/HistoryError');
      assert.deepEqual(reasons(error.events), ['Warning/HistoryBelowSLA']);
      assert.match(error.events[0]?.note ?? '', /^error: .*below 75 %/);
      const straight = history(17 * H);
      assert.deepEqual(reasons(straight.events), ['Warning/HistoryBelowSLA'], 'straight to error: one event');
      const better = history(20 * H, stored(error.status), 10);
      assert.equal(brief(better.status, 'MeetingSLA'), 'False/HistoryWarning');
      assert.deepEqual(better.events, []);
      const met = history(23 * H, stored(better.status), 15);
      assert.equal(met.status.phase, 'MeetingSLA');
      assert.deepEqual(reasons(met.events), ['Normal/MeetingSLA']);
    });

    it('expects only the history the journal has had time to gather', () => {
      const young = journalSince(T0 - 2 * H * 1000);
      assert.equal(history(1.9 * H, young).status.phase, 'MeetingSLA', '95 % of 2 h');
      assert.equal(brief(history(1.6 * H, young).status, 'MeetingSLA'), 'False/HistoryWarning', '80 % of 2 h');
      assert.equal(brief(history(1.4 * H, young).status, 'MeetingSLA'), 'False/HistoryError', '70 % of 2 h');
      // A journal minutes old: seconds of difference are clocks and polling, not a shortfall.
      const minutes = journalSince(T0 - 100 * 1000);
      assert.equal(history(70, minutes).status.phase, 'MeetingSLA');
    });

    it('the first observation of checkpoints sets journal.since, and a new stream resets it', () => {
      const first = vpgStatus(input(at(0), { target: target(at(0), { history: 600 }) })).status;
      assert.equal(first.journal?.since, iso(T0 - 600_000));
      const renewed = vpgStatus(input(at(5), {
        previous: { ...(stored(first) as object), placement: { ...PLACEMENT, streamId: 'uid-0' } },
        target: target(at(5), { history: 30 }),
      })).status;
      assert.equal(renewed.journal?.since, iso(T0 + 5000 - 30_000));
    });

    it('is not judged during the initial sync', () => {
      const { status, events } = vpgStatus(input(at(0), {
        previous: journalSince(since),
        source: source({ state: 'initial-sync', progress: { bytesDone: 1, bytesTotal: 2, percent: 50 } }),
        target: target(at(0), { history: 60 }),
      }));
      assert.equal(status.phase, 'Initializing');
      assert.equal(status.substatus, 'InitialSync');
      assert.equal(brief(status, 'MeetingSLA'), 'False/InitialSync');
      assert.deepEqual(reasons(events), ['Normal/InitialSyncStarted']);
    });

    it('RPO and history both missed: NotMeetingSLA, a Warning for each', () => {
      const { status, events } = vpgStatus(input(at(0), { previous: journalSince(since), source: source({ rpoSeconds: 400 }), target: target(at(0), { rpo: 400, history: 17 * H }) }));
      assert.equal(status.phase, 'NotMeetingSLA');
      assert.equal(status.substatus, undefined);
      assert.equal(brief(status, 'MeetingSLA'), 'False/RpoAndHistoryError');
      assert.deepEqual(reasons(events), ['Warning/RpoNotMeetingSLA', 'Warning/HistoryBelowSLA']);
    });
  });

  describe('the journal hard limit', () => {
    it('with the history still met: MeetingSLA/JournalHardLimitReached and a Warning', () => {
      const ok = vpgStatus(input(at(0))).status;
      const { status, events } = vpgStatus(input(at(5), { previous: stored(ok), target: target(at(5), { overLimit: true, bytes: 150 * GiB }) }));
      assert.equal(status.phase, 'MeetingSLA');
      assert.equal(status.substatus, 'JournalHardLimitReached');
      assert.equal(brief(status, 'MeetingSLA'), 'True/MeetingSLA');
      assert.match(cond(status, 'MeetingSLA')?.message ?? '', /hard limit/);
      assert.deepEqual(reasons(events), ['Warning/JournalHardLimitReached']);
      assert.match(events[0]?.note ?? '', /\(150Gi\)/);
      valid(status);
    });

    it('with the history shrunk below the rule: HistoryNotMeetingSLA/JournalHardLimitReached', () => {
      const { status, events } = vpgStatus(input(at(0), { previous: journalSince(T0 - 48 * H * 1000), target: target(at(0), { overLimit: true, history: 10 * H }) }));
      assert.equal(status.phase, 'HistoryNotMeetingSLA');
      assert.equal(status.substatus, 'JournalHardLimitReached');
      assert.deepEqual(reasons(events), ['Warning/JournalHardLimitReached', 'Warning/HistoryBelowSLA']);
    });

    it('says Unlimited, or the limit text given', () => {
      const unlimited = vpgStatus(input(at(0), { sla: { ...SLA, hardLimitBytes: undefined } })).status;
      assert.equal(unlimited.journal?.limit, 'Unlimited');
      const text = vpgStatus(input(at(0), { sla: { ...SLA, limitText: '10 % (15Gi)' } })).status;
      assert.equal(text.journal?.limit, '10 % (15Gi)');
    });

    it('notes a journal above its warning threshold in the MeetingSLA message', () => {
      const { status } = vpgStatus(input(at(0), { target: target(at(0), { warning: true }) }));
      assert.equal(status.phase, 'MeetingSLA');
      assert.match(cond(status, 'MeetingSLA')?.message ?? '', /warning threshold/);
    });
  });

  describe('syncs after the first checkpoint', () => {
    it('bitmap sync while connected: NotMeetingSLA/BitmapSync, still recoverable', () => {
      const ok = vpgStatus(input(at(0))).status;
      const { status, events } = vpgStatus(input(at(5), { previous: stored(ok), source: source({ state: 'bitmap-sync', progress: { bytesDone: 10, bytesTotal: 20, percent: 50 } }) }));
      assert.equal(status.phase, 'NotMeetingSLA');
      assert.equal(status.substatus, 'BitmapSync');
      assert.equal(brief(status, 'Protected'), 'True/CheckpointAvailable');
      assert.equal(brief(status, 'Synchronizing'), 'True/BitmapSync');
      assert.equal(brief(status, 'MeetingSLA'), 'False/BitmapSync');
      assert.equal(status.sync?.type, 'Bitmap');
      assert.equal(status.sync.startTime, '2026-03-01T12:00:05Z');
      assert.deepEqual(status.volumes?.map((v) => [v.state, v.syncPercent]), [['BitmapSync', 50], ['BitmapSync', 50]]);
      assert.deepEqual(reasons(events), ['Normal/BitmapSyncStarted']);
    });

    it('delta sync: NotMeetingSLA/DeltaSync, not recoverable until it ends', () => {
      const ok = vpgStatus(input(at(0))).status;
      const { status, events } = vpgStatus(input(at(5), { previous: stored(ok), source: source({ state: 'delta-sync', progress: { bytesDone: 1, bytesTotal: 3, percent: 33.3 } }) }));
      assert.equal(status.phase, 'NotMeetingSLA');
      assert.equal(status.substatus, 'DeltaSync');
      assert.equal(brief(status, 'Protected'), 'False/DeltaSync');
      assert.equal(brief(status, 'Synchronizing'), 'True/DeltaSync');
      assert.equal(status.sync?.progressPercent, 33);
      assert.deepEqual(reasons(events), ['Normal/DeltaSyncStarted']);
      const done = vpgStatus(input(at(10), { previous: stored(status) }));
      assert.equal(done.status.phase, 'MeetingSLA');
      assert.equal(done.status.sync, undefined);
      assert.deepEqual(reasons(done.events), ['Normal/MeetingSLA']);
    });
  });

  describe('VRAs down or cut off', () => {
    const protecting = vpgStatus(input(at(0))).status;

    it('the source cut off from the recovery VRA: SiteDisconnection, then Recovered through a bitmap sync', () => {
      const cut = vpgStatus(input(at(5), { previous: stored(protecting), source: source({ state: 'bitmap-sync', connected: false, lastError: 'peer reset', rpoSeconds: 9 }) }));
      assert.equal(cut.status.phase, 'NotMeetingSLA');
      assert.equal(cut.status.substatus, 'SiteDisconnection');
      assert.equal(brief(cut.status, 'Ready'), 'False/Disconnected');
      assert.equal(brief(cut.status, 'Protected'), 'True/CheckpointAvailable');
      assert.deepEqual(cut.events, [{ type: 'Warning', reason: 'SiteDisconnection', note: 'the protected VRA is not connected to the recovery VRA: peer reset' }]);
      const back = vpgStatus(input(at(10), { previous: stored(cut.status), source: source({ state: 'bitmap-sync', progress: { bytesDone: 0, bytesTotal: 9, percent: 0 } }) }));
      assert.equal(back.status.substatus, 'BitmapSync');
      assert.deepEqual(reasons(back.events), ['Normal/Recovered', 'Normal/BitmapSyncStarted']);
      assert.equal(back.events[0]?.note, 'NotMeetingSLA/SiteDisconnection is over: now NotMeetingSLA/BitmapSync');
      const met = vpgStatus(input(at(15), { previous: stored(back.status) }));
      assert.deepEqual(reasons(met.events), ['Normal/MeetingSLA']);
    });

    it('the recovery VRA out of reach: SiteDisconnection, last known checkpoints, RPO from the newest', () => {
      const { status, events } = vpgStatus(input(at(60), {
        previous: stored(protecting), source: source({ connected: false, state: 'bitmap-sync', rpoSeconds: undefined }),
        target: { kind: 'unreachable', error: 'connect ETIMEDOUT' },
      }));
      assert.equal(status.phase, 'NotMeetingSLA');
      assert.equal(status.substatus, 'SiteDisconnection');
      assert.equal(brief(status, 'Ready'), 'False/RecoveryVraUnreachable');
      assert.equal(brief(status, 'Protected'), 'False/RecoveryVraUnavailable');
      assert.deepEqual(status.checkpoints, protecting.checkpoints);
      assert.deepEqual(status.journal, protecting.journal);
      assert.equal(status.rpoSeconds, 64, 'now − the newest checkpoint last seen');
      assert.deepEqual(reasons(events), ['Warning/SiteDisconnection']);
      assert.match(events[0]?.note ?? '', /ETIMEDOUT/);
    });

    it('the recovery VRA not Ready: SiteDisconnection', () => {
      const { status } = vpgStatus(input(at(5), { previous: stored(protecting), recoveryVraReady: false }));
      assert.equal(status.substatus, 'SiteDisconnection');
      assert.equal(brief(status, 'Ready'), 'False/RecoveryVraNotReady');
      assert.match(cond(status, 'Ready')?.message ?? '', /node dr-1/);
    });

    it('the protected VRA not Ready or out of reach: VraNotReady, RPO from the recovery side', () => {
      const notReady = vpgStatus(input(at(5), { previous: stored(protecting), protectedVraReady: false }));
      assert.equal(notReady.status.phase, 'NotMeetingSLA');
      assert.equal(notReady.status.substatus, 'VraNotReady');
      assert.equal(brief(notReady.status, 'Ready'), 'False/ProtectedVraNotReady');
      assert.deepEqual(reasons(notReady.events), ['Warning/VraNotReady']);
      const gone = vpgStatus(input(at(30), { previous: stored(protecting), source: { kind: 'unreachable', error: 'no route to host' }, target: target(at(30), { rpo: 30 }) }));
      assert.equal(gone.status.substatus, 'VraNotReady');
      assert.equal(brief(gone.status, 'Ready'), 'False/ProtectedVraUnreachable');
      assert.equal(gone.status.rpoSeconds, 30);
      assert.equal(brief(gone.status, 'Protected'), 'True/CheckpointAvailable', 'the recovery side still holds checkpoints');
      assert.deepEqual(gone.status.volumes?.map((v) => v.state), ['Protected', 'Protected'], 'last known volume states');
    });

    it('keeps an unfinished sync while the protected VRA is out of reach', () => {
      const now = at(0);
      const syncing = vpgStatus(input(now, { source: source({ state: 'initial-sync', progress: { bytesDone: 5, bytesTotal: 10, percent: 50 } }), target: target(now, { empty: true }) })).status;
      const { status, events } = vpgStatus(input(at(5), { previous: stored(syncing), source: { kind: 'unreachable', error: 'timeout' }, target: target(at(5), { empty: true }) }));
      assert.equal(status.phase, 'Initializing');
      assert.equal(status.substatus, 'VraNotReady');
      assert.deepEqual(status.sync, syncing.sync);
      assert.equal(brief(status, 'Synchronizing'), 'True/InitialSync');
      assert.deepEqual(reasons(events), ['Warning/VraNotReady']);
    });

    it('a stream end missing after protection: VraNotReady until it is configured again', () => {
      const { status } = vpgStatus(input(at(5), { previous: stored(protecting), source: { kind: 'missing' } }));
      assert.equal(status.phase, 'NotMeetingSLA');
      assert.equal(status.substatus, 'VraNotReady');
      assert.equal(brief(status, 'Ready'), 'False/StreamNotConfigured');
      assert.match(cond(status, 'Ready')?.message ?? '', /does not have the stream/);
    });
  });

  it('is Error when a stream end failed, with the VRA\'s message', () => {
    const ok = vpgStatus(input(at(0))).status;
    const { status, events } = vpgStatus(input(at(5), { previous: stored(ok), target: { kind: 'failed', error: 'journal: bad magic in segment 3' } }));
    assert.equal(status.phase, 'Error');
    assert.equal(status.substatus, undefined);
    assert.equal(brief(status, 'Ready'), 'False/StreamFailed');
    assert.equal(brief(status, 'Protected'), 'False/StreamFailed');
    assert.equal(brief(status, 'MeetingSLA'), 'False/Error');
    assert.deepEqual(status.volumes?.map((v) => [v.state, v.message]), [['Error', 'journal: bad magic in segment 3'], ['Error', 'journal: bad magic in segment 3']]);
    assert.deepEqual(events, [{ type: 'Warning', reason: 'Error', note: 'the stream failed: recovery VRA: journal: bad magic in segment 3' }]);
    valid(status);
    const fixed = vpgStatus(input(at(10), { previous: stored(status) }));
    assert.deepEqual(reasons(fixed.events), ['Normal/Recovered', 'Normal/MeetingSLA']);
  });

  describe('a blocker', () => {
    const blocker = { reason: 'ClaimNotFound', message: 'spec.volumes.claimNames: PersistentVolumeClaim db does not exist' };

    it('is NeedsConfiguration with the reason, keeping only the placement', () => {
      const ok = vpgStatus(input(at(0))).status;
      const { status, events } = vpgStatus(input(at(5), { previous: stored(ok), blocker }));
      assert.equal(status.phase, 'NeedsConfiguration');
      assert.equal(status.substatus, undefined);
      assert.deepEqual(status.placement, PLACEMENT);
      for (const f of ['rpoSeconds', 'journal', 'checkpoints', 'sync'] as const) assert.equal(status[f], undefined, f);
      assert.deepEqual(status.volumes?.map((v) => v.state), ['Pending', 'Pending']);
      assert.deepEqual(cond(status, 'Ready'), { type: 'Ready', status: 'False', reason: 'ClaimNotFound', message: blocker.message, observedGeneration: 3, lastTransitionTime: '2026-03-01T12:00:05Z' });
      for (const type of ['Protected', 'MeetingSLA', 'Synchronizing']) assert.equal(brief(status, type), 'False/NotConfigured', type);
      assert.deepEqual(events, [{ type: 'Warning', reason: 'ClaimNotFound', note: blocker.message }]);
      valid(status);
      const again = vpgStatus(input(at(10), { previous: stored(status), blocker }));
      assert.deepEqual(again.status, status);
      assert.deepEqual(again.events, []);
      const other = vpgStatus(input(at(15), { previous: stored(status), blocker: { reason: 'QuotaExceeded', message: 'over quota' } }));
      assert.deepEqual(reasons(other.events), ['Warning/QuotaExceeded']);
    });

    it('may ask for the Error phase, and needs no SLA', () => {
      const { status } = vpgStatus(input(at(0), { blocker: { ...blocker, phase: 'Error' }, sla: undefined, source: undefined, target: undefined }));
      assert.equal(status.phase, 'Error');
      valid(status);
    });

    it('when lifted, protection resumes: Recovered', () => {
      const blocked = vpgStatus(input(at(0), { blocker })).status;
      const { status, events } = vpgStatus(input(at(5), { previous: stored(blocked) }));
      assert.equal(status.phase, 'MeetingSLA');
      assert.deepEqual(reasons(events), ['Normal/Recovered', 'Normal/MeetingSLA']);
    });
  });

  it('an operation owns phase and substatus, and its protection events wait until it ends', () => {
    const ok = vpgStatus(input(at(0))).status;
    const testing = vpgStatus(input(at(5), { previous: { ...(stored(ok) as object), phase: 'Testing', substatus: 'Recovering' }, operation: { phase: 'Testing', substatus: 'Recovering' }, source: source({ rpoSeconds: 400 }) }));
    assert.equal(testing.status.phase, 'Testing');
    assert.equal(testing.status.substatus, 'Recovering');
    assert.equal(brief(testing.status, 'MeetingSLA'), 'False/RpoExceeded');
    assert.deepEqual(testing.events, []);
    const still = vpgStatus(input(at(10), { previous: stored(testing.status), operation: { phase: 'Testing' }, source: source({ rpoSeconds: 400 }) }));
    assert.equal(still.status.substatus, undefined);
    assert.deepEqual(still.events, []);
    const after = vpgStatus(input(at(15), { previous: stored(still.status) }));
    assert.equal(after.status.phase, 'MeetingSLA');
    assert.deepEqual(reasons(after.events), ['Normal/MeetingSLA']);
  });

  it('copies the operation logic\'s fields (operation, lastTest, history) as they are, blocked or not', () => {
    const checkpoint = { id: '42', time: iso(T0 - 3_600_000) };
    const theirs = {
      operation: { type: 'FailoverTest', stage: 'Running', startTime: '2026-03-01T11:00:00Z', checkpoint },
      lastTest: { startTime: '2026-02-01T11:00:00Z', endTime: '2026-02-01T11:30:00Z', checkpoint, result: 'Succeeded' },
      history: [{ type: 'FailoverTest', startTime: '2026-02-01T11:00:00Z', endTime: '2026-02-01T11:30:00Z', result: 'Succeeded' }],
    };
    const protecting = vpgStatus(input(at(0), { previous: theirs })).status;
    const blocked = vpgStatus(input(at(5), { previous: stored(protecting), blocker: { reason: 'ClaimNotFound', message: 'gone' } })).status;
    for (const s of [protecting, blocked]) {
      assert.deepEqual({ operation: s.operation, lastTest: s.lastTest, history: s.history }, theirs);
      valid(s);
    }
  });

  it('reads a malformed previous status leniently', () => {
    const { status } = vpgStatus(input(at(0), { previous: { phase: 'Bogus', journal: { since: 5 }, conditions: 'x', checkpoints: { count: -1 } } }));
    assert.equal(status.phase, 'MeetingSLA');
    valid(status);
    assert.equal(vpgStatus(input(at(0), { previous: 'nonsense' })).status.phase, 'MeetingSLA');
  });

  describe('no write storms', () => {
    /** Runs polls 5 s apart, storing the status only when it changed, as the controller does; returns the seconds of the writes. */
    function poll(from: number, to: number, world: (s: number) => Partial<VpgStatusInput>, start?: VPGStatus): { writes: number[]; last: VPGStatus } {
      let previous: unknown = start === undefined ? undefined : stored(start);
      let last = start;
      const writes: number[] = [];
      for (let s = from; s <= to; s += 5) {
        const { status } = vpgStatus(input(at(s), { previous, ...world(s) }));
        if (!deepEqual(status, previous)) {
          writes.push(s);
          previous = stored(status);
        }
        last = status;
      }
      assert.ok(last !== undefined);
      return { writes, last };
    }
    const gaps = (writes: number[]): number[] => writes.slice(1).map((w, i) => w - (writes[i] ?? 0));

    it('at steady state, at most one write per 30 s, and the figures still follow', () => {
      const steady = (s: number): Partial<VpgStatusInput> => {
        const rpo = 2 + (s % 7) * 0.5;
        return { source: source({ rpoSeconds: rpo, wireBytes: s * 1000 }), target: target(at(s), { rpo, history: 24 * H - 30 + (s % 11), count: 17_000 + (s % 13), bytes: 40 * GiB + s * 10_000 }) };
      };
      const { writes, last } = poll(0, 600, steady);
      assert.equal(writes[0], 0);
      assert.ok(gaps(writes).every((g) => g >= 30), `writes at ${writes.join(', ')}`);
      assert.ok(writes.length >= 15, `figures refresh about every 30 s: ${writes.join(', ')}`);
      assert.equal(last.phase, 'MeetingSLA');
      assert.ok(Date.parse(last.checkpoints?.latest?.time ?? '') >= T0 + 560_000, 'latest checkpoint at most ~35 s behind');
    });

    it('the same with the VRAs\' clocks 45 s behind or ahead', () => {
      for (const skew of [45, -45]) {
        const steady = (s: number): Partial<VpgStatusInput> => {
          const rpo = 2 + (s % 7) * 0.5;
          return { source: source({ rpoSeconds: rpo }), target: target(at(s), { rpo, skew, history: 24 * H - 30 + (s % 11) }) };
        };
        const { writes } = poll(0, 300, steady);
        assert.ok(gaps(writes).every((g) => g >= 30), `skew ${skew}: writes at ${writes.join(', ')}`);
        assert.ok(writes.length >= 7, `skew ${skew}: writes at ${writes.join(', ')}`);
      }
    });

    it('while cut off, the growing RPO is written every 30 s, not every poll', () => {
      const start = vpgStatus(input(at(0))).status;
      const { writes, last } = poll(5, 600, () => ({ source: { kind: 'unreachable', error: 'timeout' }, target: { kind: 'unreachable', error: 'timeout' } }), start);
      assert.ok(gaps(writes).every((g) => g >= 30), `writes at ${writes.join(', ')}`);
      assert.ok(writes.length >= 15);
      assert.ok((last.rpoSeconds ?? 0) >= 560);
    });

    it('in a sync, a whole percent more is worth a write; the ETA alone is not', () => {
      const now = at(0);
      const sync = (done: number, eta: number): Partial<VpgStatusInput> => ({
        source: source({ state: 'initial-sync', progress: { bytesDone: done, bytesTotal: 1000, percent: done / 10, etaSeconds: eta } }),
        target: target(now, { empty: true }),
      });
      const first = vpgStatus(input(now, sync(100, 900))).status;
      const eta = vpgStatus(input(at(5), { previous: stored(first), ...sync(105, 700) })).status;
      assert.deepEqual(eta, first, '10.5 % is still 10 %: the figures stay');
      const more = vpgStatus(input(at(10), { previous: stored(eta), ...sync(111, 880) })).status;
      assert.equal(more.sync?.progressPercent, 11);
      assert.equal(more.sync.remaining, '889');
      assert.equal(more.sync.eta, '2026-03-01T12:14:50Z');
    });

    it('a change of state is written at once, with fresh figures', () => {
      const first = vpgStatus(input(at(0))).status;
      const next = vpgStatus(input(at(5), { previous: stored(first), source: source({ rpoSeconds: 301 }), target: target(at(5), { rpo: 301 }) })).status;
      assert.equal(next.phase, 'RpoNotMeetingSLA');
      assert.equal(next.rpoSeconds, 301);
      assert.equal(next.checkpoints?.latest?.time, iso(T0 + 5000 - 301_000));
    });

    it('a new tag is written at once', () => {
      const first = vpgStatus(input(at(0), { target: target(at(0), { tagged: [] }) })).status;
      const tag = { seq: 100_000 + T0 / 5000, time: iso(T0 - 4000), tag: 'app-consistent' };
      const next = vpgStatus(input(at(5), { previous: stored(first), target: target(at(5), { tagged: [tag] }) })).status;
      assert.deepEqual(next.checkpoints?.tagged, [{ id: String(tag.seq), time: tag.time, tag: 'app-consistent' }]);
      const unread = vpgStatus(input(at(10), { previous: stored(next) })).status;
      assert.deepEqual(unread, next, 'tags not read this time: the list stays');
    });
  });
});
