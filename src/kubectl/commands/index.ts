// The commands of `kubectl zcsp`, in the order the usage lists them.
import type { Command } from '../command.ts';
import { checkpointsCommand } from './checkpoints.ts';
import { commitCommand, rollbackCommand } from './decide.ts';
import { protectCommand } from './protect.ts';
import { failoverCommand, moveCommand } from './recover.ts';
import { sizingCommand } from './sizing.ts';
import { statusCommand } from './status.ts';
import { stopTestCommand } from './stop-test.ts';
import { tagCommand } from './tag.ts';
import { testCommand } from './test.ts';

export const COMMANDS: readonly Command[] = [
  statusCommand, checkpointsCommand, sizingCommand, protectCommand, tagCommand, testCommand, stopTestCommand,
  failoverCommand, moveCommand, commitCommand, rollbackCommand,
];
