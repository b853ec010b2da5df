// The verdict: phase, substatus and the four conditions, from the figures and what the controller
// found of both ends.
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
import type { ConditionStatus } from '../../../runtime/index.ts';
import { cut } from './format.ts';
import { okSource, okTarget, rpoOf, type Source, type Target } from './figures.ts';
import type { Previous } from './previous.ts';
import {
  HISTORY_ERROR_RATIO, HISTORY_TOLERANCE_SECONDS, HISTORY_WARNING_RATIO,
  type Checkpoints, type Journal, type Phase, type SlaInput, type Substatus, type SyncType, type VpgStatusInput,
} from './types.ts';

interface Verdict {
  status: ConditionStatus;
  reason: string;
  message: string;
}

export type HistoryLevel = 'ok' | 'warning' | 'error';

export interface Assessment {
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

const ok = (reason: string, message: string): Verdict => ({ status: 'True', reason, message });
const no = (reason: string, message: string): Verdict => ({ status: 'False', reason, message });

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

export const SYNC_TEXT: Readonly<Record<SyncType, string>> = {
  Initial: 'initial sync: every volume is copied whole',
  Bitmap: 'bitmap sync: catching up on the regions changed while replication was cut off; the latest checkpoint stays recoverable',
  Delta: 'delta sync: comparing both sides and sending the difference; no checkpoint can be recovered until it ends',
};

export function assess(input: VpgStatusInput, prev: Previous, journal: Journal | undefined, checkpoints: Checkpoints | undefined, syncType: SyncType | undefined): Assessment {
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
