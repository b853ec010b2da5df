// kubectl zcsp failover VPG / move VPG: a recovery into the VPG's recovery namespace, followed
// until it waits for the tenant's decision (BeforeCommit). A live failover recovers the chosen
// checkpoint whatever state the protected site is in; a move stops the protected workloads
// first and recovers the checkpoint it takes then, so it takes no --checkpoint.
import type { Flags } from '../args.ts';
import { parseCheckpoint, parseCommitPolicy } from '../choices.ts';
import type { Command } from '../command.ts';
import { startOperation, type OperationRequest } from './operation.ts';
import { expectArgs } from './shared.ts';

/** The commit policy and reverse protection, as given (left out when not given: the server's defaults apply). */
function recoveryOptions(flags: Flags): Pick<OperationRequest, 'commitPolicy' | 'reverseProtection'> {
  const policy = flags.string('commit-policy');
  return {
    ...(policy !== undefined && { commitPolicy: parseCommitPolicy(policy) }),
    ...(flags.boolean('reverse', false) && { reverseProtection: true }),
  };
}

const DECIDE = 'Then `kubectl zcsp commit VPG` keeps the recovered workloads, `kubectl zcsp rollback VPG` removes them.';

export const failoverCommand: Command = {
  name: 'failover',
  args: 'VPG',
  summary: 'live failover to the recovery site; waits until it is ready to commit',
  details: DECIDE,
  flags: ['checkpoint', 'commit-policy', 'reverse', 'wait', 'timeout', 'output'],
  prepare(args, flags) {
    const [name = ''] = expectArgs(args, ['VPG']);
    const op: OperationRequest = { type: 'Failover', checkpoint: parseCheckpoint(flags.string('checkpoint') ?? 'latest'), ...recoveryOptions(flags) };
    return (ctx) => startOperation(ctx, name, op, 'BeforeCommit');
  },
};

export const moveCommand: Command = {
  name: 'move',
  args: 'VPG',
  summary: 'planned move to the recovery site, without data loss; waits until it is ready to commit',
  details: DECIDE,
  flags: ['commit-policy', 'reverse', 'wait', 'timeout', 'output'],
  prepare(args, flags) {
    const [name = ''] = expectArgs(args, ['VPG']);
    const op: OperationRequest = { type: 'Move', ...recoveryOptions(flags) };
    return (ctx) => startOperation(ctx, name, op, 'BeforeCommit');
  },
};
