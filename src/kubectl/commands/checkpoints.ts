// kubectl zcsp checkpoints VPG: what a recovery can choose from (status.checkpoints).
import type { Command } from '../command.ts';
import { checkpointsText } from '../describe.ts';
import { expectArgs, getVpg, print } from './shared.ts';

export const checkpointsCommand: Command = {
  name: 'checkpoints',
  args: 'VPG',
  summary: 'the latest, oldest and tagged checkpoints of a VPG',
  flags: ['output'],
  prepare(args) {
    const [name = ''] = expectArgs(args, ['VPG']);
    return async (ctx) => {
      const vpg = await getVpg(ctx, name);
      print(ctx, vpg.status?.checkpoints ?? { count: 0 }, checkpointsText(vpg, ctx.now()));
      return 0;
    };
  },
};
