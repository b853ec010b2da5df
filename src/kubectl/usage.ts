// The usage texts, made from the command and flag tables.
import type { Command } from './command.ts';
import { COMMANDS } from './commands/index.ts';
import { FLAGS, GLOBAL_FLAGS } from './flags.ts';

function flagLines(names: readonly string[]): string[] {
  const shown = names.map((n) => {
    const spec = FLAGS[n];
    const short = spec?.short === undefined ? '    ' : `-${spec.short}, `;
    return [`${short}--${n}${spec?.value === undefined ? '' : ` ${spec.value}`}`, spec?.help ?? ''] as const;
  });
  const width = Math.max(...shown.map(([f]) => f.length));
  return shown.map(([f, help]) => `  ${f.padEnd(width)}  ${help}`);
}

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => `${c.name} ${c.args}`.length));
  return [
    'usage: kubectl zcsp <command> [flags]',
    '',
    'Disaster recovery of zcsp VPGs: changes only the VPG\'s spec (and one annotation) and follows its status.',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${`${c.name} ${c.args}`.padEnd(width)}  ${c.summary}`),
    '',
    'flags of every command:',
    ...flagLines(GLOBAL_FLAGS),
    '',
    'Run `kubectl zcsp <command> --help` for the flags of a command.',
  ].join('\n');
}

export function commandUsage(c: Command): string {
  const flagSynopsis = c.flags.map((n) => `[--${n}${FLAGS[n]?.value === undefined ? '' : ` ${FLAGS[n].value}`}]`).join(' ');
  return [
    `usage: kubectl zcsp ${c.name} ${c.args} ${flagSynopsis}`.trimEnd(),
    '',
    `${c.summary.charAt(0).toUpperCase()}${c.summary.slice(1)}.${c.details === undefined ? '' : ` ${c.details}`}`,
    '',
    'flags:',
    ...flagLines([...c.flags, ...GLOBAL_FLAGS]),
  ].join('\n');
}
