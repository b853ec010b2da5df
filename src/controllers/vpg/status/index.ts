// A VPG's protection status from what both VRAs report: a pure function the controller calls on
// every reconcile (every few seconds while protecting). Same situation, same status: the
// controller writes only when the result differs from the status the VPG has, and records the
// events this returns, which describe transitions only.
//
// Here the parts come together; each part's file says what it decides:
//   types.ts     what is read and returned, and the rules' constants
//   previous.ts  the status the VPG has, read leniently
//   figures.ts   checkpoints, RPO, journal, sync and volumes from both VRAs' reports
//   verdict.ts   phase, substatus and conditions (the phases table and the history rule)
//   damping.ts   when moving figures alone are worth a write
//   events.ts    the events of transitions
//   format.ts    durations, sizes and messages for people
//
// operation, lastTest, failedOver and history are the operation logic's: copied from the previous status.
// An operation in progress (input.operation) sets phase and substatus.
import type { VPGStatus } from '../../../crds/vpg.ts';
import { setStatusCondition } from '../../../runtime/index.ts';
import { damp } from './damping.ts';
import { eventsOf } from './events.ts';
import { checkpointsOf, journalOf, syncOf, syncTypeOf, volumesOf } from './figures.ts';
import { defined, readPrevious } from './previous.ts';
import type { Placement, VpgStatusInput, VpgStatusResult } from './types.ts';
import { assessmentVerdict } from './assessment.ts';
import { journalVerdict, measuredRates, sizingOf } from './sizing.ts';
import { assess } from './verdict.ts';

export { approxBytes, formatDuration } from './format.ts';
export { exactRpoSeconds } from './figures.ts';
export {
  HISTORY_ERROR_RATIO, HISTORY_TOLERANCE_SECONDS, HISTORY_WARNING_RATIO, MAX_TAGGED, REFRESH_SECONDS,
  type AssessReport, type Blocker, type OperationPhase, type Phase, type SlaInput, type SourceReport, type SourceVolumeReport,
  type StreamObservation, type Substatus, type TaggedCheckpoint, type TargetReport, type VpgEvent,
  type VpgStatusInput, type VpgStatusResult,
} from './types.ts';

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
  const a = input.assessment !== undefined && !blocked ? assessmentVerdict(input) : assess(input, prev, journal, checkpoints, syncType);
  const rates = measuredRates(input, prev);
  const volumes = volumesOf(input, prev).map((v) => {
    const r = rates.get(v.claimName);
    return r === undefined ? v : { ...v, changeRate: r.rate };
  });
  const sizing = sizingOf(input, volumes, rates);

  const g = { observedGeneration: input.generation };
  let conditions = prev.conditions;
  const verdicts = [['Ready', a.ready], ['Protected', a.protected], ['MeetingSLA', a.meetingSla], ['Synchronizing', a.synchronizing], ['JournalWithinHardLimit', journalVerdict(input, sizing)]] as const;
  for (const [type, v] of verdicts) {
    conditions = setStatusCondition(conditions, { type, ...v, ...g }, input.now).conditions;
  }
  const showRpo = !blocked && a.rpo !== undefined && a.phase !== 'Initializing' && a.phase !== 'Pending';
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
    sizing,
    conditions,
    lastTest: prev.status.lastTest,
    failedOver: prev.status.failedOver,
    operation: prev.status.operation,
    history: prev.status.history,
  });
  const status = damp(fresh, prev.status);
  return { status, events: eventsOf(input, prev, a, status) };
}
