// kubectl zcsp stop-test VPG: ends a failover test by removing spec.operation (only if it is a
// failover test), then waits until the status no longer shows it and prints how it ended.
import type { Command } from '../command.ts';
import { declaredText, historyEntryText, lastTestText } from '../describe.ts';
import { CommandError } from '../errors.ts';
import { elapsed } from '../format.ts';
import { followEnd } from '../follow.ts';
import { changeSpec } from '../patch.ts';
import { historyOf } from '../vpg.ts';
import { expectArgs, print, progress, target, waitOn } from './shared.ts';

export const stopTestCommand: Command = {
  name: 'stop-test',
  args: 'VPG',
  summary: 'stop the failover test and wait until it is torn down',
  flags: ['wait', 'timeout', 'output'],
  prepare(args) {
    const [name = ''] = expectArgs(args, ['VPG']);
    return async (ctx) => {
      const startedAt = ctx.now();
      const change = await changeSpec(ctx.client, ctx.namespace, name, (vpg) => {
        const op = vpg.spec?.operation;
        if (op === undefined) throw new CommandError(`VPG ${name} has no failover test to stop: no operation is declared`);
        if (op.type !== 'FailoverTest') {
          throw new CommandError(`VPG ${name} has no failover test to stop: its operation is ${declaredText(op)}; see kubectl zcsp status ${target(ctx, name)}`);
        }
        return [{ op: 'test', path: '/spec/operation/type', value: 'FailoverTest' }, { op: 'remove', path: '/spec/operation' }];
      });
      progress(ctx, `${elapsed(startedAt, ctx.now())} asked VPG ${ctx.namespace}/${name} to stop its failover test`);
      if (!ctx.wait) {
        print(ctx, { stopping: 'FailoverTest' }, `Failover test of VPG ${ctx.namespace}/${name} is stopping; follow it with: kubectl zcsp status ${target(ctx, name)}`);
        return 0;
      }
      const outcome = await waitOn(ctx, name, change.after, followEnd({
        type: 'FailoverTest', generation: change.after.metadata?.generation ?? 0, historyBefore: historyOf(change.before), startedAt,
      }), 'the failover test to stop');
      const now = ctx.now();
      const lastTest = outcome.vpg.status?.lastTest;
      const lines = [outcome.entry === undefined
        ? `The failover test of VPG ${ctx.namespace}/${name} is no longer running.`
        : `Failover test of VPG ${ctx.namespace}/${name} stopped:\n${historyEntryText(outcome.entry, now)}`];
      if (lastTest !== undefined) lines.push(`Last test: ${lastTestText(lastTest, now)}`);
      print(ctx, { history: outcome.entry, lastTest }, lines.join('\n'));
      return outcome.entry?.result === 'Failed' ? 1 : 0;
    };
  },
};
