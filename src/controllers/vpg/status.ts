// A VPG's protection status from what both VRAs report: a pure function the controller calls on
// every reconcile (every few seconds while protecting). Same situation, same status: the
// controller writes only when the result differs from the status the VPG has, and records the
// events this returns, which describe transitions only.
//
// Phases and substatuses, as in Zerto (first match wins):
//   blocker                    NeedsConfiguration (or Error): the spec cannot be honoured
//   a stream end failed        Error: the VRA refused the stream (message from the VRA)
//   nothing configured yet     Pending
//   no checkpoint ever, or the source in initial sync
//                              Initializing, substatus InitialSync (or VraNotReady/SiteDisconnection
//                              when an end is down; none while connecting or being configured)
//   an end down or cut off     NotMeetingSLA/VraNotReady: the protected VRA not Ready, unreachable,
//                              or a stream end missing on a VRA
//                              NotMeetingSLA/SiteDisconnection: the recovery VRA not Ready or
//                              unreachable, or the source not connected to it
//   catching up                NotMeetingSLA/BitmapSync, NotMeetingSLA/DeltaSync
//   protecting                 MeetingSLA; RpoNotMeetingSLA (RPO above the alert);
//                              HistoryNotMeetingSLA (the 85 %/75 % rule); NotMeetingSLA (both, as
//                              Zerto). Substatus JournalHardLimitReached when the recovery VRA
//                              applies journal data early to stay under the hard limit: with any of
//                              these phases, MeetingSLA included while the history still meets the
//                              rule (the SLA is RPO and history; the limit is what will erode it).
// The history rule: expected = min(configured, now − journal.since); actual below 85 % of expected
// is a warning, below 75 % an error (both HistoryNotMeetingSLA; the MeetingSLA condition says
// HistoryWarning or HistoryError). A shortfall under HISTORY_TOLERANCE_SECONDS (or two checkpoint
// intervals) never counts: clocks and polling make a young journal's figures seconds apart.
//
// Figures that move on every poll (rpoSeconds, journal used/actual history, checkpoint count,
// latest and oldest, sync remaining/eta) do not make a status change on their own: while
// everything else is unchanged, the previous figures stay until they are REFRESH_SECONDS old, or
// until RPO or actual history moved by REFRESH_SECONDS. Their age is read from the status itself,
// no field added: checkpoints.latest.time + rpoSeconds, and checkpoints.oldest.time +
// journal.actualHistorySeconds, are each the time the figures were measured, on the measuring
// VRA's clock; the difference between the previous and the fresh reading is the age, whatever the
// clocks' skew. Sync percentages (overall and per volume) are written when their whole percent
// changes.
//
// operation, lastTest and history are the operation logic's: copied from the previous status.
// An operation in progress (input.operation) sets phase and substatus.
import type { z } from 'zod';
import { VPGStatus } from '../../crds/vpg.ts';
import { deepEqual, metaTime, setStatusCondition, type Condition, type ConditionStatus } from '../../runtime/index.ts';
import type { SourceStatus } from '../../vra/source-stream.ts';
import type { TargetStatus } from '../../vra/target-stream.ts';
import { formatBytes } from '../zorg/size.ts';

export const REFRESH_SECONDS = 30;
export const HISTORY_WARNING_RATIO = 0.85;
export const HISTORY_ERROR_RATIO = 0.75;
export const HISTORY_TOLERANCE_SECONDS = 60;
/** At most this many tagged checkpoints in the status (the schema's bound). */
export const MAX_TAGGED = 32;

export type Phase = NonNullable<VPGStatus['phase']>;
export type Substatus = NonNullable<VPGStatus['substatus']>;
export type OperationPhase = Extract<Phase, 'Testing' | 'FailingOver' | 'Moving'>;
type Journal = NonNullable<VPGStatus['journal']>;
type Checkpoints = NonNullable<VPGStatus['checkpoints']>;
type CheckpointRef = NonNullable<Checkpoints['latest']>;
type Sync = NonNullable<VPGStatus['sync']>;
type SyncType = Sync['type'];
type VolumeEntry = NonNullable<VPGStatus['volumes']>[number];
type VolumeState = VolumeEntry['state'];
type Placement = NonNullable<VPGStatus['placement']>;


/** One volume as the source reports it, when it reports per-volume states. */
export interface SourceVolumeReport {
  /** The stream's volume name: the PersistentVolumeClaim's name. */
  name: string;
  state: 'initial-sync' | 'delta-sync' | 'bitmap-sync' | 'protecting';
  percent?: number | undefined;
}

/** What is read of the protected VRA's report (GET /v1/streams/{id} of a source). */
export type SourceReport = Pick<SourceStatus, 'state' | 'connected' | 'lastError' | 'rpoSeconds' | 'durableCheckpoint' | 'progress' | 'wireBytes'> & {
  volumes?: readonly SourceVolumeReport[] | undefined;
};

/** What is read of the recovery VRA's report (GET /v1/streams/{id} of a target). */
export type TargetReport = Pick<TargetStatus,
  'journalBytes' | 'checkpoints' | 'oldestCheckpoint' | 'newestCheckpoint' | 'actualHistorySeconds' | 'journalWarning' | 'journalOverHardLimit'>;

/** One end of the stream as the controller found it on its VRA. */
export type StreamObservation<S> =
  | { kind: 'ok'; status: S }
  /** The VRA did not answer (timeout, refused connection, pod without an IP). */
  | { kind: 'unreachable'; error: string }
  /** The VRA has the stream but it could not start, or refused its configuration. */
  | { kind: 'failed'; error: string }
  /** The VRA has no such stream (yet, or any more). */
  | { kind: 'missing' };

export interface TaggedCheckpoint {
  seq: number;
  time: string;
  tag: string;
}

export interface SlaInput {
  rpoAlertSeconds: number;
  historyHours: number;
  checkpointIntervalSeconds: number;
  /** The journal hard limit; undefined: Unlimited. */
  hardLimitBytes?: number | undefined;
  /** Journal usage that raises a warning; undefined: none. */
  warningBytes?: number | undefined;
  /** The hard limit as people read it ("150Gi", "Unlimited"); default: hardLimitBytes formatted. */
  limitText?: string | undefined;
}

export interface Blocker {
  /** CamelCase, for the Ready condition and the event. */
  reason: string;
  message: string;
  /** Default NeedsConfiguration. */
  phase?: 'NeedsConfiguration' | 'Error' | undefined;
}

export interface VpgStatusInput {
  now: Date;
  /** metadata.generation: the conditions' observedGeneration. */
  generation: number;
  /**
   * The VPG's status now, as read (any shape: each field that does not match the schema is ignored).
   * Conditions keep their transition times from it; journal.since, sync.startTime and the figures
   * come from it; events compare against its phase, substatus and condition reasons.
   */
  previous: unknown;
  /** The SLA in effect; undefined only with a blocker (it is then not needed). */
  sla: SlaInput | undefined;
  /**
   * Why the spec cannot be honoured (a missing PVC, a profile not allowed, the quota, no VRA at a
   * site, volumes on several nodes...). The status then shows only that (and the placement).
   */
  blocker?: Blocker | undefined;
  /** Copied to status.placement. A changed streamId starts the journal's figures afresh. */
  placement?: { protectedNode?: string | undefined; recoveryNode?: string | undefined; streamId?: string | undefined } | undefined;
  /** The protected volumes, resolved. */
  volumes: readonly { claimName: string; sizeBytes?: number | undefined }[];
  /** The protected VRA's end of the stream; undefined: not configured there yet. */
  source?: StreamObservation<SourceReport> | undefined;
  /** The recovery VRA's end, with its tagged checkpoints when they were read (undefined: keep the previous list). */
  target?: (StreamObservation<TargetReport> & { tagged?: readonly TaggedCheckpoint[] | undefined }) | undefined;
  /** The VRA pods are Ready. */
  protectedVraReady: boolean;
  recoveryVraReady: boolean;
  /**
   * An operation in progress (failover test, failover, move) owns phase and substatus; the rest
   * (conditions, figures) is computed as usual, and protection events wait until it ends.
   */
  operation?: { phase: OperationPhase; substatus?: Substatus | undefined } | undefined;
}

export interface VpgEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  note: string;
}

export interface VpgStatusResult {
  /**
   * The whole status. operation, lastTest and history belong to the operation logic: they are
   * copied from the previous status as they are (the controller sets or removes them on this);
   * every other field is computed here.
   */
  status: VPGStatus;
  events: VpgEvent[];
}

interface Verdict {
  status: ConditionStatus;
  reason: string;
  message: string;
}

type HistoryLevel = 'ok' | 'warning' | 'error';

interface Assessment {
  phase: Phase;
  substatus: Substatus | undefined;
  ready: Verdict;
  protected: Verdict;
  meetingSla: Verdict;
  synchronizing: Verdict;
  /** Exact RPO, when known. */
  rpo: number | undefined;
  rpoBad: boolean;
  history: { actual: number; expected: number; level: HistoryLevel } | undefined;
  /** Why the VPG is in Error, for the event. */
  error: string | undefined;
}

/** The previous status, each field kept only if it matches the schema. */
interface Previous {
  status: VPGStatus;
  conditions: Condition[];
  /** The previous figures belong to the same stream (placement.streamId unchanged). */
  same: boolean;
}

const OPERATION_PHASES: ReadonlySet<string> = new Set<OperationPhase>(['Testing', 'FailingOver', 'Moving']);
const TROUBLE_SUBSTATUSES: ReadonlySet<string> = new Set<Substatus>(['SiteDisconnection', 'VraNotReady']);
const TROUBLE_PHASES: ReadonlySet<string> = new Set<Phase>(['Error', 'NeedsConfiguration']);

const ok = (reason: string, message: string): Verdict => ({ status: 'True', reason, message });
const no = (reason: string, message: string): Verdict => ({ status: 'False', reason, message });
const cut = (s: string, n = 1024): string => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

// ---------------------------------------------------------------------------------------------
// Reading the previous status

function parsed<S extends z.ZodType>(schema: S, value: unknown): z.output<S> | undefined {
  const r = schema.safeParse(value);
  return r.success ? r.data : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readPrevious(previous: unknown, streamId: string | undefined): Previous {
  const o = isRecord(previous) ? previous : {};
  const shape = VPGStatus.shape;
  const conditions = (parsed(shape.conditions, o['conditions']) ?? []).map(toCondition);
  const status = defined<VPGStatus>({
    observedGeneration: parsed(shape.observedGeneration, o['observedGeneration']),
    phase: parsed(shape.phase, o['phase']),
    substatus: parsed(shape.substatus, o['substatus']),
    rpoSeconds: parsed(shape.rpoSeconds, o['rpoSeconds']),
    placement: parsed(shape.placement, o['placement']),
    journal: parsed(shape.journal, o['journal']),
    checkpoints: parsed(shape.checkpoints, o['checkpoints']),
    sync: parsed(shape.sync, o['sync']),
    volumes: parsed(shape.volumes, o['volumes']),
    conditions: conditions.length === 0 ? undefined : conditions,
    lastTest: parsed(shape.lastTest, o['lastTest']),
    operation: parsed(shape.operation, o['operation']),
    history: parsed(shape.history, o['history']),
  });
  return { status, conditions, same: status.placement?.streamId === streamId };
}

function toCondition(c: NonNullable<VPGStatus['conditions']>[number]): Condition {
  const { observedGeneration, ...rest } = c;
  return observedGeneration === undefined ? rest : { ...rest, observedGeneration };
}

/** A shallow copy without undefined-valued keys: the API server stores none, so a status with one would never compare equal. */
function defined<T extends object>(o: { [K in keyof T]: T[K] | undefined }): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

// ---------------------------------------------------------------------------------------------
// Formatting

/** Seconds for people: "23h58m", "4m12s", "12s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${s}s`;
}

/** Bytes as a quantity of about three significant digits ("1.25Gi", "820Mi", "512"): figures for people. */
export function approxBytes(bytes: number): string {
  const b = Math.max(0, Math.round(bytes));
  const units: [string, number][] = [['Pi', 2 ** 50], ['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]];
  for (const [suffix, unit] of units) {
    if (b < unit) continue;
    const v = b / unit;
    const decimals = v >= 100 ? 0 : v >= 10 ? 1 : 2;
    const scale = 10 ** decimals;
    const rounded = Math.round(v * scale) / scale;
    const text = rounded.toFixed(decimals);
    return `${decimals === 0 ? text : text.replace(/\.?0+$/, '')}${suffix}`;
  }
  return String(b);
}

const percent = (p: number): number => Math.min(100, Math.max(0, Math.floor(p)));

// ---------------------------------------------------------------------------------------------
// The figures

type Source = NonNullable<VpgStatusInput['source']>;
type Target = NonNullable<VpgStatusInput['target']>;

const okSource = (s: Source | undefined): SourceReport | undefined => (s?.kind === 'ok' ? s.status : undefined);
const okTarget = (t: Target | undefined): TargetReport | undefined => (t?.kind === 'ok' ? t.status : undefined);

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

function checkpointsOf(input: VpgStatusInput, prev: Previous): Checkpoints | undefined {
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

function rpoOf(input: VpgStatusInput, prev: Previous): number | undefined {
  if (input.blocker !== undefined) return undefined;
  const s = okSource(input.source);
  if (s?.rpoSeconds !== undefined) return Math.max(0, s.rpoSeconds);
  const latest = checkpointsOf(input, prev)?.latest ?? (prev.same && input.target?.kind !== 'ok' ? prev.status.checkpoints?.latest : undefined);
  if (latest === undefined) return undefined;
  return Math.max(0, (input.now.getTime() - Date.parse(latest.time)) / 1000);
}

function journalOf(input: VpgStatusInput, prev: Previous, sla: SlaInput | undefined): Journal | undefined {
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

function syncTypeOf(input: VpgStatusInput, prev: Previous): SyncType | undefined {
  const s = okSource(input.source);
  if (s !== undefined) return SYNC_OF_STATE[s.state];
  // The protected VRA out of reach: the sync it was doing is still to finish.
  return input.source?.kind === 'unreachable' && prev.same ? prev.status.sync?.type : undefined;
}

function syncOf(input: VpgStatusInput, prev: Previous, type: SyncType | undefined): Sync | undefined {
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

function volumesOf(input: VpgStatusInput, prev: Previous): VolumeEntry[] {
  const before = new Map((prev.same ? prev.status.volumes ?? [] : []).map((v) => [v.claimName, v]));
  const s = okSource(input.source);
  return input.volumes.map((v): VolumeEntry => {
    const base = { claimName: v.claimName, ...(v.sizeBytes !== undefined && { size: formatBytes(BigInt(Math.max(0, Math.round(v.sizeBytes)))) }) };
    if (input.blocker !== undefined) return { ...base, state: 'Pending' };
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

// ---------------------------------------------------------------------------------------------
// The verdict

interface Problem {
  substatus: 'VraNotReady' | 'SiteDisconnection' | undefined;
  reason: string;
  message: string;
}

function streamEndProblem(end: 'protected' | 'recovery', o: Source | Target | undefined, node: string | undefined, everProtected: boolean): Problem | undefined {
  if (o !== undefined && o.kind !== 'missing') return undefined;
  const vra = `the ${end} VRA${node === undefined ? '' : ` (node ${node})`}`;
  return {
    substatus: everProtected ? 'VraNotReady' : undefined,
    reason: 'StreamNotConfigured',
    message: o === undefined ? `the stream is not configured on ${vra} yet` : `${vra} does not have the stream: it is being configured again`,
  };
}

/** Why the stream does not run end to end, if it does not; a failed end is handled before. */
function problemOf(input: VpgStatusInput, everProtected: boolean): Problem | undefined {
  const { source, target } = input;
  const p = input.placement ?? {};
  const on = (node: string | undefined): string => (node === undefined ? '' : ` on node ${node}`);
  if (!input.protectedVraReady) return { substatus: 'VraNotReady', reason: 'ProtectedVraNotReady', message: `the protected VRA${on(p.protectedNode)} is not Ready` };
  if (source?.kind === 'unreachable') return { substatus: 'VraNotReady', reason: 'ProtectedVraUnreachable', message: cut(`cannot reach the protected VRA${on(p.protectedNode)}: ${source.error}`) };
  if (!input.recoveryVraReady) return { substatus: 'SiteDisconnection', reason: 'RecoveryVraNotReady', message: `the recovery VRA${on(p.recoveryNode)} is not Ready` };
  if (target?.kind === 'unreachable') return { substatus: 'SiteDisconnection', reason: 'RecoveryVraUnreachable', message: cut(`cannot reach the recovery VRA${on(p.recoveryNode)}: ${target.error}`) };
  const missing = streamEndProblem('recovery', target, p.recoveryNode, everProtected) ?? streamEndProblem('protected', source, p.protectedNode, everProtected);
  if (missing !== undefined) return missing;
  const s = okSource(source);
  if (s !== undefined && !s.connected) {
    const why = s.lastError === undefined ? '' : `: ${s.lastError}`;
    if (s.state === 'connecting' && !everProtected) return { substatus: undefined, reason: 'Connecting', message: cut(`the protected VRA is connecting to the recovery VRA${why}`) };
    return { substatus: 'SiteDisconnection', reason: 'Disconnected', message: cut(`the protected VRA is not connected to the recovery VRA${why}`) };
  }
  return undefined;
}

function historyOf(input: VpgStatusInput, sla: SlaInput, journal: Journal | undefined): Assessment['history'] {
  const t = okTarget(input.target);
  if (t === undefined || journal === undefined) return undefined;
  const configured = sla.historyHours * 3600;
  const since = journal.since === undefined ? undefined : Date.parse(journal.since);
  const expected = since === undefined ? configured : Math.max(0, Math.min(configured, (input.now.getTime() - since) / 1000));
  const actual = t.actualHistorySeconds;
  const tolerance = Math.max(HISTORY_TOLERANCE_SECONDS, 2 * sla.checkpointIntervalSeconds);
  const short = expected - actual > tolerance;
  const level: HistoryLevel = !short ? 'ok' : actual < HISTORY_ERROR_RATIO * expected ? 'error' : actual < HISTORY_WARNING_RATIO * expected ? 'warning' : 'ok';
  return { actual, expected, level };
}

const SYNC_TEXT: Readonly<Record<SyncType, string>> = {
  Initial: 'initial sync: every volume is copied whole',
  Bitmap: 'bitmap sync: catching up on the regions changed while replication was cut off; the latest checkpoint stays recoverable',
  Delta: 'delta sync: comparing both sides and sending the difference; no checkpoint can be recovered until it ends',
};

function assess(input: VpgStatusInput, prev: Previous, journal: Journal | undefined, checkpoints: Checkpoints | undefined, syncType: SyncType | undefined): Assessment {
  const { blocker } = input;
  const synchronizing = syncType === undefined
    ? no(okSource(input.source) === undefined ? 'NotReplicating' : 'InSync', okSource(input.source) === undefined ? 'the protected VRA does not report the stream' : 'no sync in progress')
    : ok(`${syncType}Sync`, SYNC_TEXT[syncType]);
  const base = { rpo: undefined, rpoBad: false, history: undefined, error: undefined };
  if (blocker !== undefined) {
    const message = cut(`the VPG cannot be protected: ${blocker.message}`);
    return {
      ...base,
      phase: blocker.phase ?? 'NeedsConfiguration',
      substatus: undefined,
      ready: no(blocker.reason, cut(blocker.message, 32_768)),
      protected: no('NotConfigured', message),
      meetingSla: no('NotConfigured', message),
      synchronizing: no('NotConfigured', message),
      error: blocker.message,
    };
  }
  const rpo = rpoOf(input, prev);
  const latest = checkpoints?.latest;
  const everProtected = latest !== undefined || okSource(input.source)?.durableCheckpoint !== undefined
    || (prev.same && (prev.status.checkpoints?.latest !== undefined || prev.status.journal?.since !== undefined));

  const t = okTarget(input.target);
  const recoveryDown = !input.recoveryVraReady || input.target?.kind === 'unreachable';
  const protectedVerdict: Verdict = input.target?.kind === 'failed' ? no('StreamFailed', 'the recovery VRA\'s end of the stream failed')
    : recoveryDown ? no('RecoveryVraUnavailable', 'the recovery VRA is not available: nothing can be recovered until it is')
    : latest === undefined ? no('NoCheckpoint', 'the recovery site holds no checkpoint yet')
    : syncType === 'Initial' ? no('InitialSync', 'an initial sync is in progress: no checkpoint can be recovered until it ends')
    : syncType === 'Delta' ? no('DeltaSync', 'a delta sync is in progress: no checkpoint can be recovered until it ends')
    : ok('CheckpointAvailable', 'the recovery site holds checkpoints that can be recovered');

  const failures = [
    input.source?.kind === 'failed' ? `protected VRA: ${input.source.error}` : undefined,
    input.target?.kind === 'failed' ? `recovery VRA: ${input.target.error}` : undefined,
  ].filter((f) => f !== undefined);
  if (failures.length > 0) {
    const message = cut(`the stream failed: ${failures.join('; ')}`);
    return {
      ...base, rpo, phase: 'Error', substatus: undefined, error: message,
      ready: no('StreamFailed', message), protected: protectedVerdict, meetingSla: no('Error', message), synchronizing,
    };
  }

  if (input.source === undefined && input.target === undefined && !everProtected && input.protectedVraReady && input.recoveryVraReady) {
    const message = 'the stream is not configured on the VRAs yet';
    return { ...base, phase: 'Pending', substatus: undefined, ready: no('StreamNotConfigured', message), protected: protectedVerdict, meetingSla: no('Pending', message), synchronizing };
  }

  const problem = problemOf(input, everProtected);
  const ready = problem === undefined ? ok('Replicating', 'both ends of the stream run and are connected') : no(problem.reason, problem.message);
  const common = { ...base, rpo, ready, protected: protectedVerdict, synchronizing };
  if (!everProtected || syncType === 'Initial') {
    const substatus = problem?.substatus ?? (syncType === 'Initial' ? 'InitialSync' : undefined);
    return {
      ...common, phase: 'Initializing', substatus,
      meetingSla: no(substatus ?? 'Initializing', problem?.message ?? (syncType === 'Initial' ? SYNC_TEXT.Initial : 'waiting for the first checkpoint on the recovery site')),
    };
  }
  if (problem !== undefined) {
    const substatus = problem.substatus ?? 'VraNotReady';
    return { ...common, phase: 'NotMeetingSLA', substatus, meetingSla: no(substatus, problem.message) };
  }
  if (syncType !== undefined) {
    const substatus = syncType === 'Bitmap' ? 'BitmapSync' : 'DeltaSync';
    return { ...common, phase: 'NotMeetingSLA', substatus, meetingSla: no(substatus, SYNC_TEXT[syncType]) };
  }

  // Protecting: the SLA itself (vpgStatus turns a missing SLA into a blocker).
  const sla = input.sla ?? { rpoAlertSeconds: Infinity, historyHours: 0, checkpointIntervalSeconds: 1 };
  const rpoBad = rpo !== undefined && rpo > sla.rpoAlertSeconds;
  const history = historyOf(input, sla, journal);
  const level = history?.level ?? 'ok';
  const hardLimit = t?.journalOverHardLimit === true ? 'JournalHardLimitReached' : undefined;
  const limitNote = hardLimit === undefined ? '' : '; the journal is at its hard limit: its oldest data is applied early and the history shrinks';
  const warningNote = t?.journalWarning === true && hardLimit === undefined ? '; journal usage is above its warning threshold' : '';
  const rpoText = `RPO above the ${sla.rpoAlertSeconds} s alert`;
  const historyText = level === 'error'
    ? `journal history below ${HISTORY_ERROR_RATIO * 100} % of what the SLA expects`
    : `journal history below ${HISTORY_WARNING_RATIO * 100} % of what the SLA expects`;
  const levelReason = level === 'error' ? 'HistoryError' : 'HistoryWarning';
  const slaVerdict = (phase: Phase, meetingSla: Verdict): Assessment => ({ ...common, rpoBad, history, phase, substatus: hardLimit, meetingSla });
  if (rpoBad && level !== 'ok') return slaVerdict('NotMeetingSLA', no(`RpoAnd${levelReason}`, `${rpoText}, and ${historyText}${limitNote}`));
  if (rpoBad) return slaVerdict('RpoNotMeetingSLA', no('RpoExceeded', `${rpoText}${limitNote}`));
  if (level !== 'ok') return slaVerdict('HistoryNotMeetingSLA', no(levelReason, `${historyText}${limitNote}`));
  return slaVerdict('MeetingSLA', ok('MeetingSLA', `RPO within the ${sla.rpoAlertSeconds} s alert and journal history as the SLA expects${limitNote}${warningNote}`));
}

// ---------------------------------------------------------------------------------------------
// Write damping

/** The status with each moving figure replaced by whether it is there. */
function shape(s: VPGStatus): unknown {
  return {
    ...s,
    rpoSeconds: s.rpoSeconds !== undefined,
    journal: s.journal && { ...s.journal, actualHistorySeconds: true, actualHistory: true, used: true },
    checkpoints: s.checkpoints && { ...s.checkpoints, count: true, latest: s.checkpoints.latest !== undefined, oldest: s.checkpoints.oldest !== undefined },
    sync: s.sync && { ...s.sync, remaining: s.sync.remaining !== undefined, eta: s.sync.eta !== undefined },
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

const moved = (a: number | undefined, b: number | undefined): boolean => a !== undefined && b !== undefined && Math.abs(a - b) >= REFRESH_SECONDS;

/** The previous status instead of the fresh one when they differ only by figures that are still recent. */
function damp(fresh: VPGStatus, previous: VPGStatus): VPGStatus {
  if (!deepEqual(shape(fresh), shape(previous))) return fresh;
  const elapsed = elapsedMs(fresh, previous);
  if (elapsed !== undefined && Math.abs(elapsed) >= REFRESH_SECONDS * 1000) return fresh;
  if (moved(fresh.rpoSeconds, previous.rpoSeconds) || moved(fresh.journal?.actualHistorySeconds, previous.journal?.actualHistorySeconds)) return fresh;
  return previous;
}

// ---------------------------------------------------------------------------------------------
// Events

const reasonOf = (conditions: readonly Condition[], type: string): string | undefined => conditions.find((c) => c.type === type)?.reason;
const historyLevelOf = (reason: string | undefined): HistoryLevel =>
  reason?.endsWith('HistoryError') === true ? 'error' : reason?.endsWith('HistoryWarning') === true ? 'warning' : 'ok';
const RANK: Readonly<Record<HistoryLevel, number>> = { ok: 0, warning: 1, error: 2 };
const label = (phase: string | undefined, substatus: string | undefined): string => (substatus === undefined ? phase ?? 'none' : `${phase ?? 'none'}/${substatus}`);

function eventsOf(input: VpgStatusInput, prev: Previous, a: Assessment, status: VPGStatus): VpgEvent[] {
  const prevPhase = prev.status.phase;
  const prevSub = prev.status.substatus;
  // The operation logic reports on its own phases; after one, the state is compared with none.
  if (input.operation !== undefined) return [];
  const fromOperation = prevPhase !== undefined && OPERATION_PHASES.has(prevPhase);
  const before = fromOperation ? { phase: undefined, substatus: undefined, sla: undefined, ready: undefined }
    : { phase: prevPhase, substatus: prevSub, sla: reasonOf(prev.conditions, 'MeetingSLA'), ready: reasonOf(prev.conditions, 'Ready') };
  const events: VpgEvent[] = [];
  const warn = (reason: string, note: string): void => {
    events.push({ type: 'Warning', reason, note });
  };
  const tell = (reason: string, note: string): void => {
    events.push({ type: 'Normal', reason, note });
  };

  if (input.blocker !== undefined) {
    if (before.phase !== a.phase || before.substatus !== undefined || before.ready !== a.ready.reason) warn(input.blocker.reason, input.blocker.message);
    return events;
  }
  const enters = (sub: Substatus): boolean => a.substatus === sub && before.substatus !== sub;
  const wasTrouble = (before.phase !== undefined && TROUBLE_PHASES.has(before.phase)) || (before.substatus !== undefined && TROUBLE_SUBSTATUSES.has(before.substatus));
  const isTrouble = TROUBLE_PHASES.has(a.phase) || (a.substatus !== undefined && TROUBLE_SUBSTATUSES.has(a.substatus));
  if (wasTrouble && !isTrouble) tell('Recovered', `${label(before.phase, before.substatus)} is over: now ${label(a.phase, a.substatus)}`);
  if (a.phase === 'Error' && before.phase !== 'Error') warn('Error', a.error ?? 'the stream failed');
  if (enters('VraNotReady')) warn('VraNotReady', a.ready.message);
  if (enters('SiteDisconnection')) warn('SiteDisconnection', a.ready.message);
  if (enters('InitialSync')) {
    const n = input.volumes.length;
    const to = input.placement?.recoveryNode === undefined ? '' : ` to the VRA on node ${input.placement.recoveryNode}`;
    tell('InitialSyncStarted', `initial sync of ${n} volume${n === 1 ? '' : 's'}${to} started`);
  }
  if (enters('BitmapSync')) tell('BitmapSyncStarted', SYNC_TEXT.Bitmap);
  if (enters('DeltaSync')) tell('DeltaSyncStarted', SYNC_TEXT.Delta);
  if (enters('JournalHardLimitReached')) {
    warn('JournalHardLimitReached', `the journal reached its hard limit (${status.journal?.limit ?? 'set by the SLA'}): its oldest data is applied to the replica early and the history shrinks`);
  }
  const rpoText = a.rpo === undefined ? 'unknown' : `${Math.round(a.rpo)} s`;
  const wasRpoBad = before.sla === 'RpoExceeded' || before.sla?.startsWith('RpoAnd') === true;
  if (a.rpoBad && !wasRpoBad) warn('RpoNotMeetingSLA', `RPO ${rpoText} is above the ${input.sla?.rpoAlertSeconds ?? 0} s alert`);
  const h = a.history;
  if (h !== undefined && h.level !== 'ok' && RANK[h.level] > RANK[historyLevelOf(before.sla)]) {
    const ratio = h.level === 'error' ? HISTORY_ERROR_RATIO : HISTORY_WARNING_RATIO;
    const text = `journal history ${formatDuration(h.actual)} is below ${ratio * 100} % of the expected ${formatDuration(h.expected)}`;
    warn('HistoryBelowSLA', h.level === 'error' ? `error: ${text}` : `warning: ${text}`);
  }
  if (a.phase === 'MeetingSLA' && before.phase !== 'MeetingSLA') tell('MeetingSLA', `meeting its SLA: RPO ${rpoText}`);
  return events;
}

// ---------------------------------------------------------------------------------------------

/** The VPG's protection status and the events of its transitions. */
export function vpgStatus(given: VpgStatusInput): VpgStatusResult {
  const input: VpgStatusInput = given.blocker === undefined && given.sla === undefined
    ? { ...given, blocker: { reason: 'NoSla', message: 'no SLA is in effect' } }
    : given;
  const prev = readPrevious(input.previous, input.placement?.streamId);
  const p = input.placement;
  const placement = p === undefined ? undefined : defined<Placement>({ protectedNode: p.protectedNode, recoveryNode: p.recoveryNode, streamId: p.streamId });
  const placed = placement === undefined || Object.keys(placement).length === 0 ? undefined : placement;
  const blocked = input.blocker !== undefined;
  const journal = blocked ? undefined : journalOf(input, prev, input.sla);
  const checkpoints = blocked ? undefined : checkpointsOf(input, prev);
  const syncType = blocked ? undefined : syncTypeOf(input, prev);
  const a = assess(input, prev, journal, checkpoints, syncType);

  const g = { observedGeneration: input.generation };
  let conditions = prev.conditions;
  for (const [type, v] of [['Ready', a.ready], ['Protected', a.protected], ['MeetingSLA', a.meetingSla], ['Synchronizing', a.synchronizing]] as const) {
    conditions = setStatusCondition(conditions, { type, ...v, ...g }, input.now).conditions;
  }
  const showRpo = !blocked && a.rpo !== undefined && a.phase !== 'Initializing' && a.phase !== 'Pending';
  const volumes = volumesOf(input, prev);
  const fresh = defined<VPGStatus>({
    ...g,
    phase: input.operation?.phase ?? a.phase,
    substatus: input.operation === undefined ? a.substatus : input.operation.substatus,
    rpoSeconds: showRpo && a.rpo !== undefined ? Math.round(a.rpo) : undefined,
    placement: placed,
    journal,
    checkpoints,
    sync: blocked ? undefined : syncOf(input, prev, syncType),
    volumes: volumes.length === 0 ? undefined : volumes,
    conditions,
    lastTest: prev.status.lastTest,
    operation: prev.status.operation,
    history: prev.status.history,
  });
  const status = damp(fresh, prev.status);
  return { status, events: eventsOf(input, prev, a, status) };
}
