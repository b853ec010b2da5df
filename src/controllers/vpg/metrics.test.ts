import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VPGStatus } from '../../crds/vpg.ts';
import { Registry } from '../../runtime/index.ts';
import { VpgMetrics } from './metrics.ts';
import { vpgStatus, type SourceReport, type VpgStatusInput } from './status/index.ts';

const T0 = Date.parse('2026-03-01T12:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();

function input(nowMs: number, o: { wireBytes?: number; rpo?: number; state?: SourceReport['state']; percent?: number; streamId?: string } & Partial<VpgStatusInput> = {}): VpgStatusInput {
  const { wireBytes = 0, rpo = 4.25, state = 'protecting', percent, streamId = 'uid-1', ...rest } = o;
  return {
    now: new Date(nowMs), generation: 1, previous: undefined,
    sla: { rpoAlertSeconds: 300, historyHours: 24, checkpointIntervalSeconds: 5 },
    placement: { protectedNode: 'prod-1', recoveryNode: 'dr-1', streamId },
    volumes: [{ claimName: 'data', sizeBytes: 2 ** 30 }],
    source: {
      kind: 'ok',
      status: { state, connected: true, rpoSeconds: rpo, wireBytes, ...(percent !== undefined && { progress: { bytesDone: percent, bytesTotal: 100, percent } }) },
    },
    target: {
      kind: 'ok',
      status: {
        journalBytes: 123_456_789, checkpoints: 10, actualHistorySeconds: 3600.5, journalWarning: false, journalOverHardLimit: false,
        newestCheckpoint: { seq: 10, time: iso(nowMs - rpo * 1000) }, oldestCheckpoint: { seq: 1, time: iso(nowMs - 3_600_500) },
      },
    },
    protectedVraReady: true, recoveryVraReady: true,
    ...rest,
  };
}

function observe(m: VpgMetrics, i: VpgStatusInput, vpg = 'db'): void {
  m.observe('tenant-a', vpg, i, vpgStatus(i).status, i.now.getTime());
}

const lines = (r: Registry, prefix: string): string[] => r.render().split('\n').filter((l) => l.startsWith(prefix));

describe('VpgMetrics', () => {
  it('exposes the VPG\'s figures, exact, labelled by namespace and VPG', () => {
    const r = new Registry();
    const m = new VpgMetrics(r);
    observe(m, input(T0, { wireBytes: 1000 }));
    observe(m, input(T0 + 5000, { wireBytes: 51_000 }));
    const text = r.render();
    assert.match(text, /^# TYPE zcsp_vpg_rpo_seconds gauge$/m);
    assert.match(text, /^zcsp_vpg_rpo_seconds\{namespace="tenant-a",vpg="db"\} 4\.25$/m);
    assert.match(text, /^zcsp_vpg_journal_bytes\{namespace="tenant-a",vpg="db"\} 123456789$/m);
    assert.match(text, /^zcsp_vpg_actual_history_seconds\{namespace="tenant-a",vpg="db"\} 3600\.5$/m);
    assert.match(text, /^zcsp_vpg_throughput_bytes_per_second\{namespace="tenant-a",vpg="db"\} 10000$/m);
    assert.deepEqual(lines(r, 'zcsp_vpg_sync_progress_percent{'), [], 'no sync, no progress series');
    assert.deepEqual(lines(r, 'zcsp_vpg_phase{').filter((l) => l.endsWith(' 1')), ['zcsp_vpg_phase{namespace="tenant-a",vpg="db",phase="MeetingSLA"} 1']);
    assert.equal(lines(r, 'zcsp_vpg_phase{').length, VPGStatus.shape.phase.unwrap().options.length, 'every phase, 0 but the current one');
    assert.ok(lines(r, 'zcsp_vpg_phase{').some((l) => l.includes('phase="FailedOver"')));
    assert.deepEqual(lines(r, 'zcsp_vpg_sync_state{'), [
      'zcsp_vpg_sync_state{namespace="tenant-a",vpg="db",state="Initial"} 0',
      'zcsp_vpg_sync_state{namespace="tenant-a",vpg="db",state="Bitmap"} 0',
      'zcsp_vpg_sync_state{namespace="tenant-a",vpg="db",state="Delta"} 0',
      'zcsp_vpg_sync_state{namespace="tenant-a",vpg="db",state="None"} 1',
    ]);
  });

  it('reports sync progress and state during a sync', () => {
    const r = new Registry();
    const m = new VpgMetrics(r);
    observe(m, input(T0, { state: 'bitmap-sync', percent: 42.5 }));
    assert.deepEqual(lines(r, 'zcsp_vpg_sync_progress_percent{'), ['zcsp_vpg_sync_progress_percent{namespace="tenant-a",vpg="db"} 42.5']);
    assert.deepEqual(lines(r, 'zcsp_vpg_sync_state{').filter((l) => l.endsWith(' 1')), ['zcsp_vpg_sync_state{namespace="tenant-a",vpg="db",state="Bitmap"} 1']);
    assert.deepEqual(lines(r, 'zcsp_vpg_phase{').filter((l) => l.endsWith(' 1')), ['zcsp_vpg_phase{namespace="tenant-a",vpg="db",phase="NotMeetingSLA"} 1']);
    observe(m, input(T0 + 5000));
    assert.deepEqual(lines(r, 'zcsp_vpg_sync_progress_percent{'), [], 'gone when the sync ends');
  });

  it('computes throughput from wire bytes, safe across counter resets and stream changes', () => {
    const r = new Registry();
    const m = new VpgMetrics(r);
    const throughput = (): string[] => lines(r, 'zcsp_vpg_throughput_bytes_per_second{');
    observe(m, input(T0, { wireBytes: 10_000 }));
    assert.deepEqual(throughput(), [], 'one reading is no rate');
    observe(m, input(T0 + 2000, { wireBytes: 30_000 }));
    assert.deepEqual(throughput(), ['zcsp_vpg_throughput_bytes_per_second{namespace="tenant-a",vpg="db"} 10000']);
    observe(m, input(T0 + 2000, { wireBytes: 30_500 }));
    assert.deepEqual(throughput(), ['zcsp_vpg_throughput_bytes_per_second{namespace="tenant-a",vpg="db"} 10000'], 'no time passed: the rate stays');
    // The VRA restarted: its counter starts again from zero.
    observe(m, input(T0 + 4000, { wireBytes: 4000 }));
    assert.deepEqual(throughput(), ['zcsp_vpg_throughput_bytes_per_second{namespace="tenant-a",vpg="db"} 2000']);
    // The protected VRA out of reach: no rate; the next reading counts from the last one.
    observe(m, input(T0 + 6000, { source: { kind: 'unreachable', error: 'timeout' } }));
    assert.deepEqual(throughput(), []);
    observe(m, input(T0 + 8000, { wireBytes: 12_000 }));
    assert.deepEqual(throughput(), ['zcsp_vpg_throughput_bytes_per_second{namespace="tenant-a",vpg="db"} 2000']);
    // A new stream: a new counter, no rate until its second reading.
    observe(m, input(T0 + 10_000, { wireBytes: 900_000, streamId: 'uid-2' }));
    assert.deepEqual(throughput(), []);
  });

  it('drops what it does not know now: journal figures without the recovery VRA, everything but the phase with a blocker', () => {
    const r = new Registry();
    const m = new VpgMetrics(r);
    observe(m, input(T0));
    observe(m, input(T0 + 5000, { target: { kind: 'unreachable', error: 'timeout' } }));
    assert.deepEqual(lines(r, 'zcsp_vpg_journal_bytes{'), []);
    assert.deepEqual(lines(r, 'zcsp_vpg_actual_history_seconds{'), []);
    assert.equal(lines(r, 'zcsp_vpg_rpo_seconds{').length, 1);
    observe(m, input(T0 + 10_000, { blocker: { reason: 'ClaimNotFound', message: 'no claim' } }));
    assert.deepEqual(lines(r, 'zcsp_vpg_rpo_seconds{'), []);
    assert.deepEqual(lines(r, 'zcsp_vpg_phase{').filter((l) => l.endsWith(' 1')), ['zcsp_vpg_phase{namespace="tenant-a",vpg="db",phase="NeedsConfiguration"} 1']);
  });

  it('forgets every series of a deleted VPG, and only its own', () => {
    const r = new Registry();
    const m = new VpgMetrics(r);
    observe(m, input(T0, { wireBytes: 1 }), 'db');
    observe(m, input(T0 + 1000, { wireBytes: 2, state: 'initial-sync', percent: 5 }), 'db');
    observe(m, input(T0), 'web');
    m.forget('tenant-a', 'db');
    const series = r.render().split('\n').filter((l) => l.startsWith('zcsp_vpg_'));
    assert.ok(series.length > 0);
    assert.deepEqual(series.filter((l) => l.includes('vpg="db"')), []);
    assert.ok(series.every((l) => l.includes('vpg="web"')));
  });

  it('shows the sizing figures once measured, and clears every series when the controller stops leading', () => {
    const r = new Registry();
    const m = new VpgMetrics(r);
    const GiB = 2 ** 30;
    const changeRate = {
      since: iso(T0 - 3_600_000), measuredSeconds: 3600, rawBytes: 2 * GiB, compressedBytes: GiB,
      averageRawBytesPerHour: 2 * GiB, averageCompressedBytesPerHour: GiB, peakRawBytesPerHour: 4 * GiB, peakCompressedBytesPerHour: 2 * GiB,
    };
    const measured = input(T0, { sla: { rpoAlertSeconds: 300, historyHours: 24, checkpointIntervalSeconds: 5, hardLimitBytes: 150 * GiB } });
    const i: VpgStatusInput = { ...measured, source: { kind: 'ok', status: { state: 'protecting', connected: true, rpoSeconds: 4, wireBytes: 0, volumes: [{ name: 'data', state: 'protecting', changeRate }] } } };
    observe(m, i);
    const text = r.render();
    assert.match(text, new RegExp(`^zcsp_vpg_change_bytes_per_hour\\{namespace="tenant-a",vpg="db"\\} ${String(2 * GiB)}$`, 'm'));
    assert.match(text, new RegExp(`^zcsp_vpg_journal_projected_bytes\\{namespace="tenant-a",vpg="db"\\} ${String(24 * GiB)}$`, 'm'));
    assert.match(text, new RegExp(`^zcsp_vpg_journal_hard_limit_bytes\\{namespace="tenant-a",vpg="db"\\} ${String(150 * GiB)}$`, 'm'));
    m.clear();
    assert.deepEqual(r.render().split('\n').filter((l) => l.startsWith('zcsp_vpg_')), []);
  });

  it('can be created again on the same registry (a restarted controller), starting clean', () => {
    const r = new Registry();
    const first = new VpgMetrics(r);
    observe(first, input(T0), 'gone');
    const second = new VpgMetrics(r);
    assert.deepEqual(r.render().split('\n').filter((l) => l.startsWith('zcsp_vpg_')), [], 'series of the earlier instance are cleared');
    observe(second, input(T0), 'db');
    assert.match(r.render(), /^zcsp_vpg_rpo_seconds\{namespace="tenant-a",vpg="db"\} 4\.25$/m);
    assert.equal(r.render().match(/^# TYPE zcsp_vpg_rpo_seconds gauge$/gm)?.length, 1);
  });

  it('refuses a name another kind of metric took', () => {
    const r = new Registry();
    r.counter({ name: 'zcsp_vpg_rpo_seconds', help: 'not a gauge' });
    assert.throws(() => new VpgMetrics(r), { code: 'MetricExists' });
  });
});
