// kubectl zcsp test VPG [--checkpoint …]: a failover test, into the VPG's test namespace while
// replication continues. Declared as spec.operation {type: FailoverTest}; done when it runs.
import { parseCheckpoint } from '../choices.ts';
import type { Command } from '../command.ts';
import { startOperation } from './operation.ts';
import { expectArgs } from './shared.ts';

export const testCommand: Command = {
  name: 'test',
  args: 'VPG',
  summary: 'start a failover test and wait until it runs',
  details: 'Stop the test with `kubectl zcsp stop-test VPG`.',
  flags: ['checkpoint', 'wait', 'timeout', 'output'],
  prepare(args, flags) {
    const [name = ''] = expectArgs(args, ['VPG']);
    const checkpoint = parseCheckpoint(flags.string('checkpoint') ?? 'latest');
    return (ctx) => startOperation(ctx, name, { type: 'FailoverTest', checkpoint }, 'Running');
  },
};
