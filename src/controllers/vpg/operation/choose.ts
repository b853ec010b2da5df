// Choosing an operation's checkpoint from the journal the recovery VRA holds (checkpoint.ts does
// the choosing; this asks the VRA for the list).
import type { VPGSpec } from '../../../crds/vpg.ts';
import { chooseCheckpoint, type CheckpointChoice, type JournalCheckpoint } from './checkpoint.ts';
import { errorText, type StepInput } from './recover.ts';
import type { OperationRecord } from './record.ts';
import { recoverySide } from './recovery-side.ts';

export type Chosen = { checkpoint: NonNullable<OperationRecord['checkpoint']> } | { problem: string };

export async function listCheckpoints(i: StepInput): Promise<{ listed: JournalCheckpoint[] } | { problem: string }> {
  const side = recoverySide(i.ctx.cache, i.config, i.vpg);
  if ('problem' in side) return side;
  if (i.client === undefined) return { problem: 'the VRAs\' control token does not exist yet' };
  try {
    const body = await i.client.get<{ checkpoints: JournalCheckpoint[] }>(side.side.vra, `/v1/streams/${encodeURIComponent(side.side.streamId)}/checkpoints`);
    return { listed: body.checkpoints };
  } catch (err: unknown) {
    return { problem: `the recovery VRA did not list the journal's checkpoints: ${errorText(err)}` };
  }
}

export async function chooseFromJournal(i: StepInput, choice: CheckpointChoice | undefined): Promise<Chosen> {
  const listed = await listCheckpoints(i);
  if ('problem' in listed) return listed;
  const volumes = (i.vpg.status?.volumes ?? []).map((v) => v.claimName);
  const chosen = chooseCheckpoint(choice ?? { type: 'Latest' }, listed.listed, volumes);
  if ('problem' in chosen) return chosen;
  const cp = chosen.checkpoint;
  i.ctx.event(i.obj, { type: 'Normal', reason: 'CheckpointChosen', action: i.vpg.spec.operation?.type ?? 'Recover', note: `recovering checkpoint ${cp.id} of ${cp.time}${cp.tag === undefined ? '' : ` (${cp.tag})`}` });
  return { checkpoint: { id: cp.id, time: cp.time, ...(cp.tag !== undefined && { tag: cp.tag }) } };
}

export function describeChoice(c: NonNullable<VPGSpec['operation']>['checkpoint'] | undefined): string {
  if (c === undefined) return 'Latest';
  return c.type === 'Named' ? `named ${c.name ?? ''}` : c.type === 'Time' ? `at or before ${c.time ?? ''}` : c.type;
}
