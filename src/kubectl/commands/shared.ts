// Small pieces every command uses: arguments, reading the VPG, waiting on it, printing.
import { VPGS } from '../../controllers/resources.ts';
import { UsageError } from '../args.ts';
import type { Context } from '../command.ts';
import { vpgFeed } from '../connect.ts';
import { follow } from '../wait.ts';
import type { Follower } from '../follow.ts';
import type { Vpg } from '../vpg.ts';

/** The positional arguments by name; all required. */
export function expectArgs(args: readonly string[], names: readonly string[]): string[] {
  if (args.length < names.length) throw new UsageError(`missing ${names.slice(args.length).join(' and ')}`);
  if (args.length > names.length) throw new UsageError(`unexpected argument "${args[names.length] ?? ''}"`);
  return [...args];
}

export async function getVpg(ctx: Context, name: string): Promise<Vpg> {
  return await ctx.client.get(VPGS, name, ctx.namespace) as Vpg;
}

/** How to refer to the VPG in the next command a message suggests. */
export const target = (ctx: Context, name: string): string => `${name} -n ${ctx.namespace}`;

export function progress(ctx: Context, line: string): void {
  ctx.io.err(`${line}\n`);
}

/** The result: JSON with --output json, else the text. */
export function print(ctx: Context, data: unknown, text: string): void {
  ctx.io.out(ctx.json ? `${JSON.stringify(data, null, 2)}\n` : `${text}\n`);
}

/** Follows the VPG from `first` (the version the command's write returned) until the follower is done. */
export function waitOn<T>(ctx: Context, name: string, first: Vpg, follower: Follower<T>, what: string): Promise<T> {
  return follow(vpgFeed(ctx.client, ctx.namespace, name), first, follower, {
    timeoutMs: ctx.timeoutMs, what, now: ctx.now, progress: (line) => progress(ctx, line),
  });
}
