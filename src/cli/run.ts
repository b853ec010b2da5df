import { UsageError, type Command } from './command.ts';
import { diagCommand } from '../diag/command.ts';
import { versionCommand } from './version.ts';
import { vraCommand } from '../vra/command.ts';
import { zccCommand } from '../zcc/command.ts';
import { managerCommand } from '../manager/command.ts';
import { restoreCommand } from '../restore/command.ts';
import { consoleCommand } from '../console/command.ts';

const commands: readonly Command[] = [managerCommand, vraCommand, zccCommand, restoreCommand, consoleCommand, diagCommand, versionCommand];

export function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: zcsp <command> [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `zcsp <command> --help` for the options of a command.',
  ].join('\n');
}

/** Dispatches argv to a subcommand; returns the exit code. Never throws. */
export async function run(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    process.stderr.write(`zcsp: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err: unknown) {
    if (err instanceof UsageError || isParseArgsError(err)) {
      process.stderr.write(`zcsp ${name}: ${(err as Error).message}\n`);
      return 2;
    }
    process.stderr.write(`zcsp ${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

/** util.parseArgs reports unknown or malformed options with ERR_PARSE_ARGS_* codes. */
function isParseArgsError(err: unknown): boolean {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS_');
}

