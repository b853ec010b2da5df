// The figures: checkpoints, RPO, journal, sync and volumes, from what both VRAs report now. A VRA
// out of reach still holds its journal or its sync, so for the same stream the figures it last
// reported stay.
import { metaTime } from '../../../runtime/index.ts';
import { formatBytes } from '../../zorg/size.ts';
import { approxBytes, cut, formatDuration, percent } from './format.ts';
import { defined, readPrevious, type Previous } from './previous.ts';
import {
  MAX_TAGGED,
  type CheckpointRef, type Checkpoints, type Journal, type SlaInput, type SourceReport, type Sync, type SyncType,
  type TargetReport, type VolumeEntry, type VolumeState, type VpgStatusInput,
} from './types.ts';

export type Source = NonNullable<VpgStatusInput['source']>;
export type Target = NonNullable<VpgStatusInput['target']>;

export const okSource = (s: Source | undefined): SourceReport | undefined => (s?.kind === 'ok' ? s.status : undefined);
export const okTarget = (t: Target | undefined): TargetReport | undefined => (t?.kind === 'ok' ? t.status : undefined);

const SYNC_OF_STATE: Readonly<Record<SourceReport['state'], SyncType | undefined>> = {
  'connecting': undefined,
  'initial-sync': 'Initial',
  'delta-sync': 'Delta',
  'bitmap-sync': 'Bitmap',
  'protecting': undefined,
};

const VOLUME_STATE_OF: Readonly<Record<SourceReport['state'], VolumeState>> = {
  'connecting': 'Pending',
  'initial-sync': 'InitialSync',
  'delta-sync': 'DeltaSync',
  'bitmap-sync': 'BitmapSync',
  'protecting': 'Protected',
};

const ref = (c: { seq: number; time: string }, tag?: string): CheckpointRef => ({ id: String(c.seq), time: c.time, ...(tag !== undefined && { tag: cut(tag, 128) }) });

export function checkpointsOf(input: VpgStatusInput, prev: Previous): Checkpoints | undefined {
  const t = okTarget(input.target);
  if (t === undefined) {
    // Out of reach, the journal is still there: its last known checkpoints stay. Missing or
    // failed, nothing can be recovered from it now.
    return input.target?.kind === 'unreachable' && prev.same ? prev.status.checkpoints : undefined;
  }
  const oldestSeq = t.oldestCheckpoint?.seq;
  const fresh = input.target?.tagged;
  const tagged = fresh !== undefined
    ? [...new Map([...fresh].sort((a, b) => b.seq - a.seq).map((c) => [c.seq, ref(c, c.tag)])).values()]
    // Not read this time: the previous list, less what left the journal.
    : (prev.same ? prev.status.checkpoints?.tagged ?? [] : []).filter((c) => oldestSeq !== undefined && Number(c.id) >= oldestSeq);
  return defined<Checkpoints>({
    count: t.checkpoints,
    latest: t.newestCheckpoint === undefined ? undefined : ref(t.newestCheckpoint),
    oldest: t.oldestCheckpoint === undefined ? undefined : ref(t.oldestCheckpoint),
    tagged: tagged.length === 0 ? undefined : tagged.slice(0, MAX_TAGGED),
  });
}

/** The exact RPO: the source's own figure, else the age of the newest checkpoint the recovery side holds (or held, last seen). */
export function exactRpoSeconds(input: VpgStatusInput): number | undefined {
  return rpoOf(input, readPrevious(input.previous, input.placement?.streamId));
}

export function rpoOf(input: VpgStatusInput, prev: Previous): number | undefined {
  if (input.blocker !== undefined) return undefined;
  const s = okSource(input.source);
  if (s?.rpoSeconds !== undefined) return Math.max(0, s.rpoSeconds);
  const latest = checkpointsOf(input, prev)?.latest ?? (prev.same && input.target?.kind !== 'ok' ? prev.status.checkpoints?.latest : undefined);
  if (latest === undefined) return undefined;
  return Math.max(0, (input.now.getTime() - Date.parse(latest.time)) / 1000);
}

export function journalOf(input: VpgStatusInput, prev: Previous, sla: SlaInput | undefined): Journal | undefined {
  const configured = sla === undefined ? undefined : sla.historyHours * 3600;
  const limit = sla === undefined ? undefined : sla.limitText ?? (sla.hardLimitBytes === undefined ? 'Unlimited' : formatBytes(BigInt(Math.round(sla.hardLimitBytes))));
  const before = prev.same ? prev.status.journal : undefined;
  const t = okTarget(input.target);
  if (t === undefined) {
    // Not seen now: the last known figures, under the SLA in effect.
    return before === undefined ? undefined : { ...before, ...(configured !== undefined && { configuredHistorySeconds: configured }), ...(limit !== undefined && { limit }) };
  }
  return defined<Journal>({
    since: before?.since ?? t.oldestCheckpoint?.time,
    actualHistorySeconds: Math.max(0, Math.round(t.actualHistorySeconds)),
    actualHistory: formatDuration(t.actualHistorySeconds),
    configuredHistorySeconds: configured ?? Math.max(0, Math.round(before?.configuredHistorySeconds ?? 0)),
    used: approxBytes(t.journalBytes),
    limit: limit ?? before?.limit ?? 'Unlimited',
  });
}

export function syncTypeOf(input: VpgStatusInput, prev: Previous): SyncType | undefined {
  const s = okSource(input.source);
  if (s !== undefined) return SYNC_OF_STATE[s.state];
  // The protected VRA out of reach: the sync it was doing is still to finish.
  return input.source?.kind === 'unreachable' && prev.same ? prev.status.sync?.type : undefined;
}

export function syncOf(input: VpgStatusInput, prev: Previous, type: SyncType | undefined): Sync | undefined {
  if (type === undefined) return undefined;
  const before = prev.same ? prev.status.sync : undefined;
  const s = okSource(input.source);
  if (s === undefined) return before;
  const p = s.progress;
  return defined<Sync>({
    type,
    startTime: before?.type === type ? before.startTime : metaTime(input.now),
    progressPercent: percent(p?.percent ?? 0),
    remaining: p === undefined ? undefined : approxBytes(p.bytesTotal - p.bytesDone),
    eta: p?.etaSeconds === undefined ? undefined : metaTime(new Date(input.now.getTime() + p.etaSeconds * 1000)),
  });
}

const SYNCING: ReadonlySet<VolumeState> = new Set<VolumeState>(['InitialSync', 'BitmapSync', 'DeltaSync']);

export function volumesOf(input: VpgStatusInput, prev: Previous): VolumeEntry[] {
  const before = new Map((prev.same ? prev.status.volumes ?? [] : []).map((v) => [v.claimName, v]));
  const s = okSource(input.source);
  return input.volumes.map((v): VolumeEntry => {
    const base = { claimName: v.claimName, ...(v.sizeBytes !== undefined && { size: formatBytes(BigInt(Math.max(0, Math.round(v.sizeBytes)))) }) };
    if (input.blocker !== undefined) return { ...base, state: 'Pending' };
    if (input.assessment !== undefined) return assessedVolume(input.assessment, base, before.get(v.claimName));
    const failed = input.source?.kind === 'failed' ? input.source : input.target?.kind === 'failed' ? input.target : undefined;
    if (failed !== undefined) return { ...base, state: 'Error', message: cut(failed.error) };
    if (s === undefined) {
      const last = before.get(v.claimName);
      if (input.source?.kind === 'unreachable' && last !== undefined) {
        return defined<VolumeEntry>({ ...base, state: last.state, syncPercent: last.syncPercent, message: last.message });
      }
      return { ...base, state: 'Pending' };
    }
    const own = s.volumes?.find((r) => r.name === v.claimName);
    let state: VolumeState = own === undefined ? VOLUME_STATE_OF[s.state] : VOLUME_STATE_OF[own.state];
    // Cut off from the recovery VRA, a protected volume gathers changes for a bitmap sync.
    if (state === 'Protected' && !s.connected) state = 'BitmapSync';
    const p = own === undefined ? s.progress?.percent : own.percent;
    return defined<VolumeEntry>({ ...base, state, syncPercent: SYNCING.has(state) && p !== undefined ? percent(p) : undefined });
  });
}

/** A volume of an assessment: Assessing, with what its VRA says of it. */
function assessedVolume(a: NonNullable<VpgStatusInput['assessment']>, base: { claimName: string; size?: string }, last: VolumeEntry | undefined): VolumeEntry {
  if (a.kind === 'failed') return { ...base, state: 'Error', message: cut(a.error) };
  if (a.kind !== 'ok') return defined<VolumeEntry>({ ...base, state: last?.state === 'Assessing' ? 'Assessing' : 'Pending', message: last?.message });
  const own = a.status.volumes.find((r) => r.name === base.claimName);
  const message = own?.problem ?? (own === undefined ? 'not assessed yet' : own.state === 'baseline' ? 'first pass: its changes are counted from the next one' : undefined);
  return defined<VolumeEntry>({ ...base, state: 'Assessing', message: message === undefined ? undefined : cut(message) });
}
