// What a `kubectl zcsp` command is, and what it runs with.
import type { KubeClient } from '../runtime/index.ts';
import type { Flags } from './args.ts';

/** stdout takes results (data, for scripts); stderr takes progress, for people. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export interface Context {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly io: Io;
  readonly now: () => number;
  /** false with --wait=false: return right after the change. */
  readonly wait: boolean;
  readonly timeoutMs: number;
  /** --output json */
  readonly json: boolean;
}

/** Runs the command; resolves to the exit code (0 done, 1 refused or failed). */
export type Run = (ctx: Context) => Promise<number>;

export interface Command {
  readonly name: string;
  /** The arguments, as the usage shows them: "VPG NAME". */
  readonly args: string;
  readonly summary: string;
  /** More lines for `kubectl zcsp <command> --help`. */
  readonly details?: string;
  /** The command's own flags (the global ones are always allowed). */
  readonly flags: readonly string[];
  /** Checks the arguments and flags (throws UsageError) before anything is sent. */
  prepare(args: readonly string[], flags: Flags): Run;
}
