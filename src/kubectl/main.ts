// kubectl zcsp: the plugin's entry. Parses the command line (usage errors exit 2 before anything
// is loaded or sent), connects as the kubeconfig says, runs the command and turns errors into
// one message: exit 1 when the command was refused or failed.
import { ApiError } from '../runtime/errors.ts';
import { Flags, UsageError, parseArgs, parseDuration } from './args.ts';
import type { Command, Io, Run } from './command.ts';
import { COMMANDS } from './commands/index.ts';
import { connect, type Connection } from './connect.ts';
import { CommandError, describeApiError } from './errors.ts';
import { FLAGS, GLOBAL_FLAGS } from './flags.ts';
import { commandUsage, usage } from './usage.ts';

const stdio: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

const DEFAULT_TIMEOUT = '30m';

interface Prepared {
  command: Command;
  flags: Flags;
  vpg: string | undefined;
  run: Run;
}

/** The command and its checked arguments; undefined when help was asked for (and printed). */
function prepare(argv: readonly string[], io: Io): Prepared | undefined {
  const { positionals, flags } = parseArgs(argv, FLAGS);
  const [name, ...args] = positionals;
  if (name === undefined || name === 'help') {
    if (flags.boolean('help', false) || name === 'help') {
      io.out(`${usage()}\n`);
      return undefined;
    }
    throw new UsageError('missing the command');
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) throw new UsageError(`unknown command "${name}"`);
  try {
    if (flags.boolean('help', false)) {
      io.out(`${commandUsage(command)}\n`);
      return undefined;
    }
    const allowed = new Set<string>([...GLOBAL_FLAGS, ...command.flags]);
    const foreign = flags.names().find((f) => !allowed.has(f));
    if (foreign !== undefined) throw new UsageError(`${command.name} takes no --${foreign} flag`);
    const output = flags.string('output');
    if (output !== undefined && output !== 'json') throw new UsageError(`--output: "${output}" is not supported (json is)`);
    parseDuration('--timeout', flags.string('timeout') ?? DEFAULT_TIMEOUT);
    return { command, flags, vpg: args[0], run: command.prepare(args, flags) };
  } catch (err: unknown) {
    if (err instanceof UsageError) throw new CommandUsageError(command, err.message);
    throw err;
  }
}

/** A usage mistake in a command's arguments: shown with that command's usage. */
class CommandUsageError extends UsageError {
  readonly command: Command;
  constructor(command: Command, message: string) {
    super(message);
    this.command = command;
  }
}

function report(err: unknown, io: Io, subject: { namespace: string; name: string | undefined }): number {
  if (err instanceof CommandError) io.err(`error: ${err.message}\n`);
  else if (err instanceof ApiError) io.err(`error: ${describeApiError(err, subject)}\n`);
  else io.err(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
}

/** Runs `kubectl zcsp <argv>`; resolves to the exit code. Never throws. */
export async function main(argv: readonly string[], io: Io = stdio): Promise<number> {
  let prepared: Prepared | undefined;
  try {
    prepared = prepare(argv, io);
  } catch (err: unknown) {
    if (!(err instanceof UsageError)) return report(err, io, { namespace: '', name: undefined });
    // A flag the parser did not know is reported before the command is found: name it anyway.
    const command = err instanceof CommandUsageError ? err.command : COMMANDS.find((c) => argv.includes(c.name));
    const text = command === undefined ? usage() : commandUsage(command);
    io.err(`kubectl zcsp: ${err.message}\n\n${text}\n`);
    return 2;
  }
  if (prepared === undefined) return 0;
  const { flags } = prepared;
  let connection: Connection | undefined;
  // Connected on first use: a command that needs no API server (sizing of hypothetical figures)
  // runs without a kubeconfig.
  const connected = (): Connection => (connection ??= connect({ kubeconfig: flags.string('kubeconfig'), context: flags.string('context'), namespace: flags.string('namespace') }));
  try {
    return await prepared.run({
      get client() {
        return connected().client;
      },
      get namespace() {
        return connected().namespace;
      },
      io,
      now: Date.now,
      wait: flags.boolean('wait', true),
      timeoutMs: parseDuration('--timeout', flags.string('timeout') ?? DEFAULT_TIMEOUT),
      json: flags.string('output') === 'json',
    });
  } catch (err: unknown) {
    return report(err, io, { namespace: connection?.namespace ?? flags.string('namespace') ?? '', name: prepared.vpg });
  } finally {
    await connection?.client.close();
  }
}
