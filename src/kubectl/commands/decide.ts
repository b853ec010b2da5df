// kubectl zcsp commit VPG / rollback VPG: the tenant's decision on a failover or move waiting
// BeforeCommit (a rollback also after an error), set as spec.operation.decision. Waits until the operation ends, prints its
// history entry and then removes spec.operation, which the API asks for once it has finished.
import type { Command, Run } from '../command.ts';
import { historyEntryText } from '../describe.ts';
import { CommandError } from '../errors.ts';
import { elapsed } from '../format.ts';
import { followEnd } from '../follow.ts';
import { changeSpec } from '../patch.ts';
import { OPERATION_NAMES, historyOf, type HistoryEntry, type OperationType } from '../vpg.ts';
import { clearOperation } from './operation.ts';
import { expectArgs, print, progress, target, waitOn } from './shared.ts';

type Decision = 'Commit' | 'Rollback';
const SUCCESS: Readonly<Record<Decision, HistoryEntry['result']>> = { Commit: 'Succeeded', Rollback: 'RolledBack' };

function decide(name: string, decision: Decision): Run {
  return async (ctx) => {
    const startedAt = ctx.now();
    const seen: { type: OperationType } = { type: 'Failover' };
    const change = await changeSpec(ctx.client, ctx.namespace, name, (vpg) => {
      const op = vpg.spec?.operation;
      if (op === undefined || op.type === 'FailoverTest') {
        throw new CommandError(`VPG ${name} has no failover or move to ${decision.toLowerCase()}${op === undefined ? '' : `: its operation is a failover test (stop it with kubectl zcsp stop-test ${target(ctx, name)})`}`);
      }
      const type = op.type;
      seen.type = type;
      if (op.decision === decision) return undefined;
      if (op.decision !== undefined) throw new CommandError(`the ${OPERATION_NAMES[type]} of VPG ${name} already has the decision ${op.decision}, which cannot change`);
      const reported = vpg.status?.operation;
      // A recovery that hit an error waits for a rollback to restore the protected side.
      const stuck = decision === 'Rollback' && reported?.error !== undefined;
      if (reported?.type !== type || (reported.stage !== 'BeforeCommit' && !stuck)) {
        const stage = reported?.type === type ? `is in stage ${reported.stage}` : 'has not reported a stage yet';
        const when = decision === 'Rollback' ? 'in stage BeforeCommit, or after an error' : 'in stage BeforeCommit';
        throw new CommandError(`the ${OPERATION_NAMES[type]} of VPG ${name} ${stage}: ${decision.toLowerCase()} is possible only ${when}`);
      }
      return [{ op: 'test', path: '/spec/operation/type', value: type }, { op: 'add', path: '/spec/operation/decision', value: decision }];
    });
    const type = seen.type;
    progress(ctx, `${elapsed(startedAt, ctx.now())} decision ${decision} set on the ${OPERATION_NAMES[type]} of VPG ${ctx.namespace}/${name}`);
    if (!ctx.wait) {
      print(ctx, { decision }, `Decision ${decision} set; follow it with: kubectl zcsp status ${target(ctx, name)} (remove spec.operation once it has ended)`);
      return 0;
    }
    const outcome = await waitOn(ctx, name, change.after, followEnd({
      type, generation: change.after.metadata?.generation ?? 0, historyBefore: historyOf(change.before), startedAt,
    }), `the ${OPERATION_NAMES[type]} to ${decision === 'Commit' ? 'commit' : 'roll back'}`);
    await clearOperation(ctx, name, type);
    const entry = outcome.entry;
    print(ctx, { history: entry }, entry === undefined
      ? `The ${OPERATION_NAMES[type]} of VPG ${ctx.namespace}/${name} ended without a history entry.`
      : historyEntryText(entry, ctx.now()));
    return entry?.result === SUCCESS[decision] ? 0 : 1;
  };
}

export const commitCommand: Command = {
  name: 'commit',
  args: 'VPG',
  summary: 'keep the recovered workloads of a failover or move (in BeforeCommit)',
  flags: ['wait', 'timeout', 'output'],
  prepare(args) {
    const [name = ''] = expectArgs(args, ['VPG']);
    return decide(name, 'Commit');
  },
};

export const rollbackCommand: Command = {
  name: 'rollback',
  args: 'VPG',
  summary: 'undo a failover or move (in BeforeCommit, or after an error) and resume protection as before',
  flags: ['wait', 'timeout', 'output'],
  prepare(args) {
    const [name = ''] = expectArgs(args, ['VPG']);
    return decide(name, 'Rollback');
  },
};
