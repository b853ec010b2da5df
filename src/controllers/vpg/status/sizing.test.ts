// Change rates, the sizing report and the JournalWithinHardLimit condition in a VPG's status, and
// the status of an assessment (spec.mode Assess), through vpgStatus as the controller calls it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VPGStatus } from '../../../crds/vpg.ts';
import { vpgStatus, type AssessReport, type SlaInput, type SourceReport, type StreamObservation, type VpgStatusInput } from './index.ts';
import type { AssessStatus } from '../../../vra/assess-stream.ts';
import type { VolumeChangeRate } from './types.ts';

// What the VRA reports of an assessment must fit what the status reads (a compile-time check).
const _assessFits = (s: AssessStatus): AssessReport => s;

const T0 = Date.parse('2026-03-01T12:00:00Z');
const at = (s: number): Date => new Date(T0 + s * 1000);
const GiB = 2 ** 30;
const SLA: SlaInput = { rpoAlertSeconds: 300, historyHours: 24, checkpointIntervalSeconds: 5, hardLimitBytes: 150 * GiB, warningBytes: 100 * GiB };
const PLACEMENT = { protectedNode: 'prod-1', recoveryNode: 'dr-1', streamId: 'uid-1' };
const VOLUMES = [{ claimName: 'data', sizeBytes: 10 * GiB }, { claimName: 'logs', sizeBytes: GiB }];

/** A measurement: `raw` and `sent` GiB per hour on average, the peak twice that, over `seconds`. */
function rate(raw: number, sent: number, seconds = 3600): VolumeChangeRate {
  return {
    since: '2026-03-01T11:00:00Z', measuredSeconds: seconds,
    rawBytes: (raw * GiB * seconds) / 3600, compressedBytes: (sent * GiB * seconds) / 3600,
    averageRawBytesPerHour: raw * GiB, averageCompressedBytesPerHour: sent * GiB,
    peakRawBytesPerHour: 2 * raw * GiB, peakCompressedBytesPerHour: 2 * sent * GiB,
  };
}

function source(data: VolumeChangeRate | undefined, logs: VolumeChangeRate | undefined): StreamObservation<SourceReport> {
  return {
    kind: 'ok',
    status: {
      state: 'protecting', connected: true, rpoSeconds: 4, wireBytes: 1000,
      volumes: [
        { name: 'data', state: 'protecting', ...(data !== undefined && { changeRate: data }) },
        { name: 'logs', state: 'protecting', ...(logs !== undefined && { changeRate: logs }) },
      ],
    },
  };
}

function input(o: Partial<VpgStatusInput> = {}): VpgStatusInput {
  return {
    now: at(0), generation: 3, previous: undefined, sla: SLA, placement: PLACEMENT, volumes: VOLUMES,
    source: source(undefined, undefined), protectedVraReady: true, recoveryVraReady: true, ...o,
  };
}

const cond = (s: VPGStatus, type: string) => s.conditions?.find((c) => c.type === type);
const brief = (s: VPGStatus, type: string): string => `${cond(s, type)?.status ?? 'none'}/${cond(s, type)?.reason ?? 'none'}`;
const valid = (s: VPGStatus): void => {
  const r = VPGStatus.safeParse(s);
  assert.ok(r.success, r.success ? '' : JSON.stringify(r.error.issues));
};
const stored = (s: VPGStatus): unknown => JSON.parse(JSON.stringify(s)) as unknown;

describe('a VPG\'s change rates and sizing', () => {
  it('has no figures and says NotMeasured until every volume was measured for a minute', () => {
    const none = vpgStatus(input()).status;
    assert.equal(none.sizing, undefined);
    assert.equal(brief(none, 'JournalWithinHardLimit'), 'Unknown/NotMeasured');
    const young = vpgStatus(input({ source: source(rate(2, 1, 30), rate(0.5, 0.25, 3600)) })).status;
    assert.equal(young.sizing, undefined, 'data measured for 30 s only');
    assert.equal(young.volumes?.[0]?.changeRate?.measuredSeconds, 30, 'the volume\'s own figures are shown at once');
    const half = vpgStatus(input({ source: source(undefined, rate(0.5, 0.25)) })).status;
    assert.equal(half.sizing, undefined, 'data not measured at all');
    valid(half);
  });

  it('shows each volume\'s rate and the report: 11 GiB protected, 1.25 GiB/h sent, 24 h of history in 30 GiB, 20 % of the hard limit', () => {
    const { status } = vpgStatus(input({ source: source(rate(2, 1), rate(0.5, 0.25)) }));
    valid(status);
    assert.deepEqual(status.volumes?.[0]?.changeRate, {
      since: '2026-03-01T11:00:00Z', measuredSeconds: 3600,
      averageBytesPerHour: 2 * GiB, peakBytesPerHour: 4 * GiB, averageCompressedBytesPerHour: GiB, peakCompressedBytesPerHour: 2 * GiB,
    });
    const s = status.sizing;
    assert.ok(s !== undefined);
    assert.deepEqual(s.basis, { source: 'Measured', measuredSeconds: 3600, since: '2026-03-01T11:00:00Z' });
    assert.equal(s.protectedBytes, 11 * GiB);
    assert.equal(s.replicaBytes, 11 * GiB);
    // Sent per hour: 1 + 0.25 GiB; raw 2.5 GiB: compression 2:1.
    assert.equal(s.change.averageCompressedBytesPerHour, 1.25 * GiB);
    assert.equal(s.change.compressionRatio, 2);
    assert.equal(s.journal.projectedBytes, 30 * GiB);
    assert.equal(s.journal.hardLimitBytes, 150 * GiB);
    assert.equal(s.journal.percentOfHardLimit, 20);
    assert.equal(s.journal.historyHoursAtHardLimit, 120);
    assert.equal(s.journal.exceedsHardLimit, false);
    // Failback: the reverse replica (the protected size) and its journal on the protected site,
    // with the journal's segment files beyond its records (256 MiB).
    assert.equal(s.journal.fileOverheadBytes, 256 * 2 ** 20);
    assert.equal(s.protectedSite.afterFailoverBytes, 11 * GiB + 30 * GiB + 256 * 2 ** 20);
    // 1.25 GiB/h = 1.25 × 2^30 × 8 / 3600 bit/s on average.
    assert.equal(s.wan.averageBitsPerSecond, Math.ceil((1.25 * GiB * 8) / 3600));
    assert.equal(brief(status, 'JournalWithinHardLimit'), 'True/WithinHardLimit');
    assert.match(cond(status, 'JournalWithinHardLimit')?.message ?? '', /24h of history fits under the 150Gi hard limit/);
  });

  it('warns before the history shrinks: the history the hard limit holds at the measured rate', () => {
    // 8 GiB/h sent: 24 h take 192 GiB, over 150 GiB, which holds 18.75 h.
    const { status, events } = vpgStatus(input({ source: source(rate(12, 8), rate(0, 0)) }));
    assert.equal(status.sizing?.journal.exceedsHardLimit, true);
    assert.equal(brief(status, 'JournalWithinHardLimit'), 'False/ProjectedOverHardLimit');
    assert.match(cond(status, 'JournalWithinHardLimit')?.message ?? '', /24h of history needs about 190Gi of journal, over the 150Gi hard limit: once it fills, the history shrinks to about 19h/);
    assert.deepEqual(events.filter((e) => e.reason === 'ProjectedOverHardLimit').map((e) => e.type), ['Warning'], 'an Event when it goes past');
    const again = vpgStatus(input({ now: at(5), previous: stored(status), source: source(rate(12, 8), rate(0, 0)) }));
    assert.deepEqual(again.events.filter((e) => e.reason === 'ProjectedOverHardLimit'), [], 'once');
    const fits = vpgStatus(input({ now: at(10), previous: stored(status), source: source(rate(2, 1), rate(0, 0)) }));
    assert.deepEqual(fits.events.filter((e) => e.reason === 'ProjectedWithinHardLimit').map((e) => e.type), ['Normal']);
    const unlimited = vpgStatus(input({ sla: { ...SLA, hardLimitBytes: undefined, warningBytes: undefined }, source: source(rate(12, 8), rate(0, 0)) })).status;
    assert.equal(brief(unlimited, 'JournalWithinHardLimit'), 'True/Unlimited');
  });

  it('keeps the last figures while the protected VRA is out of reach', () => {
    const first = vpgStatus(input({ source: source(rate(2, 1), rate(0.5, 0.25)) })).status;
    const cut = vpgStatus(input({ now: at(10), previous: stored(first), source: { kind: 'unreachable', error: 'timeout' } })).status;
    assert.deepEqual(cut.volumes?.map((v) => v.changeRate?.averageBytesPerHour), [2 * GiB, 0.5 * GiB]);
    assert.equal(cut.sizing?.journal.projectedBytes, 30 * GiB);
  });

  it('does not rewrite the status for every measurement: after a minute more of it, or when a verdict changes', () => {
    const first = vpgStatus(input({ source: source(rate(2, 1), rate(0.5, 0.25)) })).status;
    const soon = vpgStatus(input({ now: at(5), previous: stored(first), source: source(rate(2.1, 1.05, 3605), rate(0.5, 0.25, 3605)) })).status;
    assert.deepEqual(soon, stored(first), 'five seconds more: the same status, no write');
    const later = vpgStatus(input({ now: at(61), previous: stored(first), source: source(rate(2.1, 1.05, 3661), rate(0.5, 0.25, 3661)) })).status;
    assert.equal(later.sizing?.basis.measuredSeconds, 3661);
    const over = vpgStatus(input({ now: at(6), previous: stored(first), source: source(rate(12, 8, 3606), rate(0, 0, 3606)) })).status;
    assert.equal(over.sizing?.journal.exceedsHardLimit, true, 'a verdict that flips is written at once');
  });
});

function assessment(state: AssessReport['state'], data?: VolumeChangeRate, logs?: VolumeChangeRate): StreamObservation<AssessReport> {
  return {
    kind: 'ok',
    status: {
      state,
      volumes: [
        { name: 'data', state, ...(data !== undefined && { changeRate: data }) },
        { name: 'logs', state, ...(logs !== undefined && { changeRate: logs }) },
      ],
    },
  };
}

describe('an assessment (spec.mode Assess)', () => {
  const assessing = (a: StreamObservation<AssessReport> | undefined, o: Partial<VpgStatusInput> = {}): VpgStatusInput =>
    input({ source: undefined, target: undefined, recoveryVraReady: false, placement: { protectedNode: 'prod-1', streamId: 'uid-1' }, assessment: a, ...o });

  it('is Assessing/Baseline during the first pass, then Assessing, with figures from the assessment', () => {
    const baseline = vpgStatus(assessing(assessment('baseline'))).status;
    valid(baseline);
    assert.equal(baseline.phase, 'Assessing');
    assert.equal(baseline.substatus, 'Baseline');
    assert.deepEqual(baseline.volumes?.map((v) => v.state), ['Assessing', 'Assessing']);
    const [first] = baseline.volumes ?? [];
    assert.match(first?.message ?? '', /first pass/);
    assert.equal(brief(baseline, 'Ready'), 'True/Assessing');
    assert.equal(brief(baseline, 'Protected'), 'False/Assessing');
    assert.equal(brief(baseline, 'MeetingSLA'), 'False/Assessing');
    assert.equal(baseline.rpoSeconds, undefined);
    assert.equal(baseline.journal, undefined);

    const measuring = vpgStatus(assessing(assessment('measuring', rate(2, 1), rate(0.5, 0.25)), { previous: stored(baseline), now: at(3600) })).status;
    valid(measuring);
    assert.equal(measuring.phase, 'Assessing');
    assert.equal(measuring.substatus, undefined);
    assert.deepEqual([measuring.sizing?.basis.source, measuring.sizing?.journal.projectedBytes], ['Assessment', 30 * GiB]);
    assert.equal(brief(measuring, 'JournalWithinHardLimit'), 'True/WithinHardLimit');
  });

  it('says when the protected VRA cannot assess', () => {
    const down = vpgStatus(assessing(assessment('measuring'), { protectedVraReady: false })).status;
    assert.equal(down.phase, 'NotMeetingSLA');
    assert.equal(down.substatus, 'VraNotReady');
    assert.equal(brief(down, 'Ready'), 'False/ProtectedVraNotReady');
    const missing = vpgStatus(assessing({ kind: 'missing' })).status;
    assert.equal(brief(missing, 'Ready'), 'False/StreamNotConfigured');
    const refused = vpgStatus(assessing({ kind: 'failed', error: 'volumes.0.path: must be an absolute path' })).status;
    assert.equal(refused.phase, 'Error');
    assert.match(cond(refused, 'Ready')?.message ?? '', /refused the assessment: volumes\.0\.path/);
    assert.deepEqual(refused.volumes?.map((v) => v.state), ['Error', 'Error']);
  });
});
