// The VRA's figures for Prometheus, read from its streams at scrape time (cheaper than tracking).
// Series carry the stream id and the VPG (namespace, name) so dashboards join them with the VPGs.
import { Registry, type Counter } from '../runtime/metrics.ts';
import type { AssessState } from './assess-stream.ts';
import type { ExportStore } from './exports.ts';
import type { StreamRegistry } from './registry.ts';
import type { SyncState } from './source-stream.ts';
import type { VolumeSyncState } from './source-volumes.ts';

const SYNC_STATES: readonly SyncState[] = ['connecting', 'initial-sync', 'delta-sync', 'bitmap-sync', 'protecting'];
const VOLUME_STATES: readonly VolumeSyncState[] = ['initial-sync', 'delta-sync', 'bitmap-sync', 'protecting'];
const ASSESS_STATES: readonly AssessState[] = ['baseline', 'measuring'];
type L = 'stream' | 'namespace' | 'vpg';

export function vraMetrics(streams: StreamRegistry, exports?: ExportStore): Registry {
  const registry = new Registry();
  const rpo = registry.gauge<L>({ name: 'zcsp_vra_rpo_seconds', help: 'Source: seconds since the capture time of the newest checkpoint the recovery side made durable.', labelNames: ['stream', 'namespace', 'vpg'] });
  const sync = registry.gauge<L | 'state'>({ name: 'zcsp_vra_sync_state', help: 'Source: 1 for the sync state the stream is in.', labelNames: ['stream', 'namespace', 'vpg', 'state'] });
  const progress = registry.gauge<L>({ name: 'zcsp_vra_sync_progress_ratio', help: 'Source: bytes compared of the total in the running sync (0..1).', labelNames: ['stream', 'namespace', 'vpg'] });
  const buffered = registry.gauge<L>({ name: 'zcsp_vra_buffer_bytes', help: 'Source: bytes of records waiting for the recovery side to acknowledge them.', labelNames: ['stream', 'namespace', 'vpg'] });
  const bufferLimit = registry.gauge<L>({ name: 'zcsp_vra_buffer_limit_bytes', help: 'Source: the bound of that buffer.', labelNames: ['stream', 'namespace', 'vpg'] });
  const wire = registry.counter<L>({ name: 'zcsp_vra_sent_wire_bytes_total', help: 'Source: record bytes sent (after compression) since the VRA started.', labelNames: ['stream', 'namespace', 'vpg'] });
  const raw = registry.counter<L>({ name: 'zcsp_vra_sent_raw_bytes_total', help: 'Source: record bytes sent before compression since the VRA started.', labelNames: ['stream', 'namespace', 'vpg'] });
  const connected = registry.gauge<L>({ name: 'zcsp_vra_connected', help: 'Source: 1 while connected to the recovery VRA.', labelNames: ['stream', 'namespace', 'vpg'] });
  const journal = registry.gauge<L>({ name: 'zcsp_vra_journal_bytes', help: 'Target: bytes of journal on disk.', labelNames: ['stream', 'namespace', 'vpg'] });
  const checkpoints = registry.gauge<L>({ name: 'zcsp_vra_journal_checkpoints', help: 'Target: recoverable checkpoints.', labelNames: ['stream', 'namespace', 'vpg'] });
  const history = registry.gauge<L>({ name: 'zcsp_vra_history_seconds', help: 'Target: from the oldest recoverable checkpoint to now.', labelNames: ['stream', 'namespace', 'vpg'] });
  const durable = registry.gauge<L>({ name: 'zcsp_vra_durable_seq', help: 'Target: the last record on disk.', labelNames: ['stream', 'namespace', 'vpg'] });
  const volumeSync = registry.gauge<L | 'volume' | 'state'>({ name: 'zcsp_vra_volume_sync_state', help: 'Source: 1 for the sync state each volume is in (a volume added to a running stream syncs on its own).', labelNames: ['stream', 'namespace', 'vpg', 'volume', 'state'] });
  const volumeBytes = registry.gauge<L | 'volume'>({ name: 'zcsp_vra_volume_replica_bytes', help: 'Target: bytes a volume holds in the replica (as of the oldest recoverable checkpoint).', labelNames: ['stream', 'namespace', 'vpg', 'volume'] });
  const failed = registry.gauge<L | 'role'>({ name: 'zcsp_vra_stream_failed', help: '1 for a configured stream that failed to start (its journal is damaged, say); see the VRA log or the control API for why.', labelNames: ['stream', 'namespace', 'vpg', 'role'] });
  const exportsHeld = registry.gauge<L>({ name: 'zcsp_vra_exports', help: 'Target: exports held (a checkpoint\'s volume in scratch, waiting for a restore to pull it).', labelNames: ['stream', 'namespace', 'vpg'] });
  const exportsRunning = registry.gauge<L>({ name: 'zcsp_vra_exports_in_progress', help: 'Target: export transfers to restore pods under way.', labelNames: ['stream', 'namespace', 'vpg'] });
  const exportBytes = registry.counter<L>({ name: 'zcsp_vra_export_bytes_total', help: 'Target: volume content bytes sent to restore pods since the VRA started.', labelNames: ['stream', 'namespace', 'vpg'] });
  const assessState = registry.gauge<L | 'state'>({ name: 'zcsp_vra_assess_state', help: 'Assessment: 1 for the state the stream is in (baseline until every volume has one, then measuring).', labelNames: ['stream', 'namespace', 'vpg', 'state'] });
  const changeBytes = registry.counter<L | 'volume' | 'size'>({ name: 'zcsp_vra_change_bytes_total', help: 'Source and assessment: bytes a volume changed (shipped once in sync, or measured past its baseline), raw or compressed as for the wire, since the VRA started.', labelNames: ['stream', 'namespace', 'vpg', 'volume', 'size'] });
  const changeAverage = registry.gauge<L | 'volume' | 'size'>({ name: 'zcsp_vra_change_average_bytes_per_hour', help: 'Source and assessment: a volume\'s bytes changed per measured hour over the change rate\'s window (7 days), raw or compressed.', labelNames: ['stream', 'namespace', 'vpg', 'volume', 'size'] });
  const changePeak = registry.gauge<L | 'volume' | 'size'>({ name: 'zcsp_vra_change_peak_bytes_per_hour', help: 'Source and assessment: a volume\'s busiest change rate bucket in the window as bytes per hour, raw or compressed.', labelNames: ['stream', 'namespace', 'vpg', 'volume', 'size'] });
  const changeMeasured = registry.gauge<L | 'volume'>({ name: 'zcsp_vra_change_measured_seconds', help: 'Source and assessment: seconds of measurement behind a volume\'s change rate, in the window.', labelNames: ['stream', 'namespace', 'vpg', 'volume'] });
  const all = [exportsHeld, exportsRunning, failed, rpo, sync, progress, buffered, bufferLimit, connected, journal, checkpoints, history, durable, volumeSync, volumeBytes, assessState, changeAverage, changePeak, changeMeasured];
  /**
   * The last count seen of each series a counter follows (a stream's or change rate's running
   * total): one that went down started over (the stream was deleted and configured again, or
   * restarted), and the counter goes on from there.
   */
  const lastCounted = new Map<string, number>();
  const follow = <K extends string>(counter: Counter<K>, labels: Record<K, string>, now: number): void => {
    const key = `${counter.name}\0${JSON.stringify(labels)}`;
    const before = lastCounted.get(key) ?? 0;
    counter.inc(labels, now >= before ? now - before : now);
    lastCounted.set(key, now);
  };

  // One collector refreshes every series (streams come and go, so it starts from nothing); it
  // hangs on the first gauge registered, which renders first.
  rpo.onCollect(() => {
    for (const g of all) g.clear();
    for (const s of streams.list()) {
      const l = { stream: s.id, namespace: s.vpg.namespace, vpg: s.vpg.name };
      const st = s.status;
      if ('state' in st && st.state === 'failed') {
        failed.set({ ...l, role: st.role }, 1);
        continue;
      }
      if (st.role === 'source') {
        if (st.rpoSeconds !== undefined) rpo.set(l, st.rpoSeconds);
        for (const state of SYNC_STATES) sync.set({ ...l, state }, st.state === state ? 1 : 0);
        if (st.progress !== undefined) progress.set(l, st.progress.bytesTotal === 0 ? 1 : st.progress.bytesDone / st.progress.bytesTotal);
        buffered.set(l, st.bufferedBytes);
        bufferLimit.set(l, st.bufferLimitBytes);
        follow(wire, l, st.wireBytes);
        follow(raw, l, st.rawBytes);
        connected.set(l, st.connected ? 1 : 0);
        for (const v of st.volumes) for (const state of VOLUME_STATES) volumeSync.set({ ...l, volume: v.name, state }, v.state === state ? 1 : 0);
      } else if (st.role === 'assess') {
        for (const state of ASSESS_STATES) assessState.set({ ...l, state }, st.state === state ? 1 : 0);
      } else {
        journal.set(l, st.journalBytes);
        checkpoints.set(l, st.checkpoints);
        history.set(l, st.actualHistorySeconds);
        durable.set(l, st.durableSeq);
        for (const v of st.volumes) volumeBytes.set({ ...l, volume: v.name }, v.bytes);
      }
    }
    for (const c of streams.changeRates()) {
      const l = { stream: c.stream, namespace: c.vpg.namespace, vpg: c.vpg.name, volume: c.volume };
      changeMeasured.set(l, c.rate.measuredSeconds);
      for (const size of ['raw', 'compressed'] as const) {
        const sized = { ...l, size };
        changeAverage.set(sized, size === 'raw' ? c.rate.averageRawBytesPerHour : c.rate.averageCompressedBytesPerHour);
        changePeak.set(sized, size === 'raw' ? c.rate.peakRawBytesPerHour : c.rate.peakCompressedBytesPerHour);
        follow(changeBytes, sized, size === 'raw' ? c.counted.rawBytes : c.counted.compressedBytes);
      }
    }
    for (const f of exports?.figures() ?? []) {
      const l = { stream: f.stream, namespace: f.vpg.namespace, vpg: f.vpg.name };
      exportsHeld.set(l, f.held);
      exportsRunning.set(l, f.inProgress);
      // The counter follows the store's running total (which only grows).
      exportBytes.inc(l, f.bytesSent - exportBytes.get(l));
    }
  });
  return registry;
}
