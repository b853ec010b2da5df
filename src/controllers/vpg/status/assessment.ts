// The verdict of a VPG in spec.mode Assess: the protected VRA measures each volume's change rate
// and ships nothing, so there is no RPO, journal or checkpoint to judge. Phase Assessing
// (substatus Baseline during the first pass over the volumes, whose data is not a change), the
// VRA's trouble as for protection, and the other conditions saying why they do not apply.
import { cut } from './format.ts';
import type { Assessment } from './verdict.ts';
import type { VpgStatusInput } from './types.ts';

const NOT_PROTECTED = 'spec.mode is Assess: the change rate is measured, nothing is replicated; set mode Protect to protect the VPG';

export function assessmentVerdict(input: VpgStatusInput): Assessment {
  const base = { rpo: undefined, rpoBad: false, history: undefined, error: undefined };
  const off = { status: 'False' as const, reason: 'Assessing', message: NOT_PROTECTED };
  const node = input.placement?.protectedNode === undefined ? '' : ` on node ${input.placement.protectedNode}`;
  const a = input.assessment;
  if (a?.kind === 'failed') {
    return { ...base, phase: 'Error', substatus: undefined, error: a.error, ready: { status: 'False', reason: 'StreamFailed', message: cut(`the protected VRA refused the assessment: ${a.error}`) }, protected: off, meetingSla: off, synchronizing: off };
  }
  const trouble = !input.protectedVraReady ? { reason: 'ProtectedVraNotReady', message: `the protected VRA${node} is not Ready` }
    : a?.kind === 'unreachable' ? { reason: 'ProtectedVraUnreachable', message: cut(`cannot reach the protected VRA${node}: ${a.error}`) }
    : a === undefined || a.kind === 'missing' ? { reason: 'StreamNotConfigured', message: `the assessment is not configured on the protected VRA${node} yet` }
    : undefined;
  if (trouble !== undefined) {
    return { ...base, phase: 'NotMeetingSLA', substatus: 'VraNotReady', ready: { status: 'False', ...trouble }, protected: off, meetingSla: off, synchronizing: off };
  }
  const baseline = a?.kind === 'ok' && a.status.state === 'baseline';
  return {
    ...base,
    phase: 'Assessing',
    substatus: baseline ? 'Baseline' : undefined,
    ready: {
      status: 'True', reason: 'Assessing',
      message: baseline ? `the VRA${node} takes a first pass over the volumes; changes are counted from the next one` : `the VRA${node} measures the volumes' change rate; status.sizing has the figures`,
    },
    protected: off,
    meetingSla: off,
    synchronizing: off,
  };
}
