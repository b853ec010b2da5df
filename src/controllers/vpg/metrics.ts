// Per-VPG gauges, labelled {namespace, vpg}: what a dashboard plots and an alert watches. Exact
// figures from the VRAs' reports (the status rounds and damps them); a series the VPG does not
// have now (no journal figures while the recovery VRA is out of reach, no sync progress outside a
// sync) is absent rather than stale. A deleted VPG's series are all removed.
//
//   zcsp_vpg_rpo_seconds                  seconds of data a failure now would lose
//   zcsp_vpg_journal_bytes                journal size on the recovery VRA
//   zcsp_vpg_actual_history_seconds       how far back the journal can recover
//   zcsp_vpg_throughput_bytes_per_second  replication traffic (wire bytes) between two observations
//   zcsp_vpg_sync_progress_percent        progress of the sync in progress
//   zcsp_vpg_phase{phase}                 1 for the VPG's phase, 0 for the others
//   zcsp_vpg_sync_state{state}            1 for Initial, Bitmap, Delta or None, 0 for the others
//   zcsp_vpg_change_bytes_per_hour        average change, raw (status.sizing: once measured)
//   zcsp_vpg_change_sent_bytes_per_hour   average change after compression: what the link carries
//   zcsp_vpg_journal_projected_bytes      journal the configured history takes at that rate
//   zcsp_vpg_journal_hard_limit_bytes     the journal's hard limit (absent when Unlimited)
//   zcsp_vpg_wan_rpo_bits_per_second      bandwidth that holds the RPO through the busiest interval
import { VPGStatus } from '../../crds/vpg.ts';
import { Gauge, type Registry } from '../../runtime/index.ts';
import { exactRpoSeconds, type Phase, type VpgStatusInput } from './status/index.ts';

type Key = 'namespace' | 'vpg';
type SyncLabel = 'Initial' | 'Bitmap' | 'Delta' | 'None';

export const PHASES: readonly Phase[] = VPGStatus.shape.phase.unwrap().options;
export const SYNC_STATES: readonly SyncLabel[] = ['Initial', 'Bitmap', 'Delta', 'None'];

interface Sample {
  streamId: string | undefined;
  wireBytes: number;
  atMs: number;
}

/**
 * The gauge of that name if this registry has it already (a controller restarted in the same
 * process), else a new one. The registry refuses a name twice; a name taken by another kind of
 * metric, or with other labels, is a programming error and still throws.
 */
function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]): { gauge: Gauge<L>; reused: boolean } {
  const existing = registry.get(name);
  if (existing instanceof Gauge && existing.labelNames.length === labelNames.length && existing.labelNames.every((l, i) => l === labelNames[i])) {
    return { gauge: existing as Gauge<L>, reused: true };
  }
  return { gauge: registry.gauge({ name, help, labelNames }), reused: false };
}

export class VpgMetrics {
  readonly #rpo: Gauge<Key>;
  readonly #journal: Gauge<Key>;
  readonly #history: Gauge<Key>;
  readonly #throughput: Gauge<Key>;
  readonly #progress: Gauge<Key>;
  readonly #phase: Gauge<Key | 'phase'>;
  readonly #sync: Gauge<Key | 'state'>;
  readonly #sizing: readonly [Gauge<Key>, Gauge<Key>, Gauge<Key>, Gauge<Key>, Gauge<Key>];
  readonly #samples = new Map<string, Sample>();

  constructor(registry: Registry) {
    const key: readonly Key[] = ['namespace', 'vpg'];
    const made = [
      gauge(registry, 'zcsp_vpg_rpo_seconds', 'Seconds between now and the newest checkpoint the recovery site holds, by VPG.', key),
      gauge(registry, 'zcsp_vpg_journal_bytes', 'Bytes the VPG\'s journal uses on the recovery VRA.', key),
      gauge(registry, 'zcsp_vpg_actual_history_seconds', 'How far back the VPG\'s journal can recover, in seconds.', key),
      gauge(registry, 'zcsp_vpg_throughput_bytes_per_second', 'Replication traffic of the VPG (bytes on the wire per second, between two observations).', key),
      gauge(registry, 'zcsp_vpg_sync_progress_percent', 'Progress of the VPG\'s sync in progress, in percent.', key),
    ] as const;
    const sizing = [
      gauge(registry, 'zcsp_vpg_change_bytes_per_hour', 'The VPG\'s average change rate as captured (raw), bytes per hour; present once measured.', key),
      gauge(registry, 'zcsp_vpg_change_sent_bytes_per_hour', 'The VPG\'s average change rate after WAN compression (what the link carries and the journal keeps), bytes per hour.', key),
      gauge(registry, 'zcsp_vpg_journal_projected_bytes', 'The journal the VPG\'s configured history takes at its measured change rate.', key),
      gauge(registry, 'zcsp_vpg_journal_hard_limit_bytes', 'The VPG\'s journal hard limit in bytes; absent when Unlimited.', key),
      gauge(registry, 'zcsp_vpg_wan_rpo_bits_per_second', 'Bandwidth that holds the VPG\'s RPO target through its busiest measurement interval, bits per second.', key),
    ] as const;
    this.#sizing = sizing.map((m) => m.gauge) as unknown as [Gauge<Key>, Gauge<Key>, Gauge<Key>, Gauge<Key>, Gauge<Key>];
    const phase = gauge(registry, 'zcsp_vpg_phase', 'The VPG\'s phase: 1 for the current one, 0 for the others.', [...key, 'phase'] as const);
    const sync = gauge(registry, 'zcsp_vpg_sync_state', 'The VPG\'s sync: 1 for the current one (Initial, Bitmap, Delta or None), 0 for the others.', [...key, 'state'] as const);
    [this.#rpo, this.#journal, this.#history, this.#throughput, this.#progress] = made.map((m) => m.gauge) as [Gauge<Key>, Gauge<Key>, Gauge<Key>, Gauge<Key>, Gauge<Key>];
    this.#phase = phase.gauge;
    this.#sync = sync.gauge;
    // A new instance over gauges a previous one filled: start clean; every live VPG is observed
    // again within a poll, and the series of VPGs deleted in between must not linger.
    for (const m of [...made, ...sizing, phase, sync]) if (m.reused) m.gauge.clear();
  }

  /** Sets the VPG's series from what its reconcile saw (`input`) and decided (`status`). */
  observe(namespace: string, vpg: string, input: VpgStatusInput, status: VPGStatus, nowMs: number): void {
    const labels = { namespace, vpg };
    const source = input.blocker === undefined && input.source?.kind === 'ok' ? input.source.status : undefined;
    const target = input.blocker === undefined && input.target?.kind === 'ok' ? input.target.status : undefined;
    setOrRemove(this.#rpo, labels, exactRpoSeconds(input));
    setOrRemove(this.#journal, labels, target?.journalBytes);
    setOrRemove(this.#history, labels, target?.actualHistorySeconds);
    const syncing = source !== undefined && ['initial-sync', 'bitmap-sync', 'delta-sync'].includes(source.state);
    setOrRemove(this.#progress, labels, syncing ? source.progress?.percent : undefined);
    setOrRemove(this.#throughput, labels, this.#rate(labels, input.placement?.streamId, source?.wireBytes, nowMs));
    for (const p of PHASES) this.#phase.set({ ...labels, phase: p }, status.phase === p ? 1 : 0);
    const state: SyncLabel = status.sync?.type ?? 'None';
    for (const s of SYNC_STATES) this.#sync.set({ ...labels, state: s }, state === s ? 1 : 0);
    const z = status.sizing;
    const [change, sent, projected, limit, wan] = this.#sizing;
    setOrRemove(change, labels, z?.change.averageBytesPerHour);
    setOrRemove(sent, labels, z?.change.averageCompressedBytesPerHour);
    setOrRemove(projected, labels, z?.journal.projectedBytes);
    setOrRemove(limit, labels, z?.journal.hardLimitBytes);
    setOrRemove(wan, labels, z?.wan.rpoBitsPerSecond);
  }

  /**
   * Removes every series: a manager that stops leading stops observing, and its figures would
   * otherwise stay on its /metrics beside the new leader's, growing stale.
   */
  clear(): void {
    for (const g of [this.#rpo, this.#journal, this.#history, this.#throughput, this.#progress, ...this.#sizing, this.#phase, this.#sync]) g.clear();
    this.#samples.clear();
  }

  /** Removes every series of a deleted VPG. */
  forget(namespace: string, vpg: string): void {
    const labels = { namespace, vpg };
    for (const g of [this.#rpo, this.#journal, this.#history, this.#throughput, this.#progress, ...this.#sizing]) g.remove(labels);
    for (const p of PHASES) this.#phase.remove({ ...labels, phase: p });
    for (const s of SYNC_STATES) this.#sync.remove({ ...labels, state: s });
    this.#samples.delete(`${namespace}/${vpg}`);
  }

  /**
   * Bytes per second since the last observation of the same stream. The counter restarts with the
   * stream (a VRA restart): a value below the last one counts from zero, as Prometheus' rate()
   * does. Undefined without a reading; the previous rate when no time has passed.
   */
  #rate(labels: Record<Key, string>, streamId: string | undefined, wireBytes: number | undefined, nowMs: number): number | undefined {
    if (wireBytes === undefined) return undefined;
    const key = `${labels.namespace}/${labels.vpg}`;
    const last = this.#samples.get(key);
    if (last === undefined || last.streamId !== streamId) {
      this.#samples.set(key, { streamId, wireBytes, atMs: nowMs });
      return undefined;
    }
    const elapsedMs = nowMs - last.atMs;
    if (elapsedMs <= 0) return this.#throughput.get(labels);
    const bytes = wireBytes >= last.wireBytes ? wireBytes - last.wireBytes : wireBytes;
    this.#samples.set(key, { streamId, wireBytes, atMs: nowMs });
    return (bytes * 1000) / elapsedMs;
  }
}

function setOrRemove(g: Gauge<Key>, labels: Record<Key, string>, value: number | undefined): void {
  if (value === undefined || !Number.isFinite(value)) g.remove(labels);
  else g.set(labels, value);
}
