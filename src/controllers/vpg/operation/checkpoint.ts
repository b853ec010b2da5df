// Which checkpoint an operation recovers: spec.operation.checkpoint resolved against the journal's
// checkpoints as the recovery VRA lists them. Only checkpoints that hold every volume of the VPG
// count: one taken before a volume joined (or during its first sync) cannot give the whole VPG
// back.
import type { VPGSpec } from '../../../crds/vpg.ts';

export type CheckpointChoice = NonNullable<VPGSpec['operation']>['checkpoint'];

/** One checkpoint as GET /v1/streams/{id}/checkpoints lists it. */
export interface JournalCheckpoint {
  seq: number;
  time: string;
  tag?: string | undefined;
  tags?: readonly string[] | undefined;
  volumes: readonly string[];
}

export interface ChosenCheckpoint {
  /** The checkpoint's id in the status: its sequence number. */
  id: string;
  seq: number;
  time: string;
  tag?: string;
}

export type Choice = { checkpoint: ChosenCheckpoint } | { problem: string };

/** The checkpoint `choice` names among `listed`, for a VPG whose stream volumes are `volumes`. */
export function chooseCheckpoint(choice: CheckpointChoice, listed: readonly JournalCheckpoint[], volumes: readonly string[]): Choice {
  const whole = listed
    .filter((c) => volumes.every((v) => c.volumes.includes(v)))
    .sort((a, b) => b.seq - a.seq);
  if (whole.length === 0) {
    return { problem: listed.length === 0 ? 'the journal has no checkpoint yet (the initial sync is not done)' : `no checkpoint holds every volume yet (${volumes.join(', ')}): a volume is still in its first sync` };
  }
  let found: JournalCheckpoint | undefined;
  switch (choice.type) {
    case 'Latest':
      found = whole[0];
      break;
    case 'LatestTagged':
      found = whole.find((c) => tagsOf(c).length > 0);
      if (found === undefined) return { problem: 'checkpoint LatestTagged: no tagged checkpoint in the journal' };
      break;
    case 'Named': {
      const name = choice.name ?? '';
      found = whole.find((c) => String(c.seq) === name || tagsOf(c).includes(name));
      if (found === undefined) return { problem: `checkpoint Named ${JSON.stringify(name)}: no checkpoint in the journal has this id or tag (it may have left the journal's history)` };
      break;
    }
    case 'Time': {
      const at = Date.parse(choice.time ?? '');
      found = whole.find((c) => Date.parse(c.time) <= at);
      if (found === undefined) {
        const oldest = whole[whole.length - 1];
        return { problem: `checkpoint Time ${choice.time ?? ''}: the journal's oldest checkpoint is from ${oldest?.time ?? '?'}, later than that` };
      }
      break;
    }
  }
  if (found === undefined) return { problem: 'no checkpoint' };
  const tag = tagsOf(found)[0];
  return { checkpoint: { id: String(found.seq), seq: found.seq, time: found.time, ...(tag !== undefined && { tag }) } };
}

/** The checkpoint's own tag (given when it was taken) and those added since. */
export function tagsOf(c: Pick<JournalCheckpoint, 'tag' | 'tags'>): string[] {
  return [...(c.tag === undefined || c.tag === '' ? [] : [c.tag]), ...(c.tags ?? [])];
}
