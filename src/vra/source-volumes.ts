// The volumes of a source stream, each on its way into the checkpoints, and the state the operator
// shows for each. A volume is
//   waiting   not yet confirmed by the recovery side: not asked yet, or it does not know the
//             volume yet (configured on this side first) — asked again every pass
//   joining   confirmed and adopted (its manifest is the replica's): its first pass runs beside
//             the checkpoint passes of the others, so their RPO does not wait for it
//   member    passed in every checkpoint pass; the first complete one holds it (covered)
// Volumes agreed on when the stream (re)starts become members at once: with nothing protected
// yet there is nothing for a separate join to spare.
import { BlockCapture } from '../replicator/capture/block-capture.ts';
import { FsCapture } from '../replicator/capture/fs-capture.ts';
import type { VolumeCapture } from '../replicator/capture/volume-capture.ts';
import type { Manifest } from '../replicator/manifest.ts';
import type { ChangeRate } from './change-rate.ts';
import type { SourceConfig } from './stream-config.ts';

export type VolumeSpec = SourceConfig['volumes'][number];
export type VolumeSyncState = 'initial-sync' | 'delta-sync' | 'bitmap-sync' | 'protecting';

export interface VolumeStatus {
  name: string;
  state: VolumeSyncState;
  /** While syncing: bytes compared of the volume in its running (or last) pass. */
  percent?: number;
  /** Why the volume is not being synced (the recovery side does not know it yet, a read failed). */
  problem?: string;
  /**
   * Its change rate (change-rate.ts): the changes shipped once the volume is in sync (`covered`),
   * never its syncs. Present from its first counted pass on, and kept across restarts.
   */
  changeRate?: ChangeRate;
}

export interface SourceVolume {
  readonly spec: VolumeSpec;
  readonly capture: VolumeCapture;
  phase: 'waiting' | 'joining' | 'member' | 'removed';
  /** What its catch-up is until a checkpoint holds it: the replica had nothing of it, or some. */
  sync: 'initial-sync' | 'delta-sync';
  /** A complete checkpoint pass went over it since it last joined. */
  covered: boolean;
  problem?: string;
  /**
   * Records of an earlier capture of this name (removed, then added again) must be durable before
   * the recovery side is asked for its manifest, or the manifest would miss them: their last seq,
   * once that capture can push no more (undefined until then).
   */
  drainTo: number | undefined;
  /** The join loop, while it runs. */
  join?: Promise<void>;
  joinProgress?: { bytesDone: number; bytesTotal: number; startedAt: number };
}

/** The capture of a volume as this node sees it (source and assess streams alike). */
export function newCapture(spec: VolumeSpec, watch: boolean): VolumeCapture {
  return spec.kind === 'fs'
    ? new FsCapture({ volume: spec.name, root: spec.path, watch })
    : new BlockCapture({ volume: spec.name, path: spec.path });
}

export function newVolume(spec: VolumeSpec, watch: boolean, drain: Promise<number> | undefined): SourceVolume {
  const capture = newCapture(spec, watch);
  const v: SourceVolume = { spec, capture, phase: 'waiting', sync: 'initial-sync', covered: false, drainTo: drain === undefined ? 0 : undefined };
  void drain?.then((seq) => {
    v.drainTo = seq;
  });
  return v;
}

/** Read through a call: a reconfigure changes it while a loop awaits, which flow analysis cannot see. */
export function phaseOf(v: SourceVolume): SourceVolume['phase'] {
  return v.phase;
}

export function isEmptyManifest(m: Manifest): boolean {
  return m.kind === 'fs' ? m.entries.size === 0 : m.size === 0;
}

/**
 * One volume's state. `settled`: the link is up and the last checkpoint pass completed, so a
 * covered member is protected; otherwise its changes gather for the next pass (bitmap sync).
 */
export function volumeStatus(v: SourceVolume, settled: boolean, passProgress: ReadonlyMap<string, { bytesDone: number; bytesTotal: number }>, changeRate?: ChangeRate): VolumeStatus {
  const state: VolumeSyncState = v.phase === 'member' && v.covered ? (settled ? 'protecting' : 'bitmap-sync') : v.sync;
  const out: VolumeStatus = { name: v.spec.name, state };
  if (state !== 'protecting') {
    const p = v.phase === 'joining' ? v.joinProgress : v.phase === 'member' ? passProgress.get(v.spec.name) : undefined;
    // No figures yet (waiting, or its pass has not started): nothing done.
    out.percent = p === undefined ? 0 : percent(p.bytesDone, p.bytesTotal);
  }
  if (v.problem !== undefined) out.problem = v.problem;
  if (changeRate !== undefined) out.changeRate = changeRate;
  return out;
}

const WORST: readonly VolumeSyncState[] = ['initial-sync', 'delta-sync', 'bitmap-sync', 'protecting'];

/** The stream's state: its least protected volume's (a VPG is protected when all its volumes are). */
export function streamState(volumes: readonly VolumeStatus[]): VolumeSyncState {
  return WORST.find((s) => volumes.some((v) => v.state === s)) ?? 'protecting';
}

/**
 * Bytes compared of the volumes that are syncing (joining: its own pass; member: the checkpoint
 * pass's figures for it); the ETA is the slower of the checkpoint pass's and the joins' rates.
 */
export function syncProgress(
  entries: readonly SourceVolume[],
  statuses: readonly VolumeStatus[],
  passProgress: ReadonlyMap<string, { bytesDone: number; bytesTotal: number }>,
  passEta: number | undefined,
  now: number,
): { bytesDone: number; bytesTotal: number; percent: number; etaSeconds?: number } {
  let bytesDone = 0;
  let bytesTotal = 0;
  let eta = passEta;
  const syncing = statuses.filter((s) => s.state !== 'protecting');
  for (const status of syncing) {
    const v = entries.find((e) => e.spec.name === status.name);
    const p = v?.phase === 'joining' ? v.joinProgress : passProgress.get(status.name);
    bytesDone += p?.bytesDone ?? 0;
    bytesTotal += p?.bytesTotal ?? 0;
    const j = v?.phase === 'joining' ? v.joinProgress : undefined;
    if (j !== undefined && j.bytesDone > 0 && now > j.startedAt) {
      const joinEta = (j.bytesTotal - j.bytesDone) / (j.bytesDone / ((now - j.startedAt) / 1000));
      eta = Math.max(eta ?? 0, Math.max(0, joinEta));
    }
  }
  // Volumes without figures yet (waiting) count as not started.
  const pct = bytesTotal > 0 ? percent(bytesDone, bytesTotal) : Math.min(100, ...syncing.map((s) => s.percent ?? 0));
  return { bytesDone, bytesTotal, percent: pct, ...(eta !== undefined && { etaSeconds: eta }) };
}

export function percent(done: number, total: number): number {
  return total === 0 ? 100 : Math.min(100, Math.floor((done / total) * 1000) / 10);
}
