// kubectl zcsp tag VPG NAME: a checkpoint now, tagged NAME. The request is one annotation on the
// VPG; the controller takes the checkpoint, lists it in status.checkpoints.tagged and removes
// the annotation.
import { VPGS } from '../../controllers/resources.ts';
import { checkTagName } from '../choices.ts';
import type { Command } from '../command.ts';
import { CommandError } from '../errors.ts';
import { checkpointText, elapsed } from '../format.ts';
import { followTag } from '../follow.ts';
import { FIELD_MANAGER, TAG_ANNOTATION, type Vpg } from '../vpg.ts';
import { expectArgs, getVpg, print, progress, target, waitOn } from './shared.ts';

/** How long a request may be gone from the annotations before its checkpoint must be listed. */
const LISTING_GRACE_MS = 30_000;

export const tagCommand: Command = {
  name: 'tag',
  args: 'VPG NAME',
  summary: 'take a checkpoint now and tag it NAME',
  details: `Sets the annotation ${TAG_ANNOTATION}: NAME on the VPG and waits until the controller lists the checkpoint.`,
  flags: ['wait', 'timeout', 'output'],
  prepare(args) {
    const [name = '', rawTag = ''] = expectArgs(args, ['VPG', 'NAME']);
    const tag = checkTagName(rawTag);
    return async (ctx) => {
      const vpg = await getVpg(ctx, name);
      const pending = vpg.metadata?.annotations?.[TAG_ANNOTATION];
      if (pending !== undefined && pending !== tag) {
        throw new CommandError(`VPG ${name} already has a tag request pending ("${pending}"): wait until the controller has taken it`);
      }
      const startedAt = ctx.now();
      const after = await ctx.client.mergePatch(VPGS, name, ctx.namespace, { metadata: { annotations: { [TAG_ANNOTATION]: tag } } }, { fieldManager: FIELD_MANAGER }) as Vpg;
      progress(ctx, `${elapsed(startedAt, ctx.now())} asked for a checkpoint of VPG ${ctx.namespace}/${name} tagged "${tag}"`);
      if (!ctx.wait) {
        print(ctx, { requested: tag }, `Checkpoint tagged "${tag}" requested; see it with: kubectl zcsp checkpoints ${target(ctx, name)}`);
        return 0;
      }
      const outcome = await waitOn(ctx, name, after, followTag({
        tag, taggedBefore: vpg.status?.checkpoints?.tagged ?? [], startedAt, graceMs: LISTING_GRACE_MS,
      }), `the checkpoint tagged "${tag}"`);
      if (!outcome.ok) throw new CommandError(outcome.message);
      print(ctx, outcome.checkpoint, `Checkpoint ${checkpointText(outcome.checkpoint, ctx.now())}`);
      return 0;
    };
  },
};
