// The events of a VPG's transitions: each is recorded when the status enters a state (a blocker, an
// error, a VRA down or cut off, a sync, an SLA breach, recovered, meeting the SLA), not again while
// it stays there. An operation in progress reports on its own phases, so protection events wait
// until it ends.
import type { VPGStatus } from '../../../crds/vpg.ts';
import type { Condition } from '../../../runtime/index.ts';
import { formatDuration } from './format.ts';
import type { Previous } from './previous.ts';
import { SYNC_TEXT, type Assessment, type HistoryLevel } from './verdict.ts';
import {
  HISTORY_ERROR_RATIO, HISTORY_WARNING_RATIO,
  type OperationPhase, type Phase, type Substatus, type VpgEvent, type VpgStatusInput,
} from './types.ts';

const OPERATION_PHASES: ReadonlySet<string> = new Set<OperationPhase>(['Testing', 'FailingOver', 'Moving']);
const TROUBLE_SUBSTATUSES: ReadonlySet<string> = new Set<Substatus>(['SiteDisconnection', 'VraNotReady']);
const TROUBLE_PHASES: ReadonlySet<string> = new Set<Phase>(['Error', 'NeedsConfiguration']);

const reasonOf = (conditions: readonly Condition[], type: string): string | undefined => conditions.find((c) => c.type === type)?.reason;
const historyLevelOf = (reason: string | undefined): HistoryLevel =>
  reason?.endsWith('HistoryError') === true ? 'error' : reason?.endsWith('HistoryWarning') === true ? 'warning' : 'ok';
const RANK: Readonly<Record<HistoryLevel, number>> = { ok: 0, warning: 1, error: 2 };
const label = (phase: string | undefined, substatus: string | undefined): string => (substatus === undefined ? phase ?? 'none' : `${phase ?? 'none'}/${substatus}`);

export function eventsOf(input: VpgStatusInput, prev: Previous, a: Assessment, status: VPGStatus): VpgEvent[] {
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
  // The journal projection: warned once when it goes past the hard limit, told when it fits again.
  const journalBefore = reasonOf(prev.conditions, 'JournalWithinHardLimit');
  const journalNow = status.conditions?.find((c) => c.type === 'JournalWithinHardLimit');
  if (journalNow?.reason === 'ProjectedOverHardLimit' && journalBefore !== 'ProjectedOverHardLimit') warn('ProjectedOverHardLimit', journalNow.message);
  if (journalBefore === 'ProjectedOverHardLimit' && journalNow?.status === 'True') tell('ProjectedWithinHardLimit', journalNow.message);
  return events;
}
