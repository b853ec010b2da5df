// Write damping.
//
// Figures that move on every poll (rpoSeconds, journal used/actual history, checkpoint count,
// latest and oldest, sync remaining/eta, change rates and sizing) do not make a status change on their own: while
// everything else is unchanged, the previous figures stay until they are REFRESH_SECONDS old, or
// until RPO or actual history moved by REFRESH_SECONDS. Their age is read from the status itself,
// no field added: checkpoints.latest.time + rpoSeconds, and checkpoints.oldest.time +
// journal.actualHistorySeconds, are each the time the figures were measured, on the measuring
// VRA's clock; the difference between the previous and the fresh reading is the age, whatever the
// clocks' skew. Sync percentages (overall and per volume) are written when their whole percent
// changes. Change rates and sizing also refresh after SIZING_REFRESH_SECONDS more of measurement.
import type { VPGStatus } from '../../../crds/vpg.ts';
import { deepEqual } from '../../../runtime/index.ts';
import { REFRESH_SECONDS } from './types.ts';

/** The status with each moving figure replaced by whether it is there. */
function shape(s: VPGStatus): unknown {
  return {
    ...s,
    rpoSeconds: s.rpoSeconds !== undefined,
    journal: s.journal && { ...s.journal, actualHistorySeconds: true, actualHistory: true, used: true },
    checkpoints: s.checkpoints && { ...s.checkpoints, count: true, latest: s.checkpoints.latest !== undefined, oldest: s.checkpoints.oldest !== undefined },
    sync: s.sync && { ...s.sync, remaining: s.sync.remaining !== undefined, eta: s.sync.eta !== undefined },
    volumes: s.volumes?.map((v) => ({ ...v, changeRate: v.changeRate !== undefined })),
    // The capacity figures move with every measurement; what they conclude does not.
    sizing: s.sizing && { source: s.sizing.basis.source, exceedsHardLimit: s.sizing.journal.exceedsHardLimit, exceedsWarning: s.sizing.journal.exceedsWarning },
  };
}

/**
 * When the figures of a status were computed, as far as the status itself tells, two ways:
 * checkpoints.latest.time + rpoSeconds, and checkpoints.oldest.time + journal.actualHistorySeconds.
 * Each is on the clock of whoever measured it (the protected VRA, the recovery VRA or this
 * process), so only the difference between two statuses' readings means anything.
 */
function readings(s: VPGStatus): [number | undefined, number | undefined] {
  const { latest, oldest } = s.checkpoints ?? {};
  const byRpo = latest !== undefined && s.rpoSeconds !== undefined ? Date.parse(latest.time) + s.rpoSeconds * 1000 : undefined;
  const byHistory = oldest !== undefined && s.journal !== undefined ? Date.parse(oldest.time) + s.journal.actualHistorySeconds * 1000 : undefined;
  return [byRpo, byHistory];
}

/** How long after `previous`'s figures `fresh`'s were computed (the smallest of the two readings); undefined if unknown. */
function elapsedMs(fresh: VPGStatus, previous: VPGStatus): number | undefined {
  const a = readings(fresh);
  const b = readings(previous);
  const diffs = [0, 1].map((i) => {
    const x = a[i];
    const y = b[i];
    return x === undefined || y === undefined || !Number.isFinite(x - y) ? undefined : x - y;
  }).filter((d) => d !== undefined);
  return diffs.length === 0 ? undefined : diffs.reduce((m, d) => (Math.abs(d) < Math.abs(m) ? d : m));
}

const moved = (a: number | undefined, b: number | undefined, by = REFRESH_SECONDS): boolean => a !== undefined && b !== undefined && Math.abs(a - b) >= by;

/** Change rates are rewritten after this much more measurement (an assessment has no RPO to age them by). */
export const SIZING_REFRESH_SECONDS = 60;

/** Seconds of change-rate measurement behind the status: the report's basis, else the least measured volume's. */
function measured(s: VPGStatus): number | undefined {
  if (s.sizing !== undefined) return s.sizing.basis.measuredSeconds;
  const seconds = (s.volumes ?? []).flatMap((v) => (v.changeRate === undefined ? [] : [v.changeRate.measuredSeconds]));
  return seconds.length === 0 ? undefined : Math.min(...seconds);
}

/** The previous status instead of the fresh one when they differ only by figures that are still recent. */
export function damp(fresh: VPGStatus, previous: VPGStatus): VPGStatus {
  if (!deepEqual(shape(fresh), shape(previous))) return fresh;
  const elapsed = elapsedMs(fresh, previous);
  if (elapsed !== undefined && Math.abs(elapsed) >= REFRESH_SECONDS * 1000) return fresh;
  if (moved(fresh.rpoSeconds, previous.rpoSeconds) || moved(fresh.journal?.actualHistorySeconds, previous.journal?.actualHistorySeconds)) return fresh;
  if (moved(measured(fresh), measured(previous), SIZING_REFRESH_SECONDS)) return fresh;
  return previous;
}
